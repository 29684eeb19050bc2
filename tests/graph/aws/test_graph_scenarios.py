"""Reachability scenarios, one per AWS rule and trap, through the checks that use them."""

from __future__ import annotations

from typing import Any

import pytest
from check_helpers import by_uid, run_one
from conftest import ACCOUNT, asset, collection_error, inventory
from test_checks_network import (
    ADMIN,
    INSTANCE_UID,
    LOCAL,
    PRIVATE_ROUTES,
    PUBLIC_ROUTES,
    SSH_WORLD,
    arn,
    default_acl,
    eni,
    estate,
    hop,
    instance,
    nacl,
    route,
    route_table,
    sg,
    sg_rule,
    subnet,
)

from posture.graph.aws.reach import AwsReach
from posture.model import Asset, Inventory, Status

LATENT = "aws.network.no_latent_sensitive_port_exposure"
BASTION = "aws.network.bastion_not_open_to_internet"
VIA_BASTION = "aws.network.private_admin_only_via_bastion"
SEGREGATION = "aws.segregation.no_prod_nonprod_network_path"
DB = "aws.network.db_ports_not_internet_reachable"
R = "us-east-1"
LB_ARN = f"arn:aws:elasticloadbalancing:{R}:{ACCOUNT}:loadbalancer/net/edge/1"
TG_ARN = f"arn:aws:elasticloadbalancing:{R}:{ACCOUNT}:targetgroup/ssh/1"


def status(check_id: str, inv: Inventory, uid: str = INSTANCE_UID, **params: Any) -> Any:
    return by_uid(run_one(check_id, inv, **params))[uid]


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
    acl = default_acl(
        {
            "rule_number": 50,
            "egress": False,
            "protocol": "6",
            "action": "deny",
            "cidr": "0.0.0.0/0",
            "port_from": 22,
            "port_to": 22,
            "icmp_type": None,
            "icmp_code": None,
        }
    )
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


def with_egress(inv: Inventory) -> Inventory:
    assets = []
    for a in inv.assets:
        if a.type == "AWS::EC2::SecurityGroup":
            a = asset(a.type, a.uid, **{**a.attrs, "egress": [sg_rule(None, None, protocol="-1")]})
        assets.append(a)
    return inventory(*assets)


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


