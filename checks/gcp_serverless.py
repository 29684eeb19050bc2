"""Cloud Run services and Cloud Functions: who can invoke them from the internet without signing
in (ingress and invoker together), HTTPS only, supported runtimes and plaintext secrets in their
environment."""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import plaintext_secrets

from posture.engine import CheckContext, Result
from posture.gcp import FUNCTION, RUN_SERVICE, label_matches
from posture.graph.gcp.serverless import invocation, run_services
from posture.graph.paths import Reach
from posture.lifecycle import product
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import scan_time

KINDS = {RUN_SERVICE: "Cloud Run service", FUNCTION: "Cloud Function"}


def _judged(ctx: CheckContext) -> list[Asset]:
    """Functions, and the Cloud Run services that do not serve a collected 2nd gen function
    (whose finding is the function's)."""
    served = {(f.account, f.attr("run_service")) for f in ctx.inventory.of(FUNCTION)
              if f.attr("environment") == "GEN_2"}
    services = [s for s in ctx.inventory.of(RUN_SERVICE)
                if (s.account, f"{s.region}/{s.name}") not in served]
    return [*services, *ctx.inventory.of(FUNCTION)]


@check("gcp.serverless.not_publicly_invocable", Severity.HIGH,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE), reads={RUN_SERVICE, FUNCTION},
       params={"load_balancer_severity": "medium", "latent_severity": "low",
               "public_labels": ("exposure=public", "public=true")})
def not_publicly_invocable(ctx: CheckContext) -> Iterator[Result]:
    """Cloud Run services and Cloud Functions cannot be invoked from the internet without
    authentication

    Decided by two settings together: an invoker binding to allUsers or allAuthenticatedUsers
    (or the invoker IAM check disabled) lets anyone call it, and ingress says from where. With
    ingress 'all' the internet invokes it directly (HIGH); with 'internal and Cloud Load
    Balancing' only through an external Application Load Balancer, whose serverless backends are
    not read (load_balancer_severity); with 'internal only' it is not invocable from the internet
    at all - the public invoker is one ingress change away from exposure (latent_severity). A 2nd
    gen function is judged by the Cloud Run service that serves it. Services labelled as public
    on purpose (public_labels) pass, naming the label.

    Remediation: Remove the allUsers / allAuthenticatedUsers invoker binding and let callers
    authenticate (service accounts, IAP), or restrict ingress to internal / internal and Cloud
    Load Balancing and put the public entry behind a load balancer with Cloud Armor.
    """
    deciders = run_services(ctx.inventory)
    labels = tuple(ctx.param("public_labels"))
    for asset in _judged(ctx):
        decider = deciders.get((asset.account, str(asset.attr("run_service"))))
        verdict = invocation(asset, decider)
        kind = KINDS[asset.type]
        evidence = {"state": verdict.state.value, "ingress": verdict.ingress,
                    "unauthenticated": verdict.unauthenticated,
                    "public_grants": list(verdict.public_grants),
                    "via_load_balancer": verdict.via_load_balancer,
                    "decided_by": verdict.decided_by}
        intended = label_matches(asset.tags, labels) if labels else None
        if verdict.state is Reach.UNKNOWN:
            yield ctx.unknown(asset, f"cannot tell who may invoke {kind} {asset.name}: "
                              f"{verdict.why}", **evidence)
        elif verdict.state is Reach.BLOCKED:
            yield ctx.passed(asset, f"not invocable without authentication: {verdict.why}",
                             **evidence)
        elif intended:
            yield ctx.passed(asset, f"public on purpose (label {intended}): {verdict.why}",
                             **evidence)
        elif verdict.state is Reach.LATENT:
            yield ctx.fail_at(Severity.parse(str(ctx.param("latent_severity"))), asset,
                              f"not invocable from the internet: {verdict.why}", **evidence)
        elif verdict.via_load_balancer:
            yield ctx.fail_at(Severity.parse(str(ctx.param("load_balancer_severity"))), asset,
                              f"{kind} {asset.name} may be invoked without authentication from "
                              f"the internet: {verdict.why}", **evidence)
        else:
            yield ctx.fail(asset, f"anyone on the internet can invoke {kind} {asset.name} "
                           f"without authentication: {verdict.why}", **evidence)


