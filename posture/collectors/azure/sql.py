"""Azure SQL: logical servers (minimal TLS, public network access, server firewall rules,
auditing, diagnostic settings) and their databases with transparent data encryption."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from azure.mgmt.sql import SqlManagementClient

from posture.collectors.azure.base import (
    NOT_FOUND,
    SubscriptionScope,
    parallel_flat_map,
    parallel_map,
    props,
    region_of,
    resource_group,
    rid,
)
from posture.collectors.azure.monitor import fetch_diagnostic_settings
from posture.model import Asset

SERVER = "Microsoft.Sql/servers"
DATABASE = "Microsoft.Sql/servers/databases"

PERMISSIONS = (
    "Microsoft.Sql/servers/read", "Microsoft.Sql/servers/firewallRules/read",
    "Microsoft.Sql/servers/databases/read",
    "Microsoft.Sql/servers/databases/transparentDataEncryption/read",
    "Microsoft.Sql/servers/auditingSettings/read", "Microsoft.Insights/DiagnosticSettings/Read",
)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(SqlManagementClient)
    servers = scope.listing("sql", "Servers_List", (SERVER, DATABASE), client.servers.list)
    return parallel_flat_map(lambda s: _server(scope, client, s), servers or ())


def _server(scope: SubscriptionScope, client: Any, item: Mapping[str, Any]) -> list[Asset]:
    uid, region = str(rid(item["id"])), region_of(item)
    group, name = resource_group(item["id"]), str(item["name"])
    auditing = scope.get(
        "sql",
        "ServerBlobAuditingPolicies_Get",
        (f"{SERVER}#auditing",),
        lambda: client.server_blob_auditing_policies.get(group, name),
        region=region,
        resource_uid=uid,
    )
    firewall_rules = scope.listing(
        "sql",
        "FirewallRules_ListByServer",
        (f"{SERVER}#firewall_rules",),
        lambda: client.firewall_rules.list_by_server(group, name),
        region=region,
        resource_uid=uid,
    )
    diag = fetch_diagnostic_settings(scope, uid, region, f"{SERVER}#diagnostic_settings")
    databases = scope.listing(
        "sql",
        "Databases_ListByServer",
        (DATABASE,),
        lambda: client.databases.list_by_server(group, name),
        region=region,
        resource_uid=uid,
    )
    out = [
        normalize_server(
            scope,
            item,
            None if auditing in (None, NOT_FOUND) else auditing,
            diag,
            firewall_rules,
        )
    ]

    def database(db: Mapping[str, Any]) -> Asset:
        db_uid = str(rid(db["id"]))
        tde = scope.get(
            "sql",
            "TransparentDataEncryptions_Get",
            (f"{DATABASE}#tde",),
            lambda: client.transparent_data_encryptions.get(group, name, db["name"], "current"),
            region=region_of(db),
            resource_uid=db_uid,
        )
        return normalize_database(scope, db, uid, tde)

    out += parallel_map(database, databases or ())
    return out


def normalize_server(
    scope: SubscriptionScope,
    item: Mapping[str, Any],
    auditing: Mapping[str, Any] | None,
    diagnostic_settings: list[dict[str, Any]] | None,
    firewall_rules: list[dict[str, Any]] | None = None,
) -> Asset:
    """``firewall_rules`` None = the listing failed (recorded): the attribute is null."""
    p = props(item)
    ap = props(auditing or {})
    attrs = {
        "server_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "version": p.get("version"),
        "fqdn": p.get("fullyQualifiedDomainName"),
        "minimal_tls_version": p.get("minimalTlsVersion"),
        "public_network_access": p.get("publicNetworkAccess"),
        "restrict_outbound_network_access": p.get("restrictOutboundNetworkAccess"),
        "auditing": None
        if auditing is None
        else {
            "state": ap.get("state"),
            "retention_days": ap.get("retentionDays"),
            "azure_monitor_target": ap.get("isAzureMonitorTargetEnabled"),
            "storage_endpoint": ap.get("storageEndpoint") or None,
        },
        "firewall_rules": None
        if firewall_rules is None
        else normalize_firewall_rules(firewall_rules),
        "diagnostic_settings": diagnostic_settings,
    }
    return scope.arm_asset(
        SERVER,
        item,
        attrs,
        raw={"server": item, "auditing": auditing, "firewallRules": firewall_rules},
    )


def normalize_firewall_rules(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Server-level IPv4 firewall rules as {``name``, ``start_ip``, ``end_ip``}, sorted.

    ``0.0.0.0``-``0.0.0.0`` is ARM's encoding of "Allow Azure services and resources to access
    this server" (usually named ``AllowAllWindowsAzureIps``), not an address range."""
    rules = [
        {
            "name": rule.get("name"),
            "start_ip": props(rule).get("startIpAddress"),
            "end_ip": props(rule).get("endIpAddress"),
        }
        for rule in items
    ]
    return sorted(
        rules, key=lambda r: (_ip_key(r["start_ip"]), _ip_key(r["end_ip"]), str(r["name"]))
    )


def _ip_key(value: Any) -> tuple[int, int, str]:
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        return (9, 0, str(value))
    return (address.version, int(address), "")


def normalize_database(
    scope: SubscriptionScope, item: Mapping[str, Any], server_uid: str, tde: Any
) -> Asset:
    p = props(item)
    name = str(item.get("name"))
    if tde is None:
        tde_state = None  # unknown: recorded as a collection error
    elif tde is NOT_FOUND:
        tde_state = "Disabled"
    else:
        tde_state = props(tde).get("state")
    attrs = {
        "database_name": name,
        "server_id": server_uid,
        "status": p.get("status"),
        "sku": (item.get("sku") or {}).get("name"),
        "kind": item.get("kind"),
        "system_database": name.lower() == "master",
        "tde_state": tde_state,
    }
    raw = {"database": item, "transparentDataEncryption": None if tde is NOT_FOUND else tde}
    return scope.arm_asset(DATABASE, item, attrs, name=name, raw=raw)
