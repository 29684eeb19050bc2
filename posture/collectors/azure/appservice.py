"""App Service web apps and Function apps (``Microsoft.Web/sites``, api-version 2024-04-01, ARM
REST), with each site's configuration (``config/web``: TLS minimum, FTP state, remote debugging,
access restrictions) and authentication settings (``config/authsettingsV2``, the GET that
returns them without secrets).

Nothing secret is kept: app settings and connection strings are not read (they need
``config/list/action``), the configuration's ``azureStorageAccounts`` (which can carry access
keys) is dropped, and of the authentication settings only switches and provider names remain.
Deployment slots are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.azure import base as arm
from posture.collectors.azure.rest import below, subscription_listing
from posture.model import Asset

SITE = "Microsoft.Web/sites"
API_VERSION = "2024-04-01"
PERMISSIONS = ("Microsoft.Web/sites/read", "Microsoft.Web/sites/config/read")


def collect(scope: arm.SubscriptionScope) -> list[Asset]:
    items = subscription_listing(scope, "Microsoft.Web/sites", API_VERSION, "web",
                                 "WebApps_List", (SITE,))

    def site(item: Mapping[str, Any]) -> Asset:
        uid, region = str(arm.rid(item["id"])), arm.region_of(item)
        config = below(scope, uid, "config/web", API_VERSION,
                       ("web", "WebApps_GetConfiguration", f"{SITE}#config"), region)
        auth = below(scope, uid, "config/authsettingsV2", API_VERSION,
                     ("web", "WebApps_GetAuthSettingsV2WithoutSecrets", f"{SITE}#auth"), region)
        return normalize_site(scope, item, config, auth)

    return arm.parallel_map(site, items or ())


def normalize_restriction(rule: Mapping[str, Any]) -> dict[str, Any]:
    """One access restriction: ``source`` is a CIDR, ``Any``, a service tag (``tag`` =
    ``ServiceTag``) or null for a virtual network rule (``subnet_id``)."""
    return {
        "name": rule.get("name"),
        "priority": rule.get("priority"),
        "action": str(rule.get("action") or "Allow"),
        "tag": str(rule.get("tag") or "Default"),
        "source": rule.get("ipAddress"),
        "subnet_id": arm.rid(rule.get("vnetSubnetResourceId")),
    }


def normalize_config(config: Any) -> dict[str, Any] | None:
    """The site configuration's security settings; ``None`` when it was not read."""
    if config is None or config is arm.NOT_FOUND:
        return None
    c = arm.props(config)
    return {
        "min_tls_version": c.get("minTlsVersion"),
        "scm_min_tls_version": c.get("scmMinTlsVersion"),
        "ftps_state": c.get("ftpsState"),
        "remote_debugging": c.get("remoteDebuggingEnabled"),
        "http20": c.get("http20Enabled"),
        "linux_fx_version": c.get("linuxFxVersion") or None,
        "public_network_access": c.get("publicNetworkAccess") or None,
        "access_restrictions": sorted(
            (normalize_restriction(r) for r in c.get("ipSecurityRestrictions") or ()),
            key=lambda r: (int(r["priority"] or 0), str(r["name"]))),
        "access_default_action": c.get("ipSecurityRestrictionsDefaultAction"),
    }


def normalize_auth(auth: Any) -> dict[str, Any] | None:
    """Authentication (Easy Auth) switches and enabled providers; ``None`` when not read
    (a 404: never configured, which is off)."""
    if auth is None:
        return None
    if auth is arm.NOT_FOUND:
        return {"enabled": False, "require_authentication": None,
                "unauthenticated_action": None, "providers": []}
    a = arm.props(auth)
    validation = a.get("globalValidation") or {}
    providers = a.get("identityProviders") or {}
    return {
        "enabled": bool((a.get("platform") or {}).get("enabled")),
        "require_authentication": validation.get("requireAuthentication"),
        "unauthenticated_action": validation.get("unauthenticatedClientAction"),
        "providers": sorted(name for name, value in providers.items()
                            if isinstance(value, Mapping) and value.get("enabled", True)
                            and name != "customOpenIdConnectProviders")
        + sorted(f"oidc:{name}" for name, value in
                 (providers.get("customOpenIdConnectProviders") or {}).items()
                 if isinstance(value, Mapping) and value.get("enabled", True)),
    }


def normalize_site(scope: arm.SubscriptionScope, item: Mapping[str, Any], config: Any,
                   auth: Any) -> Asset:
    p = arm.props(item)
    kind = str(item.get("kind") or "app")
    attrs = {
        "site_name": item.get("name"),
        "resource_group": arm.resource_group(item.get("id")),
        "kind": kind,
        "function_app": "functionapp" in kind.lower(),
        "state": p.get("state"),
        "default_host_name": p.get("defaultHostName"),
        "https_only": p.get("httpsOnly"),
        "client_cert_enabled": p.get("clientCertEnabled"),
        "client_cert_mode": p.get("clientCertMode"),
        "public_network_access": p.get("publicNetworkAccess") or None,
        "vnet_subnet_id": arm.rid(p.get("virtualNetworkSubnetId")),
        "config": normalize_config(config),
        "auth": normalize_auth(auth),
    }
    return scope.arm_asset(SITE, item, attrs, raw={"site": item})
