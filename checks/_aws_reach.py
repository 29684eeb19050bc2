"""Interim internet-reachability path test for AWS hosts (until the reachability graph lands).

A host is reported reachable on a TCP port only if every layer of a real path lets an internet
client through:

1. **address** - the interface has a public IPv4 address (or a global IPv6 address);
2. **route** - the subnet's route table (explicit association, else the VPC's main table)
   sends the client's address, by longest-prefix match, to an internet gateway over an
   *active* route (so the replies can leave; a blackhole or more specific route breaks it);
3. **nacl-inbound** - the subnet's network ACL admits ``tcp/port`` from the client (entries in
   rule-number order, first match wins, implicit deny);
4. **nacl-outbound** - the same ACL lets the replies out to the client on at least one
   ephemeral port 1024-65535 (ACLs are stateless);
5. **security-group** - the interface's security groups together admit ``tcp/port`` from the
   whole internet: ``0.0.0.0/0`` / ``::/0`` (or CIDRs / prefix lists whose union is that).

Client addresses are integer intervals: the public address space is cut into atoms at every
CIDR boundary of the routes and ACL entries, and each atom is evaluated once, so "some internet
client gets through" is decided exactly. Results are cached per (subnet, family, port).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from posture.checks._aws_ipspace import (
    IPNet,
    acl_entries,
    first_match,
    longest_match,
    parse_net,
    port_range,
    public_atoms,
    return_match,
)

from posture.model import Asset, Inventory

_WORLD = {4: "0.0.0.0/0", 6: "::/0"}
_GLOBAL6 = ipaddress.ip_network("2000::/3")
_TCP_SG = {"-1", "6", "tcp", "all"}
_DEAD_STATES = {"terminated", "shutting-down"}

ROUTE_TABLE = "AWS::EC2::RouteTable"
NETWORK_ACL = "AWS::EC2::NetworkAcl"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
PREFIX_LIST = "AWS::EC2::PrefixList"
SUBNET = "AWS::EC2::Subnet"
INSTANCE = "AWS::EC2::Instance"
ENI = "AWS::EC2::NetworkInterface"
NETWORK_READS = frozenset({INSTANCE, ENI, SUBNET, ROUTE_TABLE, NETWORK_ACL, SECURITY_GROUP,
                           PREFIX_LIST})


class PathState(StrEnum):
    EXPOSED = "exposed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Iface:
    """One network attachment of a host: where it sits and what filters it."""

    eni_id: str | None
    subnet_id: str | None
    vpc_id: str | None
    public_ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    sg_ids: tuple[str, ...]

    def addresses(self, family: int) -> tuple[str, ...]:
        if family == 4:
            return self.public_ipv4
        return tuple(a for a in self.ipv6 if _is_global6(a))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an internet client reaches ``tcp/port`` over ``family``, and why (not)."""

    state: PathState
    family: int
    port: int
    layer: str = ""  # the first blocking (or undecidable) layer
    detail: str = ""
    path: Mapping[str, Any] = field(default_factory=dict)
    sg_open: bool = False
    sg_rules: tuple[Mapping[str, Any], ...] = ()

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"protocol": "tcp", "port": self.port, "family": f"ipv{self.family}"}
        out.update(self.path)
        if self.layer:
            out["blocked_at" if self.state is PathState.BLOCKED else "undecided_at"] = self.layer
            out["detail"] = self.detail
        if self.sg_rules:
            out["security_group_rules"] = list(self.sg_rules)
        return out


@dataclass(frozen=True, slots=True)
class _SgResult:
    open: bool
    rules: tuple[Mapping[str, Any], ...]
    unresolved: tuple[str, ...]


