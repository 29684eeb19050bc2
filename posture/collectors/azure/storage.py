"""Storage accounts: TLS, HTTPS-only, public blob access, shared-key access with the access keys'
creation times and expiration policy, encryption key source, network rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from azure.mgmt.storage import StorageManagementClient

from posture.collectors.azure.base import (
    SubscriptionScope,
    props,
    resource_group,
    rid,
)
from posture.model import Asset
from posture.values import parse_time

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"

PERMISSIONS = ("Microsoft.Storage/storageAccounts/read",)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(StorageManagementClient)
    items = scope.listing(
        "storage", "StorageAccounts_List", (STORAGE_ACCOUNT,), client.storage_accounts.list
    )
    return [normalize_storage_account(scope, i) for i in items or ()]


def normalize_storage_account(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    encryption = p.get("encryption") or {}
    rules = p.get("networkAcls") or {}
    attrs = {
        "account_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "kind": item.get("kind"),
        "sku": (item.get("sku") or {}).get("name"),
        "minimum_tls_version": p.get("minimumTlsVersion"),
        "https_only": p.get("supportsHttpsTrafficOnly"),
        "allow_blob_public_access": p.get("allowBlobPublicAccess"),
        "allow_shared_key_access": p.get("allowSharedKeyAccess"),
        "creation_time": _iso(p.get("creationTime")),
        "key_creation_time": {
            key: _iso((p.get("keyCreationTime") or {}).get(key)) for key in ("key1", "key2")
        },
        "key_expiration_days": _int((p.get("keyPolicy") or {}).get("keyExpirationPeriodInDays")),
        "public_network_access": p.get("publicNetworkAccess"),
        "key_source": encryption.get("keySource"),
        "key_vault_uri": (encryption.get("keyvaultproperties") or {}).get("keyvaulturi"),
        "infrastructure_encryption": encryption.get("requireInfrastructureEncryption"),
        "network_default_action": rules.get("defaultAction"),
        "network_bypass": rules.get("bypass"),
        "ip_rules": sorted(str(r.get("value")) for r in rules.get("ipRules") or ()),
        "vnet_rule_subnet_ids": sorted(
            str(rid(r.get("id"))) for r in rules.get("virtualNetworkRules") or ()
        ),
        "private_endpoint_count": len(p.get("privateEndpointConnections") or ()),
    }
    return scope.arm_asset(STORAGE_ACCOUNT, item, attrs)


def _iso(value: Any) -> str | None:
    """An ARM timestamp (seven fractional digits, ``Z``) as ISO 8601 in UTC; null if absent."""
    stamp = parse_time(value)
    return None if stamp is None else stamp.astimezone(dt.UTC).isoformat()


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
