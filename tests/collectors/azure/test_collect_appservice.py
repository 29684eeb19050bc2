"""App Service sites through ARM REST against the loopback fake, with each site's configuration
and authentication settings: the demo's web app (HTTP, TLS 1.0, FTP, no authentication, Python
3.8) and its function app (Entra ID sign-in, access restrictions, Python 3.12); the language
runtime read from the configuration alone (never from app settings); no secret reaches the
snapshot; a failed configuration read is recorded on the site and keeps the checks that need it
from passing."""

from __future__ import annotations

import json

from support.azure import SUB
from support.azure_collect import collect_fake
from support.checks import run_one

from posture.collectors.azure.appservice import normalize_auth, normalize_config, runtime_of
from posture.collectors.azure.base import NOT_FOUND
from posture.collectors.azure.collector import all_permissions
from posture.demo.azure_fake import FakeArm
from posture.model import Inventory, Severity, Status

SITE = "Microsoft.Web/sites"
SITES = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.web/sites"


def test_sites_with_configuration_and_authentication(estate: Inventory) -> None:
    assert estate.errors == ()
    found = {a.name: a for a in estate.of(SITE)}
    assert set(found) == {"app-shop", "func-orders"}
    shop, func = found["app-shop"], found["func-orders"]
    assert (shop.uid, shop.region, shop.attr("function_app"), shop.attr("https_only")) == (
        f"{SITES}/app-shop", "westeurope", False, False)
    assert {k: shop.attr("config")[k] for k in ("min_tls_version", "ftps_state",
                                                "access_default_action")} == {
        "min_tls_version": "1.0", "ftps_state": "AllAllowed", "access_default_action": None}
    assert shop.attr("auth") == {"enabled": False, "require_authentication": None,
                                 "unauthenticated_action": None, "providers": []}
    assert func.attr("function_app") and func.attr("auth")["providers"] == [
        "azureActiveDirectory"]
    assert [(r["name"], r["action"], r["tag"], r["source"]) for r in
            func.attr("config")["access_restrictions"]] == [
        ("partner-office", "Allow", "Default", "203.0.113.0/24"),
        ("front-door", "Allow", "ServiceTag", "AzureFrontDoor.Backend"),
        ("Deny all", "Deny", "Default", "Any")]
    # the client secret's setting name and the configuration's storage mounts are not kept
    text = json.dumps([a.attrs for a in (shop, func)] + [a.raw for a in (shop, func)])
    assert "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET" not in text
    assert "azureStorageAccounts" not in text


def test_runtime_from_the_site_configuration(estate: Inventory) -> None:
    found = {a.name: a.attr("runtime") for a in estate.of(SITE)}
    # trap: the listing's siteConfig says linuxFxVersion "" and the Linux configuration carries
    # the Windows default netFrameworkVersion v4.0; the runtime is config/web's linuxFxVersion
    assert found == {
        "app-shop": {"os": "linux", "container": False, "stacks": [
            {"stack": "python", "version": "3.8", "setting": "linuxFxVersion",
             "value": "PYTHON|3.8"}]},
        "func-orders": {"os": "linux", "container": False, "stacks": [
            {"stack": "python", "version": "3.12", "setting": "linuxFxVersion",
             "value": "PYTHON|3.12"}]}}
    verdicts = {f.resource_name: f.status for f in
                run_one("azure.appservice.runtime_supported", estate)}
    assert verdicts == {"app-shop": Status.FAIL, "func-orders": Status.PASS}


