"""The networks of a snapshot as the topology picture of ``report.html`` needs them.

One provider-neutral shape for AWS VPCs, Azure VNets and GCP VPC networks: each network with
its subnets, its gateways (internet, NAT, VPN, transit; the firewall and bastion hosts of a
VNet), its peerings, and where the exposed assets sit (their subnets, or only their network).
Read from the normalized attributes the collectors write (docs/<cloud>-assets.md); nothing is
inferred that the snapshot does not say. An asset is exposed when a FAIL finding on it carries
depth 0 or the state ``exposed`` (:func:`is_exposure`). Everything is sorted, so the same
snapshot gives the same view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from posture.model import Asset, Finding, Inventory, Provider, Status


@dataclass(frozen=True, slots=True)
class Network:
    key: str  # the id others refer to it by: a VPC id, a VNet id (lower case), a GCP path
    uid: str
    name: str
    kind: str  # VPC | VNet | VPC network
    account: str
    region: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Subnet:
    key: str
    name: str
    network: str  # Network.key
    cidrs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Gateway:
    ref: str  # the id an exposure path names it by (igw-..., a transit gateway id)
    name: str
    kind: str  # internet gateway | NAT gateway | VPN gateway | transit gateway | firewall | bastion
    network: str
    internet: bool  # traffic from the internet enters through it


@dataclass(frozen=True, slots=True)
class Peering:
    name: str
    networks: tuple[str, str]  # Network.key of each side (the far side may be outside the scan)
    state: str


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an exposed asset sits: its subnets (keys) and its network."""

    uid: str
    name: str
    type: str
    network: str
    subnets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topology:
    networks: tuple[Network, ...]
    subnets: tuple[Subnet, ...]
    gateways: tuple[Gateway, ...]
    peerings: tuple[Peering, ...]
    placed: tuple[Placed, ...]


def is_exposure(f: Finding) -> bool:
    """A FAIL whose evidence says the asset is reachable from the internet today."""
    ev = f.evidence
    if f.status != Status.FAIL or not isinstance(ev, Mapping):
        return False
    depth = ev.get("depth")
    return (depth == 0 and not isinstance(depth, bool)) or ev.get("state") == "exposed"


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v)
    return ()


