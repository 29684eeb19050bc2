"""Every tcp port of a GCP instance that the internet reaches, not just the administrative and
database ones (an attack path starts at any port the wide internet reaches: a web server on 443
is a foothold like SSH on 22).

The ports are not enumerated one by one: every port-dependent decision of
:func:`posture.graph.gcp.exposure.assess` is a port range - a firewall rule's ``ports`` (every
level of the interface's chain: hierarchical and network firewall policies, VPC rules) or an
external load balancer's backend ports; addresses, routes and the rules' sources do not depend
on the port. So the range 1-65535 is cut at every such boundary and each piece is judged once,
at its first port, with the exposure checks' own verdict; the exposed pieces are the exposed
ports, as ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.graph.gcp.exposure import Estate, HostExposure, assess
from posture.graph.gcp.fw import nics_of
from posture.graph.gcp.fwpolicy import chain_for
from posture.graph.ports import merged, pieces
from posture.model import Asset

_PORTED = ("tcp", "all")


@dataclass(frozen=True, slots=True)
class ServedPorts:
    """An instance's exposure on every tcp port (one port per piece) and the exposed pieces."""

    exposure: HostExposure
    ranges: tuple[tuple[int, int], ...]  # exposed
    possible: tuple[tuple[int, int], ...]  # possibly exposed (undecided)
    pieces: int

    def text(self, which: str = "exposed") -> str:
        ranges = self.ranges if which == "exposed" else self.possible
        parts = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges]
        return f"tcp/{', '.join(parts)}" if parts else "none"


def port_cuts(est: Estate, host: Asset) -> set[int]:
    """Every port at which some decision on some path to ``host`` may change."""
    points: set[int] = set()
    for nic in nics_of(host):
        for stage in chain_for(est.index, nic):
            for rule in stage.rules:
                for proto, ranges in getattr(rule, "protocols", ()):
                    if proto in _PORTED:
                        points |= {p for lo, hi in ranges for p in (lo, hi + 1)}
    for path in est.lb.paths.get(host.uid, []):
        points |= {p for lo, hi in path.ports or () for p in (lo, hi + 1)}
    return points




def served_ports(est: Estate, host: Asset) -> ServedPorts:
    """Which tcp ports of ``host`` the wide internet reaches (directly or through an external
    load balancer), and which it may reach (undecided)."""
    ends = dict(pieces(port_cuts(est, host)))
    rep = assess(est, host, list(ends))
    exposed = merged((p, ends[p]) for p in rep.ports(rep.exposed))
    possible = merged((p, ends[p]) for p in rep.ports(rep.possible))
    return ServedPorts(rep, exposed, possible, len(ends))


__all__ = ["ServedPorts", "port_cuts", "served_ports"]
