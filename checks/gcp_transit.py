"""Encryption in transit on GCP: load-balancer TLS policies and Cloud SQL SSL enforcement."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.gcp import HTTPS_PROXY, SQL_INSTANCE, SSL_POLICY, SSL_PROXY
from posture.model import Principle, Severity
from posture.registry import check

_TLS_ORDER = {"TLS_1_0": 0, "TLS_1_1": 1, "TLS_1_2": 2, "TLS_1_3": 3}
WEAK_FEATURES = (
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
)


@check("gcp.transit.lb_proxy_tls12_minimum", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={HTTPS_PROXY, SSL_PROXY, SSL_POLICY})
def lb_proxy_tls12_minimum(ctx: CheckContext) -> Iterator[Result]:
    """HTTPS and SSL proxy load balancers require TLS 1.2 with strong cipher suites

    A proxy without an SSL policy uses Google's default policy (COMPATIBLE, TLS 1.0), which accepts
    TLS 1.0/1.1 and weak cipher suites; COMPATIBLE or a CUSTOM profile with weak RSA-key-exchange
    suites fails too.

    Remediation: Attach an SSL policy with min TLS version 1.2 and the MODERN or RESTRICTED profile
    (`gcloud compute ssl-policies create ... --profile MODERN --min-tls-version 1.2`, then `gcloud
    compute target-https-proxies update ... --ssl-policy`).
    """
    policies = {p.attr("path"): p for p in ctx.inventory.of(SSL_POLICY)}
    for proxy in ctx.inventory.of(HTTPS_PROXY, SSL_PROXY):
        ref = proxy.attr("ssl_policy")
        if ref is None:
            yield ctx.fail(
                proxy,
                "no SSL policy: Google's default allows TLS 1.0 and the COMPATIBLE cipher suites",
                ssl_policy=None,
            )
            continue
        policy = policies.get(ref)
        if policy is None:
            yield ctx.unknown(proxy, f"SSL policy {ref} was not collected", ssl_policy=ref)
            continue
        min_tls, profile = policy.attr("min_tls_version"), policy.attr("profile")
        weak = sorted(set(policy.attr("custom_features") or ()) & set(WEAK_FEATURES))
        evidence = {"ssl_policy": policy.name, "min_tls_version": min_tls, "profile": profile}
        if _TLS_ORDER.get(min_tls, 0) < _TLS_ORDER["TLS_1_2"]:
            yield ctx.fail(proxy, f"SSL policy {policy.name} allows {min_tls}", **evidence)
        elif profile == "COMPATIBLE":
            yield ctx.fail(
                proxy,
                f"SSL policy {policy.name} uses the COMPATIBLE profile (weak cipher suites)",
                **evidence,
            )
        elif profile == "CUSTOM" and weak:
            yield ctx.fail(
                proxy,
                f"SSL policy {policy.name} enables weak suites {', '.join(weak)}",
                weak_features=weak,
                **evidence,
            )
        else:
            yield ctx.passed(proxy, f"SSL policy {policy.name}: {min_tls}+, {profile}", **evidence)


@check("gcp.transit.sql_ssl_enforced", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={SQL_INSTANCE})
def sql_ssl_enforced(ctx: CheckContext) -> Iterator[Result]:
    """Cloud SQL instances accept only encrypted connections

    Without SSL enforcement clients may connect in clear text and credentials and data travel
    unencrypted. `sslMode` takes precedence over the legacy `requireSsl` flag.

    Remediation: Set the instance's SSL mode to ENCRYPTED_ONLY (or
    TRUSTED_CLIENT_CERTIFICATE_REQUIRED): `gcloud sql instances patch INSTANCE
    --ssl-mode=ENCRYPTED_ONLY`.
    """
    for db in ctx.inventory.of(SQL_INSTANCE):
        mode, legacy = db.attr("ssl_mode"), db.attr("require_ssl")
        if db.attr("ssl_enforced"):
            yield ctx.passed(
                db,
                f"SSL enforced (ssl_mode {mode or 'unset'}, require_ssl {legacy})",
                ssl_mode=mode,
                require_ssl=legacy,
            )
        else:
            yield ctx.fail(
                db,
                f"unencrypted connections accepted (ssl_mode {mode or 'unset'}, "
                f"require_ssl {legacy})",
                ssl_mode=mode,
                require_ssl=legacy,
            )
