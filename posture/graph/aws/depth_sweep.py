"""Defense depth over every port of an asset (assets tagged or classified as sensitive).

posture does not know which ports such an asset listens on, so every port of a protocol
(1-65535) is judged. The ports are not enumerated: every port-dependent decision on every
candidate path is a rule's port range, so the range is cut at

* every port boundary of every rule of the protocol in the filters of the asset's interface
  classes (security groups, network ACLs: :meth:`~posture.graph.core.Filter.port_cuts`),
* for each internet-facing load balancer whose target groups hold the asset: the registered
  ports (registration is per port) and every port boundary of the load balancer's and the
  target's filters, both directions,
* any extra ports the caller wants alone (the admin and database ports, so that each keeps its
  port class),

and each piece is judged once, at its first port, with :func:`posture.graph.depth.host_depths`
- whose searches are shared by the ports no rule tells apart and memoized per interface class.
A piece has the same depth on every one of its ports (the layers' client sets are the same), so
the asset's depth is the minimum over the pieces; the cost is the number of distinct rule
boundaries, not 65,535 ports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from posture.graph.aws import lb as aws_lb
from posture.graph.aws.depth import host_depths
from posture.graph.aws.depth_lb import members
from posture.graph.aws.reach import AwsReach, Host
from posture.graph.core import Direction
from posture.graph.depth import TCP, Depth, Layer, PathDepth
from posture.graph.ports import pieces


@dataclass(frozen=True, slots=True)
class Piece:
    """A range of ports (one span) with the same depth on each, judged at its first port."""

    protocol: str
    lo: int
    hi: int
    depth: Depth


def spread(depth: Depth, protocol: str, lo: int, text: str) -> Depth:
    """``depth`` (judged at port ``lo``) with its best path's texts naming ``text`` (the
    range of ports it stands for, e.g. ``tcp/1-21, 23-65535``) instead of ``protocol/lo``;
    call it after the path is explained."""
    best = depth.best
    if best is None or text == f"{protocol}/{lo}":
        return depth
    token = re.compile(rf"\b{re.escape(protocol)}/{lo}(?![\d-])")

    def fix(x: Layer) -> Layer:
        return replace(x, detail=token.sub(text, x.detail), change=token.sub(text, x.change))

    named: PathDepth = replace(
        best,
        layers=tuple(fix(x) for x in best.layers),
        changes=tuple(fix(x) for x in best.changes),
    )
    return replace(depth, best=named)


def cuts(reach: AwsReach, host: Host, protocol: str) -> set[int]:
    """Every port at which some decision on some candidate path of ``host`` may change."""
    out: set[int] = set()
    for iface in host.interfaces:
        for f in reach.classes[iface.key].filters:
            out |= f.port_cuts(Direction.IN, protocol)
    for fw in members(reach, protocol).get(host.asset.uid, []):
        for p in fw.registered:
            out |= {p, p + 1}
        listener = int(fw.listener.attr("port"))
        keys = [key for _, key, _ in aws_lb._fronts(reach, fw.lb, protocol, listener)]
        for key in [*keys, fw.iface.key]:
            for f in reach.classes[key].filters:
                for d in Direction:
                    out |= f.port_cuts(d, protocol)
    return out


def sweep(
    reach: AwsReach, host: Host, protocol: str = TCP, alone: Iterable[int] = ()
) -> tuple[Piece, ...]:
    """The depth of every port of ``protocol`` on ``host``, as pieces covering 1-65535 in
    order; the ports in ``alone`` are pieces of their own. Memoized per (interface classes,
    load-balancer membership, protocol, ``alone``)."""
    single = tuple(sorted({int(p) for p in alone}))
    lb = host.asset.uid in members(reach, protocol)
    key: tuple[Any, ...] = (
        tuple(i.key for i in host.interfaces),
        host.asset.uid if lb else None,
        host.asset.attr("interface_type") == "vpc_endpoint",
        protocol,
        single,
    )
    memo: dict[Any, tuple[Piece, ...]] = reach.memo.setdefault("depth.sweep", {})
    found = memo.get(key)
    if found is None:
        points = cuts(reach, host, protocol) | {q for p in single for q in (p, p + 1)}
        spans = pieces(points)
        depths = host_depths(reach, host, [lo for lo, _ in spans], protocol)
        found = memo[key] = tuple(
            Piece(protocol, lo, hi, d) for (lo, hi), d in zip(spans, depths, strict=True)
        )
    return found


__all__ = ["Piece", "cuts", "spread", "sweep"]
