"""AWS adapter, part 2: the estate as equivalence classes of interfaces, and its queries.

``AwsReach(inventory)`` indexes VPCs, subnets, route tables (explicit association, else the
VPC's main table), network ACLs, security groups (with prefix lists), interfaces, instances,
RDS instances, peering connections and transit gateways (``aws_tgw``). Interfaces sharing
(subnet, security-group set, public IPv4 presence, public IPv6 presence) form one
:class:`~posture.graph.paths.Attachment`, evaluated once per (family, protocol, port).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.graph.aws.rules import nacl_filter, routes_of, sg_filter, sg_rules
from posture.graph.aws.tgw import TgwIndex
from posture.graph.core import Filter, Hop, Route, Rule, lpm
from posture.graph.intervals import (
    EMPTY,
    FAMILIES,
    PUBLIC,
    IntervalSet,
    address,
    cidr_span,
)
from posture.graph.paths import Attachment, Flow, Pieces, RouteFn, Verdict, flow_verdict
from posture.graph.paths import internet_verdict as _internet_verdict
from posture.model import Asset, Inventory

VPC = "AWS::EC2::VPC"
SUBNET = "AWS::EC2::Subnet"
ROUTE_TABLE = "AWS::EC2::RouteTable"
NETWORK_ACL = "AWS::EC2::NetworkAcl"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
PREFIX_LIST = "AWS::EC2::PrefixList"
ENI = "AWS::EC2::NetworkInterface"
INSTANCE = "AWS::EC2::Instance"
IGW = "AWS::EC2::InternetGateway"
PEERING = "AWS::EC2::VPCPeeringConnection"
RDS_INSTANCE = "AWS::RDS::DBInstance"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"

NETWORK_READS = frozenset(
    {INSTANCE, ENI, SUBNET, ROUTE_TABLE, NETWORK_ACL, SECURITY_GROUP, PREFIX_LIST}
)
LB_READS = frozenset({LOAD_BALANCER, LISTENER, TARGET_GROUP})
_DEAD_STATES = {"terminated", "shutting-down"}
_GLOBAL6 = PUBLIC[6]


@dataclass(frozen=True, slots=True)
class Iface:
    """One network attachment of a host and the equivalence class it belongs to."""

    eni_id: str | None
    key: tuple[Any, ...]
    private: Mapping[int, IntervalSet]
    public: Mapping[int, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Host:
    asset: Asset
    interfaces: tuple[Iface, ...]


def _by(assets: Iterable[Asset], key: str) -> dict[str, Asset]:
    out: dict[str, Asset] = {}
    for a in assets:
        if a.attr(key):
            out.setdefault(str(a.attr(key)), a)
    return out


def _addr_set(values: Iterable[Any]) -> dict[int, IntervalSet]:
    out: dict[int, IntervalSet] = {}
    for v in values:
        parsed = address(v)
        if parsed is not None:
            fam, n = parsed
            out[fam] = out.get(fam, EMPTY) | IntervalSet.of((n, n))
    return out


class AwsReach:
    """Reachability over one AWS inventory (built once per run, queries cached)."""

    def __init__(self, inventory: Inventory, naive: bool = False) -> None:
        self.inventory = inventory
        self.naive = naive  # no equivalence classes, no shared filters (benchmark baseline)
        inv = inventory
        self.vpcs = _by(inv.of(VPC), "vpc_id")
        self.subnets = _by(inv.of(SUBNET), "subnet_id")
        self.sgs = _by(inv.of(SECURITY_GROUP), "group_id")
        self.prefix_lists: dict[str, list[str] | None] = {
            str(p.attr("prefix_list_id")): p.attr("entries") for p in inv.of(PREFIX_LIST)
        }
        self.enis = _by(inv.of(ENI), "eni_id")
        self.explicit_rt: dict[str, Asset] = {}
        self.main_rt: dict[str, Asset] = {}
        self.tgw_vpcs: dict[str, set[str]] = {}
        for rt in inv.of(ROUTE_TABLE):
            for subnet_id in rt.attr("subnet_ids") or ():
                self.explicit_rt.setdefault(subnet_id, rt)
            if rt.attr("main"):
                self.main_rt.setdefault(rt.attr("vpc_id"), rt)
            for r in rt.attr("routes") or ():
                if r.get("target_kind") == "tgw" and r.get("state") == "active":
                    self.tgw_vpcs.setdefault(str(r.get("target_id")), set()).add(
                        str(rt.attr("vpc_id"))
                    )
        self.tgw = TgwIndex(inv, self.vpc_cidrs)
        for (tgw_id, vpc_id) in self.tgw.by_vpc:
            self.tgw_vpcs.setdefault(tgw_id, set()).add(vpc_id)
        self.nacls: dict[str, Asset] = {}
        for acl in inv.of(NETWORK_ACL):
            for subnet_id in acl.attr("subnet_ids") or ():
                self.nacls.setdefault(subnet_id, acl)
        self.peerings: dict[str, Asset] = _by(inv.of(PEERING), "peering_id")
        self.enis_by_instance: dict[str, list[Asset]] = {}
        for eni in self.enis.values():
            if eni.attr("instance_id"):
                self.enis_by_instance.setdefault(eni.attr("instance_id"), []).append(eni)
        self.instances = _by(inv.of(INSTANCE), "instance_id")
        self.classes: dict[tuple[Any, ...], Attachment] = {}
        self._sg_rules: dict[str, tuple[list[Rule], list[Rule]]] = {}
        self._sg_filters: dict[tuple[str, ...], Filter] = {}
        self._nacl_filters: dict[str, Filter] = {}
        self._routes: dict[str, tuple[list[Route], str | None]] = {}
        self._internet: dict[tuple[Any, ...], Verdict] = {}
        self._hosts: list[Host] | None = None
        self._connected: dict[str | None, set[str | None]] = {}
        self.memo: dict[str, Any] = {}
        self._pending: dict[
            tuple[Any, ...], list[Mapping[int, IntervalSet]]
        ] = {}  # per-run caches of the query layers (checks, LBs)

    # -- filters and routes --------------------------------------------------------------------

    def sg_filter(self, group_ids: Iterable[str]) -> tuple[Filter | None, str | None]:
        ids = tuple(sorted(set(group_ids)))
        missing = [g for g in ids if g not in self.sgs]
        if missing:
            return None, f"security group {', '.join(missing)} not collected"
        if not self.naive and ids in self._sg_filters:
            return self._sg_filters[ids], None
        ingress: list[Rule] = []
        egress: list[Rule] = []
        for g in ids:
            rules = self._sg_rules.get(g) if not self.naive else None
            if rules is None:
                attrs = self.sgs[g].attrs
                rules = (
                    sg_rules(attrs, self.prefix_lists, False),
                    sg_rules(attrs, self.prefix_lists, True),
                )
                self._sg_rules[g] = rules
            ingress.extend(rules[0])
            egress.extend(rules[1])
        flt = sg_filter(ids, ingress, egress)
        if not self.naive:
            self._sg_filters[ids] = flt
        return flt, None

    def nacl_filter(self, subnet_id: str) -> tuple[Filter | None, str | None]:
        acl = self.nacls.get(subnet_id)
        if acl is None:
            return None, f"network ACL of {subnet_id} not collected"
        acl_id = str(acl.attr("network_acl_id"))
        if not self.naive and acl_id in self._nacl_filters:
            return self._nacl_filters[acl_id], None
        flt = nacl_filter(acl.attrs)
        if not self.naive:
            self._nacl_filters[acl_id] = flt
        return flt, None

    def route_table(self, subnet_id: str) -> tuple[Asset | None, str]:
        rt = self.explicit_rt.get(subnet_id)
        if rt is not None:
            return rt, "explicit"
        vpc_id = self.subnet_vpc(subnet_id)
        return self.main_rt.get(vpc_id or ""), "main"

    def routes(self, subnet_id: str) -> tuple[list[Route], str | None]:
        """The subnet's routes, or a reason why they are unknown."""
        if subnet_id in self._routes and not self.naive:
            return self._routes[subnet_id]
        rt, assoc = self.route_table(subnet_id)
        if rt is None:
            found: tuple[list[Route], str | None] = (
                [],
                f"route table of {subnet_id} not collected",
            )
        else:
            found = (routes_of(rt.attrs, self.prefix_lists, assoc), None)
        self._routes[subnet_id] = found
        return found

    def vpc_cidrs(self, vpc_id: str) -> list[str]:
        vpc = self.vpcs.get(vpc_id)
        if vpc is None:
            return []
        return [*(vpc.attr("cidr_blocks") or ()), *(vpc.attr("ipv6_cidr_blocks") or ())]

    def subnet_vpc(self, subnet_id: str | None) -> str | None:
        subnet = self.subnets.get(subnet_id or "")
        return None if subnet is None else subnet.attr("vpc_id")

    # -- classes and hosts ---------------------------------------------------------------------

    def attachment(
        self,
        subnet_id: str | None,
        vpc_id: str | None,
        sg_ids: Iterable[str],
        public4: str | None,
        public6: str | None,
        label: str,
        private: Mapping[int, IntervalSet] | None = None,
    ) -> tuple[Any, ...]:
        groups = tuple(sorted(set(sg_ids)))
        key: tuple[Any, ...] = (vpc_id, subnet_id, groups, bool(public4), bool(public6))
        if self.naive:
            key = (*key, label)
        att = self.classes.get(key)
        if att is None:
            unknown = None
            filters: list[Filter] = []
            if subnet_id is None:
                unknown = "subnet unknown"
            else:
                nacl, why = self.nacl_filter(subnet_id)
                sgf, why2 = self.sg_filter(groups) if groups else (None, None)
                unknown = why or why2
                filters = [f for f in (nacl, sgf) if f is not None]
            att = Attachment(
                key,
                subnet_id or "?",
                tuple(filters),
                frozenset(groups),
                {4: public4, 6: public6},
                dict(private or {}),
                label,
                unknown,
            )
            self.classes[key] = att
        elif private:
            self._pending.setdefault(key, []).append(private)
        return key

    def _merge_private(self) -> None:
        """Fold the members' private addresses into their classes (once, after indexing)."""
        for key, parts in self._pending.items():
            att = self.classes[key]
            merged = {}
            for fam in FAMILIES:
                spans = [s for p in (att.private, *parts) for s in p.get(fam, EMPTY).spans]
                if spans:
                    merged[fam] = IntervalSet.from_spans(spans)
            self.classes[key] = Attachment(
                att.key,
                att.network,
                att.filters,
                att.groups,
                att.public,
                merged,
                att.interface,
                att.unknown,
            )
        self._pending.clear()

    def _eni_iface(self, eni: Asset, join: bool = True) -> Iface:
        publics = [p for p in eni.attr("public_ips") or () if p]
        v6 = [a for a in eni.attr("ipv6_addresses") or () if _global6(a)]
        private = _addr_set([*(eni.attr("private_ips") or ()), *(eni.attr("ipv6_addresses") or ())])
        subnet_id = eni.attr("subnet_id")
        vpc_id = eni.attr("vpc_id") or self.subnet_vpc(subnet_id)
        pub = {4: publics[0] if publics else None, 6: v6[0] if v6 else None}
        key = self.attachment(
            subnet_id,
            vpc_id,
            eni.attr("security_group_ids") or (),
            pub[4],
            pub[6],
            str(eni.attr("eni_id")),
            private if join else None,
        )
        return Iface(eni.attr("eni_id"), key, private, pub)

    def interfaces(self, instance: Asset) -> tuple[Iface, ...]:
        enis = self.enis_by_instance.get(instance.attr("instance_id")) or [
            self.enis[i] for i in instance.attr("network_interface_ids") or () if i in self.enis
        ]
        if enis:
            return tuple(self._eni_iface(e) for e in sorted(enis, key=lambda e: e.uid))
        public = instance.attr("public_ip")
        v6 = [a for a in instance.attr("ipv6_addresses") or () if _global6(a)]
        private = _addr_set([instance.attr("private_ip"), *(instance.attr("ipv6_addresses") or ())])
        pub = {4: public, 6: v6[0] if v6 else None}
        key = self.attachment(
            instance.attr("subnet_id"),
            instance.attr("vpc_id"),
            instance.attr("security_group_ids") or (),
            pub[4],
            pub[6],
            str(instance.attr("instance_id")),
            private,
        )
        return (Iface(None, key, private, pub),)

    def hosts(self) -> list[Host]:
        """EC2 instances (not terminated) and standalone customer ENIs, with their interfaces."""
        if self._hosts is None:
            out = []
            for inst in self.inventory.of(INSTANCE):
                if inst.attr("state") not in _DEAD_STATES:
                    out.append(Host(inst, self.interfaces(inst)))
            for eni in self.enis.values():
                if (
                    eni.attr("instance_id") is None
                    and not eni.attr("requester_managed")
                    and eni.attr("interface_type") in (None, "interface")
                    and eni.attr("status") == "in-use"
                ):
                    out.append(Host(eni, (self._eni_iface(eni),)))
            self._hosts = sorted(out, key=lambda h: h.asset.uid)
            self._merge_private()
        return self._hosts

    def endpoints(self) -> list[Host]:
        """The in-use interfaces of interface VPC endpoints (``interface_type`` vpc_endpoint:
        requester-managed, one per endpoint subnet), each as a host of its own. Their private
        addresses are not folded into the classes (no flow starts at or targets them here), so
        the classes are the same whether or not this ran first."""
        found: list[Host] | None = self.memo.get("endpoints")
        if found is None:
            found = [
                Host(eni, (self._eni_iface(eni, join=False),))
                for eni in sorted(self.enis.values(), key=lambda e: e.uid)
                if eni.attr("interface_type") == "vpc_endpoint" and eni.attr("status") == "in-use"
            ]
            self.memo["endpoints"] = found
        return found

    def rds_interfaces(self, db: Asset) -> tuple[Iface, ...]:
        """One candidate interface per subnet of the DB subnet group (AWS picks one)."""
        public = db.attr("endpoint_address") or "publicly accessible"
        out = []
        for subnet_id in sorted(db.attr("subnet_ids") or ()):
            key = self.attachment(
                subnet_id,
                db.attr("vpc_id") or self.subnet_vpc(subnet_id),
                db.attr("security_group_ids") or (),
                public if db.attr("publicly_accessible") else None,
                None,
                f"{db.attr('db_instance_id')}@{subnet_id}",
            )
            out.append(
                Iface(None, key, {}, {4: public if db.attr("publicly_accessible") else None})
            )
        return tuple(out)

    # -- internet ------------------------------------------------------------------------------

    def internet_routes(self, subnet_id: str, family: int) -> tuple[Pieces | None, str]:
        """Internet clients whose replies this subnet routes to an internet gateway."""
        routes, unknown = self.routes(subnet_id)
        if unknown:
            return None, unknown
        rt, assoc = self.route_table(subnet_id)
        rt_id = rt.attr("route_table_id") if rt else "?"
        out: Pieces = []
        for piece, route in lpm(routes, family, PUBLIC[family]):
            if route is not None and route.target_kind == "igw" and route.active:
                out.append(
                    (
                        piece,
                        (
                            Hop("internet-gateway", route.target_id),
                            Hop(
                                "route",
                                str(rt_id),
                                f"{route.ref.get('destination')} -> "
                                f"{route.target_id} ({assoc} association)",
                                route.ref,
                            ),
                        ),
                    )
                )
        return out, _route_problem(routes, str(rt_id), family)

    def internet(self, key: tuple[Any, ...], family: int, protocol: str, port: int) -> Verdict:
        """Which internet clients reach ``protocol/port`` on the class ``key`` (cached)."""
        memo = (key, family, protocol, port)
        found = self._internet.get(memo)
        if found is None:
            att = self.classes[key]
            if att.unknown or not att.public.get(family):
                routes: Pieces | None = []
                problem = ""
            else:
                routes, problem = self.internet_routes(att.network, family)
            found = _internet_verdict(att, family, protocol, port, routes, problem)
            self._internet[memo] = found
        return found

    # -- between networks ----------------------------------------------------------------------

    def route_fn(self, subnet_id: str, dst_vpc: str | None, label: str = "route") -> RouteFn:
        """Delivery from ``subnet_id`` to addresses in ``dst_vpc``: local, peering or TGW."""
        src_vpc = self.subnet_vpc(subnet_id)

        def deliver(family: int, addrs: IntervalSet) -> Pieces:
            routes, unknown = self.routes(subnet_id)
            if unknown:
                return []
            rt, assoc = self.route_table(subnet_id)
            rt_id = str(rt.attr("route_table_id")) if rt else "?"
            out: Pieces = []
            for piece, route in lpm(routes, family, addrs):
                if route is None or not route.active:
                    continue
                hop = Hop(
                    label,
                    rt_id,
                    f"{route.ref.get('destination')} -> {route.target_id} ({assoc} association)",
                    route.ref,
                )
                if route.target_kind == "tgw":
                    for sub, tgw_hops in self.tgw.deliver(
                        route.target_id,
                        src_vpc,
                        dst_vpc,
                        family,
                        piece,
                        self.tgw_vpcs.get(route.target_id, ()),
                    ):
                        out.append((sub, (hop, *tgw_hops)))
                    continue
                via = self._via(route, src_vpc, dst_vpc)
                if via is not None:
                    out.append((piece, (hop, *via)))
            return out

        return deliver

    def _via(
        self, route: Route, src_vpc: str | None, dst_vpc: str | None
    ) -> tuple[Hop, ...] | None:
        if route.target_kind == "local":
            return () if src_vpc == dst_vpc else None
        if route.target_kind == "pcx":
            pcx = self.peerings.get(route.target_id)
            if pcx is None or pcx.attr("status") != "active":
                return None
            ends = {pcx.attr("requester_vpc_id"), pcx.attr("accepter_vpc_id")}
            if ends == {src_vpc, dst_vpc} and src_vpc != dst_vpc:
                return (Hop("vpc-peering", route.target_id, f"{src_vpc} <-> {dst_vpc}"),)
            return None
        return None

    def flow(
        self,
        src_key: tuple[Any, ...],
        dst_key: tuple[Any, ...],
        src_addrs: IntervalSet | None = None,
        dst_addrs: IntervalSet | None = None,
        family: int = 4,
    ) -> Flow:
        self._merge_private()
        src, dst = self.classes[src_key], self.classes[dst_key]
        return Flow(
            src,
            dst,
            src.private.get(family, EMPTY) if src_addrs is None else src_addrs,
            dst.private.get(family, EMPTY) if dst_addrs is None else dst_addrs,
            self.route_fn(src.network, dst_key[0]),
            self.route_fn(dst.network, src_key[0], "return route"),
        )

    def between(
        self,
        src_key: tuple[Any, ...],
        dst_key: tuple[Any, ...],
        family: int,
        protocol: str,
        port: int,
        src_addrs: IntervalSet | None = None,
        dst_addrs: IntervalSet | None = None,
    ) -> Verdict:
        flow = self.flow(src_key, dst_key, src_addrs, dst_addrs, family)
        return flow_verdict(flow, family, protocol, port)

    def connected_vpcs(self, vpc_id: str | None) -> set[str | None]:
        """The VPC itself and every VPC one active peering or transit-gateway route away."""
        found = self._connected.get(vpc_id)
        if found is None:
            found = {vpc_id}
            for rt in self.inventory.of(ROUTE_TABLE):
                if rt.attr("vpc_id") != vpc_id:
                    continue
                for r in rt.attr("routes") or ():
                    if r.get("state") != "active":
                        continue
                    target = str(r.get("target_id"))
                    if r.get("target_kind") == "pcx" and target in self.peerings:
                        pcx = self.peerings[target]
                        if pcx.attr("status") == "active":
                            found |= {pcx.attr("requester_vpc_id"), pcx.attr("accepter_vpc_id")}
                    elif r.get("target_kind") == "tgw":
                        found |= set(self.tgw_vpcs.get(target, ()))
            self._connected[vpc_id] = found
        return found

    def subnet_addresses(self, subnet_id: str, family: int = 4) -> IntervalSet:
        subnet = self.subnets.get(subnet_id)
        if subnet is None:
            return EMPTY
        cidrs = (
            [subnet.attr("cidr_block")]
            if family == 4
            else list(subnet.attr("ipv6_cidr_blocks") or ())
        )
        out = EMPTY
        for c in cidrs:
            parsed = cidr_span(c)
            if parsed is not None and parsed[0] == family:
                out = out | parsed[1]
        return out


def _global6(value: Any) -> bool:
    parsed = address(value)
    return parsed is not None and parsed[0] == 6 and parsed[1] in _GLOBAL6


def _route_problem(routes: list[Route], rt_id: str, family: int) -> str:
    fam = [r for r in routes if r.family == family]
    igw = [r for r in fam if r.target_kind == "igw"]
    if igw and not any(r.active for r in igw):
        return f"the internet-gateway route in {rt_id} is not active ({igw[0].ref.get('state')})"
    if igw:
        return f"more specific routes in {rt_id} send internet clients' replies elsewhere"
    if any(r.target_kind == "egress_only_igw" for r in fam):
        return f"{rt_id} routes IPv6 to an egress-only internet gateway (outbound only)"
    if any(r.target_kind == "nat" for r in fam):
        return f"no route to an internet gateway in {rt_id} (private subnet; NAT is egress-only)"
    return f"no route to an internet gateway in {rt_id} (private subnet)"


__all__ = ["FAMILIES", "AwsReach", "Host", "Iface"]
