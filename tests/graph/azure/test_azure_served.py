"""Every tcp port of an Azure VM the internet reaches (posture.graph.azure.served): port ranges
cut where an NSG rule, a load-balancer rule or a DNAT rule tells ports apart, each judged once
with the exposure checks' verdict - and that verdict holds on every port of the piece (property,
against ``AzureNetwork.internet_exposure`` port by port on random estates)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from support.azure import NET, az, inventory, lb_rule, load_balancer, nsg, one_vm, public_ip, rule
from support.azure_estates import estates
from support.properties import examples

from posture.graph.azure.reach import AzureNetwork
from posture.graph.azure.served import exposure, port_cuts, served_ports
from posture.graph.paths import Reach
from posture.graph.ports import EVERY_PORT
from posture.model import Inventory

PIP = public_ip("pip-h", "20.0.0.9", "Standard")
# every boundary the random estates can draw (their rules', load balancers' and DNAT rules'
# ports, each side), chosen independently of port_cuts so that a missing cut is caught
BOUNDARIES = {p + d for p in (20, 22, 25, 80, 3389, 5000, 5432, 6000) for d in (-1, 0, 1)}


def served_of(inv: Inventory) -> tuple[AzureNetwork, str, list]:  # type: ignore[type-arg]
    net = AzureNetwork(inv)
    ((vm, endpoints),) = net.hosts()
    return net, vm.uid, endpoints


def test_ranges_are_cut_at_rule_boundaries() -> None:
    guard = nsg("n", rule("web", 100, src="Internet", ports=["443", "8000-8080"]),
                rule("no-8050", 110, "deny", src="*", ports="8050-8060"),
                rule("all", 120, src="*", ports="8000-9000"),
                rule("ssh-part", 130, "deny", src="20.0.0.0/8", ports="22"),
                rule("ssh", 140, src="Internet", ports="22"))
    net, key, endpoints = served_of(inventory(*one_vm(guard, pip=PIP)))
    served = served_ports(net, key, endpoints)
    # 8050-8060 is admitted by rule web (priority 100) before the deny: exposed with the rest;
    # a deny of a /8 ahead of tcp/22 leaves a wide internet in
    assert served.text() == "tcp/22, 443, 8000-9000"
    assert served.range_of(8500) == (8000, 9000) and served.range_of(5) == (5, 5)
    assert served.text(Reach.UNKNOWN) == "none"
    spans = [p.span for p in served.pieces]
    assert spans[0][0] == 1 and spans[-1][1] == 65535
    assert all(a[1] + 1 == b[0] for a, b in pairwise(spans))
    assert served_ports(net, key, endpoints) is served  # memoized per run
    assert exposure(net, key, endpoints) == ("tcp/22 through public-ip pip-h", None)


def test_load_balancer_and_dnat_ports_are_cuts() -> None:
    http = lb_rule("http", 80, 8080, "pool")
    lb_ip = public_ip("pip-lb", "20.0.0.10", "Standard")
    lb = load_balancer(lb_ip, rules=(http,), sku="Standard")
    fw = az("Microsoft.Network/azureFirewalls", f"{NET}/azurefirewalls/fw",
            private_ips=["10.0.1.4"], firewall_policy_id=None, nat_rules=[{
                "name": "rdp", "protocols": ["tcp"], "source_addresses": ["*"],
                "destination_addresses": ["20.0.0.50"], "destination_ports": ["3389"],
                "translated_address": "10.0.2.4", "translated_port": "3389"}])
    open_all = nsg("n", rule("any", 100, src="*", ports="*"))
    host = one_vm(open_all, pools=tuple(http["backend_pool_ids"]))
    net, key, endpoints = served_of(inventory(*host, lb, lb_ip, fw))
    assert {8080, 8081, 3389, 3390} <= port_cuts(net, endpoints[0])
    served = served_ports(net, key, endpoints)
    assert served.text() == "tcp/3389, 8080"  # no public IP on the VM: only what is forwarded
    entries = {p.span: p.verdict.paths[0]["entry"] for p in served.exposed}
    assert entries == {(3389, 3389): "firewall-dnat", (8080, 8080): "load-balancer"}


def test_a_basic_public_ip_without_nsg_serves_every_port() -> None:
    net, key, endpoints = served_of(inventory(*one_vm(pip=public_ip("p", "20.0.0.1", "Basic"))))
    served = served_ports(net, key, endpoints)
    assert served.text() == "tcp/1-65535" and len(served.pieces) == 1


@st.composite
def open_estates(draw: st.DrawFn) -> Inventory:
    """The random estates, some NSGs opened to everything ahead of their rules (so that the
    entry points alone tell ports apart: a load balancer's backend port, a DNAT rule's)."""
    inv = draw(estates())
    opened = rule("open", 90, src="*", ports="*", protocol="*")
    assets = [
        replace(a, attrs={**a.attrs, "rules": [opened, *a.attrs["rules"]]})
        if a.type.endswith("networkSecurityGroups") and draw(st.booleans()) else a
        for a in inv.assets
    ]
    return inventory(*assets)


@examples(80)
@given(open_estates(), st.lists(st.integers(1, 65535), max_size=8))
def test_each_piece_has_one_verdict_on_all_its_ports(inv: Inventory, extra: list[int]) -> None:
    net, key, endpoints = served_of(inv)
    served = served_ports(net, key, endpoints)
    (ep,) = endpoints
    cuts = port_cuts(net, ep)
    ports = {p for c in cuts for p in (c - 1, c) if p in EVERY_PORT}
    ports |= {1, 65535, *BOUNDARIES, *extra}
    for port in sorted(ports):
        piece = next(p for p in served.pieces if p.span[0] <= port <= p.span[1])
        want = net.internet_exposure(ep, port).state
        assert piece.verdict.state is want, (port, piece.span, want)
    exposed = {p for p in ports if net.internet_exposure(ep, p).state is Reach.EXPOSED}
    assert {p for p in ports if any(lo <= p <= hi for lo, hi in served.ranges())} == exposed
