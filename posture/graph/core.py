"""The provider-neutral core: rules, filters, routes, hops and paths.

A provider adapter (``posture.graph.aws.reach``; Azure and GCP later) translates its inventory into
these types; :mod:`posture.graph.paths` evaluates them. Nothing here knows a provider's names.

* :class:`Rule` - one filter entry: allow/deny, protocol, port set, peer addresses per family,
  peer *groups* (membership references such as AWS security groups or Azure ASGs) and ``ref``,
  the evidence naming the rule.
* :class:`Filter` - an ordered first-match list (AWS network ACL, Azure NSG, GCP firewall with
  deny-before-allow at equal priority) or an allow-list union (AWS security groups), stateful or
  stateless, applied at a network boundary (skipped inside one network) or at the host.
* :class:`Route` - one route; :func:`lpm` splits an address set by longest-prefix match.
* :class:`Hop` / :class:`Path` - the explanation: every hop names the rule that admitted it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from posture.graph.intervals import (
    ALL_PORTS,
    EMPTY,
    EPHEMERAL,
    IntervalSet,
    everything,
    format_address,
)

ANY_PROTOCOL = "all"
PORTED = ("tcp", "udp")


class Action(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class Mode(StrEnum):
    FIRST_MATCH = "first-match"  # ordered; the first rule matching the packet decides
    UNION = "union"  # allow-list: admitted if any rule admits


class Boundary(StrEnum):
    NETWORK = "network"  # evaluated when traffic crosses into/out of the network (subnet)
    HOST = "host"  # evaluated at the interface


class Direction(StrEnum):
    IN = "inbound"
    OUT = "outbound"


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    protocol: str  # ANY_PROTOCOL or a protocol key ("tcp", "udp", "icmp", "icmpv6", "47", ...)
    ports: IntervalSet  # tcp/udp ports, ICMP types; ALL_PORTS when the rule has no range
    peers: Mapping[int, IntervalSet]  # family -> peer addresses
    groups: frozenset[str] = frozenset()  # peers admitted by membership
    ref: Mapping[str, Any] = field(default_factory=dict)
    unresolved: str | None = None  # a peer reference that could not be resolved

    def covers(self, protocol: str, port: int) -> bool:
        if self.protocol == ANY_PROTOCOL:
            return True
        return self.protocol == protocol and port in self.ports

    def peer_set(self, family: int, groups: frozenset[str]) -> IntervalSet:
        if self.groups and groups and not self.groups.isdisjoint(groups):
            return everything(family)
        return self.peers.get(family, EMPTY)


@dataclass(frozen=True, slots=True)
class Admission:
    """Which peer addresses a filter admits for one (direction, family, protocol, port)."""

    allowed: tuple[tuple[IntervalSet, Rule], ...]
    denied: tuple[tuple[IntervalSet, Rule | None], ...]  # None = implicit deny
    unresolved: tuple[Rule, ...] = ()

    @property
    def addresses(self) -> IntervalSet:
        out = EMPTY
        for piece, _ in self.allowed:
            out = out | piece
        return out

    def rule_for(self, address: int) -> Rule | None:
        for piece, rule in self.allowed:
            if address in piece:
                return rule
        return None

    def denier_for(self, address: int) -> tuple[bool, Rule | None]:
        """(found, rule) of the deny that covers ``address`` (rule None = implicit deny)."""
        for piece, rule in self.denied:
            if address in piece:
                return True, rule
        return False, None


@dataclass(frozen=True, slots=True)
class Filter:
    id: str
    kind: str  # layer name shown in paths, e.g. "network-acl", "security-group"
    mode: Mode
    stateful: bool
    boundary: Boundary
    inbound: tuple[Rule, ...]
    outbound: tuple[Rule, ...]
    memo: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.inbound if direction is Direction.IN else self.outbound

    def admit(
        self,
        direction: Direction,
        family: int,
        protocol: str,
        port: int,
        groups: frozenset[str] = frozenset(),
    ) -> Admission:
        key = (direction, family, protocol, port, groups)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._admit(direction, family, protocol, port, groups)
        return found

    def _admit(
        self,
        direction: Direction,
        family: int,
        protocol: str,
        port: int,
        groups: frozenset[str],
    ) -> Admission:
        rules = [r for r in self.rules(direction) if r.covers(protocol, port)]
        unresolved = tuple(r for r in rules if r.unresolved)
        if self.mode is Mode.UNION:
            allowed = []
            for r in rules:
                piece = r.peer_set(family, groups)
                if piece and r.action is Action.ALLOW:
                    allowed.append((piece, r))
            return Admission(tuple(allowed), (), unresolved)
        remaining = everything(family)
        allow: list[tuple[IntervalSet, Rule]] = []
        deny: list[tuple[IntervalSet, Rule | None]] = []
        for r in rules:
            peers = r.peer_set(family, groups)
            piece = remaining & peers
            if piece:
                (allow if r.action is Action.ALLOW else deny).append((piece, r))
                remaining = remaining - peers
                if not remaining:
                    break
        if remaining:
            deny.append((remaining, None))
        return Admission(tuple(allow), tuple(deny), unresolved)

    def port_cuts(self, direction: Direction, protocol: str) -> set[int]:
        cuts: set[int] = set()
        for r in self.rules(direction):
            if r.protocol == protocol:
                cuts |= r.ports.cuts()
        return cuts

    def returnable(
        self,
        direction: Direction,
        family: int,
        protocol: str,
        groups: frozenset[str] = frozenset(),
    ) -> list[tuple[int, Admission]]:
        """Per representative reply port: the peers a stateless filter lets replies reach.

        Replies of tcp/udp go to the client's ephemeral port (1024-65535): a peer is served if
        *some* ephemeral port is admitted. Other protocols: any port/type of the protocol.
        """
        key = ("return", direction, family, protocol, groups)
        found = self.memo.get(key)
        if found is None:
            ports = EPHEMERAL if protocol in PORTED else ALL_PORTS
            cuts = self.port_cuts(direction, protocol)
            found = self.memo[key] = [
                (p, self.admit(direction, family, protocol, p, groups))
                for p in representatives(ports, cuts)
            ]
        return found


def representatives(ports: IntervalSet, cuts: Iterable[int]) -> list[int]:
    """One port per atom of ``ports`` cut at ``cuts``."""
    points = sorted(ports.cuts() | {c for c in cuts if c in ports})
    return [p for p in points if p in ports]


@dataclass(frozen=True, slots=True)
class Route:
    family: int
    dest: IntervalSet
    prefixlen: int
    target_kind: str
    target_id: str
    active: bool
    ref: Mapping[str, Any] = field(default_factory=dict)


def lpm(
    routes: Sequence[Route], family: int, within: IntervalSet
) -> list[tuple[IntervalSet, Route | None]]:
    """Split ``within`` by longest-prefix match over ``routes`` (None: no route matches)."""
    remaining = within
    out: list[tuple[IntervalSet, Route | None]] = []
    for r in sorted((r for r in routes if r.family == family), key=lambda r: -r.prefixlen):
        piece = remaining & r.dest
        if piece:
            out.append((piece, r))
            remaining = remaining - r.dest
            if not remaining:
                break
    if remaining:
        out.append((remaining, None))
    return out


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a path and the rule (or resource) that admitted it."""

    kind: str
    id: str
    detail: str = ""
    rule: Mapping[str, Any] | None = None

    def label(self) -> str:
        return f"{self.kind} {self.id}" + (f" [{self.detail}]" if self.detail else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "id": self.id}
        if self.detail:
            out["detail"] = self.detail
        if self.rule is not None:
            out["rule"] = dict(self.rule)
        return out