class Network:
    """Indexes of one inventory's network assets, with the per-subnet path cache."""

    def __init__(self, inventory: Inventory) -> None:
        self.subnets = _by(inventory.of(SUBNET), "subnet_id")
        self.sgs = _by(inventory.of(SECURITY_GROUP), "group_id")
        self.prefix_lists = _by(inventory.of(PREFIX_LIST), "prefix_list_id")
        self.enis = _by(inventory.of(ENI), "eni_id")
        self.explicit_rt: dict[str, Asset] = {}
        self.main_rt: dict[str, Asset] = {}
        for rt in inventory.of(ROUTE_TABLE):
            for subnet_id in rt.attr("subnet_ids") or ():
                self.explicit_rt.setdefault(subnet_id, rt)
            if rt.attr("main"):
                self.main_rt.setdefault(rt.attr("vpc_id"), rt)
        self.nacls: dict[str, Asset] = {}
        for acl in inventory.of(NETWORK_ACL):
            for subnet_id in acl.attr("subnet_ids") or ():
                self.nacls.setdefault(subnet_id, acl)
        self.enis_by_instance: dict[str, list[Asset]] = {}
        for eni in self.enis.values():
            if eni.attr("instance_id"):
                self.enis_by_instance.setdefault(eni.attr("instance_id"), []).append(eni)
        self._cache: dict[tuple[str, str | None, int, int], Verdict] = {}

    # -- hosts ---------------------------------------------------------------------------------

    def hosts(self, inventory: Inventory) -> list[tuple[Asset, list[Iface]]]:
        """EC2 instances (not terminated) and standalone customer ENIs, with their interfaces."""
        out = []
        for inst in inventory.of(INSTANCE):
            if inst.attr("state") not in _DEAD_STATES:
                out.append((inst, self.interfaces(inst)))
        for eni in self.enis.values():
            if (eni.attr("instance_id") is None and not eni.attr("requester_managed")
                    and eni.attr("interface_type") in (None, "interface")
                    and eni.attr("status") == "in-use"):
                out.append((eni, [_iface_of_eni(eni)]))
        return sorted(out, key=lambda pair: pair[0].uid)

    def interfaces(self, instance: Asset) -> list[Iface]:
        enis = self.enis_by_instance.get(instance.attr("instance_id")) or [
            self.enis[i] for i in instance.attr("network_interface_ids") or () if i in self.enis
        ]
        if enis:
            return [_iface_of_eni(e) for e in sorted(enis, key=lambda e: e.uid)]
        public = instance.attr("public_ip")
        return [Iface(None, instance.attr("subnet_id"), instance.attr("vpc_id"),
                      (public,) if public else (), tuple(instance.attr("ipv6_addresses") or ()),
                      tuple(instance.attr("security_group_ids") or ()))]

    # -- the path ------------------------------------------------------------------------------

    def evaluate(self, iface: Iface, family: int, port: int) -> Verdict:
        sg = self.security_groups(iface.sg_ids, family, port)
        addresses = iface.addresses(family)
        if not addresses:
            return Verdict(PathState.BLOCKED, family, port, "address",
                           f"no public IPv{family} address", {"network_interface": iface.eni_id},
                           sg.open, sg.rules)
        path: dict[str, Any] = {"network_interface": iface.eni_id, "public_ip": addresses[0]}
        if iface.subnet_id is None:
            return Verdict(PathState.UNKNOWN, family, port, "route", "subnet unknown", path,
                           sg.open, sg.rules)
        vpc_id = iface.vpc_id or _attr(self.subnets.get(iface.subnet_id), "vpc_id")
        sub = self.subnet_path(iface.subnet_id, vpc_id, family, port)
        path.update(sub.path)
        if sub.state is not PathState.EXPOSED:
            return Verdict(sub.state, family, port, sub.layer, sub.detail, path, sg.open, sg.rules)
        if sg.open:
            return Verdict(PathState.EXPOSED, family, port, path=path, sg_open=True,
                           sg_rules=sg.rules)
        if sg.unresolved:
            return Verdict(PathState.UNKNOWN, family, port, "security-group",
                           f"cannot resolve {', '.join(sg.unresolved)}", path)
        groups = ", ".join(iface.sg_ids) or "none"
        return Verdict(PathState.BLOCKED, family, port, "security-group",
                       f"no security group admits the port from {_WORLD[family]} ({groups})",
                       path)

    def subnet_path(self, subnet_id: str, vpc_id: str | None, family: int, port: int) -> Verdict:
        key = (subnet_id, vpc_id, family, port)
        if key not in self._cache:
            self._cache[key] = self._subnet_path(subnet_id, vpc_id, family, port)
        return self._cache[key]

    def _subnet_path(self, subnet_id: str, vpc_id: str | None, family: int, port: int) -> Verdict:
        rt = self.explicit_rt.get(subnet_id) or self.main_rt.get(vpc_id or "")
        if rt is None:
            return Verdict(PathState.UNKNOWN, family, port, "route",
                           f"no route table found for {subnet_id}")
        assoc = "explicit" if subnet_id in (rt.attr("subnet_ids") or ()) else "main"
        path: dict[str, Any] = {"subnet": subnet_id, "route_table": rt.attr("route_table_id"),
                                "route_table_association": assoc}
        acl = self.nacls.get(subnet_id)
        if acl is None:
            return Verdict(PathState.UNKNOWN, family, port, "nacl-inbound",
                           f"no network ACL found for {subnet_id}", path)
        path["network_acl"] = acl.attr("network_acl_id")
        routes = self._routes(rt, family)
        entries = acl_entries(acl.attr("entries") or (), family)
        inbound = [e for e in entries if not e.entry.get("egress")]
        outbound = [e for e in entries if e.entry.get("egress")]
        cuts = [n for n, _ in routes] + [e.net for e in entries]
        stage, why = 0, _route_block(rt, routes)
        for client in public_atoms(family, cuts):
            route = longest_match(routes, client)
            if route is None or route.get("target_kind") != "igw" or route.get("state") != "active":
                continue
            rule_in = first_match(inbound, client, port)
            if rule_in is None or rule_in.get("action") != "allow":
                if stage < 1:
                    stage, why = 1, _acl_block(acl, rule_in, f"inbound tcp/{port}")
                continue
            rule_out, ports = return_match(outbound, client)
            if rule_out is None or ports is None:
                if stage < 2:
                    stage, why = 2, _acl_block(acl, rule_out, "return traffic to ports 1024-65535")
                continue
            path.update({
                "route": {k: route.get(k) for k in ("destination", "target_kind", "target_id",
                                                    "state")},
                "nacl_inbound_rule": rule_in.get("rule_number"),
                "nacl_outbound_rule": rule_out.get("rule_number"),
                "return_ports": f"{ports[0]}-{ports[1]}",
                "example_client": str(ipaddress.ip_address(client)),
            })
            return Verdict(PathState.EXPOSED, family, port, path=path)
        layer = ("route", "nacl-inbound", "nacl-outbound")[stage]
        return Verdict(PathState.BLOCKED, family, port, layer, why, path)

    def _routes(self, rt: Asset, family: int) -> list[tuple[IPNet, Mapping[str, Any]]]:
        out = []
        for route in rt.attr("routes") or ():
            dest = route.get("destination")
            if route.get("destination_kind") == "prefix_list":
                pl = self.prefix_lists.get(dest)
                for cidr in _attr(pl, "entries") or ():
                    net = parse_net(cidr, family)
                    if net is not None:
                        out.append((net, route))
            else:
                net = parse_net(dest, family)
                if net is not None:
                    out.append((net, route))
        return out

    def security_groups(self, sg_ids: Sequence[str], family: int, port: int) -> _SgResult:
        nets: list[IPNet] = []
        rules: list[dict[str, Any]] = []
        unresolved: list[str] = []
        for sg_id in sg_ids:
            sg = self.sgs.get(sg_id)
            if sg is None or sg.attr("ingress") is None:
                unresolved.append(sg_id)
                continue
            for rule in sg.attr("ingress"):
                if not _sg_rule_covers(rule, port):
                    continue
                for net in self._rule_sources(rule, family, unresolved):
                    nets.append(net)
                    rules.append({"security_group": sg_id, "protocol": rule.get("protocol"),
                                  "from_port": rule.get("from_port"),
                                  "to_port": rule.get("to_port"), "source": rule.get("source"),
                                  "cidr": str(net)})
        world = ipaddress.ip_network(_WORLD[family])
        is_open = bool(nets) and list(ipaddress.collapse_addresses(nets)) == [world]
        if is_open and any(n.prefixlen == 0 for n in nets):
            rules = [r for r in rules if r["cidr"] == str(world)]
        return _SgResult(is_open, tuple(rules) if is_open else (), tuple(unresolved))

    def _rule_sources(self, rule: Mapping[str, Any], family: int,
                      unresolved: list[str]) -> list[IPNet]:
        kind, source = rule.get("source_kind"), rule.get("source")
        if kind in ("cidr4", "cidr6"):
            net = parse_net(source, family)
            return [net] if net is not None else []
        if kind == "prefix_list":
            pl = self.prefix_lists.get(str(source))
            if pl is None or pl.attr("entries") is None:
                unresolved.append(str(source))
                return []
            return [n for n in (parse_net(c, family) for c in pl.attr("entries")) if n is not None]
        return []  # security-group references are not internet sources


