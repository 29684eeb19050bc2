"""GCP exposure means the *wide* internet, as on AWS and Azure: the public clients that get
through the firewall chain (and whose replies are routed) add up to at least a /8 worth of IPv4
addresses or a /16 worth of global IPv6. Narrow allow-listed ranges (an office /24) are not an
exposure: the CRITICAL checks PASS naming them, and the defense depth counts the allow-list as
the one layer (docs/gcp-assets.md, "Internet clients")."""

from __future__ import annotations

from dataclasses import replace

from support.gcp import (
    depth_of,
    epolicy,
    firewall,
    forwarding_rule,
    instance,
    network,
    prule,
    results,
    route,
    target_pool,
)

from posture.graph import depth as aws_depth
from posture.graph.gcp.clients import WIDE
from posture.graph.gcp.reach import Reach, VpcRule, internet_ingress, nics_of
from posture.model import Asset, Severity, Status

ADMIN = "gcp.network.admin_ports_not_internet_reachable"
DB = "gcp.network.db_ports_not_internet_reachable"
LATENT = "gcp.network.no_latent_sensitive_port_exposure"
DEPTH = "gcp.network.sensitive_ports_defense_in_depth"
OFFICE = "203.0.113.0/24"


def state(*fws: Asset, host: Asset | None = None, family: int = 4) -> Reach:
    host = host or instance("vm")
    rules = [VpcRule.of(f) for f in fws]
    return internet_ingress(rules, nics_of(host)[0], "tcp", 22, family).state


def test_the_threshold_is_the_aws_one() -> None:
    assert WIDE == aws_depth.WIDE == {4: 1 << 24, 6: 1 << 112}


def test_office_range_on_a_public_instance_is_allow_listed_not_exposed() -> None:
    assets = (firewall("office-ssh", source_ranges=(OFFICE,)), instance("vm"))
    assert state(assets[0]) is Reach.NARROW
    got = results(ADMIN, *assets)["vm"]
    assert got.status is Status.PASS
    assert f"reachable only from allow-listed internet ranges ({OFFICE})" in got.message
    [listed] = got.evidence["allow_listed"]
    assert listed["clients"] == OFFICE and listed["port"] == 22
    assert listed["firewall_rule"]["firewall"] == "office-ssh"
    # not latent either: the allow-list is a layer, not a missing external address
    latent = results(LATENT, *assets)["vm"]
    assert latent.status is Status.PASS
    # defense depth 1: the allow-list is the single layer, widening it is the change
    depth = results(DEPTH, *assets)["vm"]
    assert depth.status is Status.FAIL and depth.severity is Severity.LOW
    assert depth.evidence["depth"] == 1 and depth.evidence["port"] == 22
    change = depth.evidence["single_change"]
    assert (change["layer"], change["resource"], change["blocking"]) == (
        "vpc-firewall", "vpc", True
    )
    assert change["rule"] == f"office-ssh (priority 1000): allow tcp/22 from {OFFICE}"
    assert f"admits tcp/22 only from {OFFICE}" in change["detail"]
    assert change["change"] == (
        "widen the source ranges of VPC firewall rule office-ssh (network vpc) to 0.0.0.0/0"
    )
    assert "office-ssh" in depth.message and "one change exposes it" in depth.message


def test_office_range_without_external_address_is_neither_exposed_nor_latent() -> None:
    assets = (firewall("office-ssh", source_ranges=(OFFICE,)), instance("vm", external=False))
    assert results(ADMIN, *assets)["vm"].status is Status.PASS
    assert results(LATENT, *assets)["vm"].status is Status.PASS
    depth = results(DEPTH, *assets)["vm"]
    assert depth.status is Status.PASS and depth.evidence["depth"] == 2


def test_narrow_rules_count_together() -> None:
    halves = (
        firewall("half-a", source_ranges=("11.0.0.0/9",)),
        firewall("half-b", source_ranges=("11.128.0.0/9",)),
    )
    assert state(halves[0]) is Reach.NARROW
    assert state(*halves) is Reach.EXPOSED
    got = results(ADMIN, *halves, instance("vm"))["vm"]
    assert got.status is Status.FAIL and got.evidence["depth"] == 0
    one = results(ADMIN, halves[0], instance("vm"))["vm"]
    assert one.status is Status.PASS and "(11.0.0.0/9)" in one.message
    # the defense depth agrees: 0 together, 1 for one half (the allow-list is the layer)
    assert depth_of(*halves, instance("vm")).depth == 0
    assert depth_of(halves[0], instance("vm")).depth == 1


def test_private_and_special_ranges_do_not_count() -> None:
    corp = firewall("corp", source_ranges=("10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12"))
    assert state(corp) is Reach.BLOCKED
    got = results(ADMIN, corp, instance("vm"))["vm"]
    assert got.status is Status.PASS and "allow-listed" not in got.message
    # a public /9 beside a private /8 is still below the threshold
    mixed = firewall("mixed", source_ranges=("10.0.0.0/8", "11.0.0.0/9"))
    assert state(mixed) is Reach.NARROW
    # IAP and Google's load-balancer ranges are not internet clients
    google = firewall("google", source_ranges=("35.235.240.0/20", "130.211.0.0/22",
                                               "35.191.0.0/16", OFFICE))
    assert state(google) is Reach.NARROW


