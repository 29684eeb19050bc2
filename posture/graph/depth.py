"""Defense depth: how many independent layers stand between a sensitive port and the internet.

A *candidate path* is one way the internet could reach ``tcp/port`` on an asset: directly on
one of its interfaces over IPv4 or IPv6, or through an internet-facing load balancer whose
target group holds the asset (:mod:`posture.graph.aws.depth_lb`). A path crosses *layers*; each
layer is one piece of configuration with one *flip* - the single change that makes the layer
let every internet client through for this traffic:

==============================  ===============================================================
layer                           flip
==============================  ===============================================================
``security-group``              an inbound rule admitting the port from 0.0.0.0/0 (and ::/0)
``public-address``              a public IPv4 / Elastic IP (IPv4 path), a global IPv6 address
                                (IPv6 path); for RDS, ``PubliclyAccessible = true``
``route``                       the subnet's route table sends every internet address to an
                                internet gateway (a default route to an IGW, and no more
                                specific route capturing internet addresses)
``network-acl inbound``         an allow-all entry ahead of every inbound entry
``network-acl outbound``        an allow-all entry ahead of every outbound entry (replies to
                                the ephemeral ports 1024-65535)
``target-group``                the asset registered on the port in the target group
==============================  ===============================================================

A layer is identified by the configuration it flips (security-group set + direction, ACL id +
direction, route table, address family, target group + target), so a network ACL shared by a
load balancer's subnet and its target's subnet is one layer, flipped once.

The *depth* of a path is the least number of flips after which a wide range of internet
clients (:func:`wide`: a /8 worth of IPv4, a /16 worth of IPv6 - the exposure checks'
definition) has a complete path. Flips only ever open, so this is a minimum cut of the path's
layers; it is found exactly by trying flip sets in increasing size. The depth of an (asset,
port) is the minimum over its candidate paths: 0 is a real exposure, 1 means one change
exposes it. A layer whose data is unknown (unreadable route table, unresolved prefix list)
gives a lower and an upper bound; the depth is decided only when they agree.

Direct paths (:mod:`posture.graph.aws.depth_direct`) reuse the filters' memoized admissions and the
adapter's internet routes (the primitives :func:`posture.graph.paths.internet_verdict`
composes): the internet path is the intersection of its layers' client sets, so one path costs a
handful of admissions and at most 2**layers set intersections, memoized per (interface class,
family, port) in ``reach.memo``. :func:`wide` is also the exposure checks' definition.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from posture.graph.intervals import IntervalSet
from posture.net import WIDE

TCP = "tcp"
NEVER = 1 << 20  # "no number of flips opens this path" (a lower bound larger than any depth)


def wide(family: int, clients: IntervalSet) -> bool:
    """A wide range of internet clients: at least a /8 of IPv4 or a /16 of IPv6."""
    return clients.size() >= WIDE[family]


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of a candidate path, in the state the inventory shows."""

    key: tuple[str, ...]  # the configuration its flip changes
    layer: str
    resource: str
    blocking: bool | None  # alone keeps the wide internet out (None: unknown)
    rule: str = ""  # the rule or route that decides
    detail: str = ""
    change: str = ""  # the flip, in words
    unknown: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "layer": self.layer,
            "resource": self.resource,
            "rule": self.rule or None,
            "detail": self.detail,
            "blocking": self.blocking,
        }
        if self.change:
            out["change"] = self.change
        if self.unknown:
            out["unknown"] = self.unknown
        return out


@dataclass(frozen=True, slots=True)
class PathDepth:
    """The depth of one candidate path and a least set of flips that opens it."""

    via: str
    family: int
    layers: tuple[Layer, ...]
    depth: int | None  # None: undecided, or no flip set within the search bound opens it
    at_least: int
    changes: tuple[Layer, ...] = ()
    unknown: str | None = None
    member: int = -1  # the host interface (index) a direct path belongs to
    # computes the layers' ``blocking`` flags when they are not known yet (load-balancer
    # paths: one evaluation per layer, paid only for the path a finding shows)
    explain: Callable[[], tuple[Layer, ...]] | None = field(
        default=None, compare=False, repr=False
    )

    def explained(self) -> PathDepth:
        """The path with every layer's ``blocking`` flag computed."""
        if self.explain is None:
            return self
        marked = self.explain()
        by_key = {x.key: x for x in marked}
        return replace(
            self,
            layers=marked,
            changes=tuple(by_key.get(x.key, x) for x in self.changes),
            explain=None,
        )

    def relabel(self, kind: str, resource: str, detail: str = "", change: str = "") -> PathDepth:
        """The same path with the layers of ``kind`` naming ``resource`` (a class member)."""

        def fix(x: Layer) -> Layer:
            if x.layer != kind:
                return x
            return replace(x, resource=resource, detail=detail or x.detail,
                           change=change or x.change)

        return replace(
            self,
            layers=tuple(fix(x) for x in self.layers),
            changes=tuple(fix(x) for x in self.changes),
        )


