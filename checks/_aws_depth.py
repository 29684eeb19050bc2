"""Shared logic of the AWS defense-depth check: the units it judges and the finding's wording.

A *unit* is one sensitive port (an admin or database port of a host, an RDS instance's port,
tcp/443 of a VPC endpoint) or one range of ports of an asset tagged as sensitive
(:mod:`posture.graph.depth_sweep`: every port of the range has the same depth). The asset's
verdict is over its units (docs/reachability.md, "Defense depth").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from posture.engine import CheckContext, Result
from posture.graph.aws import AwsReach, Host
from posture.graph.depth import (
    TCP,
    Depth,
    Layer,
    PathDepth,
    combine,
    depth_evidence,
    depth_text,
    name_best,
)
from posture.graph.depth_sweep import spread
from posture.model import Asset, Severity

SENSITIVE = "sensitive"  # the class of ports judged because the asset is (not the port)
SERVICES = {
    22: "SSH",
    3389: "RDP",
    5985: "WinRM",
    5986: "WinRM",
    1433: "SQL Server",
    1521: "Oracle",
    3306: "MySQL",
    5432: "PostgreSQL",
    5439: "Redshift",
    5984: "CouchDB",
    6379: "Redis",
    8086: "InfluxDB",
    9042: "Cassandra",
    9200: "Elasticsearch",
    9300: "Elasticsearch",
    11211: "Memcached",
    27017: "MongoDB",
    27018: "MongoDB",
}


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


def severity_of(ctx: CheckContext, klass: str) -> Severity:
    table = {str(k): v for k, v in pairs(ctx.param("class_severity"))}
    return Severity.parse(str(table.get(klass, ctx.spec.severity.label)))


def pairs(value: Any) -> list[tuple[str, Any]]:
    return list(value.items()) if isinstance(value, Mapping) else [tuple(p) for p in value]


def _blocker(x: Layer) -> str:
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


def _rank(u: Unit, ctx: CheckContext) -> tuple[Any, ...]:
    """Weakest first: lowest depth, most severe class, an open security group (latent
    exposure) before a closed one, tcp before udp, then port order."""
    d = u.depth
    level = d.depth if d.depth is not None else d.at_least
    sg_blocks = d.best is not None and any(c.layer == "security-group" for c in d.best.changes)
    return (level, -int(severity_of(ctx, u.klass)), sg_blocks, u.protocol != TCP, u.lo)


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


def _evidence(
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


def _shown(unit: Unit, host: Host | None, text: str | None = None) -> Unit:
    """The unit with its best path explained, named after the host's interface, and its texts
    naming ``text`` (the ports it stands for) instead of its first port."""
    d = unit.depth
    if host is not None:
        d = name_best(d, host)
    elif d.best is not None:
        d = replace(d, best=d.best.explained())
    text = text or f"{unit.protocol}/{unit.ports}"
    return replace(unit, depth=spread(d, unit.protocol, unit.lo, text))


def _same_layers(units: Sequence[Unit], weakest: Unit) -> list[Unit]:
    """The units of a sweep that ``weakest`` stands for in a message: same protocol, same
    depth, and the same least set of layers to change."""

    def sig(u: Unit) -> tuple[Any, ...]:
        best = u.depth.best
        keys = tuple(x.key for x in best.changes) if best is not None else ()
        return (u.protocol, depth_text(u.depth), keys)

    want = sig(weakest)
    return [u for u in units if u is weakest or sig(u) == want]


def judge(
    ctx: CheckContext,
    reach: AwsReach,
    asset: Asset,
    units: Sequence[Unit],
    host: Host | None = None,
    swept: bool = False,
    **extra: Any,
) -> Result | None:
    """The asset's finding over its units (None: a real exposure the exposure checks report)."""
    exposed = [u for u in units if u.depth.depth == 0]
    if any(u.klass == SENSITIVE for u in exposed):
        return _exposed(ctx, reach, asset, units, host, swept, **extra)
    if exposed:
        return None  # exposed: the exposure checks report it (evidence depth 0)
    undecided = [u for u in units if u.depth.depth is None and u.depth.at_least < u.need]
    if undecided:
        u = undecided[0]
        label = ports_text(undecided, True, 5) if swept else u.label()
        return ctx.unknown(
            asset,
            f"cannot decide the defense depth of {label}: {u.depth.unknown} "
            f"(at least {u.depth.at_least} layer(s))",
            undecided=sorted({str(x.depth.unknown) for x in undecided}),
            depth=None,
            **extra,
        )
    first = min(units, key=lambda u: _rank(u, ctx))
    group = _same_layers(units, first) if swept else [first]
    label = ports_text(group, merge=True) if len(group) > 1 else first.label()
    weakest = _shown(first, host, ports_text(group, merge=True))
    evidence = {**extra, **_evidence(units, weakest, swept, group)}
    short = [u for u in units if u.depth.depth is not None and u.depth.depth < u.need]
    best = weakest.depth.best
    what = f"{label} on {asset.name}"
    changes = best.changes if best is not None else ()
    blockers = "; ".join(_blocker(x) for x in changes)
    if not short:
        d = weakest.depth
        level = d.depth if d.depth is not None else f">= {d.at_least}"
        need = min(u.need for u in units)
        return ctx.passed(
            asset,
            f"every sensitive port is at depth >= {need}; the weakest, {what}, is at depth "
            f"{level}" + (f": {blockers}" if blockers else ""),
            **evidence,
        )
    severity = max(severity_of(ctx, u.klass) for u in short)
    others = [u for u in short if not any(u is g for g in group)]
    message = _shortfall(weakest, what, others, swept)
    return ctx.fail_at(severity, asset, message, **evidence)


