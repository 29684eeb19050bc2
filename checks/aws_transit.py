"""Encryption in transit: load balancer listeners negotiate TLS 1.2+, HTTP redirects to HTTPS,
CloudFront serves viewers over TLS 1.2+, S3 buckets refuse plain HTTP, RDS forces TLS, and
certificates are not expired or about to expire."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import Asset, Inventory, Principle, Severity
from posture.registry import check
from posture.values import as_list, parse_time, scan_time, statements

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
SSL_POLICY = "AWS::ElasticLoadBalancingV2::SSLPolicy"

DISTRIBUTION = "AWS::CloudFront::Distribution"
BUCKET = "AWS::S3::Bucket"
DB_INSTANCE = "AWS::RDS::DBInstance"
DB_CLUSTER = "AWS::RDS::DBCluster"
PARAMETER_GROUP = "AWS::RDS::DBParameterGroup"
CLUSTER_PARAMETER_GROUP = "AWS::RDS::DBClusterParameterGroup"
ACM_CERTIFICATE = "AWS::CertificateManager::Certificate"
SERVER_CERTIFICATE = "AWS::IAM::ServerCertificate"

_TLS_LISTENERS = ("HTTPS", "TLS")
_IN_TRANSIT = (Principle.ENCRYPTION_IN_TRANSIT,)


def _policies(inventory: Inventory) -> dict[tuple[str, str, str], Asset]:
    return {(p.account, p.region, str(p.attr("policy_name"))): p for p in inventory.of(SSL_POLICY)}


@check("aws.transit.lb_listener_tls12_minimum", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={LISTENER, SSL_POLICY},
       params={"weak_protocols": ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")})
def lb_listener_tls12_minimum(ctx: CheckContext) -> Iterator[Result]:
    """Load balancer TLS listeners accept only TLS 1.2 or later

    SSLv3, TLS 1.0 and TLS 1.1 are deprecated (RFC 8996) and allow downgrade attacks. The verdict
    uses the protocols the policy actually enables, not its name.

    Remediation: Switch the listener to a security policy without TLS 1.0/1.1, e.g.
    ELBSecurityPolicy-TLS13-1-2-2021-06 (or ELBSecurityPolicy-TLS13-1-2-Res-2021-06).
    """
    policies = ctx.derived("aws.transit.ssl_policies", _policies)
    weak = set(ctx.param("weak_protocols"))
    for listener in ctx.inventory.of(LISTENER):
        if listener.attr("protocol") not in _TLS_LISTENERS:
            continue
        name = listener.attr("ssl_policy")
        policy = policies.get((listener.account, listener.region, str(name)))
        protocols = None if policy is None else policy.attr("protocols")
        if protocols is None:
            yield ctx.unknown(listener, f"protocols of SSL policy {name!r} unknown "
                              "(policy not collected)", ssl_policy=name)
            continue
        offered = sorted(set(protocols) & weak)
        if offered:
            yield ctx.fail(listener, f"SSL policy {name} accepts {', '.join(offered)}",
                           ssl_policy=name, protocols=protocols, port=listener.attr("port"))
        else:
            yield ctx.passed(listener, f"SSL policy {name} accepts only {', '.join(protocols)}",
                             ssl_policy=name, protocols=protocols)


@check(
    "aws.transit.lb_http_redirects_to_https", Severity.MEDIUM, (Principle.ENCRYPTION_IN_TRANSIT,),
    reads={LOAD_BALANCER, LISTENER},
)
def lb_http_redirects_to_https(ctx: CheckContext) -> Iterator[Result]:
    """Internet-facing application load balancers redirect HTTP to HTTPS

    A plain HTTP listener that serves content sends credentials and session cookies in clear text
    across the internet. Only the default action is evaluated (listener rules are not collected
    yet).

    Remediation: Make the default action of every HTTP listener a redirect to HTTPS (port 443,
    status HTTP_301) and serve the application only on the HTTPS listener.
    """
    lbs = {lb.attr("arn") or lb.uid: lb for lb in ctx.inventory.of(LOAD_BALANCER)}
    for listener in ctx.inventory.of(LISTENER):
        if listener.attr("protocol") != "HTTP":
            continue
        lb = lbs.get(listener.attr("load_balancer_arn"))
        if lb is None:
            yield ctx.unknown(listener, "load balancer of the listener not collected")
            continue
        if lb.attr("lb_type") != "application" or lb.attr("scheme") != "internet-facing":
            continue
        actions = listener.attr("default_actions") or []
        redirect = any(a.get("type") == "redirect" and a.get("redirect_protocol") == "HTTPS"
                       for a in actions)
        evidence = {"load_balancer": lb.attr("lb_name"), "port": listener.attr("port"),
                    "default_actions": actions}
        if redirect:
            yield ctx.passed(listener, "HTTP listener redirects to HTTPS", **evidence)
        else:
            kinds = ", ".join(str(a.get("type")) for a in actions) or "none"
            yield ctx.fail(listener, f"HTTP listener on an internet-facing ALB does not redirect "
                           f"to HTTPS (default action: {kinds})", **evidence)


# --- CloudFront ----------------------------------------------------------------------------


@check("aws.transit.cloudfront_viewer_https", Severity.HIGH, _IN_TRANSIT, reads={DISTRIBUTION})
def cloudfront_viewer_https(ctx: CheckContext) -> Iterator[Result]:
    """CloudFront distributions serve viewers over HTTPS only

    A behavior with `allow-all` serves content, cookies and credentials over plain HTTP to anyone
    on the path between the viewer and the edge.

    Remediation: Set the viewer protocol policy of the default and of every cache behavior to
    `redirect-to-https` (or `https-only`).
    """
    for dist in ctx.inventory.of(DISTRIBUTION):
        behaviors = dist.attr("cache_behaviors")
        policies = [b.get("viewer_protocol_policy") for b in behaviors or []]
        if not behaviors or None in policies:
            yield ctx.unknown(dist, "viewer protocol policies unknown")
            continue
        plain = [b.get("path_pattern") for b in behaviors
                 if b.get("viewer_protocol_policy") not in ("redirect-to-https", "https-only")]
        if plain:
            yield ctx.fail(dist, f"{len(plain)} cache behavior(s) allow plain HTTP: "
                           f"{', '.join(map(str, plain))}", cache_behaviors=behaviors)
        else:
            yield ctx.passed(dist, "every cache behavior requires or redirects to HTTPS",
                             cache_behaviors=behaviors)


_TLS_VERSION = re.compile(r"^TLSv(\d+)(?:\.(\d+))?")


def tls_version(name: str | None) -> tuple[int, int] | None:
    """The minimum protocol a CloudFront security policy name states (``TLSv1.2_2021`` ->
    (1, 2); ``TLSv1`` and ``TLSv1_2016`` -> (1, 0); ``SSLv3`` -> (0, 3))."""
    if not name:
        return None
    if name.startswith("SSLv3"):
        return (0, 3)
    match = _TLS_VERSION.match(name)
    if match is None:
        return None
    return (int(match.group(1)), int(match.group(2) or 0))


@check("aws.transit.cloudfront_tls12_minimum", Severity.MEDIUM, _IN_TRANSIT, reads={DISTRIBUTION})
def cloudfront_tls12_minimum(ctx: CheckContext) -> Iterator[Result]:
    """CloudFront distributions accept only TLS 1.2 or later from viewers

    The security policy's name states its minimum protocol version (TLSv1.2_2021 = TLS 1.2); a
    distribution on the default CloudFront certificate is pinned to TLSv1.

    Remediation: Use a custom certificate (ACM) with security policy TLSv1.2_2021 or later; the
    default *.cloudfront.net certificate always accepts TLS 1.0.
    """
    for dist in ctx.inventory.of(DISTRIBUTION):
        policy = dist.attr("minimum_protocol_version")
        evidence = {"minimum_protocol_version": policy,
                    "default_certificate": dist.attr("default_certificate")}
        if dist.attr("default_certificate"):
            yield ctx.fail(dist, "uses the default CloudFront certificate, which accepts TLS 1.0",
                           **evidence)
            continue
        version = tls_version(policy)
        if version is None:
            yield ctx.unknown(dist, f"minimum protocol version {policy!r} unknown", **evidence)
        elif version >= (1, 2):
            yield ctx.passed(dist, f"minimum viewer protocol {policy}", **evidence)
        else:
            yield ctx.fail(dist, f"minimum viewer protocol {policy} is below TLS 1.2", **evidence)


_WEAK_ORIGIN_TLS = ("SSLv3", "TLSv1", "TLSv1.1")
_HTTPS_VIEWERS = ("redirect-to-https", "https-only")


def _origin_problem(origin: Mapping[str, Any], behaviors: list[Mapping[str, Any]]) -> str | None:
    """Why CloudFront may fetch from ``origin`` without TLS 1.2+, or None; raises KeyError when
    the origin's protocol policy is unknown."""
    routed = [b for b in behaviors if b.get("target_origin_id") in (None, origin.get("id"))]
    plain_viewers = [b.get("path_pattern") for b in routed
                     if b.get("viewer_protocol_policy") not in _HTTPS_VIEWERS]
    # S3 REST origins are fetched with the viewer's protocol (not configurable)
    policy = origin.get("protocol_policy") if origin.get("kind") == "custom" else "match-viewer"
    name = origin.get("id")
    if policy == "http-only":
        return f"origin {name} is fetched over plain HTTP (origin protocol policy http-only)"
    if policy == "match-viewer":
        if plain_viewers:
            how = "match-viewer" if origin.get("kind") == "custom" else "an S3 origin"
            return (f"origin {name} is fetched over HTTP when viewers use HTTP ({how}; "
                    f"behaviors {', '.join(map(str, plain_viewers))} allow HTTP viewers)")
    elif policy != "https-only":
        raise KeyError(name)
    weak = sorted(set(origin.get("ssl_protocols") or ()) & set(_WEAK_ORIGIN_TLS))
    if origin.get("kind") == "custom" and weak:
        return f"origin {name} accepts {', '.join(weak)} on the CloudFront-to-origin connection"
    return None


