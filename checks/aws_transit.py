"""Encryption in transit: load balancer listeners negotiate TLS 1.2+, HTTP redirects to HTTPS."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Asset, Inventory, Principle, Severity
from posture.registry import check

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
SSL_POLICY = "AWS::ElasticLoadBalancingV2::SSLPolicy"

_TLS_LISTENERS = ("HTTPS", "TLS")


def _policies(inventory: Inventory) -> dict[tuple[str, str, str], Asset]:
    return {(p.account, p.region, str(p.attr("policy_name"))): p for p in inventory.of(SSL_POLICY)}


@check(
    id="aws.transit.lb_listener_tls12_minimum",
    title="Load balancer TLS listeners accept only TLS 1.2 or later",
    severity=Severity.HIGH,
    principles=(Principle.ENCRYPTION_IN_TRANSIT,),
    reads={LISTENER, SSL_POLICY},
    remediation=(
        "Switch the listener to a security policy without TLS 1.0/1.1, e.g. "
        "ELBSecurityPolicy-TLS13-1-2-2021-06 (or ELBSecurityPolicy-TLS13-1-2-Res-2021-06)."
    ),
    rationale=(
        "SSLv3, TLS 1.0 and TLS 1.1 are deprecated (RFC 8996) and allow downgrade attacks. The "
        "verdict uses the protocols the policy actually enables, not its name."
    ),
    params={"weak_protocols": ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")},
)
def lb_listener_tls12_minimum(ctx: CheckContext) -> Iterator[Result]:
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
    id="aws.transit.lb_http_redirects_to_https",
    title="Internet-facing application load balancers redirect HTTP to HTTPS",
    severity=Severity.MEDIUM,
    principles=(Principle.ENCRYPTION_IN_TRANSIT,),
    reads={LOAD_BALANCER, LISTENER},
    remediation=(
        "Make the default action of every HTTP listener a redirect to HTTPS (port 443, status "
        "HTTP_301) and serve the application only on the HTTPS listener."
    ),
    rationale=(
        "A plain HTTP listener that serves content sends credentials and session cookies in "
        "clear text across the internet. Only the default action is evaluated (listener rules "
        "are not collected yet)."
    ),
)
def lb_http_redirects_to_https(ctx: CheckContext) -> Iterator[Result]:
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
