"""CI-to-cloud trust on GCP: workload identity pool providers for GitHub Actions, judged by who on
GitHub their attribute condition and the service accounts' `roles/iam.workloadIdentityUser`
grants to the pool admit (posture.iam.oidc_trust: probes through a CEL subset)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.engine import CheckContext, Result
from posture.iam.conditions import Truth
from posture.iam.oidc_trust import (
    GITHUB_ISSUER_URL,
    Breadth,
    cel_literals,
    cel_truth,
    classify,
    github_claims,
    mapped,
)
from posture.model import Asset, Principle, Severity
from posture.registry import check

PROVIDER = "iam.googleapis.com/WorkloadIdentityPoolProvider"
SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount"
WORKLOAD_USER = "roles/iam.workloadIdentityUser"


def _member_truth(member: str, pool: str, values: Mapping[str, str]) -> Truth:
    """Whether a ``principal://`` / ``principalSet://`` member of ``pool`` covers the token."""
    prefix = f"//iam.googleapis.com/{pool}/"
    kind, _, rest = member.partition(":")
    if kind not in ("principal", "principalSet") or not rest.startswith(prefix):
        return Truth.FALSE
    rest = rest[len(prefix):]
    if rest == "*":
        return Truth.TRUE
    key, _, value = rest.partition("/")
    field = "google.subject" if key == "subject" else key
    known = values.get(field)
    return Truth.UNKNOWN if known is None else Truth.TRUE if known == value else Truth.FALSE


def _grants(inventory: Any, pool: str) -> list[tuple[Asset, list[str]]]:
    out = []
    for sa in inventory.of(SERVICE_ACCOUNT):
        members = [m for b in sa.attr("iam_bindings") or () if b.get("role") == WORKLOAD_USER
                   for m in b.get("members") or () if f"/{pool}/" in m]
        if members:
            out.append((sa, members))
    return out


@check(
    "gcp.cicd.github_workload_identity_restricted", Severity.CRITICAL,
    (Principle.LEAST_PRIVILEGE, Principle.SEGREGATION),
    reads={PROVIDER, f"{SERVICE_ACCOUNT}#iam_policy"},
)
def github_workload_identity_restricted(ctx: CheckContext) -> Iterator[Result]:
    """GitHub Actions workload identity federation admits one environment or branch only

    A workload identity pool provider whose issuer is GitHub Actions accepts every GitHub
    workflow token its `attributeCondition` lets through; service accounts granting
    `roles/iam.workloadIdentityUser` to the pool's `principalSet` (or to one attribute value)
    are then impersonated by those workflows. Without a condition, any repository on GitHub can
    (CRITICAL); a condition on `assertion.repository_owner` alone admits every repository of the
    owner, one on `assertion.repository` alone every branch and pull request (HIGH). Conditions
    outside the evaluated subset are INCONCLUSIVE.

    Remediation: Set `attributeCondition` to pin `assertion.repository` and
    `assertion.environment` (or a protected `assertion.ref`), and grant workloadIdentityUser to
    `principalSet://…/attribute.repository/OWNER/REPO`, never the whole pool.
    """
    for provider in ctx.inventory.of(PROVIDER):
        if str(provider.attr("issuer_uri") or "").rstrip("/") != GITHUB_ISSUER_URL:
            continue
        if provider.attr("disabled") or provider.attr("pool_disabled"):
            yield ctx.passed(provider, "GitHub Actions provider (or its pool) is disabled")
            continue
        pool = str(provider.attr("pool_name"))
        condition = provider.attr("attribute_condition")
        mapping = provider.attr("attribute_mapping") or {}
        grants = _grants(ctx.inventory, pool)
        members = [m for _, ms in grants for m in ms]

        def admits(subject: str, condition: Any = condition, mapping: Any = mapping,
                   members: list[str] = members, pool: str = pool) -> Truth:
            values = mapped(mapping, github_claims(subject))
            through = max((_member_truth(m, pool, values) for m in members),
                          default=Truth.TRUE)  # no grant: tokens for direct resource access
            return min(cel_truth(condition, values), through)

        adm = classify(admits, cel_literals(condition) + tuple(
            f"repo:{m.rsplit('/attribute.repository/', 1)[1]}:ref:refs/heads/main"
            for m in members if "/attribute.repository/" in m))
        accounts = [sa.name for sa, _ in grants]
        can = (f"service account(s) {', '.join(accounts)} can be impersonated" if accounts
               else "no service account grants workloadIdentityUser to the pool")
        evidence = {**adm.evidence(), "attribute_condition": condition,
                    "grants": {sa.name: ms for sa, ms in grants}}
        if adm.conditional and adm.breadth <= Breadth.EXACT:
            yield ctx.unknown(provider, "attribute condition or grants posture cannot decide; "
                              f"{can}", **evidence)
        elif adm.breadth == Breadth.ANY_REPOSITORY:
            why = "no attribute condition: " if not condition else ""
            yield ctx.fail_at(Severity.CRITICAL if accounts else Severity.HIGH, provider,
                              f"{why}{adm.who} can obtain Google credentials; {can}", **evidence)
        elif adm.breadth >= Breadth.PATTERN:
            yield ctx.fail_at(Severity.HIGH, provider, f"{adm.who} can obtain Google "
                              f"credentials; {can}", **evidence)
        else:
            yield ctx.passed(provider, f"GitHub Actions federation admits {adm.who}; {can}",
                             **evidence)
