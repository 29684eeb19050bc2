"""Property: the Azure defense depth of every (VM, port) agrees with brute force on random estates.

Hypothesis generates small estates (``support.azure_estates``; fixed seed, bounded examples):
one VM whose IP configuration sits in a subnet, NSGs with random rules at the subnet level, the
NIC level, both, or one NSG at both; a public IP present or absent, allocated or not, Standard /
Basic / unknown SKU; optionally a load balancer with a load-balancing or inbound NAT rule, and an
Azure Firewall with a DNAT rule to the VM.

For each port the depth ``d`` is compared with a brute force that *edits the inventory* - one
edit per flip, as docs/azure-assets.md defines them - and asks the existing exposure evaluator
(``AzureNetwork.internet_exposure``, the CRITICAL checks' verdict) whether the port is then
exposed: ``d == 0`` iff exposed today, ``1`` iff some single flip exposes it, ``2`` iff no single
flip but some pair does, ``>= 3`` iff no pair does. The flips: a Standard SKU public IP on the IP
configuration (or an address for an unallocated one), an allow for any source on the port ahead
of every rule of one NSG, a new NSG admitting the port associated with the NIC, the backend port
(and tcp) of one load-balancer rule, the port, tcp and any source on the DNAT rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from support.azure import inventory, nsg, public_ip, rule
from support.azure_estates import (
    FW_TYPE,
    LB_TYPE,
    NIC_TYPE,
    NSG_TYPE,
    POLICY_TYPE,
    PUBLIC_IP_TYPE,
    SUBNET_TYPE,
    estates,
)
from support.flips import Flip, edited, least_flips
from support.properties import examples

from posture.graph.azure.depth import vm_depths
from posture.graph.azure.reach import AzureNetwork, Reach
from posture.model import Asset, Inventory

PORTS = (22, 5432)


# -- flips, as edits of the inventory -------------------------------------------------------------


def _on(uid: str, change: Callable[[dict], None], *extra: Asset) -> Flip:
    """The flip that edits the asset ``uid`` (and adds ``extra`` assets)."""
    return lambda x: edited(x, lambda a: a.uid == uid, change, extra)


def flips(inv: Inventory, port: int) -> list[Flip]:
    """Every flip of the estate (one edit each); a flip that changes nothing is harmless."""
    card = inv.of(NIC_TYPE)[0]
    cfg = card.attrs["ip_configurations"][0]
    opened = rule("flip", 99, src="*", ports=str(port))
    out: list[Flip] = []
    if cfg["public_ip_id"] is None:  # associate a new (Standard SKU) public IP
        new = public_ip("pip-new", "20.0.0.77", "Standard")
        out.append(_on(card.uid, lambda at: at["ip_configurations"][0].update(
            public_ip_id=new.uid), new))
    else:  # allocate its address
        out.append(_on(cfg["public_ip_id"],
                       lambda at: at.update(ip_address=at["ip_address"] or "20.0.0.1")))
    for group in inv.of(NSG_TYPE):  # an allow for any source ahead of every rule
        out.append(_on(group.uid, lambda at: at.update(rules=[opened, *at["rules"]])))
    if not card.attrs["nsg_id"]:  # associate an NSG admitting the port with the NIC
        fresh = nsg("nsg-new", opened)
        out.append(_on(card.uid, lambda at: at.update(nsg_id=fresh.uid), fresh))

    def backend(at: dict) -> None:
        for r in at["rules"] + at["inbound_nat_rules"]:
            r.update(backend_port=port, protocol="tcp")

    def dnat(at: dict) -> None:
        for r in at["nat_rules"]:
            r.update(translated_port=str(port), protocols=["tcp"], source_addresses=["*"])

    out += [_on(lb.uid, backend) for lb in inv.of(LB_TYPE)]
    out += [_on(fw.uid, dnat) for fw in [*inv.of(FW_TYPE), *inv.of(POLICY_TYPE)]]
    return out


def exposed(inv: Inventory, port: int) -> bool:
    net = AzureNetwork(inv)
    ((_, endpoints),) = net.hosts()
    return any(net.internet_exposure(ep, port).state is Reach.EXPOSED for ep in endpoints)


def brute_depth(inv: Inventory, port: int) -> int:
    """0, 1 or 2 flips (the least that exposes the port), else 3 meaning "3 or more"."""
    return least_flips(inv, lambda x: exposed(x, port), flips(inv, port))


EXAMPLES = examples(120)
"""The settings of every property test here."""


@EXAMPLES
@given(estates())
def test_depth_matches_brute_force_flips(inv: Inventory) -> None:
    net = AzureNetwork(inv)
    (host,) = inv.of("Microsoft.Compute/virtualMachines")
    depths = vm_depths(net, host, PORTS)
    assert depths is not None
    for d in depths:
        if d.depth is None:  # service tags (not collected) may or may not admit the internet
            assert _undecided_tags(d), (d.port, d.unknown)
            continue
        want = brute_depth(inv, d.port)
        assert min(d.depth, 3) == want, (d.port, d.depth, want, d.best)
        assert d.best is not None and len(d.best.changes) == d.depth
        # a depth-0 path is exactly the exposure checks' verdict
        assert (d.depth == 0) == exposed(inv, d.port)


@EXAMPLES
@given(estates(), st.data())
def test_uncollected_assets_give_sound_bounds(inv: Inventory, data: st.DataObject) -> None:
    """Hide one referenced NSG, public IP, subnet or firewall policy's rules: the real estate is
    one way to fill the gap, so a decided depth must be the real one and a lower bound must not
    exceed it (never a depth the real estate does not have)."""
    hideable = [
        a for a in inv.assets if a.type in (NSG_TYPE, PUBLIC_IP_TYPE, SUBNET_TYPE, POLICY_TYPE)
    ]
    hidden = data.draw(st.sampled_from(hideable)) if hideable else None
    partial = inventory(*(a for a in inv.assets if hidden is None or a.uid != hidden.uid))
    (host,) = inv.of("Microsoft.Compute/virtualMachines")
    real = vm_depths(AzureNetwork(inv), host, PORTS)
    seen = vm_depths(AzureNetwork(partial), host, PORTS)
    assert real is not None and seen is not None
    for truth, got in zip(real, seen, strict=True):
        if truth.depth is None:
            assert _undecided_tags(truth), (truth.port, truth.unknown)
            continue
        if got.depth is not None:
            assert got.depth == truth.depth, (got.port, got.depth, truth.depth, hidden)
        else:
            assert got.at_least <= truth.depth, (got.port, got.at_least, truth.depth, hidden)


def _undecided_tags(d: Any) -> bool:
    """An undecided depth of a complete estate: only uncollected service tags leave it open."""
    text = repr(d)
    return "service tags" in text
