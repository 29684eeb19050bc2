"""VPC routes on the reply path: does a reply from an instance to an internet client leave
through the default internet gateway?

Every packet leaving a VM - a reply to an inbound connection included - is delivered by the
network's routing table (https://cloud.google.com/vpc/docs/routes): a client that reached an
external IP (or a passthrough network load balancer, whose backends answer the client directly)
gets its replies only if the route chosen for the *client's* address has the next hop
``default-internet-gateway``. The replies to Google's front ends, health checks and
Identity-Aware Proxy use special return paths outside the routing table (proxy load balancers
and IAP need no route).

Route selection, per destination address: the routes of the interface's network that apply to
the instance (no ``tags``, or a tag the instance has), the most specific destination first, then
the lowest priority number; equally good routes with different next hops share the traffic
(ECMP): if one of them is the internet gateway the address counts as routed (the conservative
reading). Subnet and peering routes are listed by ``routes.list`` and take part like the others.
Dynamic (Cloud Router) and policy-based routes are not collected.

A network's routing table is:

- *known* when some route of the network is in the inventory (``routes.list`` returns the
  subnet routes of every network, so a network with instances always has some);
- *unknown* when the routes listing of the network's project failed: a verdict that depends on
  it is undecided;
- *assumed* otherwise (a Shared VPC host project that is not scanned, an inventory without
  routes): the system-generated default route to the internet gateway is assumed, as before
  routes were read - the direction that can only overstate exposure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.graph.gcp.fw import WIDE, Net, Nic, Source, Tri, atoms, classify, span
from posture.model import Inventory

ROUTE = "compute.googleapis.com/Route"
KNOWN, ASSUMED, UNKNOWN = "known", "assumed", "unknown"
ANYWHERE = {4: "0.0.0.0/0", 6: "::/0"}


@dataclass(frozen=True, slots=True)
class RouteEntry:
    name: str
    uid: str
    network: str
    dest: Net
    priority: int
    tags: tuple[str, ...]
    hop_kind: str
    hop: str | None

    @property
    def internet(self) -> bool:
        return self.hop_kind == "internet_gateway"

    def applies(self, tags: Iterable[str]) -> bool:
        return not self.tags or bool(set(self.tags) & set(tags))

    def text(self) -> str:
        hop = "default-internet-gateway" if self.internet else (self.hop or self.hop_kind)
        hop = str(hop).rsplit("/", 1)[-1] if "/" in str(hop) else str(hop)
        tags = f", tags {', '.join(self.tags)}" if self.tags else ""
        return f"{self.name}: {self.dest} -> {hop} (priority {self.priority}{tags})"

    def evidence(self) -> dict[str, Any]:
        return {
            "route": self.name,
            "uid": self.uid,
            "dest_range": str(self.dest),
            "priority": self.priority,
            "tags": list(self.tags),
            "next_hop_kind": self.hop_kind,
            "next_hop": self.hop,
        }


Segment = tuple[int, int, RouteEntry | None, bool]  # lo, hi, chosen route, to the internet


@dataclass(frozen=True, slots=True)
class RouteTable:
    """The routes one interface's replies follow over one IP family."""

    network: str | None
    family: int
    state: str  # known / assumed / unknown
    reason: str = ""
    segments: tuple[Segment, ...] = ()

    @property
    def everywhere(self) -> bool:
        """Every internet address is routed to the internet gateway (or assumed to be)."""
        if self.state == ASSUMED:
            return True
        return self.state == KNOWN and all(s[3] for s in self._internet())

    def routed(self, lo: int, hi: int) -> Tri:
        """Whether some address of ``lo..hi`` is routed to the internet gateway."""
        if self.state == ASSUMED:
            return Tri.YES
        if self.state == UNKNOWN:
            return Tri.MAYBE
        for a, b, _route, to in self.segments:
            if to and a <= hi and lo <= b:
                return Tri.YES
        return Tri.NO

    def split(self, lo: int, hi: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The parts of ``lo..hi`` routed to the internet gateway: (for sure, possibly)."""
        if self.state == ASSUMED:
            return [(lo, hi)], []
        if self.state == UNKNOWN:
            return [], [(lo, hi)]
        return [
            (max(a, lo), min(b, hi)) for a, b, _route, to in self.segments
            if to and a <= hi and lo <= b
        ], []

    def _internet(self) -> list[Segment]:
        return [s for s in self.segments if classify(s[0], self.family) is Source.INTERNET]

    def routes_any_internet(self) -> Tri:
        if self.state != KNOWN:
            return Tri.YES if self.state == ASSUMED else Tri.MAYBE
        return Tri.YES if any(to for *_x, to in self._internet()) else Tri.NO

    def routes_wide_internet(self) -> bool:
        """The replies to the wide internet (:data:`WIDE`) leave through the gateway (known
        tables; an assumed table does)."""
        if self.state != KNOWN:
            return self.state == ASSUMED
        routed = sum(b - a + 1 for a, b, _r, to in self._internet() if to)
        return routed >= WIDE[self.family]

    def deciding(self, routed: bool) -> tuple[str, RouteEntry | None]:
        """The widest internet range that is (``routed``) or is not sent to the internet
        gateway, and the route that decides for it (None: no route covers it)."""
        pieces = [s for s in self._internet() if s[3] is routed]
        if not pieces:
            return "", None
        lo, hi, route, _to = max(pieces, key=lambda s: (s[1] - s[0], -s[0]))
        first = next(ipaddress.summarize_address_range(_ip(lo, self.family), _ip(hi, self.family)))
        return str(first), route


def _ip(value: int, family: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)


def _segments(routes: Iterable[RouteEntry], family: int) -> tuple[Segment, ...]:
    """The address space cut at every route boundary and special range (so that each segment
    is of one kind: internet or not), with the route chosen for it."""
    mine = [(r, *span(r.dest)) for r in routes if r.dest.version == family]
    out: list[Segment] = []
    for a, b in atoms(family, [r.dest for r, _lo, _hi in mine]):
        covering = [r for r, lo, hi in mine if lo <= a <= hi]
        if not covering:
            out.append((a, b, None, False))
            continue
        best_len = max(r.dest.prefixlen for r in covering)
        best = [r for r in covering if r.dest.prefixlen == best_len]
        best_prio = min(r.priority for r in best)
        tied = sorted((r for r in best if r.priority == best_prio), key=lambda r: r.name)
        chosen = next((r for r in tied if r.internet), tied[0])
        out.append((a, b, chosen, chosen.internet))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RouteIndex:
    """The routes of the inventory by network, and the projects whose listing failed."""

    by_network: Mapping[str, tuple[RouteEntry, ...]]
    failed: frozenset[str]
    tables: dict[tuple[Any, ...], RouteTable] = field(default_factory=dict)

    @classmethod
    def of(cls, inv: Inventory) -> RouteIndex:
        by_network: dict[str, list[RouteEntry]] = {}
        for a in inv.of(ROUTE):
            try:
                dest = ipaddress.ip_network(str(a.attr("dest_range")), strict=False)
            except ValueError:
                continue
            network = str(a.attr("network"))
            by_network.setdefault(network, []).append(
                RouteEntry(
                    a.name,
                    a.uid,
                    network,
                    dest,
                    int(a.attr("priority", 1000)),
                    tuple(a.attr("tags") or ()),
                    str(a.attr("next_hop_kind") or "other"),
                    a.attr("next_hop"),
                )
            )
        failed = frozenset(
            e.account
            for e in inv.errors
            if e.resource_uid is None
            and e.asset_types != ("*",)
            and e.affects_types([f"{ROUTE}#listing"])
        )
        ordered = {k: tuple(sorted(v, key=lambda r: r.uid)) for k, v in by_network.items()}
        return cls(ordered, failed)

    def table(self, nic: Nic, family: int) -> RouteTable:
        """The routing table ``nic``'s replies follow (the instance's tags select routes)."""
        network = str(nic.network)
        tags = tuple(sorted(set(nic.tags)))
        key = (network, family, tags)
        found = self.tables.get(key)
        if found is None:
            found = self.tables[key] = self._table(network, family, tags)
        return found

    def _table(self, network: str, family: int, tags: tuple[str, ...]) -> RouteTable:
        parts = network.split("/")
        owner = parts[1] if len(parts) > 1 and parts[0] == "projects" else None
        if owner in self.failed:
            return RouteTable(
                network, family, UNKNOWN, f"the routes of project {owner} could not be listed"
            )
        routes = self.by_network.get(network)
        if routes is None:
            return RouteTable(
                network,
                family,
                ASSUMED,
                f"the routes of network {network.rsplit('/', 1)[-1]} are not in the inventory: "
                "the system-generated default route to the internet gateway is assumed",
            )
        mine = [r for r in routes if r.applies(tags)]
        return RouteTable(network, family, KNOWN, "", _segments(mine, family))


def route_change(network: str | None, family: int) -> str:
    name = str(network).rsplit("/", 1)[-1]
    return (
        f"create a route {ANYWHERE[family]} -> default-internet-gateway in network {name} "
        "ahead of every route that captures internet addresses (restore the default route)"
    )


__all__ = ["ANYWHERE", "ROUTE", "RouteEntry", "RouteIndex", "RouteTable", "route_change"]
