"""aws.transit.*: TLS policies of listeners, HTTP to HTTPS redirects."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, aws_arn, collection_error, inventory
from support.checks import by_uid, only, run_one

from posture.model import Asset, Status

LB = aws_arn("elasticloadbalancing", "loadbalancer/app/web/1")
LISTENER = aws_arn("elasticloadbalancing", "listener/app/web/1/l1")
TLS = "aws.transit.lb_listener_tls12_minimum"
REDIRECT = "aws.transit.lb_http_redirects_to_https"


def policy(name: str, protocols: list[str] | None) -> Asset:
    uid = aws_arn("elasticloadbalancing", f"ssl-policy/{name}")
    return asset("AWS::ElasticLoadBalancingV2::SSLPolicy", uid, name=name, policy_name=name,
                 protocols=protocols, ciphers=[])


def listener(protocol: str = "HTTPS", ssl_policy: str | None = "P", port: int = 443,
             actions: list[dict[str, Any]] | None = None) -> Asset:
    return asset("AWS::ElasticLoadBalancingV2::Listener", LISTENER, arn=LISTENER,
                 load_balancer_arn=LB, port=port, protocol=protocol, ssl_policy=ssl_policy,
                 certificate_arns=[], default_actions=actions or [])


def load_balancer(scheme: str = "internet-facing", lb_type: str = "application") -> Asset:
    return asset("AWS::ElasticLoadBalancingV2::LoadBalancer", LB, arn=LB, lb_name="web",
                 lb_type=lb_type, scheme=scheme)


@pytest.mark.parametrize(("protocol", "protocols", "expected"), [
    ("HTTPS", ["TLSv1.2", "TLSv1.3"], Status.PASS),
    ("HTTPS", ["TLSv1", "TLSv1.1", "TLSv1.2"], Status.FAIL),
    ("TLS", ["TLSv1.1", "TLSv1.2"], Status.FAIL),
    ("HTTPS", ["SSLv3", "TLSv1.2"], Status.FAIL),
    ("HTTPS", None, Status.INCONCLUSIVE),
], ids=["tls12-13", "tls10", "nlb-tls11", "sslv3", "protocols-unknown"])
def test_tls_minimum(protocol: str, protocols: list[str] | None, expected: Status) -> None:
    # the name says TLS13 but the protocols decide (trap: never trust the policy name)
    name = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    inv = inventory(listener(protocol, name), policy(name, protocols))
    assert only(run_one(TLS, inv)).status == expected


def test_tls_policy_not_collected_is_inconclusive() -> None:
    finding = only(run_one(TLS, inventory(listener())))
    assert finding.status == Status.INCONCLUSIVE
    assert "not collected" in finding.message


def test_plain_http_listener_is_not_a_tls_finding() -> None:
    assert run_one(TLS, inventory(listener("HTTP", None, 80))) == []


def test_tls_policy_listing_gap_is_inconclusive() -> None:
    gap = collection_error("elbv2", "DescribeSSLPolicies",
                           ("AWS::ElasticLoadBalancingV2::SSLPolicy",))
    inv = inventory(listener(), policy("P", ["TLSv1.2"]), errors=(gap,))
    assert by_uid(run_one(TLS, inv))[LISTENER].status == Status.INCONCLUSIVE


TO_HTTPS = {"type": "redirect", "target_group_arns": [], "redirect_protocol": "HTTPS",
            "redirect_port": "443", "status_code": "HTTP_301"}
FORWARD = {"type": "forward", "target_group_arns": ["tg"], "redirect_protocol": None,
           "redirect_port": None, "status_code": None}
KEEP_PROTOCOL = {**TO_HTTPS, "redirect_protocol": "#{protocol}", "redirect_port": "8080"}


@pytest.mark.parametrize(("actions", "lb", "expected"), [
    ([TO_HTTPS], load_balancer(), Status.PASS),
    ([FORWARD], load_balancer(), Status.FAIL),
    ([KEEP_PROTOCOL], load_balancer(), Status.FAIL),
    ([FORWARD], load_balancer(scheme="internal"), None),
    ([FORWARD], load_balancer(lb_type="network"), None),
], ids=["redirect", "forward", "redirect-keeping-http", "internal-skipped", "nlb-skipped"])
def test_http_redirect(actions: list[dict[str, Any]], lb: Asset, expected: Status | None) -> None:
    findings = run_one(REDIRECT, inventory(lb, listener("HTTP", None, 80, actions)))
    if expected is None:
        assert findings == []
    else:
        assert only(findings).status == expected


def test_http_listener_without_its_load_balancer_is_inconclusive() -> None:
    findings = run_one(REDIRECT, inventory(listener("HTTP", None, 80, [FORWARD])))
    assert only(findings).status == Status.INCONCLUSIVE
