"""AWS defense depth per asset: the units a depth verdict is over, and their texts and evidence.

A *unit* is one sensitive port (an admin or database port of a host, an RDS instance's port,
tcp/443 of a VPC endpoint) or one range of ports of an asset tagged as sensitive
(:mod:`posture.graph.aws.depth_sweep`: every port of the range has the same depth). The asset's
verdict is over its units (docs/reachability.md, "Defense depth").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from posture.graph.aws.depth import name_best
from posture.graph.aws.depth_sweep import spread
from posture.graph.aws.reach import Host
from posture.graph.depth import (
    TCP,
    Depth,
    Layer,
    PathDepth,
    combine,
    depth_evidence,
    depth_text,
)
from posture.net import SERVICES

SENSITIVE = "sensitive"  # the class of ports judged because the asset is (not the port)


@dataclass(frozen=True, slots=True)
class Unit:
    """A port or port range of an asset, its depth, port class and required depth."""

    protocol: str
    lo: int
    hi: int
    depth: Depth
    klass: str
    need: int
    served: PathDepth | None = None  # depth 0 only through this load balancer: its front door

    @property
    def port(self) -> int:
        return self.lo

    @property
    def ports(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"

    def label(self) -> str:
        name = SERVICES.get(self.lo) if self.lo == self.hi and self.protocol == TCP else None
        text = f"{self.protocol}/{self.ports}"
        return f"{name} ({text})" if name else text


def front_door(unit: Unit) -> Unit:
    """A port of a sensitive-classed unit at depth 0 only through internet-facing load
    balancers is the asset's front door: the load balancer serves it to the internet by design
    (a target group registers the asset on it). It is judged on its other paths instead."""
    d = unit.depth
    if unit.klass != SENSITIVE or d.depth != 0:
        return unit
    if any(p.depth == 0 and p.member >= 0 for p in d.paths):
        return unit  # a direct path: a real exposure
    door = next(p for p in d.paths if p.depth == 0)
    rest = [p for p in d.paths if p.depth != 0]
    return replace(unit, depth=combine(d.port, rest), served=door)


def blocker_text(x: Layer) -> str:
    """A blocking layer in words, naming the resource and the rule that decides."""
    rule = f" ({x.rule})" if x.rule else ""
    if x.layer == "security-group":
        return f"security group {x.resource} ({x.detail})"
    if x.layer == "public-address":
        return f"{x.detail} on {x.resource}"
    if x.layer == "route":
        return f"route table {x.resource}{rule}"
    if x.layer.startswith("network-acl"):
        direction = x.layer.split(" ", 1)[1]
        what = rule or f" ({x.detail})"
        return f"network ACL {x.resource} {direction}{what}"
    if x.layer == "target-group":
        return f"target group {x.resource}{rule}"
    return f"{x.layer} {x.resource}{rule}"


def ports_text(units: Sequence[Unit], merge: bool = False, limit: int = 0) -> str:
    """``tcp/22, 8000-8079; udp/53``: the units' ports per protocol, adjacent ones merged when
    ``merge`` (the ranges of a sweep; an admin-port host lists its ports apart); at most
    ``limit`` spans (0: all), then ``(+N more)``."""
    spans: list[list[Any]] = []
    for u in sorted(units, key=lambda u: (u.protocol != TCP, u.protocol, u.lo)):
        last = spans[-1] if spans else None
        if merge and last and (last[0], last[2] + 1) == (u.protocol, u.lo):
            last[2] = u.hi
        else:
            spans.append([u.protocol, u.lo, u.hi])
    shown = spans[:limit] if limit else spans
    out: dict[str, list[str]] = {}
    for proto, lo, hi in shown:
        out.setdefault(proto, []).append(str(lo) if lo == hi else f"{lo}-{hi}")
    more = f" (+{len(spans) - len(shown)} more)" if len(spans) > len(shown) else ""
    return "; ".join(f"{proto}/{', '.join(ps)}" for proto, ps in out.items()) + more


def _by_port(units: Sequence[Unit], merge: bool) -> dict[str, int | str]:
    """Every unit's depth (adjacent units with the same depth merged when ``merge``: the
    ranges of a sweep); udp keys say so."""
    out: dict[str, int | str] = {}
    run: list[Unit] = []

    def flush() -> None:
        if run:
            lo, hi, proto = run[0].lo, run[-1].hi, run[0].protocol
            key = str(lo) if lo == hi else f"{lo}-{hi}"
            out[key if proto == TCP else f"{proto}/{key}"] = depth_text(run[0].depth)
            run.clear()

    for u in units:
        last = run[-1] if run else None
        joins = (
            last is not None
            and merge
            and (u.protocol, u.lo) == (last.protocol, last.hi + 1)
            and depth_text(u.depth) == depth_text(last.depth)
        )
        if last is not None and not joins:
            flush()
        run.append(u)
    flush()
    return out


def unit_evidence(
    units: Sequence[Unit], weakest: Unit, swept: bool, group: Sequence[Unit] = ()
) -> dict[str, Any]:
    """``group``: the units the weakest stands for (same layers; their ports are
    ``port_range``)."""
    d = weakest.depth
    out: dict[str, Any] = {
        **depth_evidence(d),
        "port": weakest.port,
        # every sensitive port's depth (">=N": a lower bound; "undecided")
        "depth_by_port": _by_port(units, swept),
    }
    ranged = ports_text(group or [weakest], merge=True).split("/", 1)[1]
    if ranged != str(weakest.port):
        out["port_range"] = ranged
    if weakest.protocol != TCP:
        out["protocol"] = weakest.protocol
    if swept:
        level = depth_text(d)
        out["weakest_ports"] = ports_text(
            [u for u in units if depth_text(u.depth) == level], merge=True
        )
    served = [u for u in units if u.served is not None]
    if served:
        out["served"] = [
            {"ports": ports_text([u]), "via": u.served.via} for u in served if u.served
        ]
    return out


def shown(unit: Unit, host: Host | None, text: str | None = None) -> Unit:
    """The unit with its best path explained, named after the host's interface, and its texts
    naming ``text`` (the ports it stands for) instead of its first port."""
    d = unit.depth
    if host is not None:
        d = name_best(d, host)
    elif d.best is not None:
        d = replace(d, best=d.best.explained())
    text = text or f"{unit.protocol}/{unit.ports}"
    return replace(unit, depth=spread(d, unit.protocol, unit.lo, text))


def same_layers(units: Sequence[Unit], weakest: Unit) -> list[Unit]:
    """The units of a sweep that ``weakest`` stands for in a message: same protocol, same
    depth, and the same least set of layers to change."""

    def sig(u: Unit) -> tuple[Any, ...]:
        best = u.depth.best
        keys = tuple(x.key for x in best.changes) if best is not None else ()
        return (u.protocol, depth_text(u.depth), keys)

    want = sig(weakest)
    return [u for u in units if u is weakest or sig(u) == want]


__all__ = [
    "SENSITIVE", "SERVICES", "Unit", "blocker_text", "front_door", "ports_text", "same_layers",
    "shown", "unit_evidence",
]
