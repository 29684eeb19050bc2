"""GCP VPC firewall semantics as pure functions (interim, until the provider-neutral reachability
graph in ``posture/graph/`` takes GCP too).

The interface is small on purpose so the graph can call it as the "host filter" stage of a GCP
path: :class:`Rule` (one firewall rule), :class:`Nic` (one network interface of an instance:
network, tags, service accounts, external addresses) and :func:`internet_ingress`, which
answers "does some internet client reach ``protocol/port`` on this interface, and why (not)?".

Semantics (https://cloud.google.com/firewall/docs/firewalls):

- a rule applies to an interface when it is enabled, in the interface's network, of direction
  ``INGRESS``, and its targets match: no targets = every instance; ``target_tags`` = an instance
  with any of the tags; ``target_service_accounts`` = an instance running as one of them;
- among the applicable rules matching the packet (source range, protocol, port), the lowest
  priority number wins; on a tie a ``deny`` beats an ``allow``; nothing matches = the implied
  deny-ingress rule (priority 65535). Egress is implied-allow and not evaluated here;
- internet clients match only ``source_ranges`` (source tags and service accounts match traffic
  from instances inside the VPC); an ingress rule without any source means ``0.0.0.0/0``;
- an interface is addressable from the internet only through an external IP (an access config,
  or an IPv6 access config);
- ``35.235.240.0/20`` is Identity-Aware Proxy TCP forwarding: a rule admitting only it is the
  bastionless admin path, not internet exposure; ``130.211.0.0/22`` and ``35.191.0.0/16`` are
  Google's load-balancer proxies and health checks: traffic from them is load-balanced, not
  direct (exposure through a load balancer is a separate path).

Addresses are integer intervals: the public address space is cut at every CIDR boundary of the
applicable rules, and each atom is decided once, so "some internet client gets through" is exact
even when denies shadow parts of an allowed range.

Not modelled yet (documented in docs/gcp-assets.md): hierarchical and network firewall
policies, which can allow or deny before the VPC rules; routes (GCP delivers replies to
connections accepted on an external IP without a default route); exposure through load
balancers (forwarding rules and backend services are not collected yet).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from posture.model import Asset

IAP_RANGE = ipaddress.ip_network("35.235.240.0/20")
LB_RANGES = (ipaddress.ip_network("130.211.0.0/22"), ipaddress.ip_network("35.191.0.0/16"))
_WORLD = {4: "0.0.0.0/0", 6: "::/0"}
_GLOBAL6 = ipaddress.ip_network("2000::/3")
_NON_PUBLIC4 = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
    )
)
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp", "58": "ipv6-icmp"}
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


class Source(StrEnum):
    INTERNET = "internet"
    IAP = "iap"
    LOAD_BALANCER = "load-balancer"


class Reach(StrEnum):
    EXPOSED = "exposed"  # an internet client reaches the port on an external IP
    LATENT = "latent"  # the firewall admits internet clients but the interface has no external IP
    IAP_ONLY = "iap-only"  # only Identity-Aware Proxy reaches the port
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Rule:
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

    @classmethod
    def of(cls, fw: Asset) -> Rule:
        protocols = tuple(
            (
                _protocol(str(r.get("protocol", "all"))),
                tuple(_port_range(p) for p in r.get("ports") or ()),
            )
            for r in fw.attr("rules") or ()
        )
        return cls(
            uid=fw.uid,
            name=fw.name,
            network=fw.attr("network"),
            priority=int(fw.attr("priority", 1000)),
            direction=fw.attr("direction") or "INGRESS",
            action=fw.attr("action") or "allow",
            protocols=protocols,
            source_ranges=tuple(fw.attr("source_ranges") or ()),
            has_other_sources=bool(fw.attr("source_tags") or fw.attr("source_service_accounts")),
            target_tags=tuple(fw.attr("target_tags") or ()),
            target_service_accounts=tuple(fw.attr("target_service_accounts") or ()),
            disabled=bool(fw.attr("disabled")),
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
        for proto, ranges in self.protocols:
            if proto in ("all", protocol) and (
                not ranges or any(a <= port <= b for a, b in ranges)
            ):
                return True
        return False

    def sources(self, family: int) -> list[Net]:
        ranges = self.source_ranges or (() if self.has_other_sources else (_WORLD[4],))
        out = []
        for text in ranges:
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                continue
            if net.version == family:
                out.append(net)
        return out

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

    def external(self, family: int) -> bool:
        return self.has_external_ipv4 if family == 4 else self.has_external_ipv6


def nics_of(instance: Asset) -> list[Nic]:
    tags = tuple(instance.attr("network_tags") or ())
    sas = tuple(instance.attr("service_accounts") or ())
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
        )
        for n in instance.attr("network_interfaces") or ()
    ]


@dataclass(frozen=True, slots=True)
class Verdict:
    state: Reach
    protocol: str
    port: int
    family: int
    detail: str
    rule: Rule | None = None  # the allow rule that admits internet (or IAP) clients
    example_client: str | None = None
    shadowing: tuple[Rule, ...] = ()  # denies that beat allows for some internet clients

    def evidence(self, nic: Nic | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "protocol": self.protocol,
            "port": self.port,
            "family": f"ipv{self.family}",
            "state": self.state.value,
            "detail": self.detail,
        }
        if nic is not None:
            out["interface"] = nic.name
            out["network"] = nic.network
            out["external_ips"] = list(nic.external_ipv4 if self.family == 4 else nic.external_ipv6)
        if self.rule is not None:
            out["firewall_rule"] = self.rule.evidence()
        if self.example_client:
            out["example_client"] = self.example_client
        if self.shadowing:
            out["shadowed_by"] = [r.evidence() for r in self.shadowing]
        return out


def classify(address: int, family: int) -> Source | None:
    """The kind of source an address is, or None for non-public addresses."""
    ip = _ip(address, family)
    if family == 6:
        return Source.INTERNET if ip in _GLOBAL6 else None
    if any(ip in n for n in _NON_PUBLIC4):
        return None
    if ip in IAP_RANGE:
        return Source.IAP
    if any(ip in n for n in LB_RANGES):
        return Source.LOAD_BALANCER
    return Source.INTERNET


def decide(rules: Sequence[Rule], address: int, family: int) -> Rule | None:
    """The winning rule for a client address (lowest priority number, deny wins ties), or None
    for the implied deny."""
    ip = _ip(address, family)
    best: Rule | None = None
    for rule in rules:
        if not any(ip in net for net in rule.sources(family)):
            continue
        if best is None or (rule.priority, rule.action != "deny") < (
            best.priority,
            best.action != "deny",
        ):
            best = rule
    return best


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


def internet_ingress(
    rules: Sequence[Rule], nic: Nic, protocol: str, port: int, family: int = 4
) -> Verdict:
    """Whether an internet client reaches ``protocol/port`` on ``nic`` over IP ``family``."""
    applicable = [r for r in rules if r.applies_to(nic) and r.matches(protocol, port)]
    allowed: dict[Source, tuple[Rule, int]] = {}
    shadowing: dict[str, Rule] = {}
    nets = [n for r in applicable for n in r.sources(family)]
    for lo, _hi in atoms(family, nets):
        kind = classify(lo, family)
        if kind is None:
            continue
        winner = decide(applicable, lo, family)
        if winner is not None and winner.action == "allow":
            allowed.setdefault(kind, (winner, lo))
        elif winner is not None and kind is Source.INTERNET:
            losers = [
                r
                for r in applicable
                if r.action == "allow" and any(_ip(lo, family) in n for n in r.sources(family))
            ]
            if losers:
                shadowing.setdefault(winner.uid, winner)
    shadows = tuple(shadowing.values())
    if Source.INTERNET in allowed:
        rule, client = allowed[Source.INTERNET]
        example = str(_ip(client, family))
        if nic.external(family):
            return Verdict(
                Reach.EXPOSED,
                protocol,
                port,
                family,
                f"firewall rule {rule.name} admits internet clients",
                rule,
                example,
                shadows,
            )
        return Verdict(
            Reach.LATENT,
            protocol,
            port,
            family,
            f"firewall rule {rule.name} admits internet clients, but the interface "
            f"has no external IPv{family} address",
            rule,
            example,
            shadows,
        )
    if Source.IAP in allowed:  # IAP forwards to the internal address: no external IP needed
        rule = allowed[Source.IAP][0]
        return Verdict(
            Reach.IAP_ONLY,
            protocol,
            port,
            family,
            f"only Identity-Aware Proxy ({IAP_RANGE}) is admitted, by {rule.name}",
            rule,
            None,
            shadows,
        )
    if shadows:
        names = ", ".join(sorted(r.name for r in shadows))
        return Verdict(
            Reach.BLOCKED,
            protocol,
            port,
            family,
            f"deny rule(s) {names} take precedence over the allow rules",
            None,
            None,
            shadows,
        )
    return Verdict(
        Reach.BLOCKED,
        protocol,
        port,
        family,
        "no enabled ingress rule admits internet clients (implied deny)",
    )


def _ip(address: int, family: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(address) if family == 4 else ipaddress.IPv6Address(address)


def rules_by_network(firewalls: Iterable[Asset]) -> dict[str | None, list[Rule]]:
    out: dict[str | None, list[Rule]] = {}
    for fw in firewalls:
        rule = Rule.of(fw)
        out.setdefault(rule.network, []).append(rule)
    return out


def _protocol(text: str) -> str:
    text = text.lower()
    return _PROTOCOL_NUMBERS.get(text, text)


def _port_range(text: Any) -> tuple[int, int]:
    lo, _, hi = str(text).partition("-")
    return int(lo), int(hi or lo)


def rule_is_world_open(rule: Rule, protocol: str, port: int) -> bool:
    """Hygiene: an enabled ingress allow rule admitting ``0.0.0.0/0`` or ``::/0`` on the port."""
    if rule.disabled or rule.direction != "INGRESS" or rule.action != "allow":
        return False
    if not rule.matches(protocol, port):
        return False
    return any(n.prefixlen == 0 for fam in (4, 6) for n in rule.sources(fam))


def evidence_rules(rules: Sequence[Rule]) -> list[Mapping[str, Any]]:
    return [r.evidence() for r in rules]
