"""Every tcp port a host serves to the internet, not just the administrative and database ones.

The exposure checks judge named ports; an attack path starts at *any* port the wide internet
reaches (a web server on 443 is a foothold like SSH on 22). The ports are not enumerated one by
one: every port-dependent decision on the direct path is a rule's port range (security groups,
the inbound network ACL entries; routes, addresses and the ACL's return traffic to the clients'
ephemeral ports do not depend on the server port), so the range 1-65535 is cut at every inbound
port boundary of the host's filters, and at the target ports of the internet-facing load
balancers that forward to it, and each piece is judged once, at its first port, with the
exposure checks' own verdict (:func:`posture.graph.aws.exposure.judge`: the wide internet, a
complete path). A piece has the same verdict on each of its ports, so the exposed pieces are the
exposed ports - as ranges, the way :mod:`posture.graph.aws.depth_sweep` cuts them for depth.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.graph.aws.exposure import TCP, Exposure, host_lb, judge
from posture.graph.aws.reach import AwsReach, Host
from posture.graph.core import Direction
from posture.graph.ports import merged, pieces, ranges_text


@dataclass(frozen=True, slots=True)
class ServedPorts:
    """A host's internet exposure on every tcp port: the exposure checks' evidence (one port per
    piece), and the exposed pieces as port ranges."""

    exposure: Exposure
    ranges: tuple[tuple[int, int], ...]
    pieces: int  # how many pieces were judged

    def text(self) -> str:
        return ranges_text(self.ranges)

    def range_of(self, port: int) -> tuple[int, int] | None:
        return next(((lo, hi) for lo, hi in self.ranges if lo <= port <= hi), None)






def served_ports(reach: AwsReach, host: Host) -> ServedPorts:
    """Which tcp ports of ``host`` the wide internet reaches, directly or through an
    internet-facing load balancer (memoized per host)."""
    memo: dict[str, ServedPorts] = reach.memo.setdefault("served", {})
    found = memo.get(host.asset.uid)
    if found is not None:
        return found
    lb = host_lb(reach, host.asset)
    points: set[int] = set()
    for iface in host.interfaces:
        for f in reach.classes[iface.key].filters:
            points |= f.port_cuts(Direction.IN, TCP)
    for e in lb:
        points |= {e.port, e.port + 1}
    ends = dict(pieces(points))
    exposure = judge(reach, host.asset, list(ends), lb, host.interfaces)
    ranges = merged((p, ends[p]) for p in exposure.ports)
    found = memo[host.asset.uid] = ServedPorts(exposure, ranges, len(ends))
    return found


__all__ = ["ServedPorts", "served_ports"]
