"""Cloud SQL Admin (discovery client): instances with SSL mode, authorized networks, public IP
and backups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, discovery_items
from posture.model import GLOBAL, Asset

SQL_INSTANCE = "sqladmin.googleapis.com/Instance"
SERVICE = "sqladmin"
PERMISSIONS = ("cloudsql.instances.list",)
SSL_ENFORCING_MODES = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")


def uid(project: str, name: str) -> str:
    return f"//cloudsql.googleapis.com/projects/{project}/instances/{name}"


def collect(scope: ProjectScope) -> list[Asset]:
    def run() -> list[dict[str, Any]]:
        api = scope.clients.discovery("sqladmin", "v1")
        coll = api.instances()
        return list(
            discovery_items(
                coll.list(project=scope.project),
                coll,
                "items",
                scope.clients.target.discovery_retries,
            )
        )

    items = scope.call(SERVICE, "instances.list", (SQL_INSTANCE,), run)
    return [normalize_instance(scope, i) for i in items or []]


def ssl_enforced(ip_cfg: Mapping[str, Any]) -> bool:
    mode = ip_cfg.get("sslMode")
    if mode:
        return mode in SSL_ENFORCING_MODES
    return bool(ip_cfg.get("requireSsl"))


def normalize_instance(scope: ProjectScope, i: Mapping[str, Any]) -> Asset:
    settings = i.get("settings") or {}
    ip_cfg = settings.get("ipConfiguration") or {}
    backup = settings.get("backupConfiguration") or {}
    addresses = i.get("ipAddresses") or []
    name = str(i.get("name"))
    attrs = {
        "instance_name": name,
        "database_version": i.get("databaseVersion"),
        "state": i.get("state"),
        "instance_type": i.get("instanceType"),
        "ipv4_enabled": bool(ip_cfg.get("ipv4Enabled")),
        "public_ips": sorted(
            a["ipAddress"] for a in addresses if a.get("type") == "PRIMARY" and a.get("ipAddress")
        ),
        "private_network": ip_cfg.get("privateNetwork"),
        "authorized_networks": sorted(
            n.get("value") for n in ip_cfg.get("authorizedNetworks") or [] if n.get("value")
        ),
        "require_ssl": bool(ip_cfg.get("requireSsl")),
        "ssl_mode": ip_cfg.get("sslMode"),
        "ssl_enforced": ssl_enforced(ip_cfg),
        # REQUIRED: only Cloud SQL connectors (Auth Proxy, language connectors) may connect
        "connector_enforcement": settings.get("connectorEnforcement"),
        "backups_enabled": bool(backup.get("enabled")),
        "point_in_time_recovery": bool(
            backup.get("pointInTimeRecoveryEnabled") or backup.get("binaryLogEnabled")
        ),
        "database_flags": {
            str(f.get("name")): f.get("value") for f in settings.get("databaseFlags") or []
        },
        "kms_key_name": (i.get("diskEncryptionConfiguration") or {}).get("kmsKeyName"),
    }
    return scope.asset(
        uid(scope.project, name),
        SQL_INSTANCE,
        name,
        attrs,
        i,
        region=str(i.get("region") or GLOBAL),
        tags=settings.get("userLabels") or {},
    )
