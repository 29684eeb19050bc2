"""Least privilege on Azure RBAC: no principal can make itself Owner.

These checks read :mod:`posture.iam.azure` (the grants, their roles' power, the conditions). A
grant whose role is administrator itself (Owner, a custom ``*``) is the admin checks' finding
(``azure.iam.no_standing_privileged_roles``, ``azure.iam.no_custom_owner_roles``), never an
escalation here. A PIM eligibility is an escalation one activation away: the principal activates
it by itself (approval and MFA requirements of the role's PIM policy are not collected), and an
Owner assignment it makes while active outlives the activation - so it is reported, graded
``eligible_severity`` (MEDIUM) below a standing or activated grant (HIGH); an eligibility already
activated is judged on its active assignment. Reaching only Contributor (a condition that
excludes every role able to assign roles) is graded ``contributor_severity``. Principals are
named by their Entra ID display name when the directory was read, else by type and object id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result
from posture.iam.azure import Assessment, Outcome, assessments
from posture.iam.azure_roles import (
    DEFINE,
    ELIGIBILITY,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    Power,
    principal_label,
    role_label,
    scope_label,
)
from posture.iam.entra import PrincipalNames
from posture.model import Principle, Severity
from posture.registry import check

ADMIN_CHECK = "azure.iam.no_standing_privileged_roles"


def _short(action: str | None) -> str:
    return (action or "").removeprefix("Microsoft.Authorization/")


def _path(a: Assessment, becomes: str, names: PrincipalNames) -> list[dict[str, Any]]:
    g = a.grant
    how = "PIM eligibility" if g.eligible else "assignment"
    hops: list[dict[str, Any]] = [
        {"kind": "principal", "id": principal_label(g, names)},
        {"kind": "role", "id": role_label(a.role, g), "rule": f"{how} at {scope_label(g.scope)}"},
    ]
    if a.technique == DEFINE:
        hops.append({"kind": "custom role", "id": a.via, "rule": "widened to '*'"})
    elif a.via and a.via != becomes:
        hops.append({"kind": "role", "id": a.via, "rule": "assigned to itself"})
    at = scope_label(a.at or g.scope)
    hops.append({"kind": "", "id": becomes, "rule": f"{_short(a.technique)} at {at}"})
    return hops


def _evidence(
    a: Assessment, names: PrincipalNames, becomes: str | None = None
) -> dict[str, Any]:
    g = a.grant
    out: dict[str, Any] = {
        "principal_id": g.principal_id,
        "principal_type": g.principal_type,
        **names.evidence(g.principal_id),
        "role_name": a.role.name if a.role else None,
        "role_definition_id": g.asset.attr("role_definition_id"),
        "scope": g.scope,
        "eligible": g.eligible,
        "pim": g.asset.attr("pim"),
        **a.evidence(),
    }
    if becomes:
        out["path"] = _path(a, becomes, names)
    return out


def _sentence(a: Assessment, becomes: str, names: PrincipalNames) -> str:
    g = a.grant
    who, role = principal_label(g, names), role_label(a.role, g)
    where, here = scope_label(a.at or g.scope), scope_label(g.scope)
    if a.technique == DEFINE:
        how = f"{a.technique}, and {a.reason}"
    else:
        via = f"; assigning itself {a.via}, then Owner" if a.via not in (None, becomes) else ""
        how = f"{a.technique} ({a.reason}{via})"
    if g.eligible:
        return (
            f"{who} is eligible (PIM) for {role} at {here}: once it activates the role it can "
            f"make itself {becomes} at {where}, as the role allows {how}; the activation "
            "requirements (approval, MFA) are not collected"
        )
    lead = f"{who} can make itself {becomes} at {where}"
    return f"{lead}: its {role} assignment at {here} allows {how}"


@check("azure.iam.no_role_assignment_escalation", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={ROLE_ASSIGNMENT, ROLE_DEFINITION, ELIGIBILITY},
       params={"eligible_severity": "medium", "contributor_severity": "medium"})
def no_role_assignment_escalation(ctx: CheckContext) -> Iterator[Result]:
    """No principal can make itself Owner by assigning roles or widening its own role

    Whoever can write role assignments at a scope can assign itself Owner there (service principals
    and managed identities included), and whoever can rewrite a custom role it holds can widen it
    to '*'. Owner itself is judged by the admin checks; a condition that limits the assignable
    roles to unprivileged ones removes the escalation, one that cannot be decided is inconclusive,
    and a PIM eligibility is one activation away.

    Remediation: Remove Microsoft.Authorization/roleAssignments/write (User Access Administrator,
    Role Based Access Control Administrator, custom roles) from principals that are not meant to be
    Owner, or add a condition constraining the roles they may assign (RoleDefinitionId) to
    unprivileged ones; keep roleDefinitions/write away from holders of custom roles; make the
    remaining grants PIM-eligible with approval.
    """
    found = ctx.derived("azure.iam.assessments", assessments)
    names = ctx.derived("azure.iam.principal_names", PrincipalNames.of)
    for asset in ctx.inventory.of(ROLE_ASSIGNMENT, ELIGIBILITY):
        a = found[asset.uid]
        g, role = a.grant, role_label(a.role, a.grant)
        where = scope_label(g.scope)
        if a.outcome is Outcome.UNKNOWN_ROLE:
            yield ctx.unknown(asset, f"{role}: its definition was not collected",
                              **_evidence(a, names))
        elif a.outcome is Outcome.ADMIN:
            kind = "eligible for" if g.eligible else "holds"
            yield ctx.passed(
                asset,
                f"{principal_label(g, names)} {kind} {role} at {where}: administrator by the role "
                f"itself, judged by the admin checks ({ADMIN_CHECK}), not as an escalation",
                **_evidence(a, names),
            )
        elif a.outcome is Outcome.COVERED:
            yield ctx.passed(asset, "activated: judged on its active assignment",
                             **_evidence(a, names))
        elif a.outcome is Outcome.ESCALATES:
            becomes = "Owner" if a.power is Power.OWNER else "Contributor"
            severity = ctx.spec.severity
            if a.power is Power.CONTRIBUTOR:
                severity = Severity.parse(str(ctx.param("contributor_severity")))
            if g.eligible:
                severity = min(severity, Severity.parse(str(ctx.param("eligible_severity"))))
            yield ctx.fail_at(severity, asset, _sentence(a, becomes, names),
                              **_evidence(a, names, becomes))
        elif a.outcome is Outcome.UNDECIDED:
            yield ctx.unknown(
                asset, "may be an escalation: " + _sentence(a, "Owner", names),
                **_evidence(a, names, "Owner"),
            )
        elif a.outcome in (Outcome.RESTRICTED, Outcome.ALREADY) or a.technique:
            yield ctx.passed(
                asset,
                f"{principal_label(g, names)}'s {role} grant allows {_short(a.technique)} at "
                f"{where}, but {a.reason}",
                **_evidence(a, names),
            )