@dataclass(frozen=True, slots=True)
class Path:
    source: str
    target: str
    protocol: str
    port: int
    family: int
    hops: tuple[Hop, ...]

    def text(self) -> str:
        return " -> ".join(h.label() for h in self.hops)

    def at(self, interface: str, address: str | None, asset: str, asset_type: str) -> Path:
        """The same path ending on one member of the class: its interface, then the asset."""
        hops: list[Hop] = []
        for h in self.hops:
            if h.kind == "interface":
                hops.append(Hop("interface", interface, address or h.detail))
                hops.append(Hop("asset", asset, asset_type))
            else:
                hops.append(h)
        return Path(self.source, asset, self.protocol, self.port, self.family, tuple(hops))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "protocol": self.protocol,
            "port": self.port,
            "family": f"ipv{self.family}",
            "summary": self.text(),
            "hops": [h.to_dict() for h in self.hops],
        }


def rule_hop(flt: Filter, rule: Rule | None, direction: Direction, note: str = "") -> Hop:
    kind = flt.kind if not note else f"{flt.kind} ({note})"
    if rule is None:
        return Hop(kind, flt.id, f"{direction.value}: no rule (implicit)", None)
    return Hop(kind, flt.id, f"{direction.value}: {describe_rule(rule)}", rule.ref)


def describe_rule(rule: Rule) -> str:
    ref = rule.ref
    head = f"rule {ref['rule_number']} " if "rule_number" in ref else ""
    owner = f"{ref['group']} " if "group" in ref else ""
    what = rule.protocol if rule.protocol != ANY_PROTOCOL else "all traffic"
    if rule.protocol != ANY_PROTOCOL and rule.ports != ALL_PORTS:
        what += f"/{rule.ports.describe()}"
    source = ref.get("peer") or "?"
    return f"{owner}{head}{rule.action.value} {what} {ref.get('peer_word', 'from')} {source}"


def client_text(family: int, value: int) -> str:
    return format_address(family, value)
