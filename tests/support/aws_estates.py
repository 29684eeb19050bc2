"""Hypothesis strategies for small random AWS estates: two VPCs, peering, transit gateway, random
route tables with blackholes, random NACLs and security groups with CIDR, prefix-list and SG
sources, interfaces with and without public addresses. Shared by the reachability and the
defense-depth property tests."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import strategies as st

from posture.model import Inventory

from .aws import asset, inventory
from .aws_net import arn, eni, entry, nacl, route, route_table, sg, subnet, vpc

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

ports_st = st.sampled_from(PORT_RANGES)


@st.composite
def nacl_entries(draw: Any) -> list[dict[str, Any]]:
    out = []
    for egress in (False, True):
        if draw(st.integers(0, 9)) < 8:  # usually an allow-all somewhere in the list
            n = draw(st.integers(100, 250))
            out += [entry(n, "allow", "0.0.0.0/0", egress), entry(n + 1, "allow", "::/0", egress)]
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
    vpcs = ["vpc-0", "vpc-1"]
    assets = [vpc(v, f"10.{i}.0.0/16") for i, v in enumerate(vpcs)]
    subnets = [
        ("subnet-0", "vpc-0", "10.0.1.0/24"),
        ("subnet-1", "vpc-0", "10.0.2.0/24"),
        ("subnet-2", "vpc-1", "10.1.1.0/24"),
    ]
    assets += [subnet(sid, vpc_id=v, cidr=cidr, public=False) for sid, v, cidr in subnets]
    explicit = draw(st.lists(st.sampled_from([s[0] for s in subnets]), unique=True))
    tables: list[tuple[str, str, bool, tuple[str, ...]]]
    tables = [(f"rtb-main-{v}", v, True, ()) for v in vpcs]
    tables += [
        (f"rtb-{s}", next(x[1] for x in subnets if x[0] == s), False, (s,)) for s in explicit
    ]
    for rid, v, main, assoc in tables:
        own, other = (
            ("10.0.0.0/16", "10.1.0.0/16") if v == "vpc-0" else ("10.1.0.0/16", "10.0.0.0/16")
        )
        routes = [route(own, "local", "local")]
        if draw(st.integers(0, 9)) < 6:
            routes.append(route("0.0.0.0/0"))
        if draw(st.integers(0, 9)) < 4:
            routes.append(route("::/0"))
        if draw(st.integers(0, 9)) < 6:
            kind, target = draw(st.sampled_from([("pcx", "pcx-1"), ("tgw", "tgw-1")]))
            routes.append(route(other, kind, target))
        for _ in range(draw(st.integers(0, 2))):
            dest = draw(st.sampled_from([*CIDRS, "pl-1"]))
            kind, target = draw(st.sampled_from(TARGETS))
            state = draw(st.sampled_from(["active", "active", "blackhole"]))
            routes.append(
                route(dest, kind, target, state, "prefix_list" if dest == "pl-1" else None)
            )
        assets.append(route_table(rid, routes, assoc, main, vpc_id=v))
    for sid, v, _ in subnets:
        assets.append(
            nacl(draw(nacl_entries()), (sid,), f"acl-{sid}", vpc_id=v, is_default=False)
        )
    n_groups = 3
    for g in range(n_groups):
        ingress = draw(sg_rules(n_groups, False))
        egress = draw(sg_rules(n_groups, True))
        assets.append(sg(ingress, f"sg-{g}", vpc_id="vpc-0", egress=egress))
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
        public = draw(st.sampled_from([[], [f"54.0.0.{k}"], [f"54.0.0.{k}"]]))
        ipv6 = draw(st.sampled_from([[], [f"2600::{k + 1}"]]))
        assets.append(
            eni(
                f"eni-{k}",
                None,
                sid,
                ipv6=tuple(ipv6),
                sgs=tuple(groups),
                vpc_id=None,
                private_ips=[host],
                public_ips=public,
            )
        )
    return inventory(*assets)