def lb_estate(
    lb_sgs: tuple[str, ...] = (),
    target_ingress: Any = None,
    lb_type: str = "network",
    scheme: str = "internet-facing",
    lb_subnet_routes: Any = PUBLIC_ROUTES,
    target_type: str = "instance",
    protocol: str = "TCP",
    default_actions: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> Inventory:
    lb_subnet = asset(
        "AWS::EC2::Subnet",
        arn("subnet", "subnet-lb"),
        subnet_id="subnet-lb",
        vpc_id="vpc-1",
        cidr_block="10.0.9.0/24",
        ipv6_cidr_blocks=[],
        availability_zone="us-east-1a",
        map_public_ip_on_launch=True,
    )
    lb = asset(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        LB_ARN,
        name="edge",
        arn=LB_ARN,
        lb_name="edge",
        lb_type=lb_type,
        scheme=scheme,
        vpc_id="vpc-1",
        subnet_ids=["subnet-lb"],
        security_group_ids=list(lb_sgs),
        dns_name="edge.elb.amazonaws.com",
        state="active",
        public_ips=None,
    )
    listener = asset(
        "AWS::ElasticLoadBalancingV2::Listener",
        f"{LB_ARN}/listener/1",
        name="edge:2222",
        arn=f"{LB_ARN}/listener/1",
        load_balancer_arn=LB_ARN,
        port=2222,
        protocol=protocol,
        ssl_policy=None,
        certificate_arns=[],
        default_actions=(
            [{"type": "forward", "target_group_arns": [TG_ARN]}]
            if default_actions is None
            else default_actions
        ),
        rules=[] if rules is None else rules,
    )
    if target_ingress is None:
        target_ingress = (sg_rule(22, 22, "10.0.9.0/24"),)
    target = "10.0.1.5" if target_type == "ip" else "i-1"
    tg = asset(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        TG_ARN,
        name="ssh",
        arn=TG_ARN,
        tg_name="ssh",
        protocol="TCP",
        port=22,
        target_type=target_type,
        vpc_id="vpc-1",
        load_balancer_arns=[LB_ARN],
        targets=[{"id": target, "port": 22}],
    )
    extra = (
        lb_subnet,
        route_table("rtb-lb", lb_subnet_routes, ("subnet-lb",)),
        lb,
        listener,
        tg,
        sg([sg_rule(2222, 2222)], "sg-lb"),
    )
    inv = estate(routes=PRIVATE_ROUTES, public_ip=None, ingress=target_ingress, extra=extra)
    assets = [
        a
        if a.type != "AWS::EC2::NetworkAcl"
        else asset(a.type, a.uid, **{**a.attrs, "subnet_ids": ["subnet-1", "subnet-lb"]})
        for a in inv.assets
    ]
    return inventory(*assets)


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


# -- bastions -----------------------------------------------------------------------------------


def bastion_estate(
    ingress: Any, worker_ingress: Any, tags: dict[str, str] | None = None
) -> Inventory:
    tagged = asset(
        "AWS::EC2::Instance",
        arn("instance", "i-b"),
        tags={"Role": "bastion"} if tags is None else tags,
        instance_id="i-b",
        state="running",
        vpc_id="vpc-1",
        subnet_id="subnet-1",
        private_ip="10.0.1.9",
        public_ip=None,
        ipv6_addresses=[],
        security_group_ids=["sg-b"],
        network_interface_ids=["eni-b"],
    )
    others = (
        sg(ingress, "sg-b"),
        sg(worker_ingress, "sg-w"),
        eni("eni-b", "i-b", public_ip="54.9.9.9", sgs=("sg-b",), private_ips=["10.0.1.9"]),
        eni(
            "eni-w",
            "i-w",
            subnet_id="subnet-2",
            public_ip=None,
            sgs=("sg-w",),
            private_ips=["10.0.2.7"],
        ),
        instance("i-w", enis=("eni-w",)),
        tagged,
        subnet("subnet-2"),
        route_table("rtb-2", PRIVATE_ROUTES, ("subnet-2",)),
        nacl(default_acl(), ("subnet-2",), "acl-2"),
    )
    inv = estate(ingress=[sg_rule(None, None, protocol="-1")], extra=others)
    return with_egress(inv)


BASTION_UID = arn("instance", "i-b")
WORKER_UID = arn("instance", "i-w")


def test_bastion_open_to_the_world_is_a_finding_but_not_an_admin_exposure() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "sg-b", kind="security_group")])
    assert status(BASTION, inv, BASTION_UID).status == Status.FAIL
    assert status(ADMIN, inv, BASTION_UID).status == Status.PASS


def test_bastion_from_office_range_passes() -> None:
    inv = bastion_estate(
        [sg_rule(22, 22, "203.0.113.0/24")], [sg_rule(22, 22, "sg-b", kind="security_group")]
    )
    finding = status(BASTION, inv, BASTION_UID)
    assert finding.status == Status.PASS and "allow-listed" in finding.message


def test_private_host_reached_only_from_the_bastion_passes() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "sg-b", kind="security_group")])
    assert status(VIA_BASTION, inv, WORKER_UID).status == Status.PASS


def test_private_host_reached_from_other_hosts_fails() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "10.0.0.0/16")])
    finding = status(VIA_BASTION, inv, WORKER_UID)
    assert finding.status == Status.FAIL
    assert finding.evidence["paths"][0]["source"] == "i-1"


def test_bastion_tag_is_configurable() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "sg-b", kind="security_group")])
    finding = status(ADMIN, inv, BASTION_UID, bastion_tags=("Role=jump",))
    assert finding.status == Status.FAIL


