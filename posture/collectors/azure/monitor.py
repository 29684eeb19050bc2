"""Diagnostic settings: the subscription's activity log export, and any resource's settings.

``azure-mgmt-monitor`` 7.0 dropped the diagnostic-settings operations; posture pins 6.0.x, whose
multi-API client serves them (api-version 2021-05-01-preview).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.mgmt.monitor import MonitorManagementClient

from posture.collectors.azure.base import SubscriptionScope, props, rid
from posture.model import Asset

SUBSCRIPTION = "Microsoft.Resources/subscriptions"

PERMISSIONS = (
    "Microsoft.Insights/DiagnosticSettings/Read",
    "Microsoft.Resources/subscriptions/read",
)


def normalize_diagnostic_setting(item: Mapping[str, Any]) -> dict[str, Any]:
    p = props(item)
    categories = sorted(
        {
            str(log.get("category") or log.get("categoryGroup"))
            for log in p.get("logs") or ()
            if log.get("enabled")
        }
    )
    dest = {
        "workspace_id": rid(p.get("workspaceId")),
        "storage_account_id": rid(p.get("storageAccountId")),
        "event_hub_authorization_rule_id": rid(p.get("eventHubAuthorizationRuleId")),
        "marketplace_partner_id": rid(p.get("marketplacePartnerId")),
    }
    return {
        "name": item.get("name"),
        "enabled_log_categories": categories,
        "has_destination": any(dest.values()),
        **dest,
    }


def fetch_diagnostic_settings(
    scope: SubscriptionScope, resource_uid: str, region: str, facet: str
) -> list[dict[str, Any]] | None:
    """The diagnostic settings of one resource, normalized; ``None`` if unknown."""
    client = scope.client(MonitorManagementClient)
    items = scope.listing(
        "monitor",
        "DiagnosticSettings_List",
        (facet,),
        lambda: client.diagnostic_settings.list(resource_uid),
        region=region,
        resource_uid=resource_uid,
    )
    if items is None:
        return None
    return sorted((normalize_diagnostic_setting(i) for i in items), key=lambda d: str(d["name"]))


def collect(scope: SubscriptionScope) -> list[Asset]:
    """The subscription itself, with its activity-log diagnostic settings."""
    client = scope.client(MonitorManagementClient)
    uid = scope.sub_uid
    items = scope.listing(
        "monitor",
        "SubscriptionDiagnosticSettings_List",
        (f"{SUBSCRIPTION}#diagnostic_settings",),
        client.subscription_diagnostic_settings.list,
        resource_uid=uid,
    )
    return [normalize_subscription(scope, scope.info, items)]


def normalize_subscription(
    scope: SubscriptionScope, info: Mapping[str, Any], settings: list[dict[str, Any]] | None
) -> Asset:
    attrs = {
        "subscription_id": scope.subscription,
        "display_name": info.get("displayName"),
        "state": info.get("state"),
        "tenant_id": info.get("tenantId"),
        "activity_log_diagnostic_settings": None
        if settings is None
        else sorted(
            (normalize_diagnostic_setting(s) for s in settings), key=lambda d: str(d["name"])
        ),
    }
    tags = {str(k): str(v) for k, v in (info.get("tags") or {}).items()}
    return scope.asset(
        scope.sub_uid,
        SUBSCRIPTION,
        str(info.get("displayName") or scope.subscription),
        attrs,
        {"subscription": info, "diagnosticSettings": settings},
        tags,
    )