def _last(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


# -- AWS ------------------------------------------------------------------------------------


def _aws(inv: Inventory, exposed: Iterable[Asset]) -> Topology:
    networks = tuple(
        Network(a.attr("vpc_id") or a.uid, a.uid, a.name, "VPC", a.account, a.region,
                _strs(a.attr("cidr_blocks")))
        for a in inv.of("AWS::EC2::VPC"))
    subnets = tuple(
        Subnet(a.attr("subnet_id") or a.uid, a.name, str(a.attr("vpc_id") or ""),
               _strs(a.attr("cidr_block")))
        for a in inv.of("AWS::EC2::Subnet"))
    gateways: list[Gateway] = []
    for a in inv.of("AWS::EC2::InternetGateway"):
        ref = str(a.attr("igw_id") or a.name)
        gateways += [Gateway(ref, a.name, "internet gateway", v, True)
                     for v in _strs(a.attr("vpc_ids"))]
    for a in inv.of("AWS::EC2::NatGateway"):
        gateways.append(Gateway(str(a.attr("nat_gateway_id") or a.name), a.name, "NAT gateway",
                                str(a.attr("vpc_id") or ""), False))
    for a in inv.of("AWS::EC2::TransitGatewayAttachment"):
        if a.attr("vpc_id"):
            tgw = str(a.attr("transit_gateway_id") or a.name)
            gateways.append(Gateway(tgw, tgw, "transit gateway", str(a.attr("vpc_id")), False))
    for a in inv.of("AWS::EC2::RouteTable"):  # virtual private gateways are known by routes
        for r in a.attr("routes") or ():
            if isinstance(r, Mapping) and r.get("target_kind") == "vgw":
                ref = str(r.get("target_id"))
                gateways.append(Gateway(ref, ref, "VPN gateway", str(a.attr("vpc_id")), False))
    peerings = tuple(
        Peering(a.name, (str(a.attr("requester_vpc_id")), str(a.attr("accepter_vpc_id"))),
                str(a.attr("status") or ""))
        for a in inv.of("AWS::EC2::VPCPeeringConnection"))
    vpc_of = {s.key: s.network for s in subnets}
    placed = []
    for a in exposed:
        subs = _strs(a.attr("subnet_id")) + _strs(a.attr("subnet_ids"))
        vpc = str(a.attr("vpc_id") or next((vpc_of[s] for s in subs if s in vpc_of), ""))
        if vpc:
            placed.append(Placed(a.uid, a.name, a.type, vpc, subs))
    return Topology(networks, subnets, tuple(sorted(set(gateways), key=repr)), peerings,
                    tuple(placed))


# -- Azure ----------------------------------------------------------------------------------


def _nic_subnets(a: Asset) -> tuple[str, ...]:
    configs = [c for c in a.attr("ip_configurations") or () if isinstance(c, Mapping)]
    return (_strs(a.attr("subnet_id")) + _strs(a.attr("subnet_ids"))
            + tuple(str(c["subnet_id"]) for c in configs if c.get("subnet_id")))


def _azure(inv: Inventory, exposed: Iterable[Asset]) -> Topology:
    networks = tuple(
        Network(a.uid.lower(), a.uid, a.name, "VNet", a.account, a.region,
                _strs(a.attr("address_prefixes")))
        for a in inv.of("Microsoft.Network/virtualNetworks"))
    subnet_assets = inv.of("Microsoft.Network/virtualNetworks/subnets")
    vnet_of = {a.uid.lower(): str(a.attr("vnet_id") or "").lower() for a in subnet_assets}
    subnets = tuple(Subnet(a.uid.lower(), a.name, vnet_of[a.uid.lower()],
                           _strs(a.attr("address_prefixes"))) for a in subnet_assets)
    gateways: set[Gateway] = set()
    for a in subnet_assets:
        nat = str(a.attr("nat_gateway_id") or "")
        if nat:
            gateways.add(Gateway(nat.lower(), _last(nat), "NAT gateway", vnet_of[a.uid.lower()],
                                 False))
    for kind, type_ in (("firewall", "azureFirewalls"), ("bastion", "bastionHosts")):
        for a in inv.of(f"Microsoft.Network/{type_}"):
            vnets = {vnet_of.get(s.lower(), "") for s in _strs(a.attr("subnet_ids"))}
            vnets |= {v.lower() for v in _strs(a.attr("vnet_ids"))}
            gateways |= {Gateway(a.name, a.name, kind, v, False) for v in vnets if v}
    pairs: dict[tuple[str, str], Peering] = {}
    for a in inv.of("Microsoft.Network/virtualNetworks/virtualNetworkPeerings"):
        ends = (str(a.attr("vnet_id") or "").lower(), str(a.attr("remote_vnet_id") or "").lower())
        key = (min(ends), max(ends))
        pairs.setdefault(key, Peering(a.name, ends, str(a.attr("peering_state") or "")))
    nics = {a.uid.lower(): a for a in inv.of("Microsoft.Network/networkInterfaces")}
    placed = []
    for a in exposed:
        subs = [s.lower() for s in _nic_subnets(a)]
        for nic in _strs(a.attr("nic_ids")):
            found = nics.get(nic.lower())
            subs += [s.lower() for s in _nic_subnets(found)] if found else []
        nets = sorted({vnet_of[s] for s in subs if s in vnet_of})
        if nets:
            placed.append(Placed(a.uid, a.name, a.type, nets[0], tuple(sorted(set(subs)))))
    return Topology(networks, subnets, tuple(sorted(gateways, key=repr)),
                    tuple(pairs[k] for k in sorted(pairs)), tuple(placed))


# -- GCP ------------------------------------------------------------------------------------


def _path(a: Asset) -> str:
    return str(a.attr("path") or a.uid.removeprefix("//compute.googleapis.com/"))


def _gcp(inv: Inventory, exposed: Iterable[Asset]) -> Topology:
    nets = inv.of("compute.googleapis.com/Network")
    networks = tuple(Network(_path(a), a.uid, a.name, "VPC network", a.account, a.region, ())
                     for a in nets)
    subnets = tuple(
        Subnet(_path(a), a.name, str(a.attr("network") or ""), _strs(a.attr("ip_cidr_range")))
        for a in inv.of("compute.googleapis.com/Subnetwork"))
    gateways: set[Gateway] = set()
    for a in inv.of("compute.googleapis.com/Route"):
        hop, net = a.attr("next_hop_kind"), str(a.attr("network") or "")
        if hop == "internet_gateway":
            gateways.add(Gateway("default-internet-gateway", "default-internet-gateway",
                                 "internet gateway", net, True))
        elif hop == "vpn":
            name = _last(str(a.attr("next_hop") or a.name))
            gateways.add(Gateway(name, name, "VPN gateway", net, False))
    pairs: dict[tuple[str, str], Peering] = {}
    for a in nets:
        for p in a.attr("peerings") or ():
            if isinstance(p, Mapping):
                ends = (_path(a), str(p.get("network") or ""))
                pairs.setdefault((min(ends), max(ends)),
                                 Peering(str(p.get("name") or ""), ends, str(p.get("state") or "")))
    placed = []
    for a in exposed:
        nics = [n for n in a.attr("network_interfaces") or () if isinstance(n, Mapping)]
        net = next((str(n["network"]) for n in nics if n.get("network")),
                   str(a.attr("network") or a.attr("private_network") or ""))
        subs = tuple(str(n["subnetwork"]) for n in nics if n.get("subnetwork"))
        subs += _strs(a.attr("subnetwork"))
        if net:
            placed.append(Placed(a.uid, a.name, a.type, net, subs))
    return Topology(networks, subnets, tuple(sorted(gateways, key=repr)),
                    tuple(pairs[k] for k in sorted(pairs)), tuple(placed))


_READERS = {Provider.AWS: _aws, Provider.AZURE: _azure, Provider.GCP: _gcp}


def topology_of(inventory: Inventory, findings: Iterable[Finding]) -> Topology | None:
    """The networks of ``inventory`` and where the assets that ``findings`` expose sit (None for
    a provider without networks, or a snapshot that holds none)."""
    reader = _READERS.get(inventory.meta.provider)
    if reader is None:
        return None
    uids = sorted({f.resource_uid for f in findings if is_exposure(f)})
    exposed = [a for a in (inventory.get(u) for u in uids) if a is not None]
    view = reader(inventory, exposed)
    return view if view.networks else None


__all__ = ["Gateway", "Network", "Peering", "Placed", "Subnet", "Topology", "is_exposure",
           "topology_of"]