# -- inferred bastions: the only internet-reachable admin hop into a private tier ------------

FROM_BASTION = [sg_rule(22, 22, "sg-b", kind="security_group")]
OFFICE_SSH = [sg_rule(22, 22, "203.0.113.0/24")]


def test_untagged_office_only_bastion_is_inferred_and_its_tier_passes() -> None:
    inv = bastion_estate(OFFICE_SSH, FROM_BASTION, tags={})
    worker = status(VIA_BASTION, inv, WORKER_UID)
    assert worker.status == Status.PASS
    bastion = status(BASTION, inv, BASTION_UID)
    assert bastion.status == Status.PASS
    assert bastion.evidence["bastion"] == (
        "inferred: only internet-exposed admin hop into subnet(s) subnet-2"
    )


def test_inference_off_makes_the_untagged_hop_an_offender() -> None:
    inv = bastion_estate(OFFICE_SSH, FROM_BASTION, tags={})
    worker = status(VIA_BASTION, inv, WORKER_UID, infer_bastions=False)
    assert worker.status == Status.FAIL
    assert worker.evidence["paths"][0]["source"] == "i-b"


def test_inferred_bastion_open_to_the_world_is_still_an_admin_exposure() -> None:
    inv = bastion_estate(SSH_WORLD, FROM_BASTION, tags={})
    admin = status(ADMIN, inv, BASTION_UID)
    assert admin.status == Status.FAIL
    assert admin.evidence["bastion"].startswith("inferred")
    assert status(BASTION, inv, BASTION_UID).status == Status.FAIL


def test_two_exposed_admin_hops_into_one_tier_are_not_bastions() -> None:
    # i-1 (public, SSH open) and i-b both reach the worker on SSH: neither is "the only hop"
    inv = bastion_estate(OFFICE_SSH, [sg_rule(22, 22, "10.0.0.0/16")], tags={})
    results = by_uid(run_one(BASTION, inv))
    assert BASTION_UID not in results
    worker = status(VIA_BASTION, inv, WORKER_UID)
    assert worker.status == Status.FAIL
    assert {p["source"] for p in worker.evidence["paths"]} >= {"i-1", "i-b"}


def test_tagged_bastion_prevents_inferring_a_second_hop() -> None:
    inv = bastion_estate(SSH_WORLD, [sg_rule(22, 22, "10.0.0.0/16")])
    results = by_uid(run_one(BASTION, inv))
    assert set(results) == {BASTION_UID}
    worker = status(VIA_BASTION, inv, WORKER_UID)
    assert worker.status == Status.FAIL
    assert {p["source"] for p in worker.evidence["paths"]} == {"i-1"}


# -- segregation through peering and transit gateway -------------------------------------------


