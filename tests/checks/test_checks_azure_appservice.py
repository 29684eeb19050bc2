"""App Service and Function app checks: HTTPS only, TLS 1.2+ on the app and its SCM site, FTP,
authentication that really requires sign-in, who reaches the app (access restrictions walked
by priority, service tags and subnets admitting no direct internet client), remote debugging,
client certificates and the language runtime's end of support (the test scans finish on
2026-01-01); a configuration that was not read is INCONCLUSIVE."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import error, inventory
from support.azure_platforms import SITE, auth, config, site
from support.checks import only, run_one

from posture.collectors.azure.appservice import runtime_of
from posture.model import Severity, Status

HTTPS = "azure.appservice.https_only"
TLS = "azure.appservice.min_tls12"
FTP = "azure.appservice.ftp_disabled"
AUTH = "azure.appservice.authentication_required"
REACH = "azure.appservice.public_network_access_restricted"
DEBUG = "azure.appservice.remote_debugging_disabled"
CERTS = "azure.appservice.client_certificates_required"
RUNTIME = "azure.appservice.runtime_supported"
CONFIG_CHECKS = (TLS, FTP, REACH, DEBUG)


def _one(check_id: str, *assets: Any) -> tuple[Status, Severity, str]:
    found = only(run_one(check_id, inventory(*assets)))
    return found.status, found.severity, found.message


def test_https_only() -> None:
    assert _one(HTTPS, site())[0] == Status.PASS
    assert _one(HTTPS, site(https_only=False))[::2] == (
        Status.FAIL, "the web app also serves plain HTTP (HTTPS Only is off)")
    assert _one(HTTPS, site(https_only=None, function_app=True))[::2] == (
        Status.FAIL, "the function app also serves plain HTTP (HTTPS Only is not set)")


@pytest.mark.parametrize(("over", "status", "message"), [
    ({}, Status.PASS, "minimum TLS version 1.2"),
    ({"min_tls_version": "1.3"}, Status.PASS, "minimum TLS version 1.3"),
    ({"min_tls_version": "1.0"}, Status.FAIL, "TLS below 1.2 is accepted: minimum TLS version "
     "of the app 1.0"),
    # trap: the app is fine, its deployment (Kudu) site is not
    ({"scm_min_tls_version": "1.1"}, Status.FAIL, "TLS below 1.2 is accepted: minimum TLS "
     "version of the SCM site 1.1"),
    ({"min_tls_version": None}, Status.INCONCLUSIVE, "its minimum TLS version was not reported"),
])
def test_min_tls_by_protocol_version(over: dict[str, Any], status: Status, message: str) -> None:
    assert _one(TLS, site(config=config(**over)))[::2] == (status, message)


def test_ftp() -> None:
    assert _one(FTP, site())[0] == Status.PASS
    assert _one(FTP, site(config=config(ftps_state="FtpsOnly")))[0] == Status.PASS
    assert _one(FTP, site(config=config(ftps_state="AllAllowed")))[0] == Status.FAIL
    assert _one(FTP, site(config=config(ftps_state=None)))[0] == Status.INCONCLUSIVE


@pytest.mark.parametrize(("value", "status", "message"), [
    (auth(), Status.PASS, "requests must authenticate with azureActiveDirectory"),
    (auth(enabled=False), Status.FAIL, "App Service authentication is off: every request "
     "reaches the app's code unauthenticated"),
    # trap: authentication configured, anonymous requests still let through
    (auth(require=False, action="AllowAnonymous"), Status.FAIL, "App Service authentication is "
     "on but lets unauthenticated requests through (AllowAnonymous)"),
    (auth(require=None, action="RedirectToLoginPage"), Status.PASS,
     "requests must authenticate with azureActiveDirectory"),
    (None, Status.INCONCLUSIVE, "its authentication settings were not read"),
])
def test_authentication(value: Any, status: Status, message: str) -> None:
    assert _one(AUTH, site(auth=value))[::2] == (status, message)


ANY = [{"name": "Allow all", "priority": 2147483647, "action": "Allow", "tag": "Default",
        "source": "Any", "subnet_id": None}]


@pytest.mark.parametrize(("attrs", "status", "severity", "message"), [
    ({}, Status.PASS, Severity.MEDIUM, "access restrictions admit only 256 public address(es)"),
    ({"public_network_access": "Disabled"}, Status.PASS, Severity.MEDIUM,
     "public network access is disabled: private endpoints only"),
    ({"config": config(access_restrictions=ANY, access_default_action=None),
      "auth": auth(enabled=False)}, Status.FAIL, Severity.MEDIUM,
     "the web app answers the whole internet (no access restriction) and App Service "
     "authentication does not enforce sign-in"),
    ({"config": config(access_restrictions=[], access_default_action=None)}, Status.FAIL,
     Severity.LOW, "the web app answers the whole internet (no access restriction); sign-in is "
     "enforced by App Service authentication"),
    # trap: a deny ahead of the allow-all leaves the rest of the internet in
    ({"config": config(access_restrictions=[
        {"name": "block", "priority": 100, "action": "Deny", "tag": "Default",
         "source": "20.0.0.0/8", "subnet_id": None}, *ANY], access_default_action="Deny"),
      "auth": auth(enabled=False)}, Status.FAIL, Severity.MEDIUM,
     "the web app answers the whole internet (no access restriction) and App Service "
     "authentication does not enforce sign-in"),
    # trap: Front Door's service tag and a subnet rule admit no direct internet client
    ({"config": config(access_restrictions=[
        {"name": "fd", "priority": 100, "action": "Allow", "tag": "ServiceTag",
         "source": "AzureFrontDoor.Backend", "subnet_id": None},
        {"name": "vnet", "priority": 200, "action": "Allow", "tag": "Default", "source": None,
         "subnet_id": "/subscriptions/s/resourcegroups/rg/providers/microsoft.network/"
         "virtualnetworks/v/subnets/a"}], access_default_action=None)}, Status.PASS,
     Severity.MEDIUM, "access restrictions admit no internet address directly; also allowed: "
     "AzureFrontDoor.Backend"),
])
def test_public_reach(attrs: dict[str, Any], status: Status, severity: Severity,
                      message: str) -> None:
    assert _one(REACH, site(**attrs)) == (status, severity, message)


def test_remote_debugging_and_client_certificates() -> None:
    assert _one(DEBUG, site())[0] == Status.PASS
    assert _one(DEBUG, site(config=config(remote_debugging=True)))[0] == Status.FAIL
    assert _one(CERTS, site())[0] == Status.PASS
    assert _one(CERTS, site(client_cert_mode="Optional"))[::2] == (
        Status.FAIL, "client certificates are Optional: clients without one get through")
    assert _one(CERTS, site(client_cert_enabled=False))[0:2] == (Status.FAIL, Severity.LOW)


def test_configuration_not_read_is_inconclusive() -> None:
    app = site(config=None)
    for check_id in CONFIG_CHECKS:
        assert _one(check_id, app)[::2] == (
            Status.INCONCLUSIVE, "its configuration (config/web) was not read"), check_id
    gap = error("web", "WebApps_GetConfiguration", (f"{SITE}#config",), resource_uid=app.uid)
    # the listing-only checks still decide; a site whose config read failed never passes
    assert only(run_one(HTTPS, inventory(site(), errors=(gap,)))).status == Status.PASS
    ok = site()
    gap = error("web", "WebApps_GetConfiguration", (f"{SITE}#config",), resource_uid=ok.uid)
    assert only(run_one(TLS, inventory(ok, errors=(gap,)))).status == Status.INCONCLUSIVE
    listing = error("web", "WebApps_List", (SITE,))
    for check_id in (HTTPS, AUTH, CERTS, *CONFIG_CHECKS):
        assert {f.status for f in run_one(check_id, inventory(errors=(listing,)))} == {
            Status.INCONCLUSIVE}, check_id


def linux(fx: str | None) -> dict[str, Any] | None:
    """The runtime the collector reads from a Linux site's linuxFxVersion."""
    return runtime_of(True, config(linux_fx_version=fx, windows_stacks={
        "netFrameworkVersion": "v4.0"}))


