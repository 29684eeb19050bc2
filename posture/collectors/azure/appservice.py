"""App Service web apps and Function apps (``Microsoft.Web/sites``, api-version 2024-04-01, ARM
REST), with each site's configuration (``config/web``: TLS minimum, FTP state, remote debugging,
access restrictions, the language runtime) and authentication settings
(``config/authsettingsV2``, the GET that returns them without secrets).

The language runtime (:func:`runtime_of`) is read from the configuration alone: on Linux its
``linuxFxVersion`` (``PYTHON|3.12``, ``NODE|20-lts``; ``DOCKER|...`` is a custom container, not
a runtime), on Windows the stack fields (``phpVersion``, ``pythonVersion``, ``nodeVersion``,
``javaVersion``, ``powerShellVersion``, ``netFrameworkVersion``); the Linux configuration also
carries Windows defaults (``netFrameworkVersion v4.0``), which mean nothing there. A Flex
Consumption function app has an empty ``linuxFxVersion``: its runtime is the site's own
``functionAppConfig.runtime``.

Nothing secret is kept: app settings and connection strings are not read (they need
``config/list/action``), the configuration's ``azureStorageAccounts`` (which can carry access
keys) is dropped, and of the authentication settings only switches and provider names remain.
Deployment slots are not read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from posture.collectors.azure import base as arm
from posture.collectors.azure.rest import below, subscription_listing
from posture.model import Asset

SITE = "Microsoft.Web/sites"
API_VERSION = "2024-04-01"
PERMISSIONS = ("Microsoft.Web/sites/read", "Microsoft.Web/sites/config/read")
CONTAINER_STACKS = frozenset({"docker", "compose", "kube", "sitecontainers"})
"""``linuxFxVersion``/``windowsFxVersion`` stacks that run a custom container image."""
STACK_NAMES = {"dotnetcore": "dotnet", "dotnet-isolated": "dotnet"}
WINDOWS_STACKS = (("phpVersion", "php"), ("pythonVersion", "python"), ("nodeVersion", "node"),
                  ("javaVersion", "java"), ("powerShellVersion", "powershell"))
"""Windows site-configuration fields that switch a language on (empty or ``Off``: off)."""
_VERSION = re.compile(r"^[~v]?(\d+)(?:\.(\d+|x))?")


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
        "windows_fx_version": c.get("windowsFxVersion") or None,
        "windows_stacks": {field: c[field] for field in
                           ("netFrameworkVersion", *(f for f, _ in WINDOWS_STACKS))
                           if c.get(field) not in (None, "")},
        "public_network_access": c.get("publicNetworkAccess") or None,
        "access_restrictions": sorted(
            (normalize_restriction(r) for r in c.get("ipSecurityRestrictions") or ()),
            key=lambda r: (int(r["priority"] or 0), str(r["name"]))),
        "access_default_action": c.get("ipSecurityRestrictionsDefaultAction"),
    }


def stack_version(stack: str, value: str) -> str:
    """The version a lifecycle table is keyed by: major.minor (``3.12``, ``v8.0`` -> ``8.0``,
    ``7.4``), the major alone for Node.js (``20-lts``, ``~20``, ``20.11`` -> ``20``); the value
    itself, lower-case, when it names no major.minor (``lts``, ``~7``, ``11-java11``)."""
    text = value.strip().lower()
    match = _VERSION.match(text)
    if match is None:
        return text
    major, minor = match.groups()
    if stack == "node":
        return major
    return text if minor in (None, "x") else f"{major}.{minor}"


def _fx(setting: str, value: str) -> dict[str, Any]:
    """A runtime of a ``linuxFxVersion``/``windowsFxVersion`` value (``STACK|VERSION``)."""
    token, _, version = value.partition("|")
    stack = STACK_NAMES.get(token.strip().lower(), token.strip().lower())
    return {"stack": stack, "version": stack_version(stack, version), "setting": setting,
            "value": value}


def _windows(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The languages a Windows site switches on; ``netFrameworkVersion`` is .NET when it names
    .NET 5 or later, else the .NET Framework CLR every Windows site has (``v4.0``), listed only
    when no other language is on."""
    found = [{"stack": stack, "version": stack_version(stack, str(fields[field])),
              "setting": field, "value": str(fields[field])} for field, stack in WINDOWS_STACKS
             if str(fields.get(field) or "").strip().lower() not in ("", "off")]
    framework = str(fields.get("netFrameworkVersion") or "")
    match = _VERSION.match(framework)
    if match and int(match.group(1)) >= 5:
        found.append({"stack": "dotnet", "version": stack_version("dotnet", framework),
                      "setting": "netFrameworkVersion", "value": framework})
    elif framework and not found:
        found.append({"stack": "dotnetframework", "version": framework.lstrip("v"),
                      "setting": "netFrameworkVersion", "value": framework})
    return found


def runtime_of(linux: bool, config: Mapping[str, Any] | None,
               flex: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The site's language runtime(s) from its configuration (``None``: not read): ``os``,
    ``container`` (a custom image: no App Service runtime) and ``stacks`` [{``stack``
    (``python``, ``node``, ``php``, ``dotnet``, ``dotnetframework``, ``java``, ``powershell``,
    ``tomcat``...), ``version`` (the table key), ``setting``, ``value``}]; ``flex`` is a Flex
    Consumption app's ``functionAppConfig.runtime`` ({``name``, ``version``})."""
    if config is None:
        return None
    fx = config.get("linux_fx_version") if linux else config.get("windows_fx_version")
    if not fx and linux and flex and flex.get("name"):
        fx = f"{flex['name']}|{flex.get('version') or ''}"
        setting = "functionAppConfig.runtime"
    else:
        setting = "linuxFxVersion" if linux else "windowsFxVersion"
    stacks = [_fx(setting, str(fx))] if fx else []
    container = bool(stacks) and stacks[0]["stack"] in CONTAINER_STACKS
    if not linux and not stacks:
        stacks = _windows(config.get("windows_stacks") or {})
    return {"os": "linux" if linux else "windows", "container": container,
            "stacks": [] if container else stacks}


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
    settings = normalize_config(config)
    linux = "linux" in kind.lower() or bool(p.get("reserved"))
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
        "config": settings,
        "runtime": runtime_of(linux, settings,
                              (p.get("functionAppConfig") or {}).get("runtime")),
        "auth": normalize_auth(auth),
    }
    return scope.arm_asset(SITE, item, attrs, raw={"site": item})
