"""App Service web apps and Function apps: HTTPS only and TLS 1.2+ (judged by protocol version,
as for load balancers), FTP, App Service authentication, who reaches the app (public network
access and access restrictions, first match by priority), remote debugging, client
certificates, and the language runtime against its end of support (checks/lifecycle/azure.toml).

A site whose configuration or authentication settings were not read has them null: the checks
that need them are INCONCLUSIVE for it, never PASS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from posture.checks.azure_transit import tls_version

from posture.engine import CheckContext, Result
from posture.graph.azure.allowlist import Admitted, first_match
from posture.lifecycle import Product, lifecycle
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import scan_time

SITE = "Microsoft.Web/sites"
ENFORCING = {"redirecttologinpage", "return401", "return403", "return404"}
RUNTIMES = {  # stack -> (name in messages, lifecycle product in checks/lifecycle/azure.toml)
    "python": ("Python", "appservice_python"),
    "node": ("Node.js", "appservice_node"),
    "php": ("PHP", "appservice_php"),
    "dotnet": (".NET", "appservice_dotnet"),
    "powershell": ("PowerShell", "appservice_powershell"),
    "dotnetframework": (".NET Framework CLR", None),
    "java": ("Java", None),
}
UNTABLED = {
    "dotnetframework": "the CLR every Windows site has; the app's own language may be chosen "
                       "in app settings, which posture does not read",
    "java": "the JDK build and the Java server follow separate schedules posture does not keep",
}


def _kind(site: Asset) -> str:
    return "function app" if site.attr("function_app") else "web app"


def _unread(ctx: CheckContext, site: Asset) -> Result:
    """INCONCLUSIVE: the site's configuration was not read."""
    return ctx.unknown(site, "its configuration (config/web) was not read")