def test_windows_runtime_from_the_rest_example() -> None:
    # config/web of a Windows app as in the REST API's GetSiteConfig example (2024-04-01)
    example = {"properties": {
        "netFrameworkVersion": "v4.0", "phpVersion": "5.6", "pythonVersion": "",
        "nodeVersion": "", "powerShellVersion": "", "linuxFxVersion": "", "minTlsVersion": "1.2",
        "scmMinTlsVersion": "1.2", "ftpsState": "AllAllowed", "azureStorageAccounts": {}}}
    settings = normalize_config(example)
    assert settings is not None
    assert (settings["linux_fx_version"], settings["windows_stacks"]) == (
        None, {"netFrameworkVersion": "v4.0", "phpVersion": "5.6"})
    assert runtime_of(False, settings) == {"os": "windows", "container": False, "stacks": [
        {"stack": "php", "version": "5.6", "setting": "phpVersion", "value": "5.6"}]}
    assert runtime_of(False, None) is None


def test_flex_consumption_runtime_from_the_site() -> None:
    # a Flex Consumption function app (the REST example of 2024-04-01): linuxFxVersion is empty,
    # the runtime is the site's functionAppConfig.runtime
    settings = normalize_config({"properties": {"linuxFxVersion": "", "netFrameworkVersion": ""}})
    assert runtime_of(True, settings, {"name": "python", "version": "3.11"}) == {
        "os": "linux", "container": False, "stacks": [
            {"stack": "python", "version": "3.11", "setting": "functionAppConfig.runtime",
             "value": "python|3.11"}]}
    isolated = runtime_of(True, settings, {"name": "dotnet-isolated", "version": "8.0"})
    assert isolated is not None and isolated["stacks"][0]["stack"] == "dotnet"
    assert runtime_of(True, settings) == {"os": "linux", "container": False, "stacks": []}


def test_app_settings_are_never_read(fake: FakeArm) -> None:
    collect_fake(fake)
    paths = [p.lower() for p in fake.paths() if "/microsoft.web/" in p.lower()]
    assert paths and not [p for p in paths if "appsettings" in p or "/config/list" in p]


def test_authentication_never_configured() -> None:
    assert normalize_auth(NOT_FOUND) == {"enabled": False, "require_authentication": None,
                                         "unauthenticated_action": None, "providers": []}
    assert normalize_auth(None) is None


def test_demo_verdicts(estate: Inventory) -> None:
    expected = {
        "azure.appservice.https_only": ("FAIL", "PASS"),
        "azure.appservice.min_tls12": ("FAIL", "PASS"),
        "azure.appservice.ftp_disabled": ("FAIL", "PASS"),
        "azure.appservice.authentication_required": ("FAIL", "PASS"),
        "azure.appservice.public_network_access_restricted": ("FAIL", "PASS"),
        "azure.appservice.remote_debugging_disabled": ("PASS", "PASS"),
        "azure.appservice.client_certificates_required": ("FAIL", "PASS"),
    }
    for check_id, (shop, func) in expected.items():
        found = {f.resource_name: f.status.value for f in run_one(check_id, estate)}
        assert found == {"app-shop": shop, "func-orders": func}, check_id
    reach = {f.resource_name: f for f in
             run_one("azure.appservice.public_network_access_restricted", estate)}
    assert reach["app-shop"].severity == Severity.MEDIUM
    assert reach["func-orders"].message == ("access restrictions admit only 256 public "
                                            "address(es); also allowed: AzureFrontDoor.Backend")


def test_a_failed_configuration_read(fake: FakeArm) -> None:
    uid = f"{SITES}/func-orders"
    fake.fail(f"{uid}/config/web", 403, "AuthorizationFailed", "no sites/config/read")
    inv = collect_fake(fake)
    (err,) = inv.errors
    assert (err.operation, err.resource_uid, err.asset_types) == (
        "WebApps_GetConfiguration", uid, (f"{SITE}#config",))
    site = inv.get(uid)
    assert site is not None and site.attr("config") is None and site.attr("auth") is not None
    tls = {f.resource_uid: f.status for f in run_one("azure.appservice.min_tls12", inv)}
    assert tls[uid] == Status.INCONCLUSIVE
    https = {f.resource_uid: f.status for f in run_one("azure.appservice.https_only", inv)}
    assert https[uid] == Status.PASS  # the listing alone decides
    assert "Microsoft.Web/sites/config/read" in all_permissions()
