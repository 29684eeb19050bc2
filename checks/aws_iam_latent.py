"""Identity: power one change away — latent privilege escalation and permissions management.

These checks read :mod:`posture.iam.latent` over the run's identity graph. A principal with a
path to administrator today is judged by the escalation and admin checks, never here; a latent
escalation that permissions management already covers (a new default version of a policy, a
rewritten trust policy) is reported once, by the permissions-management check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.checks._shared import identity

from posture.engine import CheckContext, Result
from posture.iam.aws import IDENTITY_READS, principal_kind
from posture.iam.latent import MANAGEMENT_ACTIONS, Grant, LatentAnalysis, LatentEscalation
from posture.iam.principals import ROLE, USER
from posture.model import Principle, Severity
from posture.registry import check

ESCALATION_CHECK = "aws.iam.no_privilege_escalation_paths"
MANAGEMENT_CHECK = "aws.iam.no_unrestricted_permissions_management"


def _latent(ctx: CheckContext) -> LatentAnalysis:
    return ctx.derived("aws.identity.latent", lambda _: LatentAnalysis(identity(ctx)))


def _how(technique: str) -> str:
    return technique.replace("+", " + ")


def _sentence(found: LatentEscalation, names: dict[str, str]) -> str:
    name = names.get(found.principal, found.principal)
    first, *more = found.capabilities
    lead = ""
    if found.via:
        hops = " ".join(f"-[{e.technique}]-> {names.get(e.target, e.target)}" for e in found.via)
        lead = f"{name} can act as {names.get(found.holder, found.holder)} ({name} {hops}); "
    text = f"{lead}{first.missing}; {first.moment}, {name} becomes administrator through "
    text += _how(first.technique)
    if first.today:
        text += f" (it reaches today, short of administrator: {', '.join(first.today)})"
    if more:
        text += f"; also through {', '.join(_how(c.technique) for c in more)}"
    return text


def _latent_evidence(found: LatentEscalation, names: dict[str, str]) -> dict[str, Any]:
    hops: list[dict[str, Any]] = [{"kind": "principal", "id": names.get(found.principal)}]
    hops += [{"kind": "principal", "id": names.get(e.target), "rule": e.technique}
             for e in found.via]
    first = found.capabilities[0]
    hops += [{"kind": "missing", "id": first.counterpart, "rule": _how(first.technique)},
             {"kind": "", "id": "ADMIN", "rule": first.moment}]
    return {
        "latent": [c.evidence() for c in found.capabilities],
        "via": [e.evidence() for e in found.via],
        "path": hops,
        "conditional": found.conditional,
    }


@check("aws.iam.no_latent_privilege_escalation", Severity.MEDIUM, (Principle.LEAST_PRIVILEGE,),
       reads=IDENTITY_READS)
def no_latent_privilege_escalation(ctx: CheckContext) -> Iterator[Result]:
    """No IAM principal is one change away from escalating to administrator

    A principal allowed iam:PassRole on every role with ec2:RunInstances is not an administrator
    while no privileged role trusts EC2, but becomes one the day such a role is created, with
    nobody changing its own policies. Like an open security group on a private host, the grant is
    one change away; a principal with a path today is reported by the escalation check instead, and
    a grant that depends on a condition the inventory cannot decide is inconclusive.

    Remediation: Scope the grant to what the workload needs today: iam:PassRole to the named roles
    with iam:PassedToService,
    CreatePolicyVersion/CreateAccessKey/AddUserToGroup/UpdateAssumeRolePolicy/AssumeRole to named
    resources, or cap the principal with a permissions boundary that denies them.
    """
    graph = identity(ctx)
    latent = _latent(ctx)
    names = graph.names()
    for asset in ctx.inventory.of(USER, ROLE):
        if asset.attr("service_linked"):
            continue
        p = graph.principal(asset.uid)
        path = graph.admin_path(asset.uid)
        if path is not None:
            yield ctx.passed(
                asset,
                "administrator by its own policies (the admin checks judge it)"
                if path.direct
                else f"has a path to administrator today ({ESCALATION_CHECK} judges it)",
            )
            continue
        managed = frozenset(g.action for g in latent.management(asset.uid))
        found = latent.escalation(asset.uid, exclude=managed)
        covered = [c for c in latent.capabilities(asset.uid) if c.action in managed]
        if found is not None:
            evidence = _latent_evidence(found, names)
            if found.conditional:
                yield ctx.unknown(asset, "under conditions: " + _sentence(found, names),
                                  **evidence)
            else:
                yield ctx.fail(asset, _sentence(found, names), **evidence)
        elif covered:
            yield ctx.passed(
                asset,
                f"its latent escalation through {', '.join(c.technique for c in covered)} is "
                f"part of its permissions-management finding ({MANAGEMENT_CHECK})",
                latent=[c.evidence() for c in covered],
            )
        elif p is not None and p.unknown:
            yield ctx.unknown(asset, "policies incompletely known", unknown=list(p.unknown))
        else:
            yield ctx.passed(asset, "holds no escalation technique waiting for a counterpart")


def _scope(grants: list[Grant]) -> str:
    """'iam:AttachRolePolicy on 2 roles (a, b) and on roles that do not exist yet'."""
    out = []
    for action in dict.fromkeys(g.action for g in grants):
        kind = MANAGEMENT_ACTIONS[action]
        kinds = "policies" if kind == "policy" else f"{kind}s"
        mine = [g for g in grants if g.action == action]
        existing = [g.name for g in mine if not g.future]
        parts = []
        if len(existing) == 1:
            parts.append(f"{kind} {existing[0]}")
        elif existing:
            parts.append(f"{len(existing)} {kinds} ({', '.join(existing)})")
        if any(g.future for g in mine):
            parts.append(f"{kinds} that do not exist yet")
        out.append(f"{action} on {' and on '.join(parts)}")
    return "; ".join(out)


@check(
    "aws.iam.no_unrestricted_permissions_management", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
    reads=IDENTITY_READS,
)
def no_unrestricted_permissions_management(ctx: CheckContext) -> Iterator[Result]:
    """No IAM principal can write the permissions of other principals

    A principal that can put or attach a policy on other users, roles or groups, write a new
    default version of a policy they hold, or rewrite their trust policies can grant administrator
    to anyone (itself included, the moment it can act as one of them). Administrators are judged by
    the admin checks; targets capped by a permissions boundary the principal cannot remove do not
    count, and a grant that depends on a condition the inventory cannot decide is inconclusive.

    Remediation: Keep iam:Put*Policy, iam:Attach*Policy, iam:CreatePolicyVersion and
    iam:UpdateAssumeRolePolicy for administrators; delegate with named resources and an
    iam:PermissionsBoundary condition so that what a delegate writes stays capped.
    """
    graph = identity(ctx)
    latent = _latent(ctx)
    for asset in ctx.inventory.of(USER, ROLE):
        if asset.attr("service_linked"):
            continue
        path = graph.admin_path(asset.uid)
        if path is not None and not path.conditional:
            yield ctx.passed(asset, "admin-equivalent: judged by the admin and escalation checks")
            continue
        grants = list(latent.management(asset.uid))
        p = graph.principal(asset.uid)
        if not grants:
            if p is not None and p.unknown:
                yield ctx.unknown(asset, "policies incompletely known", unknown=list(p.unknown))
            else:
                yield ctx.passed(asset, "cannot write the permissions of other principals")
            continue
        definite = [g for g in grants if g.verdict.allowed]
        evidence = {
            "grants": [g.evidence() for g in definite or grants],
            "principal_kind": principal_kind("user" if asset.type == USER else "role"),
        }
        if definite:
            yield ctx.fail(
                asset,
                f"can grant administrator to other principals: {_scope(definite)}",
                **evidence,
            )
        else:
            yield ctx.unknown(
                asset,
                f"may grant administrator to other principals under conditions: "
                f"{_scope(grants)}",
                **evidence,
            )