@check("azure.appservice.https_only", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={f"{SITE}#listing"})
def https_only(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps serve HTTPS only

    With httpsOnly off the app also answers plain HTTP, so requests, cookies and tokens can
    cross the network unencrypted and be read or altered on the way.

    Remediation: Turn on 'HTTPS Only' (`az webapp update --https-only true`), which redirects
    every HTTP request to HTTPS.
    """
    for site in ctx.inventory.of(SITE):
        if site.attr("https_only") is True:
            yield ctx.passed(site, "HTTP requests are redirected to HTTPS")
        else:
            state = "not set" if site.attr("https_only") is None else "off"
            yield ctx.fail(site, f"the {_kind(site)} also serves plain HTTP (HTTPS Only is "
                           f"{state})", https_only=site.attr("https_only"))


@check("azure.appservice.min_tls12", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={SITE})
def min_tls12(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps accept only TLS 1.2 or later

    TLS 1.0 and 1.1 are deprecated (RFC 8996). Both the app and its deployment (SCM/Kudu) site
    are judged, by protocol version.

    Remediation: Set the minimum inbound TLS version to 1.2 on the app and its SCM site
    (`az webapp config set --min-tls-version 1.2`, scmMinTlsVersion 1.2).
    """
    for site in ctx.inventory.of(SITE):
        config = site.attr("config")
        if config is None:
            yield _unread(ctx, site)
            continue
        found = {"app": config.get("min_tls_version"),
                 "SCM site": config.get("scm_min_tls_version")}
        weak = [f"{w} {v}" for w, v in found.items() if v is not None
                and (tls_version(v) or (0, 0)) < (1, 2)]
        if weak:
            yield ctx.fail(site, f"TLS below 1.2 is accepted: minimum TLS version of the "
                           f"{' and '.join(weak)}", min_tls_versions=found)
        elif found["app"] is None:
            yield ctx.unknown(site, "its minimum TLS version was not reported",
                              min_tls_versions=found)
        else:
            yield ctx.passed(site, f"minimum TLS version {found['app']}",
                             min_tls_versions=found)


@check("azure.appservice.ftp_disabled", Severity.MEDIUM,
       (Principle.ENCRYPTION_IN_TRANSIT, Principle.SECRETS), reads={SITE})
def ftp_disabled(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps do not accept plain FTP deployments

    With ftpsState AllAllowed the deployment credentials and the app's code cross the network
    unencrypted over FTP. FTPS only, or FTP disabled altogether, pass.

    Remediation: Set the FTP state to Disabled (or FtpsOnly if FTP deployment is still used):
    `az webapp config set --ftps-state Disabled`.
    """
    for site in ctx.inventory.of(SITE):
        config = site.attr("config")
        if config is None:
            yield _unread(ctx, site)
            continue
        state = config.get("ftps_state")
        if state == "AllAllowed":
            yield ctx.fail(site, "plain FTP is accepted: deployment credentials and code cross "
                           "the network unencrypted", ftps_state=state)
        elif state in ("FtpsOnly", "Disabled"):
            yield ctx.passed(site, f"FTP state is {state}", ftps_state=state)
        else:
            yield ctx.unknown(site, f"FTP state {state!r} is not one posture evaluates",
                              ftps_state=state)


def auth_enforced(auth: Mapping[str, Any]) -> bool:
    """Whether App Service authentication turns unauthenticated requests away."""
    if not auth.get("enabled"):
        return False
    require = auth.get("require_authentication")
    if require is not None:
        return bool(require)
    return str(auth.get("unauthenticated_action") or "").lower() in ENFORCING


@check("azure.appservice.authentication_required", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE,), reads={SITE})
def authentication_required(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps require authentication (App Service authentication)

    With App Service authentication (Easy Auth) enforcing sign-in, only identities of the
    configured providers reach the app's code. Authentication that is configured but lets
    unauthenticated requests through (requireAuthentication false, AllowAnonymous) protects
    nothing by itself.

    Remediation: Enable App Service authentication with an identity provider (Microsoft Entra
    ID) and 'Require authentication' (globalValidation.requireAuthentication true), or restrict
    the app's network access where it serves only other services.
    """
    for site in ctx.inventory.of(SITE):
        auth = site.attr("auth")
        if auth is None:
            yield ctx.unknown(site, "its authentication settings were not read")
        elif not auth.get("enabled"):
            yield ctx.fail(site, "App Service authentication is off: every request reaches the "
                           "app's code unauthenticated", auth=auth)
        elif not auth_enforced(auth):
            action = auth.get("unauthenticated_action") or "AllowAnonymous"
            yield ctx.fail(site, "App Service authentication is on but lets unauthenticated "
                           f"requests through ({action})", auth=auth)
        else:
            providers = ", ".join(auth.get("providers") or ()) or "a provider"
            yield ctx.passed(site, f"requests must authenticate with {providers}", auth=auth)


def access_admitted(config: Mapping[str, Any]) -> Admitted:
    """The internet clients the site's access restrictions admit (first match by priority;
    the default action for the rest; service-tag and subnet rules admit no direct client)."""
    rules = list(config.get("access_restrictions") or ())
    walk = [(str(r.get("action")).lower() == "allow", r.get("source")) for r in rules
            if str(r.get("tag") or "Default") != "ServiceTag" and not r.get("subnet_id")]
    default = config.get("access_default_action")
    otherwise = (str(default).lower() == "allow") if default else not rules
    tags = tuple(str(r.get("source")) for r in rules if str(r.get("tag")) == "ServiceTag")
    found = first_match(walk, otherwise)
    return Admitted(found.public, tags + found.not_evaluated)


@check("azure.appservice.public_network_access_restricted", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={SITE})
def public_network_access_restricted(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps are not open to the whole internet

    An app with public network access and no access restriction narrower than a /8 of public
    addresses answers anyone: MEDIUM when App Service authentication does not enforce sign-in,
    LOW when it does. Private endpoints only (public network access Disabled) or access
    restrictions admitting specific addresses pass; service tags (Front Door) and virtual
    network rules admit no direct internet client.

    Remediation: Disable public network access and use private endpoints for internal apps, or
    add access restrictions (allow rules for the specific ranges, or the Front Door service tag
    with its X-Azure-FDID header) with the default action Deny.
    """
    for site in ctx.inventory.of(SITE):
        config = site.attr("config")
        if config is None:
            yield _unread(ctx, site)
            continue
        access = site.attr("public_network_access") or config.get("public_network_access")
        if str(access).lower() == "disabled":
            yield ctx.passed(site, "public network access is disabled: private endpoints only")
            continue
        found = access_admitted(config)
        evidence = {"access_restrictions": config.get("access_restrictions"),
                    "default_action": config.get("access_default_action"),
                    "not_evaluated": list(found.not_evaluated)}
        if not found.wide:
            also = f"; also allowed: {', '.join(found.not_evaluated)}" if found.not_evaluated \
                else ""
            what = (f"only {found.count:,} public address(es)" if found.count
                    else "no internet address directly")
            yield ctx.passed(site, f"access restrictions admit {what}{also}", **evidence)
            continue
        auth = site.attr("auth") or {}
        if auth_enforced(auth):
            yield ctx.fail_at(Severity.LOW, site, f"the {_kind(site)} answers the whole internet "
                              "(no access restriction); sign-in is enforced by App Service "
                              "authentication", **evidence)
        else:
            yield ctx.fail(site, f"the {_kind(site)} answers the whole internet (no access "
                           "restriction) and App Service authentication does not enforce "
                           "sign-in", **evidence)


@check("azure.appservice.remote_debugging_disabled", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={SITE})
def remote_debugging_disabled(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps have remote debugging off

    Remote debugging opens debugger ports on the app's instances and lets a debugger attach to
    the running process; it is meant for minutes during development, not as a standing setting.

    Remediation: Turn remote debugging off (`az webapp config set --remote-debugging-enabled
    false`).
    """
    for site in ctx.inventory.of(SITE):
        config = site.attr("config")
        if config is None:
            yield _unread(ctx, site)
        elif config.get("remote_debugging"):
            yield ctx.fail(site, "remote debugging is on: a debugger can attach to the running "
                           "app")
        else:
            yield ctx.passed(site, "remote debugging is off")


@check("azure.appservice.client_certificates_required", Severity.LOW,
       (Principle.LEAST_PRIVILEGE,), reads={f"{SITE}#listing"})
def client_certificates_required(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps require client certificates (mutual TLS)

    With incoming client certificates required, only clients holding a certificate complete the
    TLS handshake; 'Optional' lets every client through. LOW: suited to service-to-service apps,
    not to public websites (accept the risk for those).

    Remediation: Set incoming client certificates to Required (`az webapp update
    --set clientCertEnabled=true clientCertMode=Required`) and validate them in the app.
    """
    for site in ctx.inventory.of(SITE):
        mode = site.attr("client_cert_mode")
        if site.attr("client_cert_enabled") and mode == "Required":
            yield ctx.passed(site, "client certificates are required")
        elif site.attr("client_cert_enabled"):
            yield ctx.fail(site, f"client certificates are {mode}: clients without one get "
                           "through", client_cert_mode=mode)
        else:
            yield ctx.fail(site, "client certificates are not requested",
                           client_cert_enabled=site.attr("client_cert_enabled"))


def _stack_end(stack: Mapping[str, Any]) -> tuple[str, dt.date | None, str, str | None]:
    """A runtime's name in messages, its end of support (None: unknown), why it is unknown and
    the source of the table it was looked up in."""
    name = str(stack.get("stack"))
    label, key = RUNTIMES.get(name, (name, None))
    table: Product | None = lifecycle("azure").get(key) if key else None
    what = f"{label} {stack.get('version')} ({stack.get('setting')} {stack.get('value')})"
    if table is None:
        why = UNTABLED.get(name, "posture keeps no end-of-support table for it")
        return what, None, why, None
    source = table.source()
    return what, table.end_of(str(stack.get("version"))), f"not in {source}", source


@check("azure.appservice.runtime_supported", Severity.HIGH, (Principle.PATCHING,),
       reads={SITE})
def runtime_supported(ctx: CheckContext) -> Iterator[Result]:
    """App Service apps run a language runtime that is still supported

    App Service follows each language's community end of life: past it the runtime gets no
    security fixes from its community or from App Service, although the app keeps running. The
    runtime is read from the site configuration only (linuxFxVersion on Linux; phpVersion,
    pythonVersion, nodeVersion, javaVersion, powerShellVersion and netFrameworkVersion on
    Windows, where every language switched on is judged), against the dated tables in
    checks/lifecycle/azure.toml. A version the tables do not list is INCONCLUSIVE, never
    supported, and so is a Windows site that shows only the .NET Framework CLR (its Node.js
    version would be in app settings, which posture does not read). Custom containers
    (DOCKER|...) have no App Service runtime and are not judged here.

    Remediation: Move the app to a supported runtime version (`az webapp config set
    --linux-fx-version "PYTHON|3.12"`, or the stack's version setting on Windows) after testing
    it there, turn off languages the app does not use (phpVersion Off), and track the stack's
    end-of-life dates.
    """
    today = scan_time(ctx.inventory).date()
    for site in ctx.inventory.of(SITE):
        runtime = site.attr("runtime")
        if site.attr("config") is None or runtime is None:
            yield _unread(ctx, site)
            continue
        if runtime.get("container"):
            continue
        judged = [_stack_end(s) for s in runtime.get("stacks") or ()]
        evidence = {"runtime": runtime, "end_of_support": {
            w: end and end.isoformat() for w, end, _, _ in judged},
            "sources": sorted({src for _, _, _, src in judged if src})}
        past = [f"{w} since {end.isoformat()}" for w, end, _, _ in judged if end and end < today]
        unknown = [f"{w}: {why}" for w, end, why, _ in judged if end is None]
        if past:
            yield ctx.fail(site, f"past its end of support: {'; '.join(past)}: no security "
                           "fixes from its community or App Service", **evidence)
        elif not judged:
            yield ctx.unknown(site, f"no language runtime in its {runtime.get('os')} site "
                              "configuration", **evidence)
        elif unknown:
            yield ctx.unknown(site, f"support cannot be confirmed: {'; '.join(unknown)}",
                              **evidence)
        else:
            until = min((end for _, end, _, _ in judged if end), default=today)
            yield ctx.passed(site, f"{', '.join(w for w, _, _, _ in judged)} supported until "
                             f"{until.isoformat()}", **evidence)
