"""A brute-force reference for AWS reachability: one packet at a time, straight from the rules.

Deliberately naive and independent of ``posture.graph`` (no interval sets, no classes, no
caches): it reads the asset attributes of docs/aws-assets.md and decides one concrete packet.
"Some ephemeral port" is decided by trying every boundary of every network-ACL port range in
1024-65535 (the answer is constant between boundaries).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from posture.model import Inventory

NOT_PUBLIC_V4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
PROTO = {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def proto(value: Any) -> str:
    text = str(value).lower()
    return PROTO.get(text, text)


def net(cidr: Any) -> Any:
    try:
        return ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return None


def is_public(ip: Any) -> bool:
    if ip.version == 6:
        return ip in ipaddress.ip_network("2000::/3")
    return not any(ip in ipaddress.ip_network(n) for n in NOT_PUBLIC_V4)


def contains(cidr: Any, ip: Any) -> bool:
    n = net(cidr)
    return n is not None and n.version == ip.version and ip in n


def _port_ok(p: str, lo: Any, hi: Any, port: int) -> bool:
    if p in ("icmp", "icmpv6"):
        return lo is None or int(lo) < 0 or int(lo) == port
    if p not in ("tcp", "udp") or lo is None or hi is None or int(lo) < 0:
        return True
    return int(lo) <= port <= int(hi)


def nacl_allows(acl: Mapping[str, Any], egress: bool, peer: Any, p: str, port: int) -> bool:
    entries = sorted(
        (e for e in acl["entries"] if bool(e["egress"]) == egress),
        key=lambda e: int(e["rule_number"]),
    )
    for e in entries:
        ep = proto(e["protocol"])
        lo = e["icmp_type"] if ep in ("icmp", "icmpv6") else e["port_from"]
        if ep not in ("all", p) or not _port_ok(ep, lo, e["port_to"], port):
            continue
        if contains(e["cidr"], peer):
            return bool(e["action"] == "allow")
    return False


def sg_allows(
    sgs: Iterable[Mapping[str, Any]],
    egress: bool,
    peer: Any,
    peer_groups: Iterable[str],
    p: str,
    port: int,
    prefix_lists: Mapping[str, list[str]],
) -> bool:
    groups = set(peer_groups)
    for sg in sgs:
        for r in sg["egress" if egress else "ingress"]:
            rp = proto(r["protocol"])
            if rp not in ("all", p) or not _port_ok(rp, r["from_port"], r["to_port"], port):
                continue
            kind, source = r["source_kind"], r["source"]
            if kind in ("cidr4", "cidr6") and contains(source, peer):
                return True
            if kind == "prefix_list" and any(
                contains(c, peer) for c in prefix_lists.get(source, [])
            ):
                return True
            if kind == "security_group" and source in groups:
                return True
    return False


def ephemeral_candidates(acls: Iterable[Mapping[str, Any]], p: str) -> list[int]:
    if p not in ("tcp", "udp"):
        lo, hi = 0, 65535
    else:
        lo, hi = 1024, 65535
    points = {lo, hi}
    for acl in acls:
        for e in acl["entries"]:
            for v in (e["port_from"], e["port_to"], e["icmp_type"]):
                if v is not None and int(v) >= 0:
                    points |= {int(v) - 1, int(v), int(v) + 1}
    return sorted(x for x in points if lo <= x <= hi)


class Reference:
    def __init__(self, inv: Inventory) -> None:
        def by(t: str, k: str) -> dict[str, Mapping[str, Any]]:
            return {a.attrs[k]: a.attrs for a in inv.of(t)}

        self.subnets = by("AWS::EC2::Subnet", "subnet_id")
        self.sgs = by("AWS::EC2::SecurityGroup", "group_id")
        self.pls = {
            k: list(v["entries"] or [])
            for k, v in by("AWS::EC2::PrefixList", "prefix_list_id").items()
        }
        self.peerings = by("AWS::EC2::VPCPeeringConnection", "peering_id")
        self.tables = [a.attrs for a in inv.of("AWS::EC2::RouteTable")]
        self.acls = [a.attrs for a in inv.of("AWS::EC2::NetworkAcl")]

    def table(self, subnet_id: str) -> Mapping[str, Any]:
        for t in self.tables:
            if subnet_id in t["subnet_ids"]:
                return t
        vpc = self.subnets[subnet_id]["vpc_id"]
        return next(t for t in self.tables if t["main"] and t["vpc_id"] == vpc)

    def acl(self, subnet_id: str) -> Mapping[str, Any]:
        return next(a for a in self.acls if subnet_id in a["subnet_ids"])

    def lookup(self, subnet_id: str, dest: Any) -> Mapping[str, Any] | None:
        best, best_len = None, -1
        for r in self.table(subnet_id)["routes"]:
            cidrs = (
                self.pls.get(r["destination"], [])
                if r["destination_kind"] == "prefix_list"
                else [r["destination"]]
            )
            for c in cidrs:
                n = net(c)
                if (
                    n is not None
                    and n.version == dest.version
                    and dest in n
                    and n.prefixlen > best_len
                ):
                    best, best_len = r, n.prefixlen
        return best

    def delivers(self, subnet_id: str, dest: Any, dst_vpc: str) -> bool:
        r = self.lookup(subnet_id, dest)
        if r is None or r["state"] != "active":
            return False
        src_vpc = self.subnets[subnet_id]["vpc_id"]
        if r["target_kind"] == "local":
            return bool(src_vpc == dst_vpc)
        if r["target_kind"] == "pcx":
            pcx = self.peerings.get(r["target_id"])
            return (
                pcx is not None
                and pcx["status"] == "active"
                and src_vpc != dst_vpc
                and {pcx["requester_vpc_id"], pcx["accepter_vpc_id"]} == {src_vpc, dst_vpc}
            )
        if r["target_kind"] == "tgw":
            return any(
                t["vpc_id"] == dst_vpc
                and any(
                    x["target_kind"] == "tgw"
                    and x["target_id"] == r["target_id"]
                    and x["state"] == "active"
                    for x in t["routes"]
                )
                for t in self.tables
            )
        return False

    def from_internet(self, eni: Mapping[str, Any], client: Any, p: str, port: int) -> bool:
        if not is_public(client):
            return False
        if client.version == 4 and not eni["public_ips"]:
            return False
        if client.version == 6 and not any(
            ipaddress.ip_address(a) in ipaddress.ip_network("2000::/3")
            for a in eni["ipv6_addresses"]
        ):
            return False
        r = self.lookup(eni["subnet_id"], client)
        if r is None or r["target_kind"] != "igw" or r["state"] != "active":
            return False
        acl = self.acl(eni["subnet_id"])
        if not nacl_allows(acl, False, client, p, port):
            return False
        sgs = [self.sgs[g] for g in eni["security_group_ids"]]
        if not sg_allows(sgs, False, client, (), p, port, self.pls):
            return False
        return any(nacl_allows(acl, True, client, p, e) for e in ephemeral_candidates([acl], p))

    def between(self, src: Mapping[str, Any], dst: Mapping[str, Any], p: str, port: int) -> bool:
        s = ipaddress.ip_address(src["private_ips"][0])
        d = ipaddress.ip_address(dst["private_ips"][0])
        s_vpc = self.subnets[src["subnet_id"]]["vpc_id"]
        d_vpc = self.subnets[dst["subnet_id"]]["vpc_id"]
        if not self.delivers(src["subnet_id"], d, d_vpc):
            return False
        if not self.delivers(dst["subnet_id"], s, s_vpc):
            return False
        s_sgs = [self.sgs[g] for g in src["security_group_ids"]]
        d_sgs = [self.sgs[g] for g in dst["security_group_ids"]]
        if not sg_allows(s_sgs, True, d, dst["security_group_ids"], p, port, self.pls):
            return False
        if not sg_allows(d_sgs, False, s, src["security_group_ids"], p, port, self.pls):
            return False
        if src["subnet_id"] == dst["subnet_id"]:
            return True
        s_acl, d_acl = self.acl(src["subnet_id"]), self.acl(dst["subnet_id"])
        if not nacl_allows(s_acl, True, d, p, port) or not nacl_allows(d_acl, False, s, p, port):
            return False
        return any(
            nacl_allows(d_acl, True, s, p, e) and nacl_allows(s_acl, False, d, p, e)
            for e in ephemeral_candidates([s_acl, d_acl], p)
        )
