"""Reachability scenarios, one per AWS rule and trap, through the checks that use them: private
subnets, NAT and blackhole routes, network-ACL denies, security-group references, load balancers
(listeners, listener rules, target groups). Bastions: test_graph_bastions.py; peering and transit
gateways: test_graph_segregation.py."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import collection_error, inventory
from support.aws_net import (
    ADMIN,
    LATENT,
    LB_ARN,
    LOCAL,
    PRIVATE_ROUTES,
    PUBLIC_ROUTES,
    SSH_DENIED,
    SSH_WORLD,
    TG_ARN,
    VIA_BASTION,
    default_acl,
    eni,
    estate,
    hop,
    instance,
    lb_estate,
    nacl,
    route,
    route_table,
    sg,
    sg_rule,
    status,
    subnet,
    with_egress,
)
from support.checks import run_one

from posture.graph.aws.reach import AwsReach
from posture.model import Asset, Inventory, Status

# -- traps: private subnet, NAT, blackhole ----------------------------------------------------


def test_private_subnet_with_open_sg_is_latent_only() -> None:
    inv = estate(routes=PRIVATE_ROUTES, public_ip=None)
    assert status(ADMIN, inv).status == Status.PASS
    latent = status(LATENT, inv)
    assert latent.status == Status.FAIL
    assert latent.evidence["latent"][0]["blocked_at"] == "address"
    assert "sg-1 admits tcp/22" in latent.message


def test_nat_gateway_is_egress_only() -> None:
    finding = status(ADMIN, estate(routes=PRIVATE_ROUTES))
    assert finding.status == Status.PASS
    assert "NAT is egress-only" in finding.message
    assert (
        status(LATENT, estate(routes=PRIVATE_ROUTES)).evidence["latent"][0]["blocked_at"] == "route"
    )


def test_blackhole_route_blocks_and_is_named() -> None:
    routes = (LOCAL, route("0.0.0.0/0", state="blackhole"))
    finding = status(LATENT, estate(routes=routes))
    assert finding.status == Status.FAIL and "blackhole" in finding.message


def test_nacl_deny_before_allow_is_latent_and_names_the_rule() -> None:
    acl = SSH_DENIED
    assert status(ADMIN, estate(acl=acl)).status == Status.PASS
    latent = status(LATENT, estate(acl=acl))
    assert latent.status == Status.FAIL
    assert latent.evidence["latent"][0]["blocked_at"] == "network-acl inbound"
    assert "rule 50" in latent.message


def test_real_exposure_is_not_latent() -> None:
    finding = status(LATENT, estate())
    assert finding.status == Status.PASS and "CRITICAL" in finding.message


def test_missing_network_acl_is_inconclusive() -> None:
    inv = inventory(subnet(), route_table("rtb-1", PUBLIC_ROUTES), sg(SSH_WORLD), eni(), instance())
    assert status(ADMIN, inv).status == Status.INCONCLUSIVE


def test_nacl_listing_gap_never_passes() -> None:
    gap = collection_error("ec2", "DescribeNetworkAcls", ("AWS::EC2::NetworkAcl",))
    for check_id in (ADMIN, LATENT, VIA_BASTION):
        statuses = {
            f.status for f in run_one(check_id, estate(routes=PRIVATE_ROUTES, errors=(gap,)))
        }
        assert Status.PASS not in statuses, check_id


# -- security-group references ----------------------------------------------------------------


def two_hosts(
    db_ingress: Any, app_sgs: tuple[str, ...] = ("sg-app",), extra: tuple[Asset, ...] = ()
) -> Inventory:
    return inventory(
        subnet(),
        route_table("rtb-1", PRIVATE_ROUTES),
        nacl(default_acl()),
        sg([], "sg-app"),
        sg(db_ingress, "sg-db"),
        sg([sg_rule(22, 22, "10.0.0.0/8")], "sg-bas"),
        eni("eni-app", "i-app", public_ip=None, sgs=app_sgs, private_ips=["10.0.1.7"]),
        eni("eni-db", "i-db", public_ip=None, sgs=("sg-db",), private_ips=["10.0.1.8"]),
        instance("i-app", enis=("eni-app",)),
        instance("i-db", enis=("eni-db",)),
        *extra,
    )


def reach_between(inv: Inventory, port: int) -> Any:
    reach = AwsReach(inv)
    hosts = {h.asset.name: h for h in reach.hosts()}
    return reach.between(
        hosts["i-app"].interfaces[0].key, hosts["i-db"].interfaces[0].key, 4, "tcp", port
    )


def test_sg_reference_admits_members_only() -> None:
    ref = [sg_rule(5432, 5432, "sg-app", kind="security_group")]
    v = reach_between(with_egress(two_hosts(ref)), 5432)
    assert v.path is not None
    sg_hops = [h for h in v.path.hops if h.kind == "security-group"]
    assert any("sg-app" in h.detail for h in sg_hops)
    assert reach_between(with_egress(two_hosts(ref, app_sgs=("sg-bas",))), 5432).path is None


def test_source_security_group_egress_is_enforced() -> None:
    ref = [sg_rule(5432, 5432, "sg-app", kind="security_group")]
    v = reach_between(two_hosts(ref), 5432)  # sg-app has no egress rules
    assert v.path is None
    assert v.blocking(bool).layer == "security-group outbound"


# -- load balancers -----------------------------------------------------------------------------


def test_nlb_exposes_private_target_and_names_lb_and_listener() -> None:
    finding = status(ADMIN, lb_estate())
    assert finding.status == Status.FAIL, finding.message
    path = finding.evidence["paths"][0]
    assert path["load_balancer"] == "edge" and path["listener"] == "edge:2222"
    kinds = [h["kind"] for h in path["hops"]]
    for kind in (
        "internet",
        "internet-gateway",
        "route",
        "load-balancer",
        "listener",
        "target-group",
        "security-group",
        "interface",
        "asset",
    ):
        assert kind in kinds, kinds
    assert hop(path, "security-group")["rule"]["peer"] == "10.0.9.0/24"
    assert "load-balancer edge" in finding.message


def test_nlb_client_ip_preservation_admits_internet_sources() -> None:
    assert status(ADMIN, lb_estate(target_ingress=SSH_WORLD)).status == Status.FAIL


FIXED_404 = [{"type": "fixed-response", "target_group_arns": [], "status_code": "404"}]


def alb_rule(priority: int, conditions: list[dict[str, Any]], source_ips: Any = None) -> Any:
    return {
        "arn": f"{LB_ARN}/rule/{priority}",
        "priority": priority,
        "conditions": conditions,
        "source_ips": source_ips,
        "actions": [{"type": "forward", "target_group_arns": [TG_ARN]}],
    }


def test_target_forwarded_only_by_a_listener_rule_is_exposed() -> None:
    rule = alb_rule(10, [{"field": "path-pattern", "values": ["/admin/*"]}])
    inv = lb_estate(protocol="HTTP", default_actions=FIXED_404, rules=[rule])
    finding = status(ADMIN, inv)
    assert finding.status == Status.FAIL, finding.message
    rule_hop = hop(finding.evidence["paths"][0], "listener-rule")
    assert rule_hop["detail"] == "rule priority 10; path-pattern /admin/*"
    # without the rule the default fixed response forwards nothing
    quiet = lb_estate(protocol="HTTP", default_actions=FIXED_404, rules=[])
    assert status(ADMIN, quiet).status == Status.PASS


def test_listener_rule_restricted_by_source_ip_is_not_an_exposure() -> None:
    rule = alb_rule(5, [{"field": "source-ip", "values": ["203.0.113.0/24"]}],
                    source_ips=["203.0.113.0/24"])
    inv = lb_estate(protocol="HTTP", default_actions=FIXED_404, rules=[rule])
    assert status(ADMIN, inv).status == Status.PASS


def test_unreadable_listener_rules_never_pass() -> None:
    gap = collection_error(
        "elasticloadbalancing", "DescribeRules", ("AWS::ElasticLoadBalancingV2::Listener#rules",)
    )
    base = lb_estate(protocol="HTTP", default_actions=FIXED_404, rules=[])
    inv = inventory(*base.assets, errors=(gap,))
    assert status(ADMIN, inv).status == Status.INCONCLUSIVE


def test_target_sg_not_admitting_the_lb_blocks_it() -> None:
    inv = lb_estate(target_ingress=(sg_rule(22, 22, "10.0.3.0/24"),))
    assert status(ADMIN, inv).status == Status.PASS


def test_alb_with_sg_needs_the_target_to_admit_its_sg() -> None:
    ok = lb_estate(
        lb_sgs=("sg-lb",),
        lb_type="application",
        target_ingress=(sg_rule(22, 22, "sg-lb", kind="security_group"),),
    )
    assert status(ADMIN, ok).status == Status.PASS  # the ALB's group has no egress rule
    assert status(ADMIN, with_egress(ok)).status == Status.FAIL
    other = lb_estate(
        lb_sgs=("sg-lb",),
        lb_type="application",
        target_ingress=(sg_rule(22, 22, "sg-other", kind="security_group"),),
    )
    assert status(ADMIN, with_egress(other)).status == Status.PASS


@pytest.mark.parametrize(
    "kwargs",
    [{"scheme": "internal"}, {"lb_subnet_routes": PRIVATE_ROUTES}],
    ids=["internal-lb", "lb-in-private-subnet"],
)
def test_unreachable_load_balancer_exposes_nothing(kwargs: dict[str, Any]) -> None:
    assert status(ADMIN, lb_estate(**kwargs)).status == Status.PASS


def test_ip_target_is_resolved_to_its_instance() -> None:
    assert status(ADMIN, lb_estate(target_type="ip")).status == Status.FAIL