@check("aws.transit.cloudfront_origin_https", Severity.MEDIUM, _IN_TRANSIT, reads={DISTRIBUTION})
def cloudfront_origin_https(ctx: CheckContext) -> Iterator[Result]:
    """CloudFront fetches from its origins over HTTPS with TLS 1.2 or later

    HTTPS between viewer and edge does not protect the second leg: an http-only origin, or a
    match-viewer / S3 origin behind behaviors that accept HTTP viewers, carries the same content
    and cookies in plaintext across the internet to the origin; SSLv3, TLS 1.0 and 1.1 allowed to
    the origin are below the TLS 1.2 floor.

    Remediation: Set the custom origins' protocol policy to `https-only` with origin SSL protocols
    TLSv1.2 only; for S3 and match-viewer origins, make every behavior routed to them
    `redirect-to-https` or `https-only`.
    """
    for dist in ctx.inventory.of(DISTRIBUTION):
        origins, behaviors = dist.attr("origins"), dist.attr("cache_behaviors") or []
        evidence = {"origins": origins, "cache_behaviors": behaviors}
        if not origins:
            yield ctx.unknown(dist, "origins unknown", **evidence)
            continue
        try:
            problems = [p for o in origins if (p := _origin_problem(o, behaviors))]
        except KeyError as exc:
            yield ctx.unknown(dist, f"protocol policy of origin {exc.args[0]} unknown", **evidence)
            continue
        if problems:
            yield ctx.fail(dist, "; ".join(problems), **evidence)
        else:
            yield ctx.passed(dist, "every origin is fetched over HTTPS with TLS 1.2 or later",
                             **evidence)