# -- helpers ----------------------------------------------------------------------------------


def _by(assets: Iterable[Asset], key: str) -> dict[str, Asset]:
    out: dict[str, Asset] = {}
    for a in assets:
        if a.attr(key):
            out.setdefault(a.attr(key), a)
    return out


def _attr(asset: Asset | None, key: str) -> Any:
    return None if asset is None else asset.attr(key)


def _iface_of_eni(eni: Asset) -> Iface:
    return Iface(eni.attr("eni_id"), eni.attr("subnet_id"), eni.attr("vpc_id"),
                 tuple(eni.attr("public_ips") or ()), tuple(eni.attr("ipv6_addresses") or ()),
                 tuple(eni.attr("security_group_ids") or ()))


def _is_global6(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in _GLOBAL6
    except ValueError:
        return False


def _sg_rule_covers(rule: Mapping[str, Any], port: int) -> bool:
    if str(rule.get("protocol", "")).lower() not in _TCP_SG:
        return False
    lo, hi = port_range(rule.get("from_port"), rule.get("to_port"))
    return lo <= port <= hi


def _route_block(rt: Asset, routes: Sequence[tuple[IPNet, Mapping[str, Any]]]) -> str:
    rt_id = rt.attr("route_table_id")
    igw = [r for _, r in routes if r.get("target_kind") == "igw"]
    if igw and all(r.get("state") != "active" for r in igw):
        return f"the internet-gateway route in {rt_id} is not active ({igw[0].get('state')})"
    if igw:
        return f"more specific routes in {rt_id} send internet clients' replies elsewhere"
    if any(r.get("target_kind") == "egress_only_igw" for _, r in routes):
        return f"{rt_id} routes IPv6 to an egress-only internet gateway (outbound only)"
    return f"no route to an internet gateway in {rt_id} (private subnet)"


def _acl_block(acl: Asset, rule: Mapping[str, Any] | None, what: str) -> str:
    acl_id = acl.attr("network_acl_id")
    if rule is None:
        return f"network ACL {acl_id} denies {what} from the internet (no allow rule)"
    return f"network ACL {acl_id} denies {what} from the internet (rule {rule.get('rule_number')})"
