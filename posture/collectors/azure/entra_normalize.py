"""Pure normalizers of Microsoft Graph payloads into Entra ID assets (docs/azure-assets.md,
"Entra ID"). Graph's JSON is camelCase without ``properties`` nesting; object ids are kept
lower-case in ``object_id`` and in every reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from posture import azure as entra
from posture.collectors.azure.graph import TenantScope
from posture.model import Asset

_SECRET_FIELDS = frozenset({"secretText", "hint", "key"})
"""Never kept, even if a payload carried them (Graph returns no secret value; ``key`` is a
certificate's public blob, of no use as evidence)."""


def _lower(values: Iterable[Any] | None) -> list[str]:
    return sorted({str(v).lower() for v in values or ()})


def _oid(item: Mapping[str, Any]) -> str:
    return str(item.get("id") or "").lower()


def normalize_tenant(scope: TenantScope, org: Mapping[str, Any]) -> Asset:
    """The tenant, named by the organization's display name when it could be read."""
    domains = org.get("verifiedDomains") or ()
    default = next((d.get("name") for d in domains if d.get("isDefault")), None)
    attrs = {"tenant_id": scope.tenant, "display_name": org.get("displayName"),
             "default_domain": default}
    name = str(org.get("displayName") or default or scope.tenant)
    return scope.asset(scope.tenant_uid, entra.TENANT, name, attrs, dict(org))


def normalize_users(
    scope: TenantScope,
    users: list[dict[str, Any]] | None,
    registration: list[dict[str, Any]] | None,
) -> list[Asset]:
    """Users and guests, joined with their authentication-method registration (``None`` when
    the report was not read or does not list the user, e.g. a disabled one)."""
    details = {_oid(r): r for r in registration or ()}
    out = []
    for item in users or ():
        oid = _oid(item)
        reg = details.get(oid) if registration is not None else None
        attrs = {
            "object_id": oid,
            "display_name": item.get("displayName"),
            "user_principal_name": item.get("userPrincipalName"),
            "user_type": item.get("userType") or "Member",
            "account_enabled": item.get("accountEnabled"),
            "employee_type": item.get("employeeType"),
            "on_premises_sync": bool(item.get("onPremisesSyncEnabled")),
            "created": item.get("createdDateTime"),
            "mfa_registered": None if reg is None else bool(reg.get("isMfaRegistered")),
            "mfa_methods": None if reg is None else list(reg.get("methodsRegistered") or ()),
            "registration_is_admin": None if reg is None else reg.get("isAdmin"),
        }
        name = str(item.get("displayName") or item.get("userPrincipalName") or oid)
        raw = {"user": dict(item), "registration": reg}
        out.append(scope.asset(f"{scope.tenant_uid}/users/{oid}", entra.USER, name, attrs, raw))
    return out


def normalize_group(
    scope: TenantScope, item: Mapping[str, Any], members: list[dict[str, Any]] | None
) -> Asset:
    oid = _oid(item)
    users = None if members is None else sorted(
        _oid(m) for m in members
        if str(m.get("@odata.type", "#microsoft.graph.user")).endswith(".user"))
    attrs = {
        "object_id": oid,
        "display_name": item.get("displayName"),
        "role_assignable": item.get("isAssignableToRole"),
        "member_user_ids": users,  # transitive; None: not read
    }
    return scope.asset(f"{scope.tenant_uid}/groups/{oid}", entra.GROUP,
                       str(item.get("displayName") or oid), attrs, dict(item))


def normalize_policy(scope: TenantScope, item: Mapping[str, Any]) -> Asset:
    cond = item.get("conditions") or {}
    users = cond.get("users") or {}
    apps = cond.get("applications") or {}
    grant = item.get("grantControls") or {}
    strength = grant.get("authenticationStrength") or None

    def guests(key: str) -> list[str]:
        value = users.get(key) or {}
        kinds = str(value.get("guestOrExternalUserTypes") or "")
        return sorted({k.strip().lower() for k in kinds.split(",") if k.strip()})

    locations = cond.get("locations") or {}
    platforms = cond.get("platforms") or {}
    attrs = {
        "policy_id": _oid(item),
        "display_name": item.get("displayName"),
        "state": item.get("state"),
        **{f"{side}_{kind}": _lower(users.get(f"{side}{kind.title()}"))
           for side in ("include", "exclude") for kind in ("users", "groups", "roles")},
        "include_guests": guests("includeGuestsOrExternalUsers"),
        "exclude_guests": guests("excludeGuestsOrExternalUsers"),
        "include_applications": _lower(apps.get("includeApplications")),
        "exclude_applications": _lower(apps.get("excludeApplications")),
        "include_user_actions": list(apps.get("includeUserActions") or ()),
        "client_app_types": list(cond.get("clientAppTypes") or ()),
        "platforms": platforms if (platforms.get("excludePlatforms") or [
            p for p in platforms.get("includePlatforms") or () if p != "all"]) else None,
        "locations": locations if (locations.get("excludeLocations") or [
            p for p in locations.get("includeLocations") or () if p != "All"]) else None,
        "devices": cond.get("devices") or None,
        "sign_in_risk_levels": list(cond.get("signInRiskLevels") or ()),
        "user_risk_levels": list(cond.get("userRiskLevels") or ()),
        "grant_operator": grant.get("operator"),
        "grant_controls": list(grant.get("builtInControls") or ()),
        "authentication_strength": strength.get("displayName") if strength else None,
        "modified": item.get("modifiedDateTime"),
    }
    uid = f"{scope.tenant_uid}/conditionalaccesspolicies/{_oid(item)}"
    return scope.asset(uid, entra.CA_POLICY, str(item.get("displayName") or _oid(item)), attrs,
                       dict(item))


def normalize_defaults(scope: TenantScope, item: Mapping[str, Any]) -> Asset:
    attrs = {"enabled": item.get("isEnabled")}
    return scope.asset(f"{scope.tenant_uid}/policies/identitysecuritydefaultsenforcementpolicy",
                       entra.SECURITY_DEFAULTS, "Security defaults", attrs, dict(item))


def pim_activations(items: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Role assignment id → its PIM schedule instance (``Activated``: just in time)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items or ():
        origin = str(item.get("roleAssignmentOriginId") or item.get("id") or "").lower()
        if origin:
            out[origin] = {
                "assignment_type": item.get("assignmentType"),
                "member_type": item.get("memberType"),
                "start": item.get("startDateTime"),
                "end": item.get("endDateTime"),
            }
    return out


def normalize_assignment(
    scope: TenantScope,
    item: Mapping[str, Any],
    principals: Mapping[str, str],
    pim: Mapping[str, dict[str, Any]] | None = None,
    pim_known: bool = False,
    *,
    eligible: bool = False,
) -> Asset:
    """A directory role assignment (or, ``eligible``, a PIM eligibility schedule), named
    ``<role> → <principal display name>`` (``⇢`` for an eligibility)."""
    oid = _oid(item)
    definition = item.get("roleDefinition") or {}
    template = str(definition.get("templateId") or item.get("roleDefinitionId") or "").lower()
    principal = str(item.get("principalId") or "").lower()
    shown = principals.get(principal, principal)
    attrs: dict[str, Any] = {
        "object_id": oid,
        "principal_id": principal,
        "principal_name": principals.get(principal),
        "role_definition_id": str(item.get("roleDefinitionId") or "").lower(),
        "role_template_id": template,
        "role_name": definition.get("displayName"),
        "role_privileged": definition.get("isPrivileged"),
        "role_builtin": definition.get("isBuiltIn"),
        "directory_scope_id": item.get("directoryScopeId") or "/",
    }
    role = definition.get("displayName") or template
    if eligible:
        expiration = (item.get("scheduleInfo") or {}).get("expiration") or {}
        attrs.update(status=item.get("status"), member_type=item.get("memberType"),
                     start=(item.get("scheduleInfo") or {}).get("startDateTime"),
                     end=expiration.get("endDateTime"))
        uid = f"{scope.tenant_uid}/roleeligibilityschedules/{oid}"
        return scope.asset(uid, entra.DIRECTORY_ELIGIBILITY, f"{role} ⇢ {shown}", attrs, dict(item))
    attrs.update(pim=(pim or {}).get(oid), pim_known=pim_known)
    uid = f"{scope.tenant_uid}/roleassignments/{oid}"
    return scope.asset(uid, entra.DIRECTORY_ROLE, f"{role} → {shown}", attrs, dict(item))


def _credentials(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for kind, key in (("password", "passwordCredentials"), ("certificate", "keyCredentials")):
        for cred in item.get(key) or ():
            out.append({
                "kind": kind,
                "key_id": cred.get("keyId"),
                "display_name": cred.get("displayName"),
                "start": cred.get("startDateTime"),
                "end": cred.get("endDateTime"),
            })
    return out


def _without_secrets(item: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(item)
    for key in ("passwordCredentials", "keyCredentials"):
        if clean.get(key):
            clean[key] = [{k: v for k, v in c.items() if k not in _SECRET_FIELDS}
                          for c in clean[key]]
    return clean


def normalize_app(scope: TenantScope, type_: str, item: Mapping[str, Any]) -> Asset:
    """A service principal or an app registration, with its credentials' dates only."""
    oid = _oid(item)
    attrs = {
        "object_id": oid,
        "app_id": item.get("appId"),
        "display_name": item.get("displayName"),
        "service_principal_type": item.get("servicePrincipalType"),
        "account_enabled": item.get("accountEnabled"),
        "app_owner_tenant_id": item.get("appOwnerOrganizationId"),
        "sign_in_audience": item.get("signInAudience"),
        "credentials": _credentials(item),
    }
    kind = "serviceprincipals" if type_ == entra.SERVICE_PRINCIPAL else "applications"
    return scope.asset(f"{scope.tenant_uid}/{kind}/{oid}", type_,
                       str(item.get("displayName") or oid), attrs, _without_secrets(item))
