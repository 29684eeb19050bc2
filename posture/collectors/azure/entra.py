"""Entra ID through Microsoft Graph (v1.0), once per tenant: the tenant, users and guests with
their MFA registration, conditional-access policies, security defaults, directory role
assignments and PIM eligibilities, the groups those name (with their transitive members),
service principals and app registrations with their credentials' dates.

Fetch (:class:`~posture.collectors.azure.graph.TenantScope`: paged, retried, every failure a
:class:`CollectionError` naming the Graph permission) then normalize (pure, here and in
:mod:`posture.collectors.azure.entra_normalize`). Credentials are read for their dates only:
Graph never returns a secret's value, and ``secretText``, ``hint`` and certificate ``key``
blobs are dropped anyway. Uids are ``/tenants/<tenant>/<collection>/<object id>``, lower-case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posture import azure as entra
from posture.collectors.azure.base import NOT_FOUND
from posture.collectors.azure.entra_normalize import (
    normalize_app,
    normalize_assignment,
    normalize_defaults,
    normalize_group,
    normalize_policy,
    normalize_tenant,
    normalize_users,
    pim_activations,
)
from posture.collectors.azure.graph import TenantScope
from posture.collectors.runner import parallel_map
from posture.model import Asset

PERMISSIONS: tuple[str, ...] = ()  # no ARM action: everything here is Graph
GRAPH_PERMISSIONS = (
    "Organization.Read.All", "User.Read.All", "AuditLog.Read.All", "Policy.Read.All",
    "RoleManagement.Read.Directory", "GroupMember.Read.All", "Application.Read.All",
)
"""Microsoft Graph application permissions (admin-consented app roles), all read-only."""

USER_FIELDS = ("id,displayName,userPrincipalName,userType,accountEnabled,employeeType,"
               "onPremisesSyncEnabled,createdDateTime")
CREDENTIAL_FIELDS = "id,appId,displayName,passwordCredentials,keyCredentials"
CALLS: dict[str, tuple[str, tuple[str, ...], str, dict[str, str], str]] = {
    # name: (operation, asset types, path, query, permission)
    "organization": ("Organization_List", (f"{entra.TENANT}#details",), "/organization",
                     {"$select": "id,displayName,verifiedDomains"}, "Organization.Read.All"),
    "users": ("Users_List", (entra.USER,), "/users",
              {"$select": USER_FIELDS, "$top": "999"}, "User.Read.All"),
    "registration": ("UserRegistrationDetails_List", (f"{entra.USER}#registration",),
                     "/reports/authenticationMethods/userRegistrationDetails", {},
                     "AuditLog.Read.All"),
    "policies": ("ConditionalAccessPolicies_List", (entra.CA_POLICY,),
                 "/identity/conditionalAccess/policies", {}, "Policy.Read.All"),
    "assignments": ("RoleAssignments_List", (entra.DIRECTORY_ROLE,),
                    "/roleManagement/directory/roleAssignments",
                    {"$expand": "roleDefinition"}, "RoleManagement.Read.Directory"),
    "eligibilities": ("RoleEligibilitySchedules_List", (entra.DIRECTORY_ELIGIBILITY,),
                      "/roleManagement/directory/roleEligibilitySchedules",
                      {"$expand": "roleDefinition"}, "RoleManagement.Read.Directory"),
    "activations": ("RoleAssignmentScheduleInstances_List", (f"{entra.DIRECTORY_ROLE}#pim",),
                    "/roleManagement/directory/roleAssignmentScheduleInstances", {},
                    "RoleManagement.Read.Directory"),
    "service_principals": ("ServicePrincipals_List", (entra.SERVICE_PRINCIPAL,),
                           "/servicePrincipals",
                           {"$select": f"{CREDENTIAL_FIELDS},servicePrincipalType,"
                            "accountEnabled,appOwnerOrganizationId", "$top": "999"},
                           "Application.Read.All"),
    "applications": ("Applications_List", (entra.APPLICATION,), "/applications",
                     {"$select": f"{CREDENTIAL_FIELDS},signInAudience", "$top": "999"},
                     "Application.Read.All"),
}


def _fetch(scope: TenantScope, name: str) -> list[dict[str, Any]] | None:
    operation, types, path, query, permission = CALLS[name]
    return scope.listing(operation, types, path, query, permission=permission)


def collect(scope: TenantScope) -> list[Asset]:
    names = list(CALLS)
    found = dict(zip(names, parallel_map(lambda n: _fetch(scope, n), names), strict=True))
    defaults = scope.document(
        "SecurityDefaults_Get", (entra.SECURITY_DEFAULTS,),
        "/policies/identitySecurityDefaultsEnforcementPolicy", permission="Policy.Read.All",
    )
    users = normalize_users(scope, found["users"], found["registration"])
    principals = {**{str(u.attr("object_id")).lower(): str(u.attr("display_name"))
                     for u in users},
                  **{str(s.get("id")).lower(): str(s.get("displayName"))
                     for s in found["service_principals"] or ()}}
    groups = _groups(scope, found, principals)
    principals.update({str(g.attr("object_id")).lower(): g.name for g in groups})
    pim = pim_activations(found["activations"])
    out = [normalize_tenant(scope, (found["organization"] or [{}])[0]), *users, *groups]
    out += [normalize_policy(scope, p) for p in found["policies"] or ()]
    if defaults is not None:
        out.append(normalize_defaults(scope, defaults))
    out += [normalize_assignment(scope, a, principals, pim, found["activations"] is not None)
            for a in found["assignments"] or ()]
    out += [normalize_assignment(scope, e, principals, eligible=True)
            for e in found["eligibilities"] or ()]
    out += [normalize_app(scope, entra.SERVICE_PRINCIPAL, s)
            for s in found["service_principals"] or ()]
    out += [normalize_app(scope, entra.APPLICATION, a) for a in found["applications"] or ()]
    return out


def referenced_groups(
    found: dict[str, list[dict[str, Any]] | None], known: dict[str, str]
) -> list[str]:
    """Group ids conditional-access policies include or exclude, and role principals that are
    neither a user nor a service principal (role-assignable groups), sorted."""
    ids: set[str] = set()
    for policy in found["policies"] or ():
        users = (policy.get("conditions") or {}).get("users") or {}
        ids.update(str(g).lower() for k in ("includeGroups", "excludeGroups")
                   for g in users.get(k) or ())
    for key in ("assignments", "eligibilities"):
        for grant in found[key] or ():
            pid = str(grant.get("principalId") or "").lower()
            if pid and pid not in known:
                ids.add(pid)
    return sorted(ids - {"all"})


def _groups(
    scope: TenantScope, found: dict[str, list[dict[str, Any]] | None], known: dict[str, str]
) -> list[Asset]:
    def one(group_id: str) -> Asset | None:
        uid = f"{scope.tenant_uid}/groups/{group_id}"
        item = scope.document("Groups_Get", (entra.GROUP,), f"/groups/{group_id}",
                              {"$select": "id,displayName,isAssignableToRole,securityEnabled"},
                              permission="GroupMember.Read.All", missing_ok=True,
                              resource_uid=uid)
        if item is NOT_FOUND:  # not a group (a deleted principal, or of another kind)
            return None
        members = None if item is None else scope.listing(
            "Groups_ListTransitiveMembers", (f"{entra.GROUP}#members",),
            f"/groups/{group_id}/transitiveMembers", {"$select": "id,displayName"},
            permission="GroupMember.Read.All", resource_uid=uid)
        return normalize_group(scope, item or {"id": group_id}, members)

    fetch: Callable[[str], Asset | None] = one
    return [g for g in parallel_map(fetch, referenced_groups(found, known)) if g is not None]