# --- S3 ------------------------------------------------------------------------------------


def _denies_plain_http(statement: Mapping[str, Any], bucket: str) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if principal != "*" and not (isinstance(principal, Mapping)
                                 and "*" in as_list(principal.get("AWS"))):
        return False
    actions = {str(a).lower() for a in as_list(statement.get("Action"))}
    if not actions & {"*", "s3:*"}:
        return False
    resources = {str(r) for r in as_list(statement.get("Resource"))}
    if not resources & {"*", f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}*"}:
        return False
    condition = statement.get("Condition") or {}
    for operator in ("Bool", "BoolIfExists"):
        block = condition.get(operator) or {}
        for key, value in block.items():
            if str(key).lower() == "aws:securetransport" and \
                    [str(v).lower() for v in as_list(value)] == ["false"]:
                return True
    return False


@check("aws.transit.s3_bucket_denies_http", Severity.MEDIUM, _IN_TRANSIT,
       reads={f"{BUCKET}#policy"})
def s3_bucket_denies_http(ctx: CheckContext) -> Iterator[Result]:
    """S3 bucket policies deny requests that do not use TLS

    S3 accepts plain HTTP unless the bucket policy refuses it; an Allow conditioned on
    SecureTransport=true is not enough, HTTP must be explicitly denied (CIS 2.1.1).

    Remediation: Add a statement: Effect Deny, Principal *, Action s3:*, Resource the bucket and
    bucket/*, Condition {"Bool": {"aws:SecureTransport": "false"}}.
    """
    for bucket in ctx.inventory.of(BUCKET):
        present, policy = bucket.attr("policy_present"), bucket.attr("policy")
        if present is None:
            yield ctx.unknown(bucket, "bucket policy unknown")
        elif not present:
            yield ctx.fail(bucket, "no bucket policy, so plain HTTP requests are accepted")
        elif any(_denies_plain_http(st, str(bucket.attr("bucket_name") or bucket.name))
                 for st in statements(policy)):
            yield ctx.passed(bucket, "bucket policy denies aws:SecureTransport=false")
        else:
            yield ctx.fail(bucket, "bucket policy has no deny on aws:SecureTransport=false")


