"""Azure NSG semantics as pure functions: one rule, one NSG, both NSG levels.

* :func:`nsg_decision` - one NSG, one direction, one flow: rules in priority order (100-4096,
  then the default rules at 65000+), **first match wins**; no NSG = no filter.
* :func:`inbound` / :func:`outbound` - both NSG levels: inbound the subnet's NSG then the NIC's,
  outbound the NIC's then the subnet's; traffic passes only if every present NSG allows it.

Matching: ``*``/``Any``/``0.0.0.0/0``, the service tags ``Internet``, ``VirtualNetwork`` and
``AzureLoadBalancer`` (168.63.129.16), CIDRs and addresses, application security groups, port
ranges and lists. Clients choose their source port, so an allow rule restricted to source ports
still admits them and such a deny rule never stops them.

Internet clients as a set (:func:`internet_admission`, :func:`internet_reach`): one NSG's
inbound walk starts from every address and goes through the rules by priority, first match per
address: a deny removes the addresses it matches from the undecided set, an allow admits them;
the default rules end the walk (``DenyAllInBound`` drops the rest). Sources: ``*``/``Any`` =
every address, ``Internet`` = the public space (:data:`posture.graph.intervals.PUBLIC`), a
CIDR = its range; ``VirtualNetwork``, ``AzureLoadBalancer`` (the platform's 168.63.129.16) and
ASGs = no internet client; other service tags (``AzureCloud``, ``Storage``...) are ranges that
are not collected, so the walk keeps two bounds - such an allow admits nothing and such a deny
drops everything in the lower bound, the reverse in the upper bound. Both NSG levels: the public
addresses both admit (no NSG admits everything); the port is open to the internet when that set
is wide (:func:`posture.graph.depth.wide`: at least 2^24 IPv4 or 2^112 IPv6 addresses, of the
family of the NIC's address), undecided when only the upper bound is. :data:`INTERNET` (one peer
with no address) is what :func:`prefix_matches` still answers for (firewall DNAT sources): it
matches ``*``, ``Internet`` and public CIDRs of prefix length ≤ 8 only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.graph.depth import wide
from posture.graph.intervals import EMPTY, FAMILIES, PUBLIC, IntervalSet, cidr_span, everything
from posture.model import Asset

AZURE_LB_IP = ipaddress.ip_address("168.63.129.16")
_WORLD = {"*", "any", "internet", "0.0.0.0/0", "::/0"}

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


def _default(
    name: str, priority: int, access: str, direction: str, src: str, dst: str
) -> dict[str, Any]:
    return {
        "name": name,
        "priority": priority,
        "access": access,
        "direction": direction,
        "protocol": "*",
        "source_prefixes": [src],
        "source_asg_ids": [],
        "source_ports": ["*"],
        "destination_prefixes": [dst],
        "destination_asg_ids": [],
        "destination_ports": ["*"],
        "default": True,
    }


DEFAULT_RULES = (
    _default("AllowVnetInBound", 65000, "allow", "inbound", "VirtualNetwork", "VirtualNetwork"),
    _default("AllowAzureLoadBalancerInBound", 65001, "allow", "inbound", "AzureLoadBalancer", "*"),
    _default("DenyAllInBound", 65500, "deny", "inbound", "*", "*"),
    _default("AllowVnetOutBound", 65000, "allow", "outbound", "VirtualNetwork", "VirtualNetwork"),
    _default("AllowInternetOutBound", 65001, "allow", "outbound", "*", "Internet"),
    _default("DenyAllOutBound", 65500, "deny", "outbound", "*", "*"),
)
"""Azure's fixed default rules, used when a payload does not list them."""


@dataclass(frozen=True, slots=True)
class Peer:
    """One end of a flow as NSG rules see it. ``address`` None = an arbitrary internet client."""

    address: IPAddr | None
    internet: bool = False
    virtual_network: bool = False
    asgs: frozenset[str] = frozenset()
    label: str = ""

    @classmethod
    def internet_client(cls) -> Peer:
        return cls(None, internet=True, label="Internet")


INTERNET = Peer.internet_client()


@dataclass(frozen=True, slots=True)
class Decision:
    """What one NSG (or the absence of one) does to a flow."""

    allowed: bool
    nsg: str | None  # uid, None = no NSG at this level
    rule: Mapping[str, Any] | None = None

    def evidence(self, layer: str) -> dict[str, Any]:
        if self.nsg is None:
            return {"layer": layer, "nsg": None, "effect": "no NSG (not filtered)"}
        rule = self.rule or {}
        return {
            "layer": layer,
            "nsg": self.nsg,
            "rule": rule.get("name"),
            "priority": rule.get("priority"),
            "access": "allow" if self.allowed else "deny",
            "default_rule": bool(rule.get("default")),
        }


