"""Azure Cosmos DB accounts (``Microsoft.DocumentDB/databaseAccounts``, api-version 2024-11-15,
ARM REST): who reaches the account endpoint, key authentication, encryption key and TLS.

The firewall: ``publicNetworkAccess`` ``Disabled`` admits private endpoints only; otherwise an
account with no ``ipRules`` and no virtual network filter admits all networks, and one with
either admits the listed ranges and subnets only. The IP rule ``0.0.0.0`` is Azure's encoding of
"accept connections from within public Azure datacenters" (every Azure customer's resources),
not an address. The listing carries no keys (they need ``listKeys``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.azure.base import SubscriptionScope, props, resource_group, rid
from posture.collectors.azure.rest import subscription_listing
from posture.model import Asset

ACCOUNT = "Microsoft.DocumentDB/databaseAccounts"
API_VERSION = "2024-11-15"
PERMISSIONS = ("Microsoft.DocumentDB/databaseAccounts/read",)
TLS = {"tls": "1.0", "tls11": "1.1", "tls12": "1.2", "tls13": "1.3"}


def collect(scope: SubscriptionScope) -> list[Asset]:
    items = subscription_listing(scope, "Microsoft.DocumentDB/databaseAccounts", API_VERSION,
                                 "cosmosdb", "DatabaseAccounts_List", (ACCOUNT,))
    return [normalize_account(scope, item) for item in items or ()]


def normalize_account(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    tls = p.get("minimalTlsVersion")
    attrs = {
        "account_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "kind": item.get("kind"),
        "public_network_access": p.get("publicNetworkAccess"),
        "ip_rules": sorted(str(r.get("ipAddressOrRange")) for r in p.get("ipRules") or ()),
        "vnet_filter_enabled": bool(p.get("isVirtualNetworkFilterEnabled")),
        "vnet_rule_subnet_ids": sorted(str(rid(r.get("id")))
                                       for r in p.get("virtualNetworkRules") or ()),
        "network_bypass": p.get("networkAclBypass"),
        "private_endpoint_count": len(p.get("privateEndpointConnections") or ()),
        "local_auth_disabled": bool(p.get("disableLocalAuth")),
        "key_metadata_write_disabled": bool(p.get("disableKeyBasedMetadataWriteAccess")),
        "cmk_key_uri": p.get("keyVaultKeyUri"),
        "minimal_tls_version": tls,
        "min_tls_version": TLS.get(str(tls).lower()) if tls else None,
        "backup_policy": (p.get("backupPolicy") or {}).get("type"),
        "document_endpoint": p.get("documentEndpoint"),
    }
    return scope.arm_asset(ACCOUNT, item, attrs)