# --- RDS -----------------------------------------------------------------------------------

# engine prefix -> the parameter that forces TLS
_TLS_PARAMETER = (
    ("aurora-postgresql", "rds.force_ssl"),
    ("aurora-mysql", "require_secure_transport"),
    ("postgres", "rds.force_ssl"),
    ("sqlserver", "rds.force_ssl"),
    ("mysql", "require_secure_transport"),
    ("mariadb", "require_secure_transport"),
)
_ON = {"1", "on", "true"}


def _groups(inventory: Inventory) -> dict[tuple[str, str, str, str], Asset]:
    return {(g.type, g.account, g.region, str(g.attr("group_name"))): g
            for g in inventory.of(PARAMETER_GROUP, CLUSTER_PARAMETER_GROUP)}


def _tls_parameter(engine: str | None) -> str | None:
    for prefix, name in _TLS_PARAMETER:
        if str(engine or "").startswith(prefix):
            return name
    return None


def _rds_tls(ctx: CheckContext, db: Asset, group_type: str, names: list[str]) -> Result:
    parameter = _tls_parameter(db.attr("engine"))
    if parameter is None:
        return ctx.unknown(db, f"engine {db.attr('engine')} enforces TLS outside parameter "
                           "groups (e.g. Oracle option groups), which are not collected")
    groups = ctx.derived("aws.transit.rds_parameter_groups", _groups)
    for name in names:
        group = groups.get((group_type, db.account, db.region, name))
        values = None if group is None else group.attr("tls_parameters")
        evidence = {"parameter_group": name, "parameter": parameter}
        if values is None:
            return ctx.unknown(db, f"parameters of group {name} unknown", **evidence)
        value = values.get(parameter)
        evidence["value"] = value
        if str(value).lower() in _ON:
            return ctx.passed(db, f"{parameter}={value} in parameter group {name}", **evidence)
        return ctx.fail(db, f"{parameter} is {value if value is not None else 'not set'} in "
                        f"parameter group {name}: clients may connect without TLS", **evidence)
    return ctx.unknown(db, "parameter group unknown")


