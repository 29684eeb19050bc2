"""Least privilege and just-in-time access on Azure RBAC.

Privileged roles are Owner, Contributor and User Access Administrator, and any role whose
permissions are Owner-equivalent: ``*``, or ``Microsoft.Authorization/roleAssignments/write``
(whoever can assign roles can make themselves Owner; who can, is
``azure.iam.no_role_assignment_escalation``'s finding). Role permissions are read by
:mod:`posture.iam.azure_roles` (per permission block, ``notActions`` subtracted). A PIM
*eligible* assignment is not standing access; an active assignment that is a PIM activation is
time-bound and is not standing either. Principals are named by their Entra ID display name when
the directory was read (:class:`posture.iam.entra.PrincipalNames`), else by type and object id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from posture.engine import CheckContext, Result
from posture.iam.azure_roles import (
    BUILTIN,
    CONTRIBUTOR,
    ELIGIBILITY,
    MANAGEMENT_GROUP,
    OWNER,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    USER_ACCESS_ADMIN,
    Power,
    Role,
)
from posture.iam.entra import PrincipalNames
from posture.model import Asset, Inventory, Principle, Severity
from posture.registry import check

VAULT = "Microsoft.KeyVault/vaults"
PRIVILEGED_BUILTINS = (OWNER, CONTRIBUTOR, USER_ACCESS_ADMIN)
_BROAD_SCOPES = {"subscription", "management_group", "root"}


def _inherited_by(inventory: Inventory, ra: Asset) -> list[str]:
    """The scanned subscriptions a management-group assignment covers: those below the group
    when the hierarchy was collected, else the subscription whose listing returned it."""
    if ra.attr("scope_level") != "management_group":
        return []
    group = inventory.get(str(ra.attr("scope")).lower())
    if group is not None and group.type == MANAGEMENT_GROUP:
        scanned = set(inventory.meta.accounts)
        return [s for s in group.attr("subscriptions") or () if s in scanned]
    return [ra.account]


def _definitions(inventory: Inventory) -> dict[str, Role]:
    """Every collected role definition by GUID, over the built-in roles posture names."""
    return {**BUILTIN, **{r.guid: r for r in map(Role.of, inventory.of(ROLE_DEFINITION))}}


def privileged(role_definition_id: str | None, definitions: Mapping[str, Role]) -> str | None:
    """Why a role is privileged (its name), ``""`` if it is not, ``None`` if unknown."""
    guid = str(role_definition_id or "").rsplit("/", 1)[-1].lower()
    if guid in PRIVILEGED_BUILTINS:
        return BUILTIN[guid].name
    role = definitions.get(guid)
    if role is None:
        return None
    if role.power >= Power.ASSIGN:
        return f"{role.name} (Owner-equivalent)"
    if role.power is Power.CONTRIBUTOR:
        return f"{role.name} (grants '*')"
    return ""


@check("azure.iam.no_standing_privileged_roles", Severity.HIGH,
       (Principle.JUST_IN_TIME, Principle.LEAST_PRIVILEGE),
       reads={ROLE_ASSIGNMENT, ROLE_DEFINITION, ELIGIBILITY},
       params={"principal_types": ("User", "Group")})
def no_standing_privileged_roles(ctx: CheckContext) -> Iterator[Result]:
    """No user holds standing Owner, Contributor or User Access Administrator access

    Standing privileged access turns every stolen session of an administrator into a subscription
    takeover. PIM eligibility (activated on demand, time-bound) is the just-in-time alternative and
    passes.

    Remediation: Remove permanent privileged assignments of users and groups at subscription scope
    or above; make them PIM-eligible with approval and a short activation window.
    """
    definitions = ctx.derived("azure.iam.definitions", _definitions)
    names = ctx.derived("azure.iam.principal_names", PrincipalNames.of)
    types = set(ctx.param("principal_types"))
    for ra in ctx.inventory.of(ROLE_ASSIGNMENT):
        if ra.attr("scope_level") not in _BROAD_SCOPES or ra.attr("principal_type") not in types:
            continue
        why = privileged(ra.attr("role_definition_id"), definitions)
        who = names.label(ra.attr("principal_id"), ra.attr("principal_type"))
        evidence = {
            **{k: ra.attr(k) for k in ("principal_id", "principal_type", "role_name", "scope",
                                       "pim")},
            **names.evidence(ra.attr("principal_id")),
        }
        if why is None:
            yield ctx.unknown(ra, "role definition not collected", **evidence)
        elif not why:
            continue
        elif (ra.attr("pim") or {}).get("assignment_type") == "Activated":
            yield ctx.passed(
                ra,
                f"{why} is a PIM activation ending {(ra.attr('pim') or {}).get('end')}",
                **evidence,
            )
        else:
            inherited = _inherited_by(ctx.inventory, ra)
            note = f", inherited by subscription(s) {', '.join(inherited)}" if inherited else ""
            yield ctx.fail(
                ra,
                f"standing {why} assignment to {who} at {ra.attr('scope_level')} scope{note}",
                **evidence,
                **({"inherited_by": inherited} if inherited else {}),
            )
    for el in ctx.inventory.of(ELIGIBILITY):
        why = privileged(el.attr("role_definition_id"), definitions)
        if why:
            who = names.label(el.attr("principal_id"), el.attr("principal_type"))
            yield ctx.passed(
                el,
                f"{why} is PIM-eligible for {who} (not standing)",
                end=el.attr("end"),
                scope=el.attr("scope"),
                principal_id=el.attr("principal_id"),
                **names.evidence(el.attr("principal_id")),
            )


@check("azure.iam.no_custom_owner_roles", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={ROLE_DEFINITION})
def no_custom_owner_roles(ctx: CheckContext) -> Iterator[Result]:
    """No custom role is Owner-equivalent

    A custom role with '*' or the right to write role assignments is an unreviewed Owner: it
    escapes the scrutiny built-in Owner assignments get.

    Remediation: Replace '*' in custom roles with the specific actions needed, and do not grant
    Microsoft.Authorization/roleAssignments/write outside of break-glass roles.
    """
    for definition in ctx.inventory.of(ROLE_DEFINITION):
        if definition.attr("role_type") != "CustomRole":
            continue
        evidence = {
            "actions": definition.attr("actions"),
            "not_actions": definition.attr("not_actions"),
            "assignable_scopes": definition.attr("assignable_scopes"),
        }
        if "*" in (definition.attr("actions") or ()):
            yield ctx.fail(definition, "custom role grants '*' (all actions)", **evidence)
        elif Role.of(definition).power >= Power.ASSIGN:
            yield ctx.fail(
                definition, "custom role can write role assignments (Owner-equivalent)", **evidence
            )
        else:
            yield ctx.passed(definition, "custom role is not Owner-equivalent", **evidence)


@check("azure.iam.keyvault_rbac_authorization", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE, Principle.SECRETS), reads={f"{VAULT}#listing"})
def keyvault_rbac_authorization(ctx: CheckContext) -> Iterator[Result]:
    """Key vaults use Azure RBAC instead of access policies

    Access policies grant vault-wide rights outside Azure RBAC: they escape PIM, conditions and the
    role-assignment audit trail.

    Remediation: Switch the vault's permission model to Azure role-based access control.
    """
    for vault in ctx.inventory.of(VAULT):
        if vault.attr("rbac_authorization"):
            yield ctx.passed(vault, "the vault uses Azure RBAC")
        else:
            yield ctx.fail(
                vault,
                f"the vault uses access policies ({vault.attr('access_policy_count')} defined)",
            )