def _shortfall(weakest: Unit, what: str, others: Sequence[Unit], merge: bool) -> str:
    """The FAIL message: the layers that alone keep the port from the internet, the open
    security group if that is what lets it through, and the single change at depth 1."""
    best = weakest.depth.best
    changes = best.changes if best is not None else ()
    blockers = "; ".join(_blocker(x) for x in changes)
    also = ""
    if others:
        also = f" Also below depth {weakest.need}: {ports_text(others, merge, 5)}."
    through = ""
    for x in best.layers if best is not None and best.via.startswith("direct") else ():
        if x.layer == "security-group" and x.blocking is False and x.rule:
            through = f"; its security group {x.resource} admits it from the internet ({x.rule})"
    if len(changes) == 1:
        return (
            f"only {blockers} keeps {what} from the internet{through}; one change exposes it: "
            f"{changes[0].change}.{also}"
        )
    return (
        f"only {len(changes)} layers keep {what} from the internet (required: {weakest.need}): "
        f"{blockers}{through}.{also}"
    )


def _exposed(
    ctx: CheckContext,
    reach: AwsReach,
    asset: Asset,
    units: Sequence[Unit],
    host: Host | None,
    swept: bool,
    **extra: Any,
) -> Result:
    """Depth 0 on a port judged only because the asset is sensitive: no exposure check covers
    it, so this check reports it, with the path, at ``exposed_severity``."""
    loud = [u for u in units if u.depth.depth == 0 and u.klass == SENSITIVE]
    first = _shown(min(loud, key=lambda u: (u.protocol != TCP, u.lo)), host, None)
    evidence = {**extra, **_evidence(units, first, swept)}
    best = first.depth.best
    path = None
    if host is not None and best is not None and best.member >= 0:
        iface = host.interfaces[best.member]
        v = reach.internet(iface.key, best.family, first.protocol, first.port)
        if v.path is not None:
            path = v.path.at(iface.eni_id or asset.name, iface.public.get(best.family),
                             asset.name, asset.type)
    if path is not None:
        evidence["paths"] = [path.to_dict()]
    why = ", ".join(extra.get("sensitive") or ()) or "sensitive"
    ports = ports_text(loud, swept)
    evidence["exposed_ports"] = ports
    message = (
        f"{ports} on {asset.name} ({why}) is reachable from the internet"
        + (f": {path.text()}" if path is not None else f" ({best.via})" if best else "")
    )
    return ctx.fail_at(Severity.parse(str(ctx.param("exposed_severity"))), asset, message,
                       **evidence)


__all__ = ["SENSITIVE", "SERVICES", "Unit", "front_door", "judge", "pairs", "ports_text",
           "severity_of"]
