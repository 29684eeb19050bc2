"""NSG semantics of the Azure reachability evaluator: pure functions, no mocks."""

from __future__ import annotations

import ipaddress

import pytest
from support.azure import inventory, nic, nsg, public_ip, rule, subnet, vnet

from posture.graph.azure.nsg import (
    INTERNET,
    Peer,
    allowed,
    inbound,
    nsg_decision,
    outbound,
    parse_ports,
    prefix_matches,
)
from posture.graph.azure.reach import AzureNetwork, Reach

VM_PEER = Peer(ipaddress.ip_address("10.0.2.4"), virtual_network=True, asgs=frozenset({"asg-web"}))
VNET_PEER = Peer(ipaddress.ip_address("10.0.9.9"), virtual_network=True)


def test_port_tokens() -> None:
    assert parse_ports(["22", "80-81", "*"]) == ((22, 22), (80, 81), (0, 65535))


@pytest.mark.parametrize(
    ("token", "peer", "expected"),
    [
        ("*", INTERNET, True),
        ("Internet", INTERNET, True),
        ("Internet", VNET_PEER, False),
        ("VirtualNetwork", VNET_PEER, True),
        ("VirtualNetwork", INTERNET, False),
        ("AzureLoadBalancer", Peer(ipaddress.ip_address("168.63.129.16")), True),
        ("AzureLoadBalancer", INTERNET, False),
        ("0.0.0.0/0", INTERNET, True),
        ("203.0.113.0/24", INTERNET, False),  # a specific range is not "any internet client"
        ("10.0.0.0/8", INTERNET, False),
        ("10.0.0.0/16", VNET_PEER, True),
        ("AzureCloud", INTERNET, False),  # other service tags are specific ranges
    ],
)
def test_prefix_matching(token: str, peer: Peer, expected: bool) -> None:
    assert prefix_matches(token, peer) is expected


def test_priority_first_match_wins_shadowing() -> None:
    group = nsg(
        "n",
        rule("allow-any", 200, src="*", ports="22"),
        rule("deny-internet", 100, "deny", src="Internet", ports=["22", "3389"]),
    )
    internet = nsg_decision(group, "inbound", INTERNET, VM_PEER, 22)
    assert not internet.allowed and internet.rule and internet.rule["name"] == "deny-internet"
    assert nsg_decision(group, "inbound", VNET_PEER, VM_PEER, 22).allowed


def test_default_rules_apply_after_custom_rules() -> None:
    empty = nsg("n")
    assert nsg_decision(empty, "inbound", VNET_PEER, VM_PEER, 22).rule["name"] == "AllowVnetInBound"  # type: ignore[index]
    denied = nsg_decision(empty, "inbound", INTERNET, VM_PEER, 22)
    assert not denied.allowed and denied.rule["name"] == "DenyAllInBound"  # type: ignore[index]
    lb = Peer(ipaddress.ip_address("168.63.129.16"))
    assert nsg_decision(empty, "inbound", lb, VM_PEER, 80).allowed
    assert nsg_decision(empty, "outbound", VM_PEER, INTERNET, 443).allowed


def test_asg_port_list_and_protocol() -> None:
    group = nsg(
        "n",
        rule("web", 100, src="Internet", ports=["80", "443-444"], dst_asgs=["asg-web"]),
        rule("udp", 110, src="Internet", ports="53", protocol="udp"),
    )
    assert nsg_decision(group, "inbound", INTERNET, VM_PEER, 443).allowed
    other = Peer(ipaddress.ip_address("10.0.2.5"), virtual_network=True)
    assert not nsg_decision(group, "inbound", INTERNET, other, 443).allowed
    assert not nsg_decision(group, "inbound", INTERNET, VM_PEER, 53).allowed  # tcp flow


def test_deny_with_source_ports_does_not_stop_a_client() -> None:
    group = nsg(
        "n",
        rule("deny-some", 100, "deny", src="*", ports="22", src_ports=["1000"]),
        rule("allow", 200, src="*", ports="22"),
    )
    assert nsg_decision(group, "inbound", INTERNET, VM_PEER, 22).allowed


def test_inbound_subnet_then_nic_and_outbound_nic_then_subnet() -> None:
    open_ = nsg(
        "open",
        rule("ssh", 100, src="*", ports="22"),
        rule("out-deny", 100, "deny", direction="outbound", ports="443"),
    )
    closed = nsg("closed")
    chain = inbound(open_, closed, INTERNET, VM_PEER, 22)
    assert [layer for layer, _ in chain] == ["subnet", "nic"] and not allowed(chain)
    chain = inbound(closed, open_, INTERNET, VM_PEER, 22)
    assert [layer for layer, _ in chain] == ["subnet"] and not allowed(chain)  # stops early
    out = outbound(open_, None, VM_PEER, INTERNET, 443)
    assert [layer for layer, _ in out] == ["nic"] and not allowed(out)
    assert allowed(outbound(None, None, VM_PEER, INTERNET, 443))


