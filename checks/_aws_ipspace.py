"""Address-space and network-ACL primitives of the interim path test (pure, no assets).

Addresses are integers, CIDRs ``ipaddress`` networks, port sets inclusive ``(lo, hi)`` ranges.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network

EPHEMERAL = (1024, 65535)
_TCP_NACL = {"-1", "6", "tcp", "all"}
_SPACE = {4: 1 << 32, 6: 1 << 128}
_NON_PUBLIC: dict[int, tuple[IPNet, ...]] = {
    4: tuple(
        ipaddress.ip_network(n)
        for n in ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                  "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
    ),
    # internet IPv6 clients are global unicast (2000::/3)
    6: tuple(ipaddress.ip_network(n) for n in ("::/3", "4000::/2", "8000::/1")),
}


def parse_net(cidr: Any, family: int) -> IPNet | None:
    if not isinstance(cidr, str):
        return None
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return net if net.version == family else None


def contains(net: IPNet, address: int) -> bool:
    return int(net.network_address) <= address <= int(net.broadcast_address)


def public_atoms(family: int, cuts: Iterable[IPNet]) -> list[int]:
    """One representative address per public atom of the address space."""
    blocked = _NON_PUBLIC[family]
    points = {0, _SPACE[family]}
    for net in (*cuts, *blocked):
        points.add(int(net.network_address))
        points.add(int(net.broadcast_address) + 1)
    starts = sorted(p for p in points if p < _SPACE[family])
    return [s for s in starts if not any(contains(b, s) for b in blocked)]


def longest_match(routes: Sequence[tuple[IPNet, Mapping[str, Any]]],
                  address: int) -> Mapping[str, Any] | None:
    best: tuple[int, Mapping[str, Any]] | None = None
    for net, route in routes:
        if contains(net, address) and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, route)
    return None if best is None else best[1]


def _nacl_tcp(entry: Mapping[str, Any]) -> bool:
    return str(entry.get("protocol", "")).lower() in _TCP_NACL


def port_range(lo: Any, hi: Any) -> tuple[int, int]:
    if lo is None or hi is None or int(lo) < 0:
        return (0, 65535)
    return (int(lo), int(hi))


@dataclass(frozen=True, slots=True)
class AclEntry:
    net: IPNet
    lo: int
    hi: int
    entry: Mapping[str, Any]


def acl_entries(entries: Iterable[Mapping[str, Any]], family: int) -> list[AclEntry]:
    """The TCP-relevant network-ACL entries of one address family, in rule-number order."""
    out = []
    for e in entries:
        net = parse_net(e.get("cidr"), family)
        if net is not None and _nacl_tcp(e):
            out.append(AclEntry(net, *port_range(e.get("port_from"), e.get("port_to")), e))
    return sorted(out, key=lambda x: int(x.entry.get("rule_number", 0)))


def first_match(entries: Sequence[AclEntry], client: int, port: int) -> Mapping[str, Any] | None:
    for e in entries:
        if e.lo <= port <= e.hi and contains(e.net, client):
            return e.entry
    return None


def return_match(entries: Sequence[AclEntry],
                 client: int) -> tuple[Mapping[str, Any] | None, tuple[int, int] | None]:
    """First match over the ephemeral range: (allowing rule, ports it passes) or (denier, None)."""
    remaining = [EPHEMERAL]
    denier: Mapping[str, Any] | None = None
    for e in entries:
        if not contains(e.net, client):
            continue
        hit = [(max(a, e.lo), min(b, e.hi)) for a, b in remaining if max(a, e.lo) <= min(b, e.hi)]
        if not hit:
            continue
        if e.entry.get("action") == "allow":
            return e.entry, hit[0]
        denier = denier or e.entry
        remaining = [piece for span in remaining for piece in _minus(span, (e.lo, e.hi))]
        if not remaining:
            break
    return denier, None


def _minus(span: tuple[int, int], cut: tuple[int, int]) -> list[tuple[int, int]]:
    a, b = span
    out = []
    if cut[0] > a:
        out.append((a, min(b, cut[0] - 1)))
    if cut[1] < b:
        out.append((max(a, cut[1] + 1), b))
    return [(x, y) for x, y in out if x <= y]
