"""Lateral administrative access on AWS, graded by where it comes from: a private worker's SSH
reached by a neighbour of its tier (LOW), a host of a peered dev VPC (HIGH), an internet-exposed
web host (HIGH), never by a bastion; one finding per security group with every affected host,
a prefix list that was not collected is undecidable."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, inventory
from support.aws_net import (
    ALL_OUT,
    VIA_BASTION,
    arn,
    default_acl,
    eni,
    instance,
    nacl,
    route,
    route_table,
    sg,
    sg_rule,
    subnet,
    vpc,
)
from support.checks import run_one
from support.lateral import judging, sources, verdict

from posture.model import Asset, Inventory, Severity, Status

WORKER = arn("instance", "i-w")
SG_W = arn("security-group", "sg-w")
VPC_SSH = [sg_rule(22, 22, "10.0.0.0/16")]
ANY_SSH = [sg_rule(22, 22, "10.0.0.0/8")]


def host(
    name: str, subnet_id: str, address: str, group: str, vpc_id: str = "vpc-p",
    public: str | None = None, tags: dict[str, str] | None = None,
) -> list[Asset]:
    card = eni(f"eni-{name}", f"i-{name}", subnet_id=subnet_id, public_ip=public, sgs=(group,),
               private_ips=[address], vpc_id=vpc_id)
    return [card, instance(f"i-{name}", enis=(f"eni-{name}",), private_ip=address, sgs=(group,),
                           tags=tags)]


def estate(
    worker_ingress: Any = VPC_SSH,
    *,
    prod_tags: dict[str, str] | None = None,
    dev: dict[str, str] | None = None,
    web_ingress: Any = None,
    extra: tuple[Asset, ...] = (),
    link: str = "pcx",
) -> Inventory:
    """Prod VPC vpc-p: private subnet-p with worker i-w (sg-w: ``worker_ingress``) and its
    neighbour i-n (sg-n, no ingress); with ``web_ingress`` a public web host i-web (sg-web) in
    subnet-web; with ``dev`` (its tags) a VPC vpc-d peered through pcx-1 (``link`` tgw: routed
    through transit gateway tgw-1), host i-d in it."""
    hop = "pcx-1" if link == "pcx" else "tgw-1"
    to_dev = [route("10.1.0.0/16", link, hop)] if dev is not None else []
    assets = [
        vpc("vpc-p", "10.0.0.0/16", {"Environment": "prod"} if prod_tags is None else prod_tags),
        subnet("subnet-p", vpc_id="vpc-p", cidr="10.0.1.0/24", public=False),
        route_table("rtb-p", [route("10.0.0.0/16", "local", "local"), *to_dev], ("subnet-p",),
                    vpc_id="vpc-p"),
        nacl(default_acl(), ("subnet-p", "subnet-web"), "acl-p", vpc_id="vpc-p"),
        sg(worker_ingress, "sg-w", vpc_id="vpc-p", egress=[ALL_OUT]),
        sg([], "sg-n", vpc_id="vpc-p", egress=[ALL_OUT]),
        *host("w", "subnet-p", "10.0.1.7", "sg-w"),
        *host("n", "subnet-p", "10.0.1.8", "sg-n"),
        *extra,
    ]
    if web_ingress is not None:
        assets += [
            subnet("subnet-web", vpc_id="vpc-p", cidr="10.0.2.0/24"),
            route_table("rtb-web", [route("10.0.0.0/16", "local", "local"), route("0.0.0.0/0")],
                        ("subnet-web",), vpc_id="vpc-p"),
            sg(web_ingress, "sg-web", vpc_id="vpc-p", egress=[ALL_OUT]),
            *host("web", "subnet-web", "10.0.2.5", "sg-web", public="54.1.2.9"),
        ]
    if dev is not None:
        assets += [
            vpc("vpc-d", "10.1.0.0/16", dev),
            subnet("subnet-d", vpc_id="vpc-d", cidr="10.1.1.0/24", public=False),
            route_table("rtb-d", [route("10.1.0.0/16", "local", "local"),
                                  route("10.0.0.0/16", link, hop)], ("subnet-d",),
                        vpc_id="vpc-d"),
            nacl(default_acl(), ("subnet-d",), "acl-d", vpc_id="vpc-d"),
            sg([], "sg-d", vpc_id="vpc-d", egress=[ALL_OUT]),
            *host("d", "subnet-d", "10.1.1.9", "sg-d", vpc_id="vpc-d"),
            asset("AWS::EC2::VPCPeeringConnection", arn("vpc-peering-connection", "pcx-1"),
                  peering_id="pcx-1", status="active", requester_vpc_id="vpc-p",
                  accepter_vpc_id="vpc-d"),
        ]
    return inventory(*assets)


def test_a_neighbour_of_the_same_tier_is_low() -> None:
    finding = verdict(VIA_BASTION, estate(), WORKER)
    assert finding.status is Status.FAIL and finding.severity is Severity.LOW
    assert finding.resource_uid == SG_W  # reported on the security group whose rule admits it
    assert sources(finding) == {"i-n": "low"}
    assert finding.evidence["grade"]["reason"] == "same tier"
    assert "same subnet" in finding.evidence["sources"][0]["why"]
    assert finding.evidence["rules"][0]["rule"] == "sg-w allow tcp/22 from 10.0.0.0/16"
    assert "rule sg-w allow tcp/22 from 10.0.0.0/16 admits" in finding.message
    assert "lateral movement inside a tier, not a bypass of the bastion" in finding.message
    # the neighbour itself admits nothing: it passes on its own
    assert verdict(VIA_BASTION, estate(), arn("instance", "i-n")).status is Status.PASS


@pytest.mark.parametrize(("link", "hop"), [("pcx", "vpc-peering pcx-1"),
                                           ("tgw", "transit-gateway tgw-1")])
def test_a_dev_host_through_peering_or_transit_is_high_and_names_the_hop(
    link: str, hop: str
) -> None:
    inv = estate(ANY_SSH, dev={"Environment": "dev"}, link=link)
    finding = verdict(VIA_BASTION, inv, WORKER)
    assert finding.status is Status.FAIL and finding.severity is Severity.HIGH
    assert sources(finding) == {"i-d": "high", "i-n": "low"}
    grade = finding.evidence["grade"]
    assert grade["reason"] == "another environment"
    assert f"through {hop}" in grade["why"] and "Environment=dev" in grade["why"]
    assert finding.evidence["paths"][0]["source"] == "i-d"
    assert hop.split()[0] in [h["kind"] for h in finding.evidence["paths"][0]["hops"]]
    assert "i-d reaches i-w on tcp/22: i-d is in another environment" in finding.message


def test_a_peered_vpc_of_the_same_environment_is_low_and_an_untagged_one_high() -> None:
    same = verdict(VIA_BASTION, estate(ANY_SSH, dev={"Environment": "production"}), WORKER)
    assert same.severity is Severity.LOW and sources(same) == {"i-d": "low", "i-n": "low"}
    untagged = verdict(VIA_BASTION, estate(ANY_SSH, dev={}), WORKER)
    assert untagged.severity is Severity.HIGH
    assert untagged.evidence["grade"]["reason"] == "another network"


def test_an_environment_tag_on_the_host_overrides_its_vpc() -> None:
    inv = estate(extra=tuple(host("t", "subnet-p", "10.0.1.9", "sg-n", tags={"Env": "test"})))
    finding = verdict(VIA_BASTION, inv, WORKER)
    assert sources(finding) == {"i-n": "low", "i-t": "high"}


def test_an_internet_exposed_neighbour_is_high_whatever_port_it_serves() -> None:
    web = [sg_rule(443, 443)]  # HTTPS to the world, no admin port exposed
    finding = verdict(VIA_BASTION, estate(web_ingress=web), WORKER)
    assert finding.severity is Severity.HIGH
    assert sources(finding) == {"i-web": "high", "i-n": "low"}
    why = finding.evidence["grade"]["why"]
    assert finding.evidence["grade"]["reason"] == "internet-exposed neighbour"
    assert "i-web is internet-exposed (tcp/443 on its public address)" in why
    # an allow-listed office range is not exposure: the web host is then of the same tier
    office = verdict(VIA_BASTION, estate(web_ingress=[sg_rule(443, 443, "203.0.113.0/24")]),
                     WORKER)
    assert office.severity is Severity.LOW


@pytest.mark.parametrize(
    ("tags", "ingress"),
    [
        ({"Role": "bastion"}, [sg_rule(22, 22)]),
        ({"Name": "jump-host"}, [sg_rule(22, 22)]),
        ({}, [sg_rule(22, 22, "203.0.113.0/24")]),  # inferred: the only admin hop into subnet-p
    ],
    ids=["tagged", "named", "inferred"],
)
def test_a_bastion_source_is_never_an_offender(tags: dict[str, str], ingress: Any) -> None:
    # the bastion is public (open to the world on SSH when tagged or named): never a source
    bastion = (*host("b", "subnet-web", "10.0.2.9", "sg-b", public="54.1.2.8", tags=tags),
               sg(ingress, "sg-b", vpc_id="vpc-p", egress=[ALL_OUT]))
    finding = verdict(VIA_BASTION, estate(web_ingress=[], extra=bastion), WORKER)
    assert sources(finding) == {"i-n": "low", "i-web": "low"}


def test_reported_once_per_security_group_with_every_affected_host() -> None:
    inv = estate(extra=tuple(host("w2", "subnet-p", "10.0.1.11", "sg-w")))
    found = [f for f in run_one(VIA_BASTION, inv) if f.status is Status.FAIL]
    assert [f.resource_uid for f in found] == [SG_W]
    assert found[0].evidence["affected"] == ["i-w", "i-w2"]
    assert "to 2 private host(s): i-w, i-w2" in found[0].message


def test_a_prefix_list_that_was_not_collected_is_inconclusive() -> None:
    inv = estate([sg_rule(22, 22, "pl-corp", kind="prefix_list")])
    finding = verdict(VIA_BASTION, inv, WORKER)
    assert finding.status is Status.INCONCLUSIVE and finding.resource_uid == WORKER
    assert "pl-corp" in finding.message
    # a decided offender still fails; the undecided rule is named in its evidence
    both = verdict(VIA_BASTION, estate([*VPC_SSH, sg_rule(3389, 3389, "pl-corp",
                                                          kind="prefix_list")]), WORKER)
    assert both.status is Status.FAIL and "pl-corp" in str(both.evidence["undecided"])


def test_hosts_reached_only_from_the_bastion_pass_on_their_own() -> None:
    bastion = (*host("b", "subnet-web", "10.0.2.9", "sg-b", public="54.1.2.8",
                     tags={"Role": "bastion"}),
               sg([sg_rule(22, 22, "203.0.113.0/24")], "sg-b", vpc_id="vpc-p", egress=[ALL_OUT]))
    inv = estate([sg_rule(22, 22, "sg-b", kind="security_group")], web_ingress=[], extra=bastion)
    found = judging(run_one(VIA_BASTION, inv), WORKER)
    assert [(f.resource_uid, f.status) for f in found] == [(WORKER, Status.PASS)]