# -- matching (pure) ----------------------------------------------------------------------------


def parse_ports(tokens: Iterable[Any]) -> tuple[tuple[int, int], ...]:
    out = []
    for token in tokens or ("*",):
        text = str(token).strip()
        if text in ("*", ""):
            out.append((0, 65535))
        elif "-" in text:
            lo, hi = text.split("-", 1)
            out.append((int(lo), int(hi)))
        else:
            out.append((int(text), int(text)))
    return tuple(out) or ((0, 65535),)


def port_matches(tokens: Iterable[Any], port: int) -> bool:
    return any(lo <= port <= hi for lo, hi in parse_ports(tokens))


def net_of(token: str) -> IPNet | None:
    try:
        return ipaddress.ip_network(token, strict=False)
    except ValueError:
        return None


def prefix_matches(token: str, peer: Peer) -> bool:
    t = token.strip().lower()
    if t in ("*", "any"):
        return True
    if t == "internet":
        return peer.internet
    if t == "virtualnetwork":
        return peer.virtual_network
    if t == "azureloadbalancer":
        return peer.address == AZURE_LB_IP
    net = net_of(t)
    if net is None:
        return False  # another service tag: a specific range, not collected
    if peer.address is None:  # an arbitrary internet client
        return peer.internet and not net.is_private and net.prefixlen <= 8
    return peer.address.version == net.version and peer.address in net


def side_matches(prefixes: Sequence[str], asgs: Sequence[str], peer: Peer) -> bool:
    if asgs:
        return bool(set(asgs) & peer.asgs)
    return any(prefix_matches(p, peer) for p in prefixes or ("*",))


def rule_matches(
    rule: Mapping[str, Any], direction: str, src: Peer, dst: Peer, port: int, protocol: str = "tcp"
) -> bool:
    if rule.get("direction") != direction:
        return False
    proto = str(rule.get("protocol") or "*").lower()
    if proto not in ("*", "any", protocol):
        return False
    if not port_matches(rule.get("destination_ports") or ("*",), port):
        return False
    if rule.get("access") == "deny" and not _all_ports(rule.get("source_ports")):
        return False  # the client picks another source port
    return side_matches(
        rule.get("source_prefixes") or (), rule.get("source_asg_ids") or (), src
    ) and side_matches(
        rule.get("destination_prefixes") or (), rule.get("destination_asg_ids") or (), dst
    )


def _all_ports(tokens: Any) -> bool:
    return parse_ports(tokens or ("*",)) == ((0, 65535),) or (0, 65535) in parse_ports(tokens)


def ordered_rules(nsg: Asset) -> list[Mapping[str, Any]]:
    """Custom rules by priority, then the default rules (listed, or Azure's fixed ones)."""
    custom = sorted(nsg.attr("rules") or (), key=lambda r: r.get("priority") or 0)
    defaults = nsg.attr("default_rules") or DEFAULT_RULES
    return [*custom, *sorted(defaults, key=lambda r: r.get("priority") or 0)]


def nsg_decision(
    nsg: Asset | None, direction: str, src: Peer, dst: Peer, port: int, protocol: str = "tcp"
) -> Decision:
    if nsg is None:
        return Decision(True, None)
    for rule in ordered_rules(nsg):
        if rule_matches(rule, direction, src, dst, port, protocol):
            return Decision(rule.get("access") == "allow", nsg.uid, rule)
    return Decision(False, nsg.uid)


def inbound(
    subnet_nsg: Asset | None,
    nic_nsg: Asset | None,
    src: Peer,
    dst: Peer,
    port: int,
    protocol: str = "tcp",
) -> list[tuple[str, Decision]]:
    """Inbound: the subnet's NSG first, then the NIC's; stops at the first deny."""
    levels = (("subnet", subnet_nsg), ("nic", nic_nsg))
    return _walk(levels, "inbound", src, dst, port, protocol)


def outbound(
    nic_nsg: Asset | None,
    subnet_nsg: Asset | None,
    src: Peer,
    dst: Peer,
    port: int,
    protocol: str = "tcp",
) -> list[tuple[str, Decision]]:
    """Outbound: the NIC's NSG first, then the subnet's; stops at the first deny."""
    levels = (("nic", nic_nsg), ("subnet", subnet_nsg))
    return _walk(levels, "outbound", src, dst, port, protocol)


