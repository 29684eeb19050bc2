"""Primitives of GCP firewall evaluation: address classes and intervals, protocol/port
matching, VPC firewall rules (:class:`VpcRule`), network interfaces (:class:`Nic`) and the stages of
an evaluation chain (:class:`Stage`). The evaluation itself is :mod:`posture.graph.gcp.reach`;
firewall-policy rules are :mod:`posture.graph.gcp.fwpolicy`."""

from __future__ import annotations

import functools
import ipaddress
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Protocol

from posture.model import Asset
from posture.net import ANYWHERE, GLOBAL_IPV6, NON_PUBLIC_IPV4, WIDE

IAP_RANGE = ipaddress.ip_network("35.235.240.0/20")
LB_RANGES = (ipaddress.ip_network("130.211.0.0/22"), ipaddress.ip_network("35.191.0.0/16"))
_GLOBAL6 = ipaddress.ip_network(GLOBAL_IPV6)
# Not internet clients (as on AWS and Azure): posture.net.NON_PUBLIC_IPV4.
_NON_PUBLIC4 = tuple(ipaddress.ip_network(n) for n in NON_PUBLIC_IPV4)
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp", "58": "ipv6-icmp"}
Net = ipaddress.IPv4Network | ipaddress.IPv6Network
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class Source(StrEnum):
    INTERNET = "internet"
    IAP = "iap"
    LOAD_BALANCER = "load-balancer"


class Origin(StrEnum):
    """Where a packet comes from, as firewall-policy network contexts see it."""

    INTERNET = "internet"  # a client on the internet
    GOOGLE = "google"  # Google front ends, health checks, IAP
    VPC = "vpc"  # an address inside the VPC (proxy-only subnets)



class Tri(IntEnum):
    """A three-valued match: ``min`` is AND, ``max`` is OR."""

    NO = 0
    MAYBE = 1
    YES = 2


