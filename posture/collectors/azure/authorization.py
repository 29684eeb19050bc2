"""Azure RBAC: role assignments and definitions at subscription and resource-group scope, and
PIM schedules (eligible assignments, and which active assignments are PIM activations).

Only role definitions that are custom, referenced by an assignment or eligibility, or named in a
condition (the roles a delegated role-assignment writer may assign) are kept (a subscription
lists several hundred built-in roles).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from azure.mgmt.authorization import AuthorizationManagementClient

from posture.collectors.azure.base import SubscriptionScope, id_name, props, resource_group, rid
from posture.model import Asset

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITION = "Microsoft.Authorization/roleDefinitions"
ELIGIBILITY = "Microsoft.Authorization/roleEligibilityScheduleInstances"

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

PERMISSIONS = (
    "Microsoft.Authorization/roleAssignments/read", "Microsoft.Authorization/roleDefinitions/read",
    "Microsoft.Authorization/roleEligibilityScheduleInstances/read",
    "Microsoft.Authorization/roleAssignmentScheduleInstances/read",
)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(AuthorizationManagementClient)
    sub = scope.sub_uid
    assignments = scope.listing(
        "authorization",
        "RoleAssignments_ListForSubscription",
        (ROLE_ASSIGNMENT,),
        client.role_assignments.list_for_subscription,
    )
    definitions = scope.listing(
        "authorization",
        "RoleDefinitions_List",
        (ROLE_DEFINITION,),
        lambda: client.role_definitions.list(sub),
    )
    eligible = scope.listing(
        "authorization",
        "RoleEligibilityScheduleInstances_ListForScope",
        (ELIGIBILITY,),
        lambda: client.role_eligibility_schedule_instances.list_for_scope(sub),
    )
    active = scope.listing(
        "authorization",
        "RoleAssignmentScheduleInstances_ListForScope",
        (f"{ROLE_ASSIGNMENT}#pim",),
        lambda: client.role_assignment_schedule_instances.list_for_scope(sub),
    )
    return normalize_rbac(scope, assignments, definitions, eligible, active)


def _guid(definition_id: Any) -> str:
    return id_name(definition_id).lower()


def scope_level(scope: str) -> str:
    parts = scope.strip("/").lower().split("/")
    if scope.strip("/") == "":
        return "root"
    if parts[:2] == ["providers", "microsoft.management"]:
        return "management_group"
    if len(parts) == 2 and parts[0] == "subscriptions":
        return "subscription"
    if len(parts) == 4 and parts[2] == "resourcegroups":
        return "resource_group"
    return "resource"


def normalize_rbac(
    scope: SubscriptionScope,
    assignments: list[dict[str, Any]] | None,
    definitions: list[dict[str, Any]] | None,
    eligible: list[dict[str, Any]] | None,
    active: list[dict[str, Any]] | None,
) -> list[Asset]:
    by_guid = {_guid(d.get("id")): d for d in definitions or ()}
    pim = _pim_activations(active)
    out: list[Asset] = []
    used: set[str] = set()
    for item in assignments or ():
        p = props(item)
        guid = _guid(p.get("roleDefinitionId"))
        used.update((guid, *(g.lower() for g in _GUID.findall(p.get("condition") or ""))))
        out.append(_assignment(scope, item, p, by_guid.get(guid), pim))
    for item in eligible or ():
        p = props(item)
        guid = _guid(p.get("roleDefinitionId"))
        used.update((guid, *(g.lower() for g in _GUID.findall(p.get("condition") or ""))))
        out.append(_eligibility(scope, item, p, by_guid.get(guid)))
    for guid, item in sorted(by_guid.items()):
        if guid in used or props(item).get("type") == "CustomRole":
            out.append(normalize_definition(scope, item))
    return out


def _pim_activations(active: Iterable[Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Role assignment id → its PIM schedule instance (``Activated`` = just-in-time)."""
    out: dict[str, dict[str, Any]] = {}
    for item in active or ():
        p = props(item)
        origin = rid(p.get("originRoleAssignmentId"))
        if origin:
            out[origin] = {
                "assignment_type": p.get("assignmentType"),
                "start": p.get("startDateTime"),
                "end": p.get("endDateTime"),
                "member_type": p.get("memberType"),
            }
    return out


def _role_name(definition: Mapping[str, Any] | None) -> str | None:
    return props(definition).get("roleName") if definition else None


def _assignment(
    scope: SubscriptionScope,
    item: Mapping[str, Any],
    p: Mapping[str, Any],
    definition: Mapping[str, Any] | None,
    pim: Mapping[str, dict[str, Any]],
) -> Asset:
    uid = str(rid(item["id"]))
    where = str(p.get("scope") or "")
    attrs = {
        "scope": rid(where) or "/",
        "scope_level": scope_level(where),
        "resource_group": resource_group(where),
        "principal_id": p.get("principalId"),
        "principal_type": p.get("principalType"),
        "role_definition_id": rid(p.get("roleDefinitionId")),
        "role_name": _role_name(definition),
        "condition": p.get("condition"),
        "condition_version": p.get("conditionVersion"),
        "created_on": p.get("createdOn"),
        "pim": pim.get(uid),
    }
    name = f"{attrs['role_name'] or _guid(p.get('roleDefinitionId'))} → {attrs['principal_id']}"
    return scope.asset(uid, ROLE_ASSIGNMENT, name, attrs, item)


def _eligibility(
    scope: SubscriptionScope,
    item: Mapping[str, Any],
    p: Mapping[str, Any],
    definition: Mapping[str, Any] | None,
) -> Asset:
    where = str(p.get("scope") or "")
    attrs = {
        "scope": rid(where) or "/",
        "scope_level": scope_level(where),
        "principal_id": p.get("principalId"),
        "principal_type": p.get("principalType"),
        "role_definition_id": rid(p.get("roleDefinitionId")),
        "role_name": _role_name(definition),
        "status": p.get("status"),
        "condition": p.get("condition"),
        "member_type": p.get("memberType"),
        "start": p.get("startDateTime"),
        "end": p.get("endDateTime"),
    }
    name = f"{attrs['role_name'] or _guid(p.get('roleDefinitionId'))} ⇢ {attrs['principal_id']}"
    return scope.asset(str(rid(item["id"])), ELIGIBILITY, name, attrs, item)


def normalize_definition(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    perms = p.get("permissions") or ()

    def collect_field(key: str) -> list[str]:
        return sorted({str(a) for perm in perms for a in perm.get(key) or ()})

    def block(perm: Mapping[str, Any]) -> dict[str, list[str]]:
        return {
            field: sorted(str(a) for a in perm.get(key) or ())
            for field, key in (
                ("actions", "actions"),
                ("not_actions", "notActions"),
                ("data_actions", "dataActions"),
                ("not_data_actions", "notDataActions"),
            )
        }

    attrs = {
        "role_name": p.get("roleName"),
        "role_type": p.get("type"),
        "description": p.get("description"),
        "actions": collect_field("actions"),
        "not_actions": collect_field("notActions"),
        "data_actions": collect_field("dataActions"),
        "not_data_actions": collect_field("notDataActions"),
        "permissions": [block(perm) for perm in perms],
        "assignable_scopes": sorted(str(rid(s) or "/") for s in p.get("assignableScopes") or ()),
    }
    return scope.asset(
        str(rid(item["id"])),
        ROLE_DEFINITION,
        str(p.get("roleName") or item.get("name")),
        attrs,
        item,
    )