def _walk(
    levels: Sequence[tuple[str, Asset | None]],
    direction: str,
    src: Peer,
    dst: Peer,
    port: int,
    protocol: str,
) -> list[tuple[str, Decision]]:
    """The decision of each NSG level in order, up to and including the first deny."""
    out = []
    for layer, nsg in levels:
        decision = nsg_decision(nsg, direction, src, dst, port, protocol)
        out.append((layer, decision))
        if not decision.allowed:
            break
    return out


def allowed(chain: Sequence[tuple[str, Decision]]) -> bool:
    return all(d.allowed for _, d in chain)


def world_wide(chain: Sequence[tuple[str, Decision]]) -> bool:
    """Whether every filtering NSG admitted the flow through a world-wide source."""
    return all(d.nsg is None or _is_world(d.rule) for _, d in chain)


def _is_world(rule: Mapping[str, Any] | None) -> bool:
    if rule is None or rule.get("source_asg_ids"):
        return False
    for token in rule.get("source_prefixes") or ("*",):
        t = str(token).lower()
        net = net_of(t)
        if t in _WORLD or (net is not None and not net.is_private and net.prefixlen <= 8):
            return True
    return False


# -- internet clients as address sets (pure) -----------------------------------------------------

Addresses = tuple[IntervalSet, IntervalSet]  # (IPv4, IPv6)
NOTHING: Addresses = (EMPTY, EMPTY)
ALL: Addresses = (everything(4), everything(6))
PUBLIC_SPACE: Addresses = (PUBLIC[4], PUBLIC[6])


def _union(a: Addresses, b: Addresses) -> Addresses:
    return (a[0] | b[0], a[1] | b[1])


def _inter(a: Addresses, b: Addresses) -> Addresses:
    return (a[0] & b[0], a[1] & b[1])


def _minus(a: Addresses, b: Addresses) -> Addresses:
    return (a[0] - b[0], a[1] - b[1])


def _size(a: Addresses) -> int:
    return a[0].size() + a[1].size()


def is_wide(a: Addresses, family: int | None = None) -> bool:
    """At least 2^24 public IPv4 or 2^112 global IPv6 addresses (of ``family`` if given)."""
    return any(
        wide(f, a[i] & PUBLIC[f]) for i, f in enumerate(FAMILIES) if family in (None, f)
    )


def flow_family(dst: Peer) -> int:
    """The address family of flows to ``dst`` (its private address; IPv4 if unknown)."""
    return dst.address.version if dst.address is not None else 4


def describe(a: Addresses, family: int | None = None) -> str:
    parts = [a[i].describe(f) for i, f in enumerate(FAMILIES) if a[i] and family in (None, f)]
    return "; ".join(parts) or "none"


def source_sets(rule: Mapping[str, Any]) -> tuple[Addresses, Addresses]:
    """(addresses the rule's source surely matches, addresses it may match): they differ by the
    service tags whose ranges are not collected (``AzureCloud``, ``Storage``...)."""
    if rule.get("source_asg_ids"):
        return NOTHING, NOTHING  # internet clients are in no application security group
    sure, maybe = NOTHING, NOTHING
    for token in rule.get("source_prefixes") or ("*",):
        t = str(token).strip().lower()
        if t in ("*", "any"):
            found: Addresses | None = ALL
        elif t == "internet":
            found = PUBLIC_SPACE
        elif t == "virtualnetwork":
            found = NOTHING  # the VNet's own (and peered) space: not an internet client
        elif t == "azureloadbalancer":
            found = NOTHING  # Azure's health probe address (168.63.129.16), not a client
        else:
            parsed = cidr_span(t)
            if parsed is None:
                found = None  # another service tag: some range, not collected
            else:
                family, span = parsed
                found = (span, EMPTY) if family == 4 else (EMPTY, span)
        if found is None:
            maybe = _union(maybe, PUBLIC_SPACE)
        else:
            sure, maybe = _union(sure, found), _union(maybe, found)
    return sure, maybe


