"""Network paths between production and non-production VPCs (peering, transit gateway)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posture.graph.aws.reach import AwsReach
from posture.graph.core import representatives
from posture.graph.intervals import ALL_PORTS, EMPTY
from posture.graph.paths import Verdict

PROTOCOLS = ("tcp", "udp", "icmp")


def connections(reach: AwsReach) -> dict[str, set[str]]:
    """VPC -> VPCs it has an active peering or transit-gateway route to (either direction)."""
    out: dict[str, set[str]] = {}
    for vpc_id in list(reach.vpcs):
        for other in reach.connected_vpcs(vpc_id):
            if other and other != vpc_id:
                out.setdefault(vpc_id, set()).add(other)
                out.setdefault(other, set()).add(vpc_id)
    return out


def _ports(reach: AwsReach, src: Any, dst: Any, protocol: str) -> list[int]:
    cuts: set[int] = set()
    for att in (reach.classes[src], reach.classes[dst]):
        for f in att.filters:
            for direction in ("inbound", "outbound"):
                from posture.graph.core import Direction

                cuts |= f.port_cuts(Direction(direction), protocol)
    return representatives(ALL_PORTS, cuts)


def first_path(
    reach: AwsReach, src_vpc: str, dst_vpc: str, unknown: Callable[[str], None]
) -> Verdict | None:
    """A path from any interface class in ``src_vpc`` to any in ``dst_vpc``, on any port."""
    reach.hosts()
    src = sorted(
        (k for k in reach.classes if k[0] == src_vpc and reach.classes[k].private), key=str
    )
    dst = sorted(
        (k for k in reach.classes if k[0] == dst_vpc and reach.classes[k].private), key=str
    )
    for s in src:
        for d in dst:
            if reach.classes[s].private.get(4, EMPTY) == EMPTY:
                continue
            for protocol in PROTOCOLS:
                for port in _ports(reach, s, d, protocol):
                    v = reach.between(s, d, 4, protocol, port)
                    if v.unknown:
                        unknown(v.unknown)
                        break
                    if v.path is not None:
                        return v
    return None