@check(
    "aws.transit.rds_requires_tls", Severity.MEDIUM, _IN_TRANSIT,
    reads={f"{DB_INSTANCE}#listing", f"{DB_CLUSTER}#listing", PARAMETER_GROUP,
           CLUSTER_PARAMETER_GROUP},
)
def rds_requires_tls(ctx: CheckContext) -> Iterator[Result]:
    """RDS databases reject connections without TLS

    RDS accepts unencrypted client connections unless the parameter group forces TLS. Aurora
    instances are judged through their cluster parameter group; a parameter without a value is the
    engine default (off, except PostgreSQL 15+ whose default group sets 1).

    Remediation: In a custom parameter group set rds.force_ssl=1 (PostgreSQL, SQL Server, Aurora
    PostgreSQL) or require_secure_transport=ON (MySQL, MariaDB, Aurora MySQL), attach it and reboot
    if the parameter is static.
    """
    for db in ctx.inventory.of(DB_INSTANCE):
        if str(db.attr("engine") or "").startswith("aurora"):
            continue  # judged through the cluster
        yield _rds_tls(ctx, db, PARAMETER_GROUP, list(db.attr("parameter_groups") or []))
    for cluster in ctx.inventory.of(DB_CLUSTER):
        group = cluster.attr("parameter_group")
        yield _rds_tls(ctx, cluster, CLUSTER_PARAMETER_GROUP, [group] if group else [])


# --- certificates --------------------------------------------------------------------------

_UNISSUED = ("PENDING_VALIDATION", "FAILED", "VALIDATION_TIMED_OUT", "REVOKED")


@check("aws.transit.certificate_not_expiring", Severity.MEDIUM, _IN_TRANSIT,
       reads={f"{ACM_CERTIFICATE}#listing", SERVER_CERTIFICATE}, params={"warn_days": 30})
def certificate_not_expiring(ctx: CheckContext) -> Iterator[Result]:
    """TLS certificates (ACM and IAM) are not expired or about to expire

    An expired certificate breaks TLS for its clients, who then retry over HTTP or learn to click
    through warnings. Days are counted to the scan's finish time; `warn_days` sets the window.

    Remediation: Renew or re-import the certificate (for ACM DNS-validated certificates, fix the
    validation record so managed renewal can succeed) and delete expired ones; move IAM server
    certificates to ACM.
    """
    now, window = scan_time(ctx.inventory), int(ctx.param("warn_days"))
    for cert in ctx.inventory.of(ACM_CERTIFICATE, SERVER_CERTIFICATE):
        if cert.attr("status") in _UNISSUED:
            continue
        expiry = parse_time(cert.attr("not_after"))
        if expiry is None:
            yield ctx.unknown(cert, "expiry date unknown")
            continue
        days = (expiry - now).days
        evidence = {"not_after": cert.attr("not_after"), "days_left": days, "warn_days": window,
                    "in_use": cert.attr("in_use")}
        if expiry <= now:
            yield ctx.fail(cert, f"expired {-days} day(s) ago", **evidence)
        elif days <= window:
            yield ctx.fail(cert, f"expires in {days} day(s) (window {window})", **evidence)
        else:
            yield ctx.passed(cert, f"valid for {days} more days", **evidence)
