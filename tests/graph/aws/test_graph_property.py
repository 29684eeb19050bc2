"""Property: the reachability engine agrees with the packet-by-packet reference evaluator.

Hypothesis generates small random estates (two VPCs, peering, transit gateway, random route
tables with blackholes, random NACLs and security groups with CIDR, prefix-list and SG
sources, interfaces with and without public addresses) and every (source, destination,
protocol, port) is decided both ways. Fixed seed, bounded example count.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

from conftest import ACCOUNT, asset, inventory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reachability_reference import Reference

from posture.graph.aws.reach import AwsReach
from posture.graph.intervals import IntervalSet, address
from posture.model import Inventory

R = "us-east-1"
CIDRS = [
    "0.0.0.0/0",
    "0.0.0.0/1",
    "128.0.0.0/1",
    "11.0.0.0/8",
    "11.1.0.0/16",
    "11.1.2.3/32",
    "10.0.0.0/16",
    "10.1.0.0/16",
    "10.0.1.0/24",
    "10.1.1.0/24",
    "10.0.1.11/32",
    "::/0",
    "2600::/16",
]
PORT_RANGES: list[tuple[int, int] | None] = [
    None,
    (22, 22),
    (0, 1023),
    (1024, 65535),
    (20, 30),
    (32768, 65535),
]
PROTOCOLS = ["-1", "6", "17", "1"]
SG_PROTOCOLS = ["-1", "tcp", "udp", "icmp"]
TARGETS = [("igw", "igw-1"), ("nat", "nat-1"), ("pcx", "pcx-1"), ("tgw", "tgw-1")]
PROBE_PORTS = [0, 8, 22, 25, 443, 1024, 40000]


def arn(kind: str, id_: str) -> str:
    return f"arn:aws:ec2:{R}:{ACCOUNT}:{kind}/{id_}"


ports_st = st.sampled_from(PORT_RANGES)


def entry(n: int, egress: bool, cidr: str) -> dict[str, Any]:
    return {
        "rule_number": n,
        "egress": egress,
        "protocol": "-1",
        "action": "allow",
        "cidr": cidr,
        "port_from": None,
        "port_to": None,
        "icmp_type": None,
        "icmp_code": None,
    }


@st.composite
def nacl_entries(draw: Any) -> list[dict[str, Any]]:
    out = []
    for egress in (False, True):
        if draw(st.integers(0, 9)) < 8:  # usually an allow-all somewhere in the list
            n = draw(st.integers(100, 250))
            out += [entry(n, egress, "0.0.0.0/0"), entry(n + 1, egress, "::/0")]
        numbers = draw(
            st.lists(
                st.integers(1, 300).filter(lambda x: not 100 <= x <= 251), max_size=4, unique=True
            )
        )
        for n in numbers:
            p = draw(st.sampled_from(PROTOCOLS))
            rng = draw(ports_st)
            icmp = draw(st.sampled_from([None, -1, 0, 8])) if p == "1" else None
            out.append(
                {
                    "rule_number": n,
                    "egress": egress,
                    "protocol": p,
                    "action": draw(st.sampled_from(["allow", "allow", "deny"])),
                    "cidr": draw(st.sampled_from(CIDRS)),
                    "port_from": rng[0] if rng and p in ("6", "17") else None,
                    "port_to": rng[1] if rng and p in ("6", "17") else None,
                    "icmp_type": icmp,
                    "icmp_code": None,
                }
            )
    return out


@st.composite
def sg_rules(draw: Any, n_groups: int, egress: bool) -> list[dict[str, Any]]:
    out = []
    if draw(st.integers(0, 9)) < (8 if egress else 4):
        out.append(
            {
                "protocol": "-1",
                "from_port": None,
                "to_port": None,
                "source_kind": "cidr4",
                "source": "0.0.0.0/0"
                if egress
                else draw(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8"])),
                "source_account": None,
                "description": None,
            }
        )
    for _ in range(draw(st.integers(0, 4))):
        p = draw(st.sampled_from(SG_PROTOCOLS))
        rng = draw(ports_st)
        if p == "icmp":
            rng = draw(st.sampled_from([None, (8, -1), (0, 0)]))
        kind = draw(st.sampled_from(["cidr", "cidr", "prefix_list", "security_group"]))
        if kind == "cidr":
            source = draw(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", *CIDRS]))
            kind = "cidr6" if ":" in source else "cidr4"
        elif kind == "prefix_list":
            source = "pl-1"
        else:
            source = f"sg-{draw(st.integers(0, n_groups - 1))}"
        out.append(
            {
                "protocol": p,
                "from_port": rng[0] if rng and p != "-1" else None,
                "to_port": rng[1] if rng and p != "-1" else None,
                "source_kind": kind,
                "source": source,
                "source_account": None,
                "description": None,
            }
        )
    return out


@st.composite
def estates(draw: Any) -> Inventory:
    assets = []
    vpcs = ["vpc-0", "vpc-1"]
    for i, v in enumerate(vpcs):
        assets.append(
            asset(
                "AWS::EC2::VPC",
                arn("vpc", v),
                vpc_id=v,
                cidr_blocks=[f"10.{i}.0.0/16"],
                ipv6_cidr_blocks=[],
                is_default=False,
            )
        )
    subnets = [
        ("subnet-0", "vpc-0", "10.0.1.0/24"),
        ("subnet-1", "vpc-0", "10.0.2.0/24"),
        ("subnet-2", "vpc-1", "10.1.1.0/24"),
    ]
    for sid, vpc, cidr in subnets:
        assets.append(
            asset(
                "AWS::EC2::Subnet",
                arn("subnet", sid),
                subnet_id=sid,
                vpc_id=vpc,
                cidr_block=cidr,
                ipv6_cidr_blocks=[],
                availability_zone="us-east-1a",
                map_public_ip_on_launch=False,
            )
        )
    explicit = draw(st.lists(st.sampled_from([s[0] for s in subnets]), unique=True))
    tables = [(f"rtb-main-{v}", v, True, []) for v in vpcs]
    tables += [(f"rtb-{s}", next(x[1] for x in subnets if x[0] == s), False, [s]) for s in explicit]
    for rid, vpc, main, assoc in tables:
        own, other = (
            ("10.0.0.0/16", "10.1.0.0/16") if vpc == "vpc-0" else ("10.1.0.0/16", "10.0.0.0/16")
        )
        routes = [
            {
                "destination": own,
                "destination_kind": "ipv4",
                "target_kind": "local",
                "target_id": "local",
                "state": "active",
            }
        ]
        if draw(st.integers(0, 9)) < 6:
            routes.append(
                {
                    "destination": "0.0.0.0/0",
                    "destination_kind": "ipv4",
                    "target_kind": "igw",
                    "target_id": "igw-1",
                    "state": "active",
                }
            )
        if draw(st.integers(0, 9)) < 4:
            routes.append(
                {
                    "destination": "::/0",
                    "destination_kind": "ipv6",
                    "target_kind": "igw",
                    "target_id": "igw-1",
                    "state": "active",
                }
            )
        if draw(st.integers(0, 9)) < 6:
            kind, target = draw(st.sampled_from([("pcx", "pcx-1"), ("tgw", "tgw-1")]))
            routes.append(
                {
                    "destination": other,
                    "destination_kind": "ipv4",
                    "target_kind": kind,
                    "target_id": target,
                    "state": "active",
                }
            )
        for _ in range(draw(st.integers(0, 2))):
            dest = draw(st.sampled_from([*CIDRS, "pl-1"]))
            kind, target = draw(st.sampled_from(TARGETS))
            routes.append(
                {
                    "destination": dest,
                    "destination_kind": "prefix_list"
                    if dest == "pl-1"
                    else ("ipv6" if ":" in dest else "ipv4"),
                    "target_kind": kind,
                    "target_id": target,
                    "state": draw(st.sampled_from(["active", "active", "blackhole"])),
                }
            )
        assets.append(
            asset(
                "AWS::EC2::RouteTable",
                arn("route-table", rid),
                route_table_id=rid,
                vpc_id=vpc,
                main=main,
                subnet_ids=assoc,
                routes=routes,
            )
        )
    for sid, vpc, _ in subnets:
        assets.append(
            asset(
                "AWS::EC2::NetworkAcl",
                arn("network-acl", f"acl-{sid}"),
                network_acl_id=f"acl-{sid}",
                vpc_id=vpc,
                is_default=False,
                subnet_ids=[sid],
                entries=draw(nacl_entries()),
            )
        )
    n_groups = 3
    for g in range(n_groups):
        assets.append(
            asset(
                "AWS::EC2::SecurityGroup",
                arn("security-group", f"sg-{g}"),
                group_id=f"sg-{g}",
                group_name=f"sg-{g}",
                vpc_id="vpc-0",
                description="",
                ingress=draw(sg_rules(n_groups, False)),
                egress=draw(sg_rules(n_groups, True)),
            )
        )
    assets.append(
        asset(
            "AWS::EC2::PrefixList",
            arn("prefix-list", "pl-1"),
            prefix_list_id="pl-1",
            name="pl",
            address_family="IPv4",
            aws_managed=False,
            entries=draw(st.lists(st.sampled_from(CIDRS[:11]), max_size=2)),
        )
    )
    assets.append(
        asset(
            "AWS::EC2::VPCPeeringConnection",
            arn("vpc-peering-connection", "pcx-1"),
            peering_id="pcx-1",
            status=draw(st.sampled_from(["active", "active", "pending-acceptance"])),
            requester_vpc_id="vpc-0",
            accepter_vpc_id="vpc-1",
        )
    )
    for k in range(draw(st.integers(2, 4))):
        sid, _, cidr = draw(st.sampled_from(subnets))
        host = str(ipaddress.ip_network(cidr)[10 + k])
        groups = draw(
            st.lists(
                st.sampled_from([f"sg-{g}" for g in range(n_groups)]),
                min_size=1,
                max_size=2,
                unique=True,
            )
        )
        assets.append(
            asset(
                "AWS::EC2::NetworkInterface",
                arn("network-interface", f"eni-{k}"),
                eni_id=f"eni-{k}",
                subnet_id=sid,
                vpc_id=None,
                private_ips=[host],
                public_ips=draw(st.sampled_from([[], [f"54.0.0.{k}"], [f"54.0.0.{k}"]])),
                ipv6_addresses=draw(st.sampled_from([[], [f"2600::{k + 1}"]])),
                security_group_ids=groups,
                instance_id=None,
                interface_type="interface",
                requester_managed=False,
                description="",
                status="in-use",
            )
        )
    return inventory(*assets)


def clients() -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    points: set[Any] = {ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("2600::1")}
    for c in CIDRS:
        n = ipaddress.ip_network(c)
        for v in (int(n.network_address), int(n.broadcast_address)):
            for d in (-1, 0) if v == int(n.network_address) else (1,):
                with contextlib.suppress(ValueError):
                    points.add(
                        ipaddress.ip_address(v + d)
                        if n.version == 4
                        else ipaddress.IPv6Address(v + d)
                    )
    return sorted(points, key=lambda a: (a.version, int(a)))


CLIENTS = clients()


@settings(
    derandomize=True, max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(estates())
def test_internet_reachability_matches_reference(inv: Inventory) -> None:
    ref, reach = Reference(inv), AwsReach(inv)
    for host in reach.hosts():
        eni = host.asset.attrs
        key = host.interfaces[0].key
        for p in ("tcp", "udp", "icmp"):
            for port in PROBE_PORTS:
                verdicts = {f: reach.internet(key, f, p, port).reachable for f in (4, 6)}
                for client in CLIENTS:
                    want = ref.from_internet(eni, client, p, port)
                    got = client_int(client) in verdicts[client.version]
                    assert got == want, (eni["eni_id"], str(client), p, port)


@settings(
    derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(estates())
def test_between_interfaces_matches_reference(inv: Inventory) -> None:
    ref, reach = Reference(inv), AwsReach(inv)
    hosts = reach.hosts()
    for src in hosts:
        for dst in hosts:
            if src is dst:
                continue
            s_ip = single(src.asset.attrs["private_ips"][0])
            d_ip = single(dst.asset.attrs["private_ips"][0])
            for p in ("tcp", "udp", "icmp"):
                for port in PROBE_PORTS:
                    want = ref.between(src.asset.attrs, dst.asset.attrs, p, port)
                    v = reach.between(
                        src.interfaces[0].key,
                        dst.interfaces[0].key,
                        4,
                        p,
                        port,
                        src_addrs=s_ip,
                        dst_addrs=d_ip,
                    )
                    got = v.path is not None
                    assert got == want, (src.asset.name, dst.asset.name, p, port, v.stages)


def client_int(client: Any) -> int:
    return int(client)


def single(ip: str) -> IntervalSet:
    parsed = address(ip)
    assert parsed is not None
    return IntervalSet.of((parsed[1], parsed[1]))
