"""CI-to-cloud trust on GCP: workload identity pool providers for GitHub Actions, judged by who on
GitHub their attribute condition and the service accounts' `roles/iam.workloadIdentityUser`
grants to the pool admit (posture.iam.oidc_trust: probes through a CEL subset)."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.iam.ci_trust import (
    READS,
    Grade,
    by_subject,
    gcp_admits,
    gcp_direct_trusts,
    gcp_github_providers,
    gcp_patterns,
    gcp_workload_grants,
)
from posture.iam.oidc_trust import Breadth, classify
from posture.model import Principle, Provider, Severity
from posture.registry import check


@check(
    "gcp.cicd.github_workload_identity_restricted", Severity.CRITICAL,
    (Principle.LEAST_PRIVILEGE, Principle.SEGREGATION),
    reads=READS[Provider.GCP],
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
    for provider in gcp_github_providers(ctx.inventory):
        if provider.attr("disabled") or provider.attr("pool_disabled"):
            yield ctx.passed(provider, "GitHub Actions provider (or its pool) is disabled")
            continue
        condition = provider.attr("attribute_condition")
        grants = gcp_workload_grants(ctx.inventory, str(provider.attr("pool_name")))
        members = [m for _, ms in grants for m in ms]
        adm = classify(by_subject(gcp_admits(provider, members)),
                       gcp_patterns(provider, members))
        accounts = [sa.name for sa, _ in grants]
        direct = [t for t in gcp_direct_trusts(ctx.inventory, provider)
                  if t.admission.breadth > Breadth.NOTHING]
        can = (f"service account(s) {', '.join(accounts)} can be impersonated" if accounts
               else "no service account grants workloadIdentityUser to the pool")
        if direct:
            can += "; the pool's principals hold project roles directly: " + ", ".join(
                f"{t.name.rsplit('/', 2)[-2]}/{t.name.rsplit('/', 1)[-1]} {t.power.words}"
                for t in direct)
        privileged = bool(accounts) or any(t.power.grade >= Grade.ADMIN for t in direct)
        evidence = {**adm.evidence(), "attribute_condition": condition,
                    "grants": {sa.name: ms for sa, ms in grants},
                    "direct_grants": {t.name: t.power.words for t in direct}}
        if adm.conditional and adm.breadth <= Breadth.EXACT:
            yield ctx.unknown(provider, "attribute condition or grants posture cannot decide; "
                              f"{can}", **evidence)
        elif adm.breadth == Breadth.ANY_REPOSITORY:
            why = "no attribute condition: " if not condition else ""
            yield ctx.fail_at(Severity.CRITICAL if privileged else Severity.HIGH, provider,
                              f"{why}{adm.who} can obtain Google credentials; {can}", **evidence)
        elif adm.breadth >= Breadth.PATTERN:
            yield ctx.fail_at(Severity.HIGH, provider, f"{adm.who} can obtain Google "
                              f"credentials; {can}", **evidence)
        else:
            yield ctx.passed(provider, f"GitHub Actions federation admits {adm.who}; {can}",
                             **evidence)