class FirewallRule(Protocol):
    """What the chain walk needs of a rule (VPC rule or firewall-policy rule)."""

    @property
    def uid(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def action(self) -> str: ...
    def static_match(self, nic: Nic, protocol: str, port: int) -> tuple[Tri, str | None]: ...
    def source_match(self, address: int, family: int, origin: Origin) -> tuple[Tri, str | None]:
        """Whether a packet from ``address`` (an atom: never straddles a rule's ranges)
        matches the rule's sources."""
        ...

    def nets(self, family: int) -> list[Net]: ...
    def evidence(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class VpcRule:
    """One VPC firewall rule."""

    uid: str
    name: str
    network: str | None
    priority: int
    direction: str
    action: str  # allow / deny
    protocols: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]  # () ports = all ports
    source_ranges: tuple[str, ...]
    has_other_sources: bool  # source tags / service accounts
    target_tags: tuple[str, ...]
    target_service_accounts: tuple[str, ...]
    disabled: bool
    destination_ranges: tuple[str, ...] = ()

    @classmethod
    def of(cls, fw: Asset) -> VpcRule:
        return cls(
            uid=fw.uid,
            name=fw.name,
            network=fw.attr("network"),
            priority=int(fw.attr("priority", 1000)),
            direction=fw.attr("direction") or "INGRESS",
            action=fw.attr("action") or "allow",
            protocols=protocols_of(fw.attr("rules") or ()),
            source_ranges=tuple(fw.attr("source_ranges") or ()),
            has_other_sources=bool(fw.attr("source_tags") or fw.attr("source_service_accounts")),
            target_tags=tuple(fw.attr("target_tags") or ()),
            target_service_accounts=tuple(fw.attr("target_service_accounts") or ()),
            disabled=bool(fw.attr("disabled")),
            destination_ranges=tuple(fw.attr("destination_ranges") or ()),
        )

    def applies_to(self, nic: Nic) -> bool:
        if self.disabled or self.direction != "INGRESS" or self.network != nic.network:
            return False
        if self.target_tags:
            return bool(set(self.target_tags) & set(nic.tags))
        if self.target_service_accounts:
            return bool(set(self.target_service_accounts) & set(nic.service_accounts))
        return True

    def matches(self, protocol: str, port: int) -> bool:
        return ports_match(self.protocols, protocol, port)

    def static_match(self, nic: Nic, protocol: str, port: int) -> tuple[Tri, str | None]:
        if not (self.applies_to(nic) and self.matches(protocol, port)):
            return Tri.NO, None
        if self.destination_ranges:
            return Tri.MAYBE, f"{self.name} restricts ingress destination ranges"
        return Tri.YES, None

    def sources(self, family: int) -> list[Net]:
        ranges = self.source_ranges or (() if self.has_other_sources else (ANYWHERE[4],))
        return parse_nets(ranges, family)

    def nets(self, family: int) -> list[Net]:
        return self.sources(family)

    def source_match(self, address: int, family: int, origin: Origin) -> tuple[Tri, str | None]:
        ranges = self.source_ranges or (() if self.has_other_sources else (ANYWHERE[4],))
        return (Tri.YES if in_ranges(address, ranges, family) else Tri.NO), None

    def evidence(self) -> dict[str, Any]:
        return {
            "firewall": self.name,
            "uid": self.uid,
            "priority": self.priority,
            "action": self.action,
            "source_ranges": list(self.source_ranges),
        }


@dataclass(frozen=True, slots=True)
class Nic:
    """One network interface of an instance, as the firewall sees it."""

    network: str | None
    tags: tuple[str, ...]
    service_accounts: tuple[str, ...]
    has_external_ipv4: bool
    external_ipv4: tuple[str, ...] = ()
    has_external_ipv6: bool = False
    external_ipv6: tuple[str, ...] = ()
    name: str | None = None
    region: str | None = None

    def external(self, family: int) -> bool:
        return self.has_external_ipv4 if family == 4 else self.has_external_ipv6


def region_of_zone(zone: str | None) -> str | None:
    return zone.rsplit("-", 1)[0] if zone and zone.count("-") >= 2 else zone


def nics_of(instance: Asset) -> list[Nic]:
    tags = tuple(instance.attr("network_tags") or ())
    sas = tuple(instance.attr("service_accounts") or ())
    region = region_of_zone(instance.attr("zone") or instance.region)
    return [
        Nic(
            n.get("network"),
            tags,
            sas,
            bool(n.get("has_external_ipv4")),
            tuple(n.get("external_ipv4") or ()),
            bool(n.get("has_external_ipv6")),
            tuple(n.get("external_ipv6") or ()),
            n.get("name"),
            region,
        )
        for n in instance.attr("network_interfaces") or ()
    ]


@dataclass(frozen=True, slots=True)
class Stage:
    """One level of the evaluation: its rules in evaluation order, or unknown content."""

    kind: str  # hierarchy / system / vpc / network / network-regional
    label: str
    rules: tuple[FirewallRule, ...] = ()
    known: bool = True
    reason: str | None = None  # why an unknown stage is unknown

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stage": self.kind, "label": self.label}
        if not self.known:
            out["unknown"] = self.reason
        return out


Chain = tuple[Stage, ...]


def vpc_stage(rules: Iterable[VpcRule]) -> Stage:
    ordered = sorted(rules, key=lambda r: (r.priority, r.action != "deny", r.name))
    return Stage("vpc", "VPC firewall rules", tuple(ordered))


def classify(address: int, family: int) -> Source | None:
    """The kind of source an address is, or None for non-public addresses."""
    if family == 6:
        lo, hi = span(_GLOBAL6)
        return Source.INTERNET if lo <= address <= hi else None
    if any(a <= address <= b for a, b in _NON_PUBLIC4_SPANS):
        return None
    if _IAP_SPAN[0] <= address <= _IAP_SPAN[1]:
        return Source.IAP
    if any(a <= address <= b for a, b in _LB_SPANS):
        return Source.LOAD_BALANCER
    return Source.INTERNET


def wideness(sure: int, maybe: int, family: int) -> Tri:
    """Whether clients add up to the wide internet (:data:`WIDE`, shared with AWS and the
    defense depth: a /8 worth of public IPv4 addresses, a /16 worth of global IPv6): YES when
    the ``sure`` addresses do, MAYBE when the ``maybe`` ones could make up the difference."""
    if sure >= WIDE[family]:
        return Tri.YES
    return Tri.MAYBE if sure + maybe >= WIDE[family] else Tri.NO


def span(net: Net) -> tuple[int, int]:
    return int(net.network_address), int(net.broadcast_address)


_NON_PUBLIC4_SPANS = tuple(span(n) for n in _NON_PUBLIC4)
_IAP_SPAN = span(IAP_RANGE)
_LB_SPANS = tuple(span(n) for n in LB_RANGES)


def in_ranges(address: int, ranges: tuple[str, ...], family: int) -> bool:
    return any(a <= address <= b for a, b in _spans(ranges, family))


@functools.lru_cache(maxsize=65536)
def _spans(ranges: tuple[str, ...], family: int) -> tuple[tuple[int, int], ...]:
    return tuple(span(n) for n in _parse_nets(ranges, family))


def atoms(family: int, nets: Iterable[Net]) -> list[tuple[int, int]]:
    """The address space cut at every boundary of ``nets`` and of the special ranges."""
    top = 2**32 if family == 4 else 2**128
    cuts = {0, top}
    specials: list[Net] = [*_NON_PUBLIC4, IAP_RANGE, *LB_RANGES] if family == 4 else [_GLOBAL6]
    for net in [*nets, *specials]:
        if net.version == family:
            cuts.add(int(net.network_address))
            cuts.add(int(net.broadcast_address) + 1)
    points = sorted(cuts)
    return [(a, b - 1) for a, b in itertools.pairwise(points)]


def to_ip(address: int, family: int) -> IP:
    return ipaddress.IPv4Address(address) if family == 4 else ipaddress.IPv6Address(address)


def rules_by_network(firewalls: Iterable[Asset]) -> dict[str | None, list[VpcRule]]:
    out: dict[str | None, list[VpcRule]] = {}
    for fw in firewalls:
        rule = VpcRule.of(fw)
        out.setdefault(rule.network, []).append(rule)
    return out


def parse_nets(ranges: Iterable[str], family: int) -> list[Net]:
    return list(_parse_nets(tuple(ranges), family))


@functools.lru_cache(maxsize=65536)
def _parse_nets(ranges: tuple[str, ...], family: int) -> tuple[Net, ...]:
    out = []
    for text in ranges:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        if net.version == family:
            out.append(net)
    return tuple(out)


def protocols_of(
    entries: Iterable[Mapping[str, Any]],
) -> tuple[tuple[str, tuple[tuple[int, int], ...]], ...]:
    """``[{protocol, ports}]`` (normalized rules / layer-4 configs) as matchable tuples."""
    out = []
    for r in entries:
        ranges = []
        for p in r.get("ports") or ():
            parsed = _port_range(p)
            if parsed is not None:
                ranges.append(parsed)
        out.append((_protocol(str(r.get("protocol", "all"))), tuple(ranges)))
    return tuple(out)


def ports_match(
    protocols: Sequence[tuple[str, tuple[tuple[int, int], ...]]], protocol: str, port: int
) -> bool:
    for proto, ranges in protocols:
        if proto in ("all", protocol) and (not ranges or any(a <= port <= b for a, b in ranges)):
            return True
    return False


def _protocol(text: str) -> str:
    text = text.lower()
    return _PROTOCOL_NUMBERS.get(text, text)


def _port_range(text: Any) -> tuple[int, int] | None:
    lo, _, hi = str(text).partition("-")
    try:
        return int(lo), int(hi or lo)
    except ValueError:
        return None


def rule_is_world_open(rule: VpcRule, protocol: str, port: int) -> bool:
    """Hygiene: an enabled ingress allow rule admitting ``0.0.0.0/0`` or ``::/0`` on the port."""
    if rule.disabled or rule.direction != "INGRESS" or rule.action != "allow":
        return False
    if not rule.matches(protocol, port):
        return False
    return any(n.prefixlen == 0 for fam in (4, 6) for n in rule.sources(fam))


def evidence_rules(rules: Sequence[VpcRule]) -> list[Mapping[str, Any]]:
    return [r.evidence() for r in rules]

