"""Builders of small Entra ID inventories (attrs as in docs/azure-assets.md, "Entra ID")."""

from __future__ import annotations

from typing import Any

from posture.azure import (
    CA_POLICY,
    DIRECTORY_ELIGIBILITY,
    DIRECTORY_ROLE,
    GROUP,
    SECURITY_DEFAULTS,
    TENANT,
    USER,
)
from posture.iam.entra import GLOBAL_ADMIN
from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider

from .azure import SUB
from .model import asset_of, error_of, inventory_of, scan_meta

TENANT_ID = "33333333-3333-3333-3333-333333333333"
ACCOUNT = f"tenants/{TENANT_ID}"
BASE = f"/tenants/{TENANT_ID}"
SECURITY_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"


def entra(type_: str, uid: str, name: str, **attrs: Any) -> Asset:
    return asset_of(Provider.AZURE, type_, uid.lower(), account=ACCOUNT, region=GLOBAL,
                    name=name, tags=None, attrs=attrs)


def tenant() -> Asset:
    return entra(TENANT, BASE, "Contoso", tenant_id=TENANT_ID, display_name="Contoso")


def user(oid: str, name: str, *, guest: bool = False, enabled: bool = True,
         mfa: bool | None = True, employee_type: str | None = None) -> Asset:
    upn = f"{name.split()[0].lower()}@contoso.example"
    return entra(USER, f"{BASE}/users/{oid}", name, object_id=oid, display_name=name,
                 user_principal_name=upn, user_type="Guest" if guest else "Member",
                 account_enabled=enabled, employee_type=employee_type, mfa_registered=mfa,
                 mfa_methods=["fido2"] if mfa else [])


def group(oid: str, name: str, members: list[str] | None) -> Asset:
    return entra(GROUP, f"{BASE}/groups/{oid}", name, object_id=oid, display_name=name,
                 member_user_ids=members)


def policy(name: str, *, state: str = "enabled", controls: tuple[str, ...] = ("mfa",),
           apps: tuple[str, ...] = ("all",), strength: str | None = None, **users: Any) -> Asset:
    attrs: dict[str, Any] = {
        "display_name": name, "state": state,
        **{f"{side}_{kind}": [] for side in ("include", "exclude")
           for kind in ("users", "groups", "roles", "guests")},
        "include_applications": list(apps), "exclude_applications": [],
        "include_user_actions": [], "client_app_types": ["all"], "platforms": None,
        "locations": None, "devices": None, "sign_in_risk_levels": [], "user_risk_levels": [],
        "grant_operator": "OR", "grant_controls": list(controls),
        "authentication_strength": strength,
    }
    attrs.update({k: [str(v).lower() for v in vals] for k, vals in users.items()})
    slug = name.lower().replace(" ", "-")
    return entra(CA_POLICY, f"{BASE}/conditionalaccesspolicies/{slug}", name, policy_id=slug,
                 **attrs)


def defaults(enabled: bool) -> Asset:
    return entra(SECURITY_DEFAULTS, f"{BASE}/policies/identitysecuritydefaultsenforcementpolicy",
                 "Security defaults", enabled=enabled)


def role(oid: str, principal: str, template: str = GLOBAL_ADMIN, *, name: str | None = None,
         eligible: bool = False, pim: dict[str, Any] | None = None,
         privileged: bool | None = None) -> Asset:
    shown = name or {GLOBAL_ADMIN: "Global Administrator",
                     SECURITY_ADMIN: "Security Administrator"}.get(template, "Directory Readers")
    attrs = {"object_id": oid, "principal_id": principal, "role_template_id": template,
             "role_definition_id": template, "role_name": shown, "role_privileged": privileged,
             "directory_scope_id": "/"}
    if eligible:
        return entra(DIRECTORY_ELIGIBILITY, f"{BASE}/roleeligibilityschedules/{oid}",
                     f"{shown} ⇢ {principal}", **attrs, end=None, status="Provisioned")
    return entra(DIRECTORY_ROLE, f"{BASE}/roleassignments/{oid}", f"{shown} → {principal}",
                 **attrs, pim=pim, pim_known=True)


def directory(*assets: Asset, errors: tuple[CollectionError, ...] = ()) -> Inventory:
    """A scan of subscription SUB whose tenant has ``assets`` (the tenant asset added)."""
    return inventory_of(scan_meta(Provider.AZURE, (SUB,), (GLOBAL,)), (tenant(), *assets), errors)


def graph_error(operation: str, asset_types: tuple[str, ...], permission: str) -> CollectionError:
    return error_of(Provider.AZURE, ACCOUNT, "graph", operation, asset_types,
                    code="Authorization_RequestDenied",
                    message=f"needs Graph application permission {permission}: Insufficient "
                    "privileges to complete the operation.")