@dataclass(frozen=True, slots=True)
class Depth:
    """Depth of one (asset, port): the minimum over its candidate paths."""

    port: int
    depth: int | None  # None: undecided (see ``at_least`` and ``unknown``)
    at_least: int
    best: PathDepth | None
    unknown: str | None = None
    paths: tuple[PathDepth, ...] = ()


def depth_text(d: Depth) -> int | str:
    """A depth as reports show it: the number, ``>=N`` (a lower bound), ``undecided``, or
    ``unreachable`` (no set of flips opens any candidate path)."""
    if d.depth is not None:
        return d.depth
    if d.at_least >= NEVER:
        return "unreachable"
    return f">={d.at_least}" if d.at_least else "undecided"


def depth_evidence(d: Depth) -> dict[str, Any]:
    """The evidence every provider's depth finding carries about its weakest (asset, port):
    the depth, the best path's layers and the changes that would open it."""
    best = d.best
    out: dict[str, Any] = {
        "depth": d.depth,
        "via": best.via if best else None,
        "layers": [x.to_dict() for x in best.layers] if best else [],
    }
    if d.depth is None:
        out["depth_at_least"] = d.at_least
    if best and best.changes:
        out["changes"] = [x.to_dict() for x in best.changes]
        if len(best.changes) == 1:
            out["single_change"] = best.changes[0].to_dict()
    return out


Opens = Callable[[frozenset[int]], "bool | None"]


def min_flips(n: int, opens: Opens, limit: int) -> tuple[int | None, int, frozenset[int]]:
    """The least k <= ``limit`` such that flipping some k of ``n`` layers opens the path.

    ``opens(flipped)`` answers True, False or None (unknown). Returns ``(depth, at_least,
    flipped)``: depth None when undecided (an unknown answer at a smaller size) or when no set
    of at most ``limit`` flips opens the path (then ``at_least`` is ``limit + 1``, or
    :data:`NEVER` when every layer was tried).
    """
    first_unknown: int | None = None
    top = min(n, limit)
    for k in range(top + 1):
        for combo in itertools.combinations(range(n), k):
            chosen = frozenset(combo)
            got = opens(chosen)
            if got is None:
                first_unknown = k if first_unknown is None else first_unknown
            elif got:
                if first_unknown is not None and first_unknown < k:
                    return None, first_unknown, chosen
                return k, k, chosen
    if first_unknown is not None:
        return None, first_unknown, frozenset()
    return None, (NEVER if top == n else top + 1), frozenset()


def search(
    via: str, family: int, layers: Sequence[Layer], opens: Opens, limit: int = NEVER
) -> PathDepth:
    return result(via, family, layers, *min_flips(len(layers), opens, limit))


def result(
    via: str,
    family: int,
    layers: Sequence[Layer],
    depth: int | None,
    at_least: int,
    chosen: frozenset[int],
) -> PathDepth:
    """The path of a :func:`min_flips` answer (``chosen``: indices into ``layers``)."""
    changes = tuple(layers[i] for i in sorted(chosen)) if depth is not None else ()
    unknown = next((x.unknown for x in layers if x.unknown), None) if depth is None else None
    return PathDepth(via, family, tuple(layers), depth, at_least, changes, unknown)


# -- per asset: hosts and RDS --------------------------------------------------------------------


def combine(port: int, paths: Sequence[PathDepth]) -> Depth:
    """The (asset, port) depth: the minimum over candidate paths, with bounds."""
    low = min((p.at_least for p in paths), default=NEVER)
    if low >= NEVER:  # no candidate path can be opened by any set of flips
        return Depth(port, None, NEVER, None, None, tuple(paths))
    decided = [p for p in paths if p.depth is not None]
    best = min(decided, key=lambda p: p.depth or 0) if decided else None
    high = best.depth if best is not None and best.depth is not None else NEVER
    if best is not None and low >= high:
        return Depth(port, high, high, best, None, tuple(paths))
    unsure = min((p for p in paths if p.depth is None), key=lambda p: p.at_least)
    reason = unsure.unknown or "undecided"
    return Depth(port, None, low, best or unsure, reason, tuple(paths))


__all__ = [
    "NEVER",
    "WIDE",
    "Depth",
    "Layer",
    "PathDepth",
    "combine",
    "min_flips",
    "result",
    "search",
    "wide",
]
