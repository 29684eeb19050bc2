"""Property: the reachability engine agrees with the packet-by-packet reference evaluator.

Hypothesis generates small random estates (``support.aws_estates``: two VPCs, peering, transit
gateway, random route tables with blackholes, random NACLs and security groups with CIDR,
prefix-list and SG sources, interfaces with and without public addresses) and every (source,
destination, protocol, port) is decided both ways. Fixed seed, bounded example count.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

from hypothesis import given
from support.aws_estates import CIDRS, estates
from support.properties import examples
from support.reference import Reference

from posture.graph.aws.reach import AwsReach
from posture.graph.intervals import IntervalSet, address
from posture.model import Inventory

PROBE_PORTS = [0, 8, 22, 25, 443, 1024, 40000]


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


@examples(35)
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


@examples(60)
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
