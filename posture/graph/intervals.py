"""Interval sets over integers: port ranges and address ranges (IPv4/IPv6 as integers).

An :class:`IntervalSet` is an immutable, sorted tuple of disjoint, non-adjacent inclusive
``(lo, hi)`` ranges. Every operation is a linear merge, so sets of CIDRs and port ranges
combine exactly without enumerating members.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from posture.net import GLOBAL_IPV6, NON_PUBLIC_IPV4

Span = tuple[int, int]

SPACE = {4: (1 << 32) - 1, 6: (1 << 128) - 1}
FAMILIES = (4, 6)


@dataclass(frozen=True, slots=True)
class IntervalSet:
    spans: tuple[Span, ...] = ()

    @staticmethod
    def of(*spans: Span) -> IntervalSet:
        return IntervalSet.from_spans(spans)

    @staticmethod
    def from_spans(spans: Iterable[Span]) -> IntervalSet:
        ordered = sorted((lo, hi) for lo, hi in spans if lo <= hi)
        merged: list[Span] = []
        for lo, hi in ordered:
            if merged and lo <= merged[-1][1] + 1:
                if hi > merged[-1][1]:
                    merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        return IntervalSet(tuple(merged))

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __contains__(self, value: int) -> bool:
        lo_i, hi_i = 0, len(self.spans)
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            lo, hi = self.spans[mid]
            if value < lo:
                hi_i = mid
            elif value > hi:
                lo_i = mid + 1
            else:
                return True
        return False

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.spans)

    def first(self) -> int | None:
        return self.spans[0][0] if self.spans else None

    def widest(self) -> int | None:
        """The first value of the widest span (a representative member)."""
        if not self.spans:
            return None
        return max(self.spans, key=lambda s: (s[1] - s[0], -s[0]))[0]

    def __or__(self, other: IntervalSet) -> IntervalSet:
        if not other.spans:
            return self
        if not self.spans:
            return other
        return IntervalSet.from_spans(self.spans + other.spans)

    def __and__(self, other: IntervalSet) -> IntervalSet:
        a, b = self.spans, other.spans
        i = j = 0
        out: list[Span] = []
        while i < len(a) and j < len(b):
            lo = max(a[i][0], b[j][0])
            hi = min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(out))

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        if not self.spans or not other.spans:
            return self
        out: list[Span] = []
        b = other.spans
        j = 0
        for lo, hi in self.spans:
            cur = lo
            while j < len(b) and b[j][1] < cur:
                j += 1
            k = j
            while k < len(b) and b[k][0] <= hi:
                if b[k][0] > cur:
                    out.append((cur, b[k][0] - 1))
                cur = max(cur, b[k][1] + 1)
                if cur > hi:
                    break
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet(tuple(out))

    def overlaps(self, other: IntervalSet) -> bool:
        return bool(self & other)

    def cuts(self) -> set[int]:
        """Boundary points: every ``lo`` and every ``hi + 1``."""
        return {p for lo, hi in self.spans for p in (lo, hi + 1)}

    def describe(self, family: int | None = None, limit: int = 4) -> str:
        parts = [_span_text(s, family) for s in self.spans[:limit]]
        more = f" (+{len(self.spans) - limit} more)" if len(self.spans) > limit else ""
        return ", ".join(parts) + more if parts else "none"


EMPTY = IntervalSet()
ALL_PORTS = IntervalSet.of((0, 65535))
EPHEMERAL = IntervalSet.of((1024, 65535))


def everything(family: int) -> IntervalSet:
    return IntervalSet.of((0, SPACE[family]))


def cidr_span(cidr: Any) -> tuple[int, IntervalSet] | None:
    """``(family, addresses)`` of a CIDR string (host bits ignored), or None if invalid."""
    if not isinstance(cidr, str):
        return None
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None
    return net.version, IntervalSet.of((int(net.network_address), int(net.broadcast_address)))


def address(text: Any) -> tuple[int, int] | None:
    """``(family, integer)`` of an IP address string, or None."""
    if not isinstance(text, str):
        return None
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return ip.version, int(ip)


def format_address(family: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))


def _span_text(span: Span, family: int | None) -> str:
    lo, hi = span
    if family is None:
        return str(lo) if lo == hi else f"{lo}-{hi}"
    nets = list(
        ipaddress.summarize_address_range(
            ipaddress.ip_address(format_address(family, lo)),
            ipaddress.ip_address(format_address(family, hi)),
        )
    )
    if len(nets) == 1:
        return str(nets[0])
    return f"{format_address(family, lo)}-{format_address(family, hi)}"


def _nets(*cidrs: str) -> IntervalSet:
    out = EMPTY
    for c in cidrs:
        parsed = cidr_span(c)
        assert parsed is not None
        out = out | parsed[1]
    return out


# Internet clients: public unicast IPv4 and global unicast IPv6 (posture.net).
PUBLIC = {4: everything(4) - _nets(*NON_PUBLIC_IPV4), 6: _nets(GLOBAL_IPV6)}
