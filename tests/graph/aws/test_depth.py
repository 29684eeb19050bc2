"""Defense depth: scenarios at depth 0, 1 and 2+, with the blocking layers named."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, collection_error, inventory
from support.aws_net import (
    ADMIN,
    BASTION_UID,
    DB,
    DB_UID,
    DEPTH,
    FROM_BASTION,
    INSTANCE_UID,
    LOCAL,
    OFFICE_SSH,
    PRIVATE_ROUTES,
    SSH_DENIED,
    SSH_WORLD,
    WORKER_UID,
    bastion_estate,
    db_estate,
    default_acl,
    eni,
    entry,
    estate,
    instance,
    lb_estate,
    nacl,
    rds,
    registered_on,
    route,
    sg,
    sg_rule,
    subnet,
)
from support.checks import by_uid, run_one

from posture.graph.aws.depth import host_depth, rds_depth
from posture.graph.aws.reach import AwsReach
from posture.graph.depth import min_flips
from posture.model import Inventory, Severity, Status


def depth_finding(inv: Inventory, uid: str = INSTANCE_UID, **params: Any) -> Any:
    return by_uid(run_one(DEPTH, inv, **params)).get(uid)


def ssh_depth(inv: Inventory, name: str = "i-1", port: int = 22) -> Any:
    reach = AwsReach(inv)
    host = next(h for h in reach.hosts() if h.asset.name == name)
    return host_depth(reach, host, port)


def layers(found: Any, key: str = "changes") -> list[tuple[str, str]]:
    return [(x["layer"], x["resource"]) for x in found.evidence[key]]


# -- depth 2: private subnet, open security group ------------------------------------------


def test_private_subnet_with_open_sg_counts_the_route_and_the_address() -> None:
    inv = estate(routes=PRIVATE_ROUTES, public_ip=None)
    d = ssh_depth(inv)
    assert d.depth == 2
    assert [(x.layer, x.resource) for x in d.best.changes] == [
        ("public-address", "eni-1"),
        ("route", "rtb-1"),
    ]
    route_layer = d.best.changes[1]
    assert route_layer.rule == "0.0.0.0/0 -> nat-1, explicit association"
    assert "NAT is egress-only" in route_layer.detail
    finding = depth_finding(inv)
    assert finding.status == Status.PASS
    assert finding.evidence["depth"] == 2 and finding.evidence["port"] == 22
    assert "no public IPv4 address on eni-1" in finding.message
    assert "route table rtb-1 (0.0.0.0/0 -> nat-1" in finding.message
    sg_layer = next(x for x in finding.evidence["layers"] if x["layer"] == "security-group")
    assert sg_layer["blocking"] is False and "0.0.0.0/0" in sg_layer["rule"]


def test_stricter_requirement_fails_a_depth_two_host() -> None:
    inv = estate(routes=PRIVATE_ROUTES, public_ip=None)
    finding = depth_finding(inv, min_depth=3)
    assert finding.status == Status.FAIL
    assert finding.message.startswith("only 2 layers keep SSH (tcp/22) on i-1")
    assert "single_change" not in finding.evidence


# -- depth 1: one change exposes it --------------------------------------------------------


def test_nacl_deny_in_public_subnet_with_open_sg_is_depth_one_naming_the_rule() -> None:
    inv = estate(acl=SSH_DENIED)
    assert by_uid(run_one(ADMIN, inv))[INSTANCE_UID].status == Status.PASS  # not exposed
    finding = depth_finding(inv)
    assert finding.status == Status.FAIL and finding.severity == Severity.LOW
    assert finding.evidence["depth"] == 1 and finding.evidence["port"] == 22
    change = finding.evidence["single_change"]
    assert (change["layer"], change["resource"]) == ("network-acl inbound", "acl-1")
    assert change["rule"] == "rule 50 deny tcp/22 from 0.0.0.0/0"
    assert finding.message.startswith(
        "only network ACL acl-1 inbound (rule 50 deny tcp/22 from 0.0.0.0/0) keeps SSH (tcp/22) "
        "on i-1 from the internet; its security group sg-1 admits it from the internet "
        "(sg-1 allow tcp/22 from 0.0.0.0/0); one change exposes it: insert an inbound allow"
    )


def test_public_host_is_depth_one_on_ports_its_sg_closes() -> None:
    finding = depth_finding(estate(ingress=(sg_rule(443, 443),)))
    assert finding.status == Status.FAIL
    assert layers(finding) == [("security-group", "sg-1")]
    assert "no rule admits tcp/22 from the internet" in finding.message


def test_allow_listed_office_range_is_the_single_layer() -> None:
    finding = depth_finding(estate(ingress=(sg_rule(22, 22, "198.51.100.0/24"),)))
    assert finding.status == Status.FAIL and finding.evidence["depth"] == 1
    assert "admits tcp/22 only from 198.51.100.0/24" in finding.message


def test_missing_public_address_alone_is_named() -> None:
    finding = depth_finding(estate(public_ip=None))
    assert finding.status == Status.FAIL
    assert layers(finding) == [("public-address", "eni-1")]
    assert "associate a public IPv4 (or Elastic IP) address with eni-1" in finding.message


def test_more_specific_route_is_the_blocker_not_the_default_route() -> None:
    routes = (LOCAL, route("0.0.0.0/0"), route("0.0.0.0/1", "nat", "nat-1"),
              route("128.0.0.0/1", state="blackhole"))
    finding = depth_finding(estate(routes=routes))
    assert layers(finding) == [("route", "rtb-1")]
    assert finding.evidence["single_change"]["rule"] in (
        "0.0.0.0/1 -> nat-1, explicit association",
        "128.0.0.0/1 -> igw-1, explicit association, blackhole",
    )


def test_return_traffic_rule_is_a_layer_of_its_own() -> None:
    acl = default_acl(entry(90, "deny", egress=True, protocol="6", ports=(1024, 65535)))
    finding = depth_finding(estate(acl=acl))
    assert layers(finding) == [("network-acl outbound", "acl-1")]
    assert "rule 90" in finding.evidence["single_change"]["rule"]


def test_ipv6_path_counts_separately() -> None:
    inv = estate(
        routes=(LOCAL, route("0.0.0.0/0")),
        public_ip=None,
        ipv6=("2600:1f18::10",),
        ingress=(sg_rule(22, 22, "::/0"),),
    )
    d = ssh_depth(inv)
    assert d.depth == 1 and d.best.via == "direct (IPv6) eni-1"
    assert [(x.layer, x.resource) for x in d.best.changes] == [("route", "rtb-1")]


def test_class_severity_is_configurable() -> None:
    finding = depth_finding(estate(acl=SSH_DENIED), class_severity={"admin": "high"})
    assert finding.severity == Severity.HIGH
    db_only = depth_finding(
        estate(acl=SSH_DENIED), port_classes={"database": (5432,)},
        class_severity={"database": "medium"},
    )
    assert db_only.severity == Severity.MEDIUM and db_only.evidence["port"] == 5432


# -- depth 0: the exposure checks' finding -------------------------------------------------


def test_exposed_host_is_left_to_the_exposure_check_which_says_depth_zero() -> None:
    inv = estate()
    assert depth_finding(inv) is None
    exposed = by_uid(run_one(ADMIN, inv))[INSTANCE_UID]
    assert exposed.status == Status.FAIL and exposed.evidence["depth"] == 0
    assert ssh_depth(inv).depth == 0


# -- a well-built bastion architecture ------------------------------------------------------


@pytest.mark.parametrize("tags", [None, {}], ids=["tagged", "inferred"])
def test_bastion_architecture_private_hosts_are_deep(tags: Any) -> None:
    inv = bastion_estate(OFFICE_SSH, FROM_BASTION, tags=tags)
    worker = depth_finding(inv, WORKER_UID)
    assert worker.status == Status.PASS and worker.evidence["depth"] == 3
    assert layers(worker) == [
        ("security-group", "sg-w"),
        ("public-address", "eni-w"),
        ("route", "rtb-2"),
    ]
    bastion = depth_finding(inv, BASTION_UID)
    assert bastion.status == Status.PASS and bastion.evidence["depth"] == 1
    assert bastion.evidence["bastion"]
    strict = depth_finding(inv, BASTION_UID, bastion_min_depth=2)
    assert strict.status == Status.FAIL
    assert "security group sg-b (admits tcp/22 only from 203.0.113.0/24)" in strict.message


# -- load balancers ---------------------------------------------------------------------------


def test_target_group_registration_is_the_single_change() -> None:
    # the NLB forwards tcp/2222 to port 8080; the target's group admits the LB subnet on all tcp
    inv = registered_on(lb_estate(target_ingress=(sg_rule(0, 65535, "10.0.9.0/24"),)), 8080)
    finding = depth_finding(inv)
    assert finding.status == Status.FAIL and finding.evidence["port"] == 22
    assert finding.evidence["via"].startswith("load balancer edge listener edge:2222")
    change = finding.evidence["single_change"]
    assert (change["layer"], change["resource"]) == ("target-group", "ssh")
    assert change["change"] == "register i-1 on port 22 in ssh"
    assert "target group ssh (forwards listener TCP :2222 to port 8080)" in finding.message


def test_lb_target_needing_registration_and_sg_is_depth_two() -> None:
    inv = registered_on(lb_estate(target_ingress=(sg_rule(8080, 8080, "10.0.9.0/24"),)), 8080)
    d = ssh_depth(inv)
    assert d.depth == 2
    assert {x.layer for x in d.best.changes} == {"target-group", "security-group"}
    assert depth_finding(inv).status == Status.PASS


def test_lb_target_sg_not_admitting_the_lb_is_depth_one() -> None:
    inv = lb_estate(target_ingress=(sg_rule(22, 22, "10.0.3.0/24"),))
    finding = depth_finding(inv)
    assert finding.status == Status.FAIL
    assert layers(finding) == [("security-group", "sg-1")]
    assert finding.evidence["via"].startswith("load balancer edge")


def test_lb_exposed_target_is_depth_zero() -> None:
    assert ssh_depth(lb_estate()).depth == 0
    assert depth_finding(lb_estate()) is None


# -- RDS ------------------------------------------------------------------------------------------


def test_private_rds_counts_publicly_accessible_as_a_layer() -> None:
    inv = db_estate(rds(public=False), routes=PRIVATE_ROUTES)
    finding = depth_finding(inv, DB_UID)
    assert finding.status == Status.PASS and finding.evidence["depth"] == 2
    assert layers(finding) == [("public-address", "orders"), ("route", "rtb-1")]
    assert "not publicly accessible on orders" in finding.message


def test_publicly_accessible_rds_in_private_subnet_is_depth_one() -> None:
    finding = depth_finding(db_estate(rds(), routes=PRIVATE_ROUTES), DB_UID)
    assert finding.status == Status.FAIL
    assert layers(finding) == [("route", "rtb-1")]
    assert finding.message.startswith(
        "only route table rtb-1 (0.0.0.0/0 -> nat-1, explicit association) keeps PostgreSQL "
        "(tcp/5432) on orders from the internet; its security group sg-db admits it"
    )


def test_exposed_rds_is_left_to_the_db_check() -> None:
    inv = db_estate(rds())
    assert depth_finding(inv, DB_UID) is None
    assert by_uid(run_one(DB, inv))[DB_UID].evidence["depth"] == 0


def test_rds_exposed_in_one_of_its_subnets_is_inconclusive() -> None:
    inv = db_estate(
        rds(subnets=("subnet-1", "subnet-2")),
        extra=(
            subnet("subnet-2"),
            asset("AWS::EC2::RouteTable", "arn:aws:ec2:us-east-1:123456789012:route-table/rtb-2",
                  route_table_id="rtb-2", vpc_id="vpc-1", main=False, subnet_ids=["subnet-2"],
                  routes=list(PRIVATE_ROUTES)),
            nacl(default_acl(), ("subnet-2",), "acl-2"),
        ),
    )
    finding = depth_finding(inv, DB_UID)
    assert finding.status == Status.INCONCLUSIVE and "subnet-1" in finding.message
    depth, per_subnet = rds_depth(AwsReach(inv), inv.get(DB_UID))
    assert depth.depth == 0 and dict((s, d.depth) for s, d in per_subnet) == {
        "subnet-1": 0, "subnet-2": 1,
    }


def test_rds_with_unknown_flag_is_inconclusive() -> None:
    finding = depth_finding(db_estate(rds(public=None)), DB_UID)
    assert finding.status == Status.INCONCLUSIVE


# -- undecidable layers -------------------------------------------------------------------------


def test_missing_route_table_is_inconclusive_never_pass() -> None:
    inv = inventory(subnet(), nacl(SSH_DENIED), sg(SSH_WORLD), eni(), instance())
    finding = depth_finding(inv)
    assert finding.status == Status.INCONCLUSIVE
    assert "route table of subnet-1 not collected" in finding.message


def test_unknown_layer_does_not_matter_when_the_bound_suffices() -> None:
    # no public address, SG closed: at least 2 layers whatever the unreadable route table says
    inv = inventory(subnet(), nacl(default_acl()), sg([]), eni(public_ip=None), instance())
    d = ssh_depth(inv)
    assert d.depth is None and d.at_least == 2
    assert depth_finding(inv).status == Status.PASS


def test_missing_network_acl_is_inconclusive() -> None:
    inv = inventory(subnet(), sg(SSH_WORLD), eni(public_ip=None), instance())
    assert depth_finding(inv).status == Status.INCONCLUSIVE


def test_unresolved_prefix_list_is_inconclusive() -> None:
    inv = estate(ingress=(sg_rule(22, 22, "pl-missing", kind="prefix_list"),))
    assert depth_finding(inv).status == Status.INCONCLUSIVE


def test_nacl_listing_gap_never_passes() -> None:
    gap = collection_error("ec2", "DescribeNetworkAcls", ("AWS::EC2::NetworkAcl",))
    inv = estate(routes=PRIVATE_ROUTES, public_ip=None, errors=(gap,))
    assert Status.PASS not in {f.status for f in run_one(DEPTH, inv)}


# -- the search ---------------------------------------------------------------------------------


def test_min_flips_bounds_and_unknowns() -> None:
    need = {frozenset({0, 2})}
    assert min_flips(3, lambda s: any(n <= s for n in need), 3) == (2, 2, frozenset({0, 2}))
    assert min_flips(3, lambda s: False, 3)[0:2] == (None, 1 << 20)
    assert min_flips(3, lambda s: False, 1)[0:2] == (None, 2)
    # an unknown answer at size 1 makes a size-2 success undecided
    got = min_flips(3, lambda s: None if s == frozenset({1}) else len(s) == 2, 3)
    assert got[0:2] == (None, 1)