def windows(**fields: str) -> dict[str, Any] | None:
    """The runtime the collector reads from a Windows site's stack fields."""
    return runtime_of(False, config(linux_fx_version=None, windows_fx_version=None,
                                    windows_stacks=fields))


@pytest.mark.parametrize(("runtime", "status", "message"), [
    (linux("PYTHON|3.12"), Status.PASS,
     "Python 3.12 (linuxFxVersion PYTHON|3.12) supported until 2028-10-31"),
    (linux("PYTHON|3.8"), Status.FAIL, "past its end of support: Python 3.8 (linuxFxVersion "
     "PYTHON|3.8) since 2024-10-07: no security fixes from its community or App Service"),
    (linux("NODE|16-lts"), Status.FAIL, "past its end of support: Node.js 16 (linuxFxVersion "
     "NODE|16-lts) since 2023-09-11: no security fixes from its community or App Service"),
    (linux("DOTNETCORE|8.0"), Status.PASS,
     ".NET 8.0 (linuxFxVersion DOTNETCORE|8.0) supported until 2026-11-10"),
    (linux("PHP|7.4"), Status.FAIL, "past its end of support: PHP 7.4 (linuxFxVersion PHP|7.4) "
     "since 2022-11-28: no security fixes from its community or App Service"),
    # a version the table does not list is unknown, never supported
    (linux("PYTHON|3.99"), Status.INCONCLUSIVE, "support cannot be confirmed: Python 3.99 "
     "(linuxFxVersion PYTHON|3.99): not in Python versions, end of life (python.org devguide; "
     "App Service follows it) (https://devguide.python.org/versions/), as of 2026-08-22"),
    (linux("JAVA|11-java11"), Status.INCONCLUSIVE, "support cannot be confirmed: Java 11-java11 "
     "(linuxFxVersion JAVA|11-java11): the JDK build and the Java server follow separate "
     "schedules posture does not keep"),
    (linux(None), Status.INCONCLUSIVE, "no language runtime in its linux site configuration"),
])
def test_linux_runtime_end_of_support(runtime: Any, status: Status, message: str) -> None:
    assert _one(RUNTIME, site(runtime=runtime))[::2] == (status, message)


