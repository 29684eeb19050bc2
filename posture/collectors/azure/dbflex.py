"""Azure Database for PostgreSQL and for MySQL flexible servers (ARM REST; api-versions
2024-08-01 and 2023-12-30): the public endpoint and its firewall rules, the TLS server
parameters, encryption key and backups.

Network: a server with ``network.delegatedSubnetResourceId`` is VNet-integrated (private
access: no public endpoint, no firewall rules); otherwise ``network.publicNetworkAccess``
decides and, when ``Enabled``, the firewall rules admit clients (``0.0.0.0``-``0.0.0.0`` is
"allow public access from any Azure service", as on Azure SQL). TLS: PostgreSQL's
``require_secure_transport`` (``on``/``off``) and ``ssl_min_protocol_version`` (``TLSv1.2``);
MySQL's ``require_secure_transport`` (``ON``/``OFF``) and ``tls_version`` (the accepted
protocols, ``TLSv1.2,TLSv1.3``). ``min_tls_version`` is the lowest accepted, as ``1.2``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from posture.collectors.azure import base as arm
from posture.collectors.azure.rest import below, enabled, subscription_listing
from posture.collectors.azure.sql import normalize_firewall_rules
from posture.model import Asset

POSTGRES = "Microsoft.DBforPostgreSQL/flexibleServers"
MYSQL = "Microsoft.DBforMySQL/flexibleServers"
ENGINES = {  # type -> (engine, api-version, the TLS parameter)
    POSTGRES: ("postgresql", "2024-08-01", "ssl_min_protocol_version"),
    MYSQL: ("mysql", "2023-12-30", "tls_version"),
}
PERMISSIONS = tuple(
    f"{t}{what}/read" for t in ENGINES for what in ("", "/firewallRules", "/configurations")
)
_TLS = re.compile(r"tlsv?1(?:[._](\d))?", re.IGNORECASE)


def collect(scope: arm.SubscriptionScope) -> list[Asset]:
    out: list[Asset] = []
    for type_, (engine, api, _) in ENGINES.items():
        servers = subscription_listing(scope, type_, api, engine, "Servers_List", (type_,))
        out += arm.parallel_map(partial(_server, scope, type_), servers or ())
    return out


def _server(scope: arm.SubscriptionScope, type_: str, item: Mapping[str, Any]) -> Asset:
    engine, api, tls_param = ENGINES[type_]
    uid, region = str(arm.rid(item["id"])), arm.region_of(item)
    rules = below(scope, uid, "firewallRules", api,
                  (engine, "FirewallRules_ListByServer", f"{type_}#firewall_rules"), region,
                  listing=True)
    params = {
        name: below(scope, uid, f"configurations/{name}", api,
                    (engine, "Configurations_Get", f"{type_}#parameters"), region)
        for name in ("require_secure_transport", tls_param)
    }
    return normalize_server(scope, type_, item, rules, params)


def _value(param: Any) -> Any:
    """A server parameter's value; ``arm.NOT_FOUND`` stays (the engine has no such parameter)."""
    if param is None or param is arm.NOT_FOUND:
        return param
    return arm.props(param).get("value")


def min_tls(value: Any) -> str | None:
    """The lowest protocol of ``TLSv1.2`` / ``TLSv1,TLSv1.1,TLSv1.2`` as ``1.0``...``1.3``."""
    found = [f"1.{m.group(1) or 0}" for m in _TLS.finditer(str(value or ""))]
    return min(found) if found else None


def normalize_server(scope: arm.SubscriptionScope, type_: str, item: Mapping[str, Any],
                     rules: list[dict[str, Any]] | None, params: Mapping[str, Any]) -> Asset:
    """``rules`` None = the listing failed; a parameter None = its read failed (each recorded):
    the attribute is null."""
    p = arm.props(item)
    engine, _, tls_param = ENGINES[type_]
    network = p.get("network") or {}
    encryption = p.get("dataEncryption") or {}
    backup = p.get("backup") or {}
    secure, tls = _value(params.get("require_secure_transport")), _value(params.get(tls_param))
    attrs = {
        "server_name": item.get("name"),
        "resource_group": arm.resource_group(item.get("id")),
        "engine": engine,
        "version": p.get("version"),
        "state": p.get("state"),
        "fqdn": p.get("fullyQualifiedDomainName"),
        "public_network_access": network.get("publicNetworkAccess"),
        "delegated_subnet_id": arm.rid(network.get("delegatedSubnetResourceId")),
        "private_endpoint_count": len(p.get("privateEndpointConnections") or ()),
        "firewall_rules": None if rules is None else normalize_firewall_rules(rules),
        "require_secure_transport": None if secure in (None, arm.NOT_FOUND) else enabled(secure),
        "tls_parameter": None if tls in (None, arm.NOT_FOUND) else tls,
        "min_tls_version": None if tls in (None, arm.NOT_FOUND) else min_tls(tls),
        "data_encryption": encryption.get("type"),
        "cmk_key_uri": encryption.get("primaryKeyURI") or encryption.get("primaryKeyUri"),
        "backup_retention_days": backup.get("backupRetentionDays"),
        "geo_redundant_backup": backup.get("geoRedundantBackup"),
        "high_availability": (p.get("highAvailability") or {}).get("mode"),
        "entra_auth": (p.get("authConfig") or {}).get("activeDirectoryAuth"),
        "password_auth": (p.get("authConfig") or {}).get("passwordAuth"),
    }
    raw = {"server": item, "firewallRules": rules,
           "parameters": {k: None if v is arm.NOT_FOUND else v for k, v in params.items()}}
    return scope.arm_asset(type_, item, attrs, raw=raw)
