"""Every tcp port of an Azure VM that the internet reaches, not just the administrative and
database ones (an attack path starts at any port the wide internet reaches: a web server on 443
is a foothold like SSH on 22; a VM next door exposed on any port is a HIGH lateral source).

The ports are not enumerated one by one: every port-dependent decision of
:meth:`~posture.graph.azure.reach.AzureNetwork.internet_exposure` is a port range - the
destination ports of the NSG rules at both levels (custom and default), the backend port of a
load-balancing or inbound NAT rule that sends traffic to the IP configuration (0: HA ports,
every port), the translated port of a firewall DNAT rule translating to its address; the public
IP, the NSGs' sources, the SKUs and the DNAT rules' protocols and sources do not depend on the
port. So the range 1-65535 is cut at every such boundary, per IP configuration, and each piece is
judged once, at its first port, with the exposure checks' own verdict; a piece has the same
verdict on each of its ports, so the exposed pieces are the exposed ports, as ranges.

This module also draws an exposure as hops (source → entry → NSG rule per level → NIC → VM), for
the lateral-access evidence and the attack paths alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.graph.azure.nsg import ordered_rules, parse_ports
from posture.graph.azure.reach import AzureNetwork, Endpoint, EndpointVerdict
from posture.graph.lateral import DEFAULT_RULE
from posture.graph.paths import Reach
from posture.graph.ports import merged, pieces, ranges_text
from posture.model import Asset

Span = tuple[int, int]


def short(uid: Any) -> str:
    return str(uid or "").rsplit("/", 1)[-1]


def port_cuts(net: AzureNetwork, ep: Endpoint) -> set[int]:
    """Every port at which an internet verdict of ``ep`` may change."""
    subnet_nsg, nic_nsg, _ = net.layers(ep)
    out: set[int] = set()
    for nsg in (subnet_nsg, nic_nsg):
        for rule in ordered_rules(nsg) if nsg is not None else ():
            for lo, hi in parse_ports(rule.get("destination_ports") or ("*",)):
                out |= {lo, hi + 1}
    for _, _, rule in net.lb_rules(ep):
        port = int(rule.get("backend_port") or 0)
        out |= {port, port + 1}
    for fw in net.firewalls:
        for rule in net.dnat_rules(fw)[0]:
            if str(rule.get("translated_address")) == str(ep.private_ip):
                translated = str(rule.get("translated_port") or "")
                if translated.isdigit():
                    out |= {int(translated), int(translated) + 1}
    return out


@dataclass(frozen=True, slots=True)
class Piece:
    """One range of ports of one IP configuration, judged once at its first port."""

    span: Span
    endpoint: Endpoint
    verdict: EndpointVerdict


@dataclass(frozen=True, slots=True)
class ServedPorts:
    """A VM's internet exposure on every tcp port: the verdict of each piece, and the exposed
    and undecided pieces as port ranges (merged over the VM's IP configurations)."""

    pieces: tuple[Piece, ...]

    def of(self, state: Reach) -> list[Piece]:
        return [p for p in self.pieces if p.verdict.state is state]

    @property
    def exposed(self) -> list[Piece]:
        return self.of(Reach.EXPOSED)

    @property
    def undecided(self) -> list[Piece]:
        return self.of(Reach.UNKNOWN)

    @property
    def latent(self) -> list[Piece]:
        return [p for p in self.pieces if p.verdict.latent]

    def ranges(self, state: Reach = Reach.EXPOSED) -> tuple[Span, ...]:
        return merged(p.span for p in self.of(state))

    def text(self, state: Reach = Reach.EXPOSED) -> str:
        return ranges_text(self.ranges(state))

    def range_of(self, port: int, state: Reach = Reach.EXPOSED) -> Span:
        return next(((lo, hi) for lo, hi in self.ranges(state) if lo <= port <= hi), (port, port))






def served_ports(net: AzureNetwork, key: str, endpoints: Sequence[Endpoint]) -> ServedPorts:
    """The exposure of the VM (or lone NIC) ``key`` on every tcp port of its IP configurations
    ``endpoints``, memoized per run's network index."""
    memo: dict[str, ServedPorts] = net.memo.setdefault("served", {})
    found = memo.get(key)
    if found is not None:
        return found
    found_pieces: list[Piece] = []
    for ep in endpoints:
        found_pieces += [
            Piece((lo, hi), ep, net.internet_exposure(ep, lo))
            for lo, hi in pieces(port_cuts(net, ep))
        ]
    found = memo[key] = ServedPorts(tuple(found_pieces))
    return found


def exposure(net: AzureNetwork, key: str, endpoints: Sequence[Endpoint]) -> tuple[
    str | None, str | None
]:
    """(where the VM or NIC ``key`` is internet-exposed: ``tcp/443 through public-ip pip-web``,
    why that is undecided), on any tcp port."""
    served = served_ports(net, key, endpoints)
    for piece in served.exposed:
        path = piece.verdict.paths[0]
        span = ranges_text([served.range_of(piece.span[0])])
        return f"{span} through {path['entry']} {short(path['via'])}", None
    undecided = served.undecided
    return None, undecided[0].verdict.detail if undecided else None


# -- the path as hops ------------------------------------------------------------------------


def rule_text(layer: Mapping[str, Any]) -> str:
    """``AllowVnetInBound (priority 65000, default rule of every NSG)``."""
    default = f", {DEFAULT_RULE}" if layer.get("default_rule") else ""
    return f"{layer.get('rule')} (priority {layer.get('priority')}{default})"


def path_hops(
    head: Sequence[Mapping[str, Any]], layers: Sequence[Mapping[str, Any]], ep: Endpoint,
    vm: Asset, port: int,
) -> dict[str, Any]:
    """The evidence path: ``head`` (source, peering / internet, entry), each NSG level's rule,
    the NIC and the VM."""
    hops = list(head)
    for layer in layers:
        if layer.get("nsg"):
            hops.append(
                {
                    "kind": f"nsg ({layer['layer']})",
                    "id": short(layer["nsg"]),
                    "detail": f"{layer.get('access')}: {rule_text(layer)}",
                    "rule": dict(layer),
                }
            )
        else:
            hops.append({"kind": f"{layer['layer']} (no NSG)", "id": short(ep.nic)})
    hops.append({"kind": "interface", "id": short(ep.nic), "detail": str(ep.private_ip)})
    hops.append({"kind": "asset", "id": vm.name, "detail": vm.type})
    summary = " -> ".join(
        f"{h['kind']} {h['id']}" + (f" [{h['detail']}]" if h.get("detail") else "") for h in hops
    )
    return {"port": port, "summary": summary, "hops": hops}


def internet_hops(path: Mapping[str, Any], ep: Endpoint, vm: Asset) -> dict[str, Any]:
    """An internet exposure path (one of :attr:`EndpointVerdict.paths`) as hops: the internet,
    the entry point (public IP, load balancer, firewall DNAT), each NSG level, the NIC, the VM."""
    head = [
        {"kind": "internet", "id": "Internet"},
        {"kind": str(path["entry"]), "id": short(path["via"]),
         "detail": str(path.get("public_ip") or "")},
    ]
    return path_hops(head, list(path.get("nsg_layers") or ()), ep, vm, int(path["port"]))


__all__ = [
    "Piece",
    "ServedPorts",
    "exposure",
    "internet_hops",
    "path_hops",
    "port_cuts",
    "rule_text",
    "served_ports",
    "short",
]
