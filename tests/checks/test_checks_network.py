"""aws.network.*: internet reachability of admin and database ports, layer by layer."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, collection_error, inventory
from support.aws_net import (
    ADMIN,
    DB,
    DB_UID,
    INSTANCE_UID,
    LOCAL,
    PRIVATE_ROUTES,
    PUBLIC_ROUTES,
    SSH_WORLD,
    arn,
    db_estate,
    default_acl,
    eni,
    entry,
    estate,
    hop,
    instance,
    nacl,
    rds,
    route,
    route_table,
    sg,
    sg_rule,
    subnet,
)
from support.cases import named
from support.checks import by_uid, only, run_one

from posture.model import Asset, Inventory, Status


def admin(inv: Inventory, **params: Any) -> Any:
    return only([f for f in run_one(ADMIN, inv, **params) if f.resource_uid == INSTANCE_UID])


# -- the path, layer by layer -------------------------------------------------------------------

CASES = [
    # (id, estate kwargs, expected status, message fragment)
    ("public-host-open-ssh", {}, Status.FAIL, "tcp/22"),
    (
        "private-subnet-open-sg",
        {"routes": PRIVATE_ROUTES},
        Status.PASS,
        "no route to an internet gateway in rtb-1",
    ),
    ("no-public-address", {"public_ip": None}, Status.PASS, "no public IPv4 address"),
    (
        "nacl-deny-50-before-allow-100",
        {"acl": default_acl(entry(50, "deny", protocol="6", ports=(22, 22)))},
        Status.PASS,
        "rule 50",
    ),
    (
        "nacl-deny-only-private-sources",
        {"acl": default_acl(entry(50, "deny", "10.0.0.0/8", protocol="6", ports=(22, 22)))},
        Status.FAIL,
        "tcp/22",
    ),
    (
        "nacl-deny-half-the-internet",
        {"acl": default_acl(entry(50, "deny", "0.0.0.0/1"))},
        Status.FAIL,
        "tcp/22",
    ),
    (
        "nacl-deny-udp-only",
        {"acl": default_acl(entry(50, "deny", protocol="17", ports=(22, 22)))},
        Status.FAIL,
        "tcp/22",
    ),
    (
        "nacl-outbound-443-only",
        {
            "acl": [
                entry(100, "allow"),
                entry(100, "allow", egress=True, protocol="6", ports=(443, 443)),
            ]
        },
        Status.PASS,
        "return traffic",
    ),
    (
        "nacl-outbound-linux-ephemeral",
        {
            "acl": [
                entry(100, "allow"),
                entry(100, "allow", egress=True, protocol="6", ports=(32768, 65535)),
            ]
        },
        Status.FAIL,
        "tcp/22",
    ),
    (
        "nacl-outbound-ephemeral-denied-first",
        {"acl": default_acl(entry(90, "deny", egress=True, protocol="6", ports=(1024, 65535)))},
        Status.PASS,
        "rule 90",
    ),
    ("nacl-implicit-deny", {"acl": []}, Status.PASS, "no allow rule"),
    ("main-route-table-fallback", {"explicit": False}, Status.FAIL, "tcp/22"),
    (
        "blackhole-igw-route",
        {"routes": (LOCAL, route("0.0.0.0/0", state="blackhole"))},
        Status.PASS,
        "not active",
    ),
    (
        "more-specific-routes-elsewhere",
        {
            "routes": (
                LOCAL,
                route("0.0.0.0/0"),
                route("0.0.0.0/1", "tgw", "tgw-1"),
                route("128.0.0.0/1", "tgw", "tgw-1"),
            )
        },
        Status.PASS,
        "more specific routes",
    ),
    (
        "half-specific-route-elsewhere",
        {"routes": (LOCAL, route("0.0.0.0/0"), route("0.0.0.0/1", "tgw", "tgw-1"))},
        Status.FAIL,
        "tcp/22",
    ),
    (
        "sg-open-on-other-port",
        {"ingress": (sg_rule(443, 443),)},
        Status.PASS,
        "no security-group rule admits the port from the internet (sg-1)",
    ),
    (
        "sg-office-range-only",
        {"ingress": (sg_rule(22, 22, "198.51.100.0/24"),)},
        Status.PASS,
        "only from allow-listed internet ranges (198.51.100.0/24)",
    ),
    (
        "sg-two-halves-are-the-world",
        {"ingress": (sg_rule(22, 22, "0.0.0.0/1"), sg_rule(22, 22, "128.0.0.0/1"))},
        Status.FAIL,
        "tcp/22",
    ),
    (
        "sg-all-traffic",
        {"ingress": (sg_rule(None, None, protocol="-1"),)},
        Status.FAIL,
        "tcp/22/3389/5985/5986",
    ),
    (
        "sg-udp-only",
        {"ingress": (sg_rule(22, 22, protocol="udp"),)},
        Status.PASS,
        "no security-group rule admits",
    ),
    ("sg-port-range", {"ingress": (sg_rule(20, 25),)}, Status.FAIL, "tcp/22"),
    (
        "sg-sg-reference-only",
        {"ingress": (sg_rule(22, 22, "sg-2", kind="security_group"),)},
        Status.PASS,
        "no security-group rule admits",
    ),
    (
        "sg-ipv6-only-host-ipv4-only",
        {"ingress": (sg_rule(22, 22, "::/0"),)},
        Status.PASS,
        "no public IPv6 address",
    ),
    ("stopped-with-elastic-ip", {"state": "stopped"}, Status.FAIL, "tcp/22"),
]


@pytest.mark.parametrize(("kwargs", "expected", "fragment"), named(CASES))
def test_admin_port_path(kwargs: dict[str, Any], expected: Status, fragment: str) -> None:
    finding = admin(estate(**kwargs))
    assert finding.status == expected, finding.message
    assert fragment in finding.message


def test_exposed_evidence_names_every_path_piece() -> None:
    finding = admin(estate())
    path = finding.evidence["paths"][0]
    kinds = [h["kind"] for h in path["hops"]]
    assert kinds == [
        "internet",
        "internet-gateway",
        "route",
        "network-acl",
        "security-group",
        "interface",
        "asset",
        "network-acl (return traffic)",
    ]
    assert hop(path, "interface") == {"kind": "interface", "id": "eni-1", "detail": "54.1.2.3"}
    assert hop(path, "route")["rule"] == {
        "route_table": "rtb-1",
        "association": "explicit",
        "destination": "0.0.0.0/0",
        "target_kind": "igw",
        "target_id": "igw-1",
        "state": "active",
    }
    assert hop(path, "network-acl")["rule"]["rule_number"] == 100
    assert hop(path, "network-acl (return traffic)")["rule"]["rule_number"] == 100
    sg_hop = hop(path, "security-group")
    assert (sg_hop["rule"]["group"], sg_hop["rule"]["peer"]) == ("sg-1", "0.0.0.0/0")
    assert hop(path, "asset")["id"] == "i-1"
    assert "internet-gateway igw-1 -> route rtb-1" in finding.message
    assert finding.severity.label == "critical"


def test_main_table_fallback_is_named_in_the_evidence() -> None:
    path = admin(estate(explicit=False)).evidence["paths"][0]
    assert hop(path, "route")["rule"]["association"] == "main"


def test_explicit_private_table_wins_over_public_main_table() -> None:
    main = route_table("rtb-main", PUBLIC_ROUTES, (), main=True)
    finding = admin(estate(routes=PRIVATE_ROUTES, extra=(main,)))
    assert finding.status == Status.PASS


def test_partial_nacl_deny_reports_a_client_outside_it() -> None:
    finding = admin(estate(acl=default_acl(entry(50, "deny", "0.0.0.0/1"))))
    assert finding.evidence["paths"][0]["hops"][0]["id"].startswith("128.")


def test_ipv6_only_host_is_exposed_over_ipv6() -> None:
    finding = admin(
        estate(public_ip=None, ipv6=("2600:1f18::10",), ingress=(sg_rule(22, 22, "::/0"),))
    )
    assert finding.status == Status.FAIL
    assert finding.evidence["paths"][0]["family"] == "ipv6"


def test_ipv6_egress_only_gateway_is_not_a_path() -> None:
    routes = (LOCAL, route("::/0", "egress_only_igw", "eigw-1"))
    finding = admin(
        estate(
            routes=routes,
            public_ip=None,
            ipv6=("2600:1f18::10",),
            ingress=(sg_rule(22, 22, "::/0"),),
        )
    )
    assert finding.status == Status.PASS
    assert "egress-only" in finding.message


def test_prefix_list_holding_the_world_opens_the_group() -> None:
    pl = asset(
        "AWS::EC2::PrefixList",
        arn("prefix-list", "pl-1"),
        prefix_list_id="pl-1",
        name="anywhere",
        address_family="IPv4",
        entries=["0.0.0.0/0"],
        aws_managed=False,
    )
    rule = sg_rule(22, 22, "pl-1", kind="prefix_list")
    assert admin(estate(ingress=(rule,), extra=(pl,))).status == Status.FAIL


def test_unresolvable_prefix_list_is_inconclusive() -> None:
    rule = sg_rule(22, 22, "pl-missing", kind="prefix_list")
    finding = admin(estate(ingress=(rule,)))
    assert finding.status == Status.INCONCLUSIVE
    assert "pl-missing" in finding.message


def test_missing_route_table_is_inconclusive_not_pass() -> None:
    inv = inventory(subnet(), nacl(default_acl()), sg(SSH_WORLD), eni(), instance())
    assert admin(inv).status == Status.INCONCLUSIVE


def test_terminated_instance_is_not_judged() -> None:
    assert run_one(ADMIN, estate(state="terminated")) == []


def test_custom_admin_ports() -> None:
    inv = estate(ingress=(sg_rule(2222, 2222),))
    assert admin(inv).status == Status.PASS
    assert admin(inv, admin_ports=(2222,)).status == Status.FAIL


def test_second_interface_in_a_public_subnet_exposes_the_host() -> None:
    inv = inventory(
        subnet(),
        subnet("subnet-2"),
        route_table("rtb-1", PRIVATE_ROUTES),
        route_table("rtb-2", PUBLIC_ROUTES, ("subnet-2",)),
        nacl(default_acl(), ("subnet-1", "subnet-2")),
        sg(SSH_WORLD),
        eni(public_ip=None),
        eni("eni-2", subnet_id="subnet-2", public_ip="3.3.3.3"),
        instance(enis=("eni-1", "eni-2")),
    )
    finding = admin(inv)
    assert finding.status == Status.FAIL
    assert hop(finding.evidence["paths"][0], "interface")["id"] == "eni-2"


def test_standalone_customer_eni_is_judged_requester_managed_is_not() -> None:
    inv = estate(
        extra=(
            eni("eni-task", instance=None, public_ip="3.3.3.4"),
            eni("eni-elb", instance=None, public_ip="3.3.3.5", requester_managed=True),
        )
    )
    findings = by_uid(run_one(ADMIN, inv))
    assert findings[arn("network-interface", "eni-task")].status == Status.FAIL
    assert arn("network-interface", "eni-elb") not in findings


def test_collection_gap_makes_an_unexposed_host_inconclusive() -> None:
    gap = collection_error("ec2", "DescribeNetworkAcls", ("AWS::EC2::NetworkAcl",))
    findings = run_one(ADMIN, estate(routes=PRIVATE_ROUTES, errors=(gap,)))
    statuses = {f.resource_uid: f.status for f in findings}
    assert statuses[INSTANCE_UID] == Status.INCONCLUSIVE
    assert Status.INCONCLUSIVE in {s for uid, s in statuses.items() if uid != INSTANCE_UID}


def test_collection_gap_elsewhere_does_not_touch_the_verdict() -> None:
    gap = collection_error("ec2", "DescribeVolumes", ("AWS::EC2::Volume",))
    assert admin(estate(routes=PRIVATE_ROUTES, errors=(gap,))).status == Status.PASS


# -- database ports: EC2 hosts and RDS -------------------------------------------------------------

DB_CASES = [
    ("public-rds-open", rds(), {}, Status.FAIL),
    ("not-publicly-accessible", rds(public=False), {}, Status.PASS),
    ("public-flag-private-subnet", rds(), {"routes": PRIVATE_ROUTES}, Status.PASS),
    ("public-rds-closed-sg", rds(), {"ingress": (sg_rule(5432, 5432, "10.0.0.0/8"),)}, Status.PASS),
    ("public-flag-unknown", rds(public=None), {}, Status.INCONCLUSIVE),
    ("own-port-is-tested", rds(port=6543), {"ingress": (sg_rule(6543, 6543),)}, Status.FAIL),
    (
        "one-public-one-private-subnet",
        rds(subnets=("subnet-1", "subnet-2")),
        {
            "extra": (
                subnet("subnet-2"),
                route_table("rtb-2", PRIVATE_ROUTES, ("subnet-2",)),
                nacl(default_acl(), ("subnet-2",), "acl-2"),
            )
        },
        Status.INCONCLUSIVE,
    ),
]


@pytest.mark.parametrize(("db", "kwargs", "expected"), named(DB_CASES))
def test_rds_reachability(db: Asset, kwargs: dict[str, Any], expected: Status) -> None:
    finding = by_uid(run_one(DB, db_estate(db, **kwargs)))[DB_UID]
    assert finding.status == expected, finding.message


def test_public_rds_evidence_and_latent_message() -> None:
    failed = by_uid(run_one(DB, db_estate(rds())))[DB_UID]
    assert hop(failed.evidence["paths"][0], "interface")["detail"].startswith("orders.")
    latent = by_uid(run_one(DB, db_estate(rds(), routes=PRIVATE_ROUTES)))[DB_UID]
    assert "sg-db" in latent.message and "no route to an internet gateway" in latent.message


@pytest.mark.parametrize(
    ("ingress", "expected"),
    [
        ((sg_rule(27017, 27017),), Status.FAIL),
        ((sg_rule(22, 22),), Status.PASS),
    ],
)
def test_self_hosted_database_on_ec2(ingress: Any, expected: Status) -> None:
    finding = by_uid(run_one(DB, estate(ingress=ingress)))[INSTANCE_UID]
    assert finding.status == expected
