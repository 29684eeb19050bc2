"""Key vaults (soft delete, purge protection, RBAC mode, network ACLs, logging) and their keys
(expiry, rotation policy), through the management plane only: no data-plane access is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.mgmt.keyvault import KeyVaultManagementClient

from posture.collectors.azure.base import (
    SubscriptionScope,
    parallel_flat_map,
    props,
    region_of,
    resource_group,
    rid,
    tags_of,
)
from posture.collectors.azure.monitor import fetch_diagnostic_settings
from posture.model import Asset

VAULT = "Microsoft.KeyVault/vaults"
KEY = "Microsoft.KeyVault/vaults/keys"

PERMISSIONS = (
    "Microsoft.KeyVault/vaults/read",
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.Insights/DiagnosticSettings/Read",
)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(KeyVaultManagementClient)
    # list_by_subscription returns the vaults' properties; plain list() does not
    vaults = scope.listing(
        "keyvault", "Vaults_ListBySubscription", (VAULT, KEY), client.vaults.list_by_subscription
    )
    return parallel_flat_map(lambda v: _vault(scope, client, v), vaults or ())


def _vault(scope: SubscriptionScope, client: Any, item: Mapping[str, Any]) -> list[Asset]:
    uid, region = str(rid(item["id"])), region_of(item)
    keys = scope.listing(
        "keyvault",
        "Keys_List",
        (KEY, f"{VAULT}#keys"),
        lambda: client.keys.list(resource_group(item["id"]), item["name"]),
        region=region,
        resource_uid=uid,
    )
    diag = fetch_diagnostic_settings(scope, uid, region, f"{VAULT}#diagnostic_settings")
    vault = normalize_vault(scope, item, diag, None if keys is None else len(keys))
    return [vault] + [normalize_key(scope, k, uid, region) for k in keys or ()]


def normalize_vault(
    scope: SubscriptionScope,
    item: Mapping[str, Any],
    diagnostic_settings: list[dict[str, Any]] | None,
    key_count: int | None,
) -> Asset:
    p = props(item)
    acls = p.get("networkAcls") or {}
    attrs = {
        "vault_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "vault_uri": p.get("vaultUri"),
        "tenant_id": p.get("tenantId"),
        "sku": (p.get("sku") or {}).get("name"),
        # soft delete is on unless a vault says otherwise (ARM's default is true since 2020)
        "soft_delete_enabled": p.get("enableSoftDelete"),
        "soft_delete_retention_days": p.get("softDeleteRetentionInDays"),
        # purge protection can only be turned on; absent means off
        "purge_protection_enabled": bool(p.get("enablePurgeProtection")),
        "rbac_authorization": bool(p.get("enableRbacAuthorization")),
        "access_policy_count": len(p.get("accessPolicies") or ()),
        "public_network_access": p.get("publicNetworkAccess"),
        "network_default_action": acls.get("defaultAction") if acls else None,
        "network_bypass": acls.get("bypass") if acls else None,
        "ip_rules": sorted(str(r.get("value")) for r in acls.get("ipRules") or ()),
        "vnet_rule_subnet_ids": sorted(
            str(rid(r.get("id"))) for r in acls.get("virtualNetworkRules") or ()
        ),
        "private_endpoint_count": len(p.get("privateEndpointConnections") or ()),
        "diagnostic_settings": diagnostic_settings,
        "key_count": key_count,
    }
    return scope.arm_asset(VAULT, item, attrs)


def normalize_key(
    scope: SubscriptionScope, item: Mapping[str, Any], vault_uid: str, region: str
) -> Asset:
    p = props(item)
    attributes = p.get("attributes") or {}
    policy = p.get("rotationPolicy") or None
    actions = []
    for action in (policy or {}).get("lifetimeActions") or ():
        trigger = action.get("trigger") or {}
        actions.append(
            {
                "type": str((action.get("action") or {}).get("type") or "").lower(),
                "time_after_create": trigger.get("timeAfterCreate"),
                "time_before_expiry": trigger.get("timeBeforeExpiry"),
            }
        )
    attrs = {
        "key_name": item.get("name"),
        "vault_id": vault_uid,
        "enabled": attributes.get("enabled"),
        "expires": _epoch(attributes.get("exp")),
        "created": _epoch(attributes.get("created")),
        "kty": p.get("kty"),
        "key_uri": p.get("keyUri"),
        "rotation_policy": None
        if policy is None
        else {
            "expiry_time": (policy.get("attributes") or {}).get("expiryTime"),
            "lifetime_actions": actions,
        },
        "auto_rotation_enabled": any(a["type"] == "rotate" for a in actions),
    }
    return scope.asset(
        str(rid(item["id"])), KEY, str(item.get("name")), attrs, item, tags_of(item), region
    )


def _epoch(value: Any) -> str | None:
    """Key attributes carry Unix seconds (``exp``, ``created``): ISO 8601 in UTC."""
    import datetime as dt

    if value in (None, ""):
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        return str(value)
