"""Azure Container Registry (``Microsoft.ContainerRegistry/registries``, api-version 2023-07-01,
ARM REST): the admin user, anonymous pull and who reaches the registry endpoint.

The registry firewall (``networkRuleSet``: default action and IP rules) exists only on the
Premium SKU; on Basic and Standard the endpoint admits every network whatever a template set,
so ``network_rules_apply`` says whether the rules mean anything. Image vulnerability findings
come from Defender for Cloud's assessments (:mod:`defender`), counted on the registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.azure.base import SubscriptionScope, props, resource_group
from posture.collectors.azure.rest import subscription_listing
from posture.model import Asset

REGISTRY = "Microsoft.ContainerRegistry/registries"
API_VERSION = "2023-07-01"
PERMISSIONS = ("Microsoft.ContainerRegistry/registries/read",)


def collect(scope: SubscriptionScope) -> list[Asset]:
    items = subscription_listing(scope, "Microsoft.ContainerRegistry/registries", API_VERSION,
                                 "containerregistry", "Registries_List", (REGISTRY,))
    return [normalize_registry(scope, item) for item in items or ()]


def normalize_registry(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    sku = (item.get("sku") or {}).get("name")
    rules = p.get("networkRuleSet") or {}
    encryption = p.get("encryption") or {}
    attrs = {
        "registry_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "sku": sku,
        "login_server": p.get("loginServer"),
        "admin_user_enabled": bool(p.get("adminUserEnabled")),
        "anonymous_pull_enabled": bool(p.get("anonymousPullEnabled")),
        "public_network_access": p.get("publicNetworkAccess"),
        "network_rules_apply": str(sku).lower() == "premium",
        "network_default_action": rules.get("defaultAction"),
        "ip_rules": sorted(str(r.get("value")) for r in rules.get("ipRules") or ()
                           if str(r.get("action") or "Allow").lower() == "allow"),
        "network_bypass": p.get("networkRuleBypassOptions"),
        "private_endpoint_count": len(p.get("privateEndpointConnections") or ()),
        "encryption_status": encryption.get("status"),
        "data_endpoint_enabled": p.get("dataEndpointEnabled"),
    }
    return scope.arm_asset(REGISTRY, item, attrs)