def two_vpcs(
    kind: str = "pcx",
    status_: str = "active",
    dev_ingress: Any = SSH_WORLD,
    prod_env: str = "production",
    tgw: tuple[Asset, ...] = (),
) -> Inventory:
    def vpc(v: str, cidr: str, env: str) -> Asset:
        return asset(
            "AWS::EC2::VPC",
            arn("vpc", v),
            tags={"Environment": env},
            vpc_id=v,
            cidr_blocks=[cidr],
            ipv6_cidr_blocks=[],
            is_default=False,
        )

    def net(v: str, n: str, cidr: str, peer: str, sgid: str, ingress: Any) -> list[Asset]:
        target = "pcx-1" if kind == "pcx" else "tgw-1"
        routes = [
            route(cidr.replace(".1.0/24", ".0.0/16"), "local", "local"),
            route(peer, kind, target),
        ]
        return [
            asset(
                "AWS::EC2::Subnet",
                arn("subnet", f"subnet-{n}"),
                subnet_id=f"subnet-{n}",
                vpc_id=v,
                cidr_block=cidr,
                ipv6_cidr_blocks=[],
                availability_zone="a",
                map_public_ip_on_launch=False,
            ),
            asset(
                "AWS::EC2::RouteTable",
                arn("route-table", f"rtb-{n}"),
                route_table_id=f"rtb-{n}",
                vpc_id=v,
                main=True,
                subnet_ids=[],
                routes=routes,
            ),
            asset(
                "AWS::EC2::NetworkAcl",
                arn("network-acl", f"acl-{n}"),
                network_acl_id=f"acl-{n}",
                vpc_id=v,
                is_default=True,
                subnet_ids=[f"subnet-{n}"],
                entries=default_acl(),
            ),
            asset(
                "AWS::EC2::SecurityGroup",
                arn("security-group", sgid),
                group_id=sgid,
                group_name=sgid,
                vpc_id=v,
                description="",
                ingress=list(ingress),
                egress=[sg_rule(None, None, protocol="-1")],
            ),
            eni(
                f"eni-{n}",
                f"i-{n}",
                subnet_id=f"subnet-{n}",
                public_ip=None,
                sgs=(sgid,),
                private_ips=[cidr.replace("0/24", "10")],
                vpc_id=v,
            ),
            instance(f"i-{n}", enis=(f"eni-{n}",)),
        ]

    pcx = asset(
        "AWS::EC2::VPCPeeringConnection",
        arn("vpc-peering-connection", "pcx-1"),
        peering_id="pcx-1",
        status=status_,
        requester_vpc_id="vpc-p",
        accepter_vpc_id="vpc-d",
    )
    return inventory(
        vpc("vpc-p", "10.0.0.0/16", prod_env),
        vpc("vpc-d", "10.1.0.0/16", "dev"),
        *net("vpc-p", "p", "10.0.1.0/24", "10.1.0.0/16", "sg-p", ()),
        *net("vpc-d", "d", "10.1.1.0/24", "10.0.0.0/16", "sg-d", dev_ingress),
        pcx,
        *tgw,
    )


PROD_VPC = arn("vpc", "vpc-p")


@pytest.mark.parametrize("kind", ["pcx", "tgw"])
def test_prod_reaches_dev_through_peering_or_tgw(kind: str) -> None:
    finding = status(SEGREGATION, two_vpcs(kind), PROD_VPC)
    assert finding.status == Status.FAIL, finding.message
    hops = [h["kind"] for h in finding.evidence["paths"][0]["hops"]]
    assert ("vpc-peering" if kind == "pcx" else "transit-gateway") in hops


def tgw_attachment(att: str, vpc: str, table: str | None, state: str = "available") -> Asset:
    return asset(
        "AWS::EC2::TransitGatewayAttachment",
        arn("transit-gateway-attachment", att),
        attachment_id=att,
        transit_gateway_id="tgw-1",
        resource_type="vpc",
        resource_id=vpc,
        vpc_id=vpc,
        state=state,
        route_table_id=table,
    )


def tgw_table(
    table: str, routes: list[dict[str, Any]] | None, propagations: tuple[str, ...] = ()
) -> Asset:
    return asset(
        "AWS::EC2::TransitGatewayRouteTable",
        arn("transit-gateway-route-table", table),
        route_table_id=table,
        transit_gateway_id="tgw-1",
        state="available",
        routes=routes,
        associations=[],
        propagations=list(propagations),
    )


def tgw_route(cidr: str, att: str | None, type_: str = "static") -> dict[str, Any]:
    return {
        "destination": cidr,
        "destination_kind": "cidr",
        "type": type_,
        "state": "active" if att else "blackhole",
        "attachment_ids": [att] if att else [],
    }


ATTACHED = (tgw_attachment("att-p", "vpc-p", "tgw-rtb-p"), tgw_attachment("att-d", "vpc-d",
                                                                        "tgw-rtb-d"))