@dataclass(frozen=True, slots=True)
class Admission:
    """What one NSG (or its absence) admits of the internet on one flow: two bounds."""

    nsg: str | None
    family: int  # the flow's address family: only its addresses count
    sure: Addresses  # admitted whatever the uncollected service tags hold
    maybe: Addresses  # admitted for some contents of those tags (a superset of ``sure``)
    allow_rule: Mapping[str, Any] | None = None  # the allow rule admitting the most addresses
    deny_rule: Mapping[str, Any] | None = None  # the rule turning away the most addresses
    allow_names: tuple[str, ...] = ()  # every allow rule admitting some public address

    @property
    def decided(self) -> bool:
        return self.sure == self.maybe

    def decision(self) -> Decision:
        """A :class:`Decision` for evidence: allowed when the NSG alone admits a wide set."""
        if self.nsg is None:
            return Decision(True, None)
        if is_wide(self.sure, self.family):
            return Decision(True, self.nsg, self.allow_rule)
        return Decision(False, self.nsg, self.deny_rule)


def internet_admission(
    nsg: Asset | None, dst: Peer, port: int, protocol: str = "tcp"
) -> Admission:
    """The inbound walk of one NSG over every source address (first match per address)."""
    family = flow_family(dst)
    if nsg is None:
        return Admission(None, family, ALL, ALL)
    rest_sure = rest_maybe = ALL  # still undecided in the lower / upper bound
    sure = maybe = NOTHING
    best_allow: tuple[int, Mapping[str, Any]] | None = None
    best_deny: tuple[int, Mapping[str, Any]] | None = None
    names: list[str] = []
    for rule in ordered_rules(nsg):
        if not _applies(rule, dst, port, protocol):
            continue
        surely, maybe_src = source_sets(rule)
        if rule.get("access") == "allow":
            taken = _inter(rest_sure, surely)
            sure = _union(sure, taken)
            maybe = _union(maybe, _inter(rest_maybe, maybe_src))
            rest_sure, rest_maybe = _minus(rest_sure, surely), _minus(rest_maybe, maybe_src)
            size = _size(_inter(taken, PUBLIC_SPACE))
            if size:
                names.append(str(rule.get("name")))
            if size and (best_allow is None or size > best_allow[0]):
                best_allow = (size, rule)
        else:
            taken = _inter(rest_sure, maybe_src)
            rest_sure, rest_maybe = _minus(rest_sure, maybe_src), _minus(rest_maybe, surely)
            size = _size(_inter(taken, PUBLIC_SPACE))
            if size and (best_deny is None or size > best_deny[0]):
                best_deny = (size, rule)
    return Admission(
        nsg.uid,
        family,
        sure,
        maybe,
        best_allow[1] if best_allow else None,
        best_deny[1] if best_deny else None,
        tuple(names),
    )


def _applies(rule: Mapping[str, Any], dst: Peer, port: int, protocol: str) -> bool:
    """Whether ``rule`` can match an inbound ``protocol/port`` flow to ``dst`` from some source."""
    anyone = Peer(None, internet=True, virtual_network=True)
    probe = {**rule, "source_prefixes": ["*"], "source_asg_ids": []}
    return rule_matches(probe, "inbound", anyone, dst, port, protocol)


@dataclass(frozen=True, slots=True)
class InternetReach:
    """Both NSG levels for internet clients: the public addresses both admit, and the verdict
    (True: a wide set, False: not wide, None: undecided - it depends on uncollected tags)."""

    subnet: Admission
    nic: Admission
    sure: Addresses
    maybe: Addresses

    @property
    def open(self) -> bool | None:
        family = self.subnet.family
        if is_wide(self.sure, family):
            return True
        return None if is_wide(self.maybe, family) else False

    def chain(self) -> list[tuple[str, Decision]]:
        """Per-level decisions for evidence (like :func:`inbound`: stops at the first deny)."""
        out = []
        for layer, admission in (("subnet", self.subnet), ("nic", self.nic)):
            decision = admission.decision()
            out.append((layer, decision))
            if not decision.allowed:
                break
        return out

    def admitted_text(self) -> str:
        return describe(self.sure, self.subnet.family)


def internet_reach(
    subnet_nsg: Asset | None, nic_nsg: Asset | None, dst: Peer, port: int, protocol: str = "tcp"
) -> InternetReach:
    subnet = internet_admission(subnet_nsg, dst, port, protocol)
    nic = internet_admission(nic_nsg, dst, port, protocol)
    return InternetReach(
        subnet,
        nic,
        _inter(_inter(subnet.sure, nic.sure), PUBLIC_SPACE),
        _inter(_inter(subnet.maybe, nic.maybe), PUBLIC_SPACE),
    )
