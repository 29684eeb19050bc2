"""GCP firewall semantics (posture/graph/gcp/reach.py): priorities, deny-wins ties, implied rules,
disabled and egress rules, targets, sources, IAP, load-balancer ranges, IPv6."""

from __future__ import annotations

import pytest
from support.gcp import NET, firewall, instance

from posture.graph.gcp.reach import (
    Reach,
    Source,
    VpcRule,
    classify,
    internet_ingress,
    nics_of,
    rule_is_world_open,
)
from posture.model import Asset


def verdict(host: Asset, *fws: Asset, port: int = 22, family: int = 4) -> Reach:
    rules = [VpcRule.of(f) for f in fws]
    return internet_ingress(rules, nics_of(host)[0], "tcp", port, family).state


WEB = instance("web", tags=("web",))


def test_world_open_rule_exposes_an_instance_with_an_external_ip() -> None:
    v = internet_ingress([VpcRule.of(firewall("ssh"))], nics_of(WEB)[0], "tcp", 22)
    assert v.state is Reach.EXPOSED
    assert v.rule is not None and v.rule.name == "ssh"
    assert v.evidence()["firewall_rule"]["firewall"] == "ssh"


def test_nothing_matches_means_implied_deny() -> None:
    assert verdict(WEB) is Reach.BLOCKED
    assert verdict(WEB, firewall("ssh"), port=3389) is Reach.BLOCKED


def test_higher_priority_deny_shadows_the_allow() -> None:
    allow = firewall("allow", priority=1000)
    deny = firewall("deny", priority=900, action="deny")
    v = internet_ingress([VpcRule.of(allow), VpcRule.of(deny)], nics_of(WEB)[0], "tcp", 22)
    assert v.state is Reach.BLOCKED
    assert [r.name for r in v.shadowing] == ["deny"]


def test_lower_priority_deny_does_not_shadow() -> None:
    assert (
        verdict(WEB, firewall("allow", priority=100), firewall("deny", priority=900, action="deny"))
        is Reach.EXPOSED
    )


def test_deny_wins_a_priority_tie() -> None:
    assert (
        verdict(
            WEB,
            firewall("allow", priority=500),
            firewall("deny", priority=500, action="deny", rules=(("all", ()),)),
        )
        is Reach.BLOCKED
    )


def test_partial_deny_leaves_the_rest_of_the_internet_exposed() -> None:
    deny = firewall("deny-half", priority=10, action="deny", source_ranges=("0.0.0.0/1",))
    rules = [VpcRule.of(firewall("allow")), VpcRule.of(deny)]
    v = internet_ingress(rules, nics_of(WEB)[0], "tcp", 22)
    assert v.state is Reach.EXPOSED
    assert v.example_client is not None and int(v.example_client.split(".")[0]) >= 128


def test_disabled_and_egress_rules_are_ignored() -> None:
    assert verdict(WEB, firewall("off", disabled=True)) is Reach.BLOCKED
    assert verdict(WEB, firewall("out", direction="EGRESS")) is Reach.BLOCKED


def test_disabled_deny_does_not_block() -> None:
    assert (
        verdict(WEB, firewall("allow"), firewall("deny", priority=1, action="deny", disabled=True))
        is Reach.EXPOSED
    )


def test_iap_only_is_not_internet_exposure() -> None:
    iap = firewall("iap", source_ranges=("35.235.240.0/20",))
    assert verdict(WEB, iap) is Reach.IAP_ONLY
    assert verdict(instance("private", external=False), iap) is Reach.IAP_ONLY


def test_load_balancer_ranges_are_not_internet_exposure() -> None:
    lb = firewall("lb", source_ranges=("130.211.0.0/22", "35.191.0.0/16"))
    assert verdict(WEB, lb) is Reach.BLOCKED


def test_private_source_ranges_are_not_the_internet() -> None:
    assert (
        verdict(WEB, firewall("corp", source_ranges=("10.0.0.0/8", "192.168.0.0/16")))
        is Reach.BLOCKED
    )


def test_target_tags_and_service_accounts() -> None:
    tagged = firewall("tagged", target_tags=("db",))
    assert verdict(WEB, tagged) is Reach.BLOCKED
    assert verdict(instance("db", tags=("db",)), tagged) is Reach.EXPOSED
    by_sa = firewall("by-sa", target_service_accounts=("etl@acme-test.iam.gserviceaccount.com",))
    assert verdict(WEB, by_sa) is Reach.BLOCKED
    etl = instance("etl", service_accounts=("etl@acme-test.iam.gserviceaccount.com",))
    assert verdict(etl, by_sa) is Reach.EXPOSED


def test_rule_targeting_instances_without_external_ip_is_latent() -> None:
    assert (
        verdict(instance("db", tags=("db",), external=False), firewall("db", target_tags=("db",)))
        is Reach.LATENT
    )


def test_source_tags_only_match_internal_traffic() -> None:
    assert (
        verdict(WEB, firewall("from-web", source_ranges=(), source_tags=("web",))) is Reach.BLOCKED
    )


def test_ingress_rule_without_any_source_means_everywhere() -> None:
    assert verdict(WEB, firewall("no-source", source_ranges=())) is Reach.EXPOSED


def test_rules_of_another_network_do_not_apply() -> None:
    other = firewall("other", network="projects/acme-test/global/networks/other")
    assert verdict(WEB, other) is Reach.BLOCKED
    assert NET != "projects/acme-test/global/networks/other"


def test_protocols_ports_and_ranges() -> None:
    assert verdict(WEB, firewall("range", rules=(("tcp", ("20-30",)),))) is Reach.EXPOSED
    assert verdict(WEB, firewall("udp", rules=(("udp", ()),))) is Reach.BLOCKED
    assert verdict(WEB, firewall("all", rules=(("all", ()),))) is Reach.EXPOSED
    assert verdict(WEB, firewall("num", rules=(("6", ("22",)),))) is Reach.EXPOSED


def test_ipv6() -> None:
    v6 = instance("v6", ipv6="2600:1900:4000::1")
    assert verdict(v6, firewall("v6", source_ranges=("::/0",)), family=6) is Reach.EXPOSED
    assert verdict(WEB, firewall("v6", source_ranges=("::/0",)), family=6) is Reach.LATENT
    assert verdict(v6, firewall("v4")) is Reach.EXPOSED
    assert verdict(v6, firewall("v4"), family=6) is Reach.BLOCKED


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", Source.INTERNET),
        ("35.235.241.1", Source.IAP),
        ("130.211.1.1", Source.LOAD_BALANCER),
        ("10.1.2.3", None),
        ("100.64.0.1", None),
    ],
)
def test_classify(address: str, kind: Source | None) -> None:
    import ipaddress

    assert classify(int(ipaddress.ip_address(address)), 4) is kind


def test_rule_is_world_open_hygiene() -> None:
    assert rule_is_world_open(VpcRule.of(firewall("a")), "tcp", 22)
    assert not rule_is_world_open(VpcRule.of(firewall("a", disabled=True)), "tcp", 22)
    assert not rule_is_world_open(VpcRule.of(firewall("a", action="deny")), "tcp", 22)
    assert not rule_is_world_open(
        VpcRule.of(firewall("a", source_ranges=("35.235.240.0/20",))), "tcp", 22
    )
