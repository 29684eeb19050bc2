"""Port ranges, for every cloud: the whole tcp/udp port space cut into pieces at the boundaries
where some rule's decision may change, and the ranges of ports a verdict holds on.

Judging a host on *every* port (an attack path starts at any port the internet reaches; a
sensitive host's depth is swept over all of them) never enumerates 65,535 ports: each adapter
collects the port boundaries of the rules on the host's paths (``cuts``: a range ``lo-hi``
contributes ``lo`` and ``hi + 1``), every port of a piece between two cuts has the same verdict,
and the piece is judged once, at its first port.
"""

from __future__ import annotations

from collections.abc import Iterable

from posture.graph.core import representatives
from posture.graph.intervals import IntervalSet

Span = tuple[int, int]
EVERY_PORT = IntervalSet.of((1, 65535))


def pieces(cuts: Iterable[int], ports: IntervalSet = EVERY_PORT) -> list[Span]:
    """``ports`` cut at every boundary in ``cuts``: the pieces as (first, last) port, in order."""
    starts = representatives(ports, cuts)
    ends = [*(s - 1 for s in starts[1:]), ports.spans[-1][1]]
    return list(zip(starts, ends, strict=True))


def merged(ranges: Iterable[Span]) -> tuple[Span, ...]:
    """Sorted ranges with overlapping and adjacent ones joined."""
    out: list[Span] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


def ranges_text(ranges: Iterable[Span], protocol: str = "tcp") -> str:
    """``tcp/22, 443, 8000-8080`` (``none`` when empty)."""
    parts = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges]
    return f"{protocol}/{', '.join(parts)}" if parts else "none"