@check("gcp.serverless.function_https_only", Severity.MEDIUM, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={f"{FUNCTION}#listing"})
def function_https_only(ctx: CheckContext) -> Iterator[Result]:
    """HTTP Cloud Functions refuse plain HTTP

    A 1st gen HTTP function's default security level (SECURE_OPTIONAL) serves plain HTTP too:
    requests, tokens and responses cross the network in clear text. 2nd gen functions serve
    HTTPS only; event-triggered functions have no URL.

    Remediation: Redeploy with `--security-level=secure-always` (or migrate to 2nd gen).
    """
    for fn in ctx.inventory.of(FUNCTION):
        if fn.attr("environment") == "GEN_1" and not fn.attr("http_trigger"):
            continue
        level = fn.attr("security_level")
        if level == "SECURE_ALWAYS":
            how = "2nd gen: HTTPS only" if fn.attr("environment") == "GEN_2" else "SECURE_ALWAYS"
            yield ctx.passed(fn, f"plain HTTP is redirected to HTTPS ({how})")
        else:
            yield ctx.fail(fn, f"security level {level}: {fn.attr('url')} also serves plain "
                           "HTTP", security_level=level)


def _runtime(asset: Asset) -> str | None:
    return str(asset.attr("runtime")) if asset.attr("runtime") else None


@check("gcp.serverless.runtime_supported", Severity.MEDIUM, (Principle.PATCHING,),
       reads={f"{FUNCTION}#listing", f"{RUN_SERVICE}#listing"})
def runtime_supported(ctx: CheckContext) -> Iterator[Result]:
    """Cloud Functions and Cloud Run services on Google's runtimes use a runtime still supported

    Past its deprecation date a runtime gets no security or language updates, and after
    decommissioning the function can no longer be redeployed to fix one. Dates come from
    checks/lifecycle/gcp.toml (the runtime support schedule); a runtime not in the table is
    unknown, never assumed supported. Cloud Run services built from your own image (no Google
    base image) are not subject to it and are not judged.

    Remediation: Redeploy on a supported runtime (for example nodejs22 or python312), and turn on
    automatic base image updates.
    """
    table, today = product("gcp", "serverless_runtime"), scan_time(ctx.inventory).date()
    for asset in [*ctx.inventory.of(FUNCTION), *ctx.inventory.of(RUN_SERVICE)]:
        runtime = _runtime(asset)
        if runtime is None:
            continue
        end = table.end_of(runtime)
        evidence = {"runtime": runtime, "source": table.source()}
        if end is None:
            yield ctx.unknown(asset, f"runtime {runtime}: end of support unknown (not in the "
                              f"table, {table.source()})", **evidence)
        elif end < today:
            yield ctx.fail(asset, f"runtime {runtime} deprecated since {end.isoformat()}: no "
                           "more security updates", deprecated=end.isoformat(), **evidence)
        else:
            yield ctx.passed(asset, f"runtime {runtime} supported until {end.isoformat()}",
                             **evidence)


@check("gcp.serverless.env_no_plaintext_secrets", Severity.HIGH, (Principle.SECRETS,),
       reads={f"{FUNCTION}#listing", f"{RUN_SERVICE}#listing"})
def env_no_plaintext_secrets(ctx: CheckContext) -> Iterator[Result]:
    """Cloud Run services and Cloud Functions keep no plaintext secrets in environment variables

    Anyone with run.services.get or cloudfunctions.functions.get (viewer roles, CI logs) reads
    environment variables in clear text, and they never rotate. The collector scans the values
    (detect-secrets and signed-URL detectors) and keeps only the verdicts; references to Secret
    Manager are not values and are fine. A 2nd gen function is reported once, not again as its
    Cloud Run service.

    Remediation: Store the value in Secret Manager and reference it (`--set-secrets
    NAME=secret:latest`); rotate the exposed secret.
    """
    for asset in _judged(ctx):
        yield plaintext_secrets(ctx, asset, "env_secrets", "its environment variables")