def test_windows_runtime_end_of_support() -> None:
    # trap: a Windows app's linuxFxVersion is empty, its languages are in the Windows fields
    # (the .NET Framework CLR v4.0 every Windows site has is not its runtime then)
    assert _one(RUNTIME, site(runtime=windows(netFrameworkVersion="v4.0", phpVersion="5.6")))[
        ::2] == (Status.FAIL, "past its end of support: PHP 5.6 (phpVersion 5.6) since "
                 "2018-12-31: no security fixes from its community or App Service")
    assert _one(RUNTIME, site(runtime=windows(netFrameworkVersion="v6.0", phpVersion="Off")))[
        ::2] == (Status.FAIL, "past its end of support: .NET 6.0 (netFrameworkVersion v6.0) "
                 "since 2024-11-12: no security fixes from its community or App Service")
    assert _one(RUNTIME, site(runtime=windows(netFrameworkVersion="v8.0")))[0] == Status.PASS
    # only the CLR: the app's language may be in app settings, which are not read
    assert _one(RUNTIME, site(runtime=windows(netFrameworkVersion="v4.0")))[::2] == (
        Status.INCONCLUSIVE, "support cannot be confirmed: .NET Framework CLR 4.0 "
        "(netFrameworkVersion v4.0): the CLR every Windows site has; the app's own language "
        "may be chosen in app settings, which posture does not read")
    # every language switched on is judged: one past its end is enough
    assert _one(RUNTIME, site(runtime=windows(netFrameworkVersion="v8.0",
                                              pythonVersion="2.7")))[0] == Status.FAIL


def test_custom_containers_are_not_judged_and_unread_configuration_is_inconclusive() -> None:
    # trap: DOCKER|... runs the customer's own image: no App Service runtime to judge
    assert run_one(RUNTIME, inventory(site(runtime=linux("DOCKER|nginx:1.27")))) == []
    assert run_one(RUNTIME, inventory(site(runtime=runtime_of(False, config(
        windows_fx_version="DOCKER|mcr.microsoft.com/dotnet/framework/aspnet:4.8",
        windows_stacks={"netFrameworkVersion": "v4.0"}))))) == []
    assert _one(RUNTIME, site(config=None, runtime=None))[::2] == (
        Status.INCONCLUSIVE, "its configuration (config/web) was not read")
    app = site(runtime=linux("PYTHON|3.12"))
    gap = error("web", "WebApps_GetConfiguration", (f"{SITE}#config",), resource_uid=app.uid)
    assert only(run_one(RUNTIME, inventory(app, errors=(gap,)))).status == Status.INCONCLUSIVE
    listing = error("web", "WebApps_List", (SITE,))
    assert {f.status for f in run_one(RUNTIME, inventory(errors=(listing,)))} == {
        Status.INCONCLUSIVE}