def _network(*extra, subnet_nsg=None, nic_nsg=None, address="20.0.0.1"):  # type: ignore[no-untyped-def]
    sn = subnet("web", "10.0.2.0/24", subnet_nsg)
    pip = public_ip("pip", address)
    card = nic("nic", sn, "10.0.2.4", public=pip, nsg_asset=nic_nsg)
    assets = [vnet(), sn, pip, card, *extra]
    assets += [a for a in (subnet_nsg, nic_nsg) if a is not None]
    net = AzureNetwork(inventory(*assets))
    return net, net.endpoints(card)[0]


def test_exposure_needs_an_entry_point_private_only_is_latent() -> None:
    open_ = nsg("open", rule("ssh", 100, src="Internet", ports="22"))
    net, ep = _network(subnet_nsg=open_, address=None)  # public IP not allocated
    verdict = net.internet_exposure(ep, 22)
    assert verdict.state is Reach.BLOCKED and verdict.latent
    net, ep = _network(subnet_nsg=open_)
    verdict = net.internet_exposure(ep, 22)
    assert verdict.state is Reach.EXPOSED
    assert verdict.paths[0]["entry"] == "public-ip"


def test_subnet_vs_nic_double_evaluation() -> None:
    open_ = nsg("open", rule("ssh", 100, src="*", ports="22"))
    closed = nsg("closed", rule("deny", 100, "deny", src="*", ports="*", protocol="*"))
    for subnet_nsg, nic_nsg in ((open_, closed), (closed, open_)):
        net, ep = _network(subnet_nsg=subnet_nsg, nic_nsg=nic_nsg)
        verdict = net.internet_exposure(ep, 22)
        assert verdict.state is Reach.BLOCKED, verdict
        assert "denies" in verdict.detail


def test_no_nsg_at_all_is_exposed_and_narrow_source_is_not() -> None:
    net, ep = _network()
    assert net.internet_exposure(ep, 3389).state is Reach.EXPOSED
    narrow = nsg("narrow", rule("office", 100, src="203.0.113.0/24", ports="22"))
    net, ep = _network(subnet_nsg=narrow)
    verdict = net.internet_exposure(ep, 22)
    assert verdict.state is Reach.BLOCKED and "DenyAllInBound" in verdict.detail


def test_missing_nsg_is_unknown() -> None:
    ghost = nsg("ghost")
    sn = subnet("web", "10.0.2.0/24", ghost)
    card = nic("nic", sn, "10.0.2.4", public=public_ip("pip", "20.0.0.1"))
    net = AzureNetwork(inventory(vnet(), sn, public_ip("pip", "20.0.0.1"), card))
    assert net.internet_exposure(net.endpoints(card)[0], 22).state is Reach.UNKNOWN


def test_bastion_subnet_sources() -> None:
    only_bastion = nsg(
        "b",
        rule("bastion", 100, src="10.0.0.0/26", ports="22"),
        rule("deny", 200, "deny", src="*", ports="*", protocol="*"),
    )
    bastion = subnet("AzureBastionSubnet", "10.0.0.0/26")
    other = subnet("app", "10.0.3.0/24")
    net, ep = _network(bastion, other, subnet_nsg=only_bastion)
    sources, why = net.admitted_sources(ep, 22)
    assert why is None
    assert [s["bastion"] for s in sources] == [True]
    net, ep = _network(bastion, other)  # no NSG: everything reaches it
    sources, _ = net.admitted_sources(ep, 22)
    assert {s["source"] for s in sources if not s["bastion"]} >= {
        "Internet",
        "subnet app (10.0.3.0/24)",
    }


def test_latent_names_the_admitting_rules_and_needs_an_nsg() -> None:
    open_ = nsg("open", rule("ssh", 100, src="Internet", ports="22"))
    net, ep = _network(nic_nsg=open_, address=None)
    verdict = net.internet_exposure(ep, 22)
    assert verdict.latent and [(a["layer"], a["rule"]) for a in verdict.admitted_by] == [
        ("nic", "ssh")
    ]
    assert verdict.evidence()["admitted_by"][0]["priority"] == 100
    net, ep = _network(address=None)  # no NSG anywhere: nothing filters, but no rule to blame
    verdict = net.internet_exposure(ep, 22)
    assert verdict.state is Reach.BLOCKED and not verdict.latent


def test_standard_sku_entry_points_are_closed_without_an_nsg() -> None:
    sn = subnet("web", "10.0.2.0/24")
    for sku, state in (("Standard", Reach.BLOCKED), ("Basic", Reach.EXPOSED)):
        pip = public_ip("pip", "20.0.0.1", sku=sku)
        card = nic("nic", sn, "10.0.2.4", public=pip)
        net = AzureNetwork(inventory(vnet(), sn, pip, card))
        verdict = net.internet_exposure(net.endpoints(card)[0], 22)
        assert verdict.state is state, sku
        if state is Reach.BLOCKED:
            assert "secure by default" in verdict.detail