def test_allow_everything_minus_a_deny_on_most_of_it_is_narrow() -> None:
    allow = firewall("ssh")
    most = ("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/4", "208.0.0.0/5", "216.0.0.0/6",
            "220.0.0.0/7", "222.0.0.0/8")
    # 223.0.0.0/8 is left: exactly a /8, the wide internet
    deny8 = firewall("deny-most", priority=900, action="deny", source_ranges=most)
    assert state(allow, deny8) is Reach.EXPOSED
    deny = firewall("deny-most", priority=900, action="deny", source_ranges=(*most, "223.0.0.0/9"))
    assert state(allow, deny) is Reach.NARROW
    got = results(ADMIN, allow, deny, instance("vm"))["vm"]
    assert got.status is Status.PASS
    assert "allow-listed internet ranges (223.128.0.0/9)" in got.message
    depth = results(DEPTH, allow, deny, instance("vm"))["vm"]
    assert depth.status is Status.FAIL and depth.evidence["depth"] == 1
    assert depth.evidence["single_change"]["rule"].startswith("deny-most (priority 900): deny")


def test_undecided_clients_that_could_reach_the_threshold_are_inconclusive() -> None:
    secure = (("tagValues/1", "EFFECTIVE"),)
    office = firewall("office-ssh", source_ranges=(OFFICE,))
    maybe_world = network(policies=[epolicy("org", prule(100, "allow", target_tags=secure))])
    got = results(ADMIN, maybe_world, office, instance("vm"))["vm"]
    assert got.status is Status.INCONCLUSIVE and "secure tag" in got.message
    # undecided clients that cannot reach it: allow-listed for sure
    maybe_office = network(
        policies=[epolicy("org", prule(100, "allow", target_tags=secure, src=("198.51.100.0/24",)))]
    )
    sure = results(ADMIN, maybe_office, office, instance("vm"))["vm"]
    assert sure.status is Status.PASS and "allow-listed" in sure.message


def test_routes_that_leave_only_a_narrow_range_routed() -> None:
    """The firewall admits the world but only an office range's replies are routed to the
    internet gateway: allow-listed by the routes, not exposed."""
    routes = (
        route("subnet", "10.0.0.0/24", "network", 0),
        route("to-nat", "0.0.0.0/0", "instance"),
        route("office", OFFICE),
    )
    got = results(ADMIN, firewall("ssh"), *routes, instance("vm"))["vm"]
    assert got.status is Status.PASS
    assert f"allow-listed internet ranges ({OFFICE})" in got.message
    assert got.evidence["allow_listed"][0]["route"]["range"]


def test_ipv6_threshold_is_a_slash_16() -> None:
    v6 = instance("vm", ipv6="2600:1900::1")
    assert state(firewall("w", source_ranges=("::/0",)), host=v6, family=6) is Reach.EXPOSED
    assert state(firewall("w", source_ranges=("2600::/16",)), host=v6, family=6) is Reach.EXPOSED
    narrow = firewall("w", source_ranges=("2600:1900::/32",))
    assert state(narrow, host=v6, family=6) is Reach.NARROW
    got = results(ADMIN, narrow, v6)["vm"]
    assert got.status is Status.PASS and "2600:1900::/32" in got.message


def test_passthrough_load_balancer_limited_to_an_office_range() -> None:
    nlb = forwarding_rule("ssh-nlb", target="regions/us-central1/targetPools/pool",
                          ports="22-22", region="us-central1")
    pool = target_pool("pool", "vm")
    vm = instance("vm", external=False)
    # the firewall admits the office range only
    office = firewall("office-ssh", source_ranges=(OFFICE,))
    got = results(ADMIN, nlb, pool, vm, office)["vm"]
    assert got.status is Status.PASS
    assert f"({OFFICE})" in got.message and "through load balancer ssh-nlb" in got.message
    # the forwarding rule admits the office range only, the firewall the world
    limited = replace(nlb, attrs={**nlb.attrs, "source_ip_ranges": [OFFICE]})
    got = results(ADMIN, limited, pool, vm, firewall("ssh"))["vm"]
    assert got.status is Status.PASS and f"({OFFICE})" in got.message
    # both wide: exposed
    assert results(ADMIN, nlb, pool, vm, firewall("ssh"))["vm"].status is Status.FAIL


def test_db_ports_follow_the_same_rule() -> None:
    office = firewall("office-pg", source_ranges=(OFFICE,), rules=(("tcp", ("5432",)),))
    got = results(DB, office, instance("db"))["db"]
    assert got.status is Status.PASS and "allow-listed" in got.message