def test_shared_tgw_route_table_with_propagation_is_a_path() -> None:
    tables = (
        tgw_attachment("att-p", "vpc-p", "tgw-rtb-all"),
        tgw_attachment("att-d", "vpc-d", "tgw-rtb-all"),
        tgw_table("tgw-rtb-all", [], propagations=("att-p", "att-d")),
    )
    finding = status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC)
    assert finding.status == Status.FAIL, finding.message
    details = [h["detail"] for h in finding.evidence["paths"][0]["hops"]
               if h["kind"] == "transit-gateway"]
    assert any("tgw-rtb-all" in d and "propagated" in d for d in details), details


def test_isolated_tgw_route_tables_are_no_path() -> None:
    # both VPCs route 10.x/16 to the TGW, but each attachment's table knows only its own VPC
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [], propagations=("att-p",)),
        tgw_table("tgw-rtb-d", [], propagations=("att-d",)),
    )
    finding = status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC)
    assert finding.status == Status.PASS, finding.message


def test_tgw_static_blackhole_beats_propagated_route() -> None:
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [tgw_route("10.1.0.0/16", None)], propagations=("att-d",)),
        tgw_table("tgw-rtb-d", [], propagations=("att-p",)),
    )
    # dev -> prod is routed, but prod's replies to dev hit the blackhole: no working path
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.PASS


def test_tgw_static_routes_both_ways_are_a_path() -> None:
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [tgw_route("10.1.0.0/16", "att-d")]),
        tgw_table("tgw-rtb-d", [tgw_route("10.0.0.0/8", "att-p")]),
    )
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.FAIL


def test_tgw_one_way_route_is_no_path() -> None:
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [tgw_route("10.1.0.0/16", "att-d")]),
        tgw_table("tgw-rtb-d", []),
    )
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.PASS


def test_tgw_attachment_pending_acceptance_carries_nothing() -> None:
    tables = (
        tgw_attachment("att-p", "vpc-p", "tgw-rtb-all"),
        tgw_attachment("att-d", "vpc-d", "tgw-rtb-all", state="pendingAcceptance"),
        tgw_table("tgw-rtb-all", [], propagations=("att-p", "att-d")),
    )
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.PASS


def test_unreadable_tgw_routes_assume_a_path_and_say_so() -> None:
    tables = (*ATTACHED, tgw_table("tgw-rtb-p", None), tgw_table("tgw-rtb-d", None))
    finding = status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC)
    assert finding.status == Status.FAIL
    details = [h["detail"] for h in finding.evidence["paths"][0]["hops"]
               if h["kind"] == "transit-gateway"]
    assert any("could not be read" in d for d in details), details


def test_inactive_peering_is_no_path() -> None:
    finding = status(SEGREGATION, two_vpcs(status_="pending-acceptance"), PROD_VPC)
    assert finding.status == Status.PASS


def test_filters_blocking_both_ways_pass_with_routes_named() -> None:
    finding = status(SEGREGATION, two_vpcs(dev_ingress=()), PROD_VPC)
    assert finding.status == Status.PASS and "routes to other VPCs exist" in finding.message


def test_prod_to_prod_is_not_judged_as_crossing() -> None:
    inv = two_vpcs(prod_env="production")
    dev = by_uid(run_one(SEGREGATION, inv))
    assert arn("vpc", "vpc-d") not in dev


# -- export -------------------------------------------------------------------------------------


def test_graph_command_exports_graphml_and_json(tmp_path: Any) -> None:
    import json
    from pathlib import Path

    import networkx as nx
    from typer.testing import CliRunner

    from posture.cli.main import app

    snapshot = Path(__file__).parent.parent / "fixtures" / "demo" / "snapshot.json"
    result = CliRunner().invoke(app, ["graph", str(snapshot), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    g = nx.read_graphml(tmp_path / "reachability.graphml")
    data = json.loads((tmp_path / "reachability.json").read_text(encoding="utf-8"))
    reaches = [e for e in data["links"] if e["relation"] == "reaches"]
    assert any(e.get("via") == "ops-ssh" for e in reaches)
    assert g.number_of_nodes() == len(data["nodes"])
