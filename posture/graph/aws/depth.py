"""Defense depth on AWS: the candidate paths of an EC2 host, a standalone interface or an RDS
instance (direct per interface and address family, and through internet-facing load balancers),
combined into one :class:`~posture.graph.depth.Depth` per port.

The layers, flips and the exact minimum-cut search are provider-neutral
(:mod:`posture.graph.depth`); this module only says which paths an AWS asset has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from posture.graph.aws.depth_direct import address_change, direct
from posture.graph.aws.depth_lb import lb_paths, members
from posture.graph.aws.reach import AwsReach, Host
from posture.graph.depth import NEVER, TCP, Depth, PathDepth, combine
from posture.model import Asset


def host_depth(
    reach: AwsReach, host: Host, port: int, named: bool = True, protocol: str = TCP
) -> Depth:
    """Depth of ``protocol/port`` on an EC2 instance or standalone ENI: its interfaces over
    IPv4 and IPv6, and internet-facing load balancers whose target groups hold it; ``named``
    names the best path after this host's interface (:func:`name_best`)."""
    found = host_depths(reach, host, (port,), protocol)[0]
    return name_best(found, host) if named else found


def host_depths(
    reach: AwsReach, host: Host, ports: Sequence[int], protocol: str = TCP
) -> tuple[Depth, ...]:
    """:func:`host_depth` of several ports (unnamed). Hosts with the same interface classes and
    no load balancer share one computation, memoized in ``reach.memo``. The interfaces of a VPC
    endpoint (:func:`pinned`) can never get a public IPv4 address."""
    lb = host.asset.uid in members(reach, protocol)
    fixed = pinned(host)
    memo_key = (tuple(i.key for i in host.interfaces), host.asset.uid if lb else None,
                protocol, fixed, tuple(ports))
    memo: dict[Any, tuple[Depth, ...]] = reach.memo.setdefault("depth.host", {})
    found = memo.get(memo_key)
    if found is None:
        found = memo[memo_key] = tuple(
            _host_port(reach, host, int(p), lb, protocol, fixed) for p in ports
        )
    return found


def pinned(host: Host) -> bool:
    """The host is the requester-managed interface of an interface VPC endpoint: AWS gives it
    no public IPv4 address and lets nobody associate one (an Elastic IP included)."""
    return host.asset.attr("interface_type") == "vpc_endpoint"


def endpoint_id(host: Host) -> str:
    """The VPC endpoint an endpoint interface belongs to (AWS describes its interfaces as
    "VPC Endpoint Interface vpce-...")."""
    found = re.search(r"\bvpce-[0-9a-f]+\b", str(host.asset.attr("description") or ""))
    return found.group(0) if found else f"the endpoint of {host.asset.name}"


def _host_port(
    reach: AwsReach, host: Host, port: int, lb: bool, protocol: str, fixed: bool
) -> Depth:
    paths: list[PathDepth] = []
    for n, iface in enumerate(host.interfaces):
        for family in (4, 6):
            found = direct(reach, iface.key, family, port, protocol, fixed)
            paths.append(replace(found, member=n))
    limit = min((p.depth for p in paths if p.depth is not None), default=NEVER)
    if lb:
        paths.extend(lb_paths(reach, host.asset, port, limit - 1, protocol))
    return combine(port, paths)


def name_best(depth: Depth, host: Host) -> Depth:
    """``depth`` with its best path explained and naming the host's interface."""
    best = depth.best
    if best is None:
        return depth
    best = best.explained()
    if best.member >= 0:
        name = host.interfaces[best.member].eni_id or host.asset.name
        endpoint = endpoint_id(host) if pinned(host) else None
        change = address_change(best.family, endpoint or name, endpoint is not None)
        best = best.relabel("public-address", name, change=change)
        best = replace(best, via=f"{best.via} {name}")
    return replace(depth, best=best)


def rds_depth(reach: AwsReach, db: Asset) -> tuple[Depth, list[tuple[str, Depth]]]:
    """Depth of an RDS instance on its port: IPv4, per subnet of its DB subnet group.

    AWS places the instance in one of the subnets (and may move it on failover), so the depth
    is the minimum over the subnets; the per-subnet depths are returned too.
    """
    port = int(db.attr("port"))
    name = str(db.attr("db_instance_id") or db.name)
    per_subnet = []
    paths = []
    for iface in reach.rds_interfaces(db):
        p = direct(reach, iface.key, 4, port).relabel(
            "public-address",
            name,
            "publicly accessible" if db.attr("publicly_accessible") else "not publicly accessible",
            "set PubliclyAccessible = true",
        )
        subnet = str(iface.key[1])
        p = replace(p, via=f"direct (IPv4) {subnet}")
        paths.append(p)
        per_subnet.append((subnet, combine(port, [p])))
    return combine(port, paths), per_subnet
