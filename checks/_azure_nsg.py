"""Azure NSG semantics as pure functions: one rule, one NSG, both NSG levels.

* :func:`nsg_decision` - one NSG, one direction, one flow: rules in priority order (100-4096,
  then the default rules at 65000+), **first match wins**; no NSG = no filter.
* :func:`inbound` / :func:`outbound` - both NSG levels: inbound the subnet's NSG then the NIC's,
  outbound the NIC's then the subnet's; traffic passes only if every present NSG allows it.

Matching: ``*``/``Any``/``0.0.0.0/0``, the service tags ``Internet``, ``VirtualNetwork`` and
``AzureLoadBalancer`` (168.63.129.16), CIDRs and addresses, application security groups, port
ranges and lists. "An arbitrary internet client" (:data:`INTERNET`) is outside every specific
range: a rule matches it only through ``*``, ``Internet`` or a public CIDR of prefix length ≤ 8;
other service tags (``AzureCloud``, ``Storage``...) are specific ranges and do not match it.
Clients choose their source port, so an allow rule restricted to source ports still admits them
and such a deny rule never stops them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    out = []
    for layer, nsg in (("subnet", subnet_nsg), ("nic", nic_nsg)):
        decision = nsg_decision(nsg, "inbound", src, dst, port, protocol)
        out.append((layer, decision))
        if not decision.allowed:
            break
    return out


def outbound(
    nic_nsg: Asset | None,
    subnet_nsg: Asset | None,
    src: Peer,
    dst: Peer,
    port: int,
    protocol: str = "tcp",
) -> list[tuple[str, Decision]]:
    """Outbound: the NIC's NSG first, then the subnet's; stops at the first deny."""
    out = []
    for layer, nsg in (("nic", nic_nsg), ("subnet", subnet_nsg)):
        decision = nsg_decision(nsg, "outbound", src, dst, port, protocol)
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
