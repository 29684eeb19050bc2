"""Defense depth: how many independent layers keep each sensitive port from the internet.

Depth is computed by :mod:`posture.graph.depth` (docs/reachability.md, "Defense depth"): the
least number of layer flips - a public address, an internet-gateway route, a network-ACL entry,
a security-group rule, a target-group registration - after which a wide range of internet
clients reaches the port, over every candidate path (each interface over IPv4 and IPv6, each
internet-facing load balancer whose target group holds the asset). Sensitive are the admin and
database ports of every host, an RDS instance's port, tcp/443 of every interface VPC endpoint,
and every port (:mod:`posture.graph.aws.depth_sweep`) of a host tagged as sensitive. Depth 0 on an
admin or database port is a real exposure the exposure checks report (their evidence carries
``depth: 0``); depth 0 on a port judged only because the asset is sensitive is reported here
(no other check covers it). This check reports the assets below the required depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from posture.checks._shared import class_severity as severity_of
from posture.checks._shared import port_classes as _classes
from posture.checks.aws_network import BASTION_NAME, BASTION_TAGS

from posture.engine import CheckContext, Result
from posture.graph.aws.depth import host_depths, rds_depth
from posture.graph.aws.depth_direct import route_layer
from posture.graph.aws.depth_sweep import sweep
from posture.graph.aws.depth_units import (
    SENSITIVE,
    Unit,
    blocker_text,
    front_door,
    ports_text,
    same_layers,
    shown,
    unit_evidence,
)
from posture.graph.aws.exposure import READS, is_bastion, reach_of
from posture.graph.aws.reach import RDS_INSTANCE, AwsReach, Host
from posture.graph.depth import TCP, Depth
from posture.model import Asset, Principle, Severity
from posture.net import ADMIN_PORTS
from posture.net import PORT_CLASSES as NET_PORT_CLASSES
from posture.registry import check

PORT_CLASSES = NET_PORT_CLASSES
CLASS_SEVERITY = (("admin", "low"), ("database", "low"), (SENSITIVE, "low"))
SENSITIVE_TAGS = ("Sensitivity=high", "DataClassification=confidential", "Tier=private")


def _strings(value: Any, lower: bool = False) -> tuple[str, ...]:
    """A parameter given as one string or a list of them."""
    items = (value,) if isinstance(value, str) else tuple(value or ())
    return tuple(str(v).lower() if lower else str(v) for v in items)


def _tags_of(asset: Asset, tags: Sequence[str]) -> list[str]:
    return [str(t) for t in tags if is_bastion(asset, (t,))]


def _private_tier(reach: AwsReach, host: Host) -> bool:
    """No public address on any interface, and no subnet of its interfaces routes the wide
    internet (IPv4 or IPv6) to an internet gateway."""
    for iface in host.interfaces:
        att = reach.classes[iface.key]
        if att.unknown or any(att.public.values()):
            return False
        if any(route_layer(reach, att.network, fam)[0].blocking is not True for fam in (4, 6)):
            return False
    return True


def _port_units(depths: Sequence[Depth], classes: dict[int, str], need: int) -> list[Unit]:
    return [Unit(TCP, d.port, d.port, d, classes.get(d.port, "database"), need) for d in depths]


def _swept_units(
    reach: AwsReach, host: Host, classes: dict[int, str], protocols: Sequence[str], need: int,
    class_need: int,
) -> list[Unit]:
    """Every port of every protocol in ``protocols``: the class ports alone (their class and
    requirement), the ranges between them of class ``sensitive``."""
    out = []
    for proto in protocols:
        alone = tuple(classes) if proto == TCP else ()
        for piece in sweep(reach, host, proto, alone):
            klass = classes.get(piece.lo) if proto == TCP and piece.lo == piece.hi else None
            unit = Unit(proto, piece.lo, piece.hi, piece.depth, klass or SENSITIVE,
                        class_need if klass else need)
            out.append(front_door(unit))
    return out


@check(
    "aws.network.sensitive_ports_defense_in_depth", Severity.LOW, (Principle.DEFENSE_IN_DEPTH,),
    reads=READS | {RDS_INSTANCE},
    params={
        "port_classes": PORT_CLASSES,
        "class_severity": CLASS_SEVERITY,
        "min_depth": 2,
        "bastion_min_depth": 1,
        "bastion_tags": BASTION_TAGS,
        "bastion_name_pattern": BASTION_NAME,
        "infer_bastions": True,
        "sensitive_tags": SENSITIVE_TAGS,
        "sensitive_protocols": ("tcp", "udp"),
        "endpoint_ports": (443,),
        "exposed_severity": "medium",
    },
)
def sensitive_ports_defense_in_depth(ctx: CheckContext) -> Iterator[Result]:
    """Sensitive ports are kept from the internet by at least two independent layers

    The security policy asks for several controls in depth, not just 'not exposed today'. Sensitive
    are the administrative and database ports of every EC2 host, the port of every RDS instance,
    tcp/443 of every interface VPC endpoint (KMS, Secrets Manager, ... - parameter endpoint_ports)
    and, for hosts tagged as sensitive (parameter sensitive_tags, e.g. Sensitivity=high), every
    port of sensitive_protocols. For each, the depth is the least number of independent layer
    changes (a public address, an internet-gateway route, a network-ACL entry, a security-group
    rule, a target-group registration) that would expose the port to the wide internet, over every
    candidate path (each interface over IPv4 and IPv6, each internet-facing load balancer
    forwarding to the asset). Depth 1 - one change exposes it - fails at the severity of the port's
    class (parameters port_classes, class_severity; class 'sensitive' for the ports judged because
    the asset is sensitive); the message names the single layer, its resource and rule, and the
    change. Depth 0 on an admin or database port is a real exposure, reported by
    aws.network.admin_ports_not_internet_reachable and aws.network.db_ports_not_internet_reachable
    (evidence depth 0), not here; depth 0 on any other port of a sensitive asset is reported here
    at exposed_severity (no other check covers it), with the path - except a port an
    internet-facing load balancer serves by design (its front door, judged on its other paths).
    Bastions (recognised or inferred as the exposure checks do) need bastion_min_depth on their
    admin and database ports (default 1: the allow-list is their one layer). Undecidable layers
    give INCONCLUSIVE unless the lower bound already meets the requirement.

    Remediation: Add a second, independent layer in front of the port: move the host or database to
    a private subnet (no internet-gateway route, no public address), turn off PubliclyAccessible,
    restrict the subnet's network ACL, and allow the port in the security group only from the tier
    that needs it. A sensitive asset reachable from the internet on any port: close the path first.
    """
    from posture.graph.aws.bastion import bastions

    reach: AwsReach = ctx.derived("aws.reach", reach_of)
    classes = _classes(ctx)
    admin = [p for p, k in classes.items() if k == "admin"] or list(ADMIN_PORTS)
    known = bastions(
        reach,
        ctx.param("bastion_tags"),
        admin,
        ctx.param("infer_bastions"),
        str(ctx.param("bastion_name_pattern") or ""),
    )
    need, bastion_need = int(ctx.param("min_depth")), int(ctx.param("bastion_min_depth"))
    tags, protocols = _strings(ctx.param("sensitive_tags")), _strings(
        ctx.param("sensitive_protocols"), lower=True
    )
    ports = tuple(classes)
    for host in reach.hosts():
        why = known.get(host.asset.uid)
        extra: dict[str, Any] = {"bastion": why} if why else {}
        required = bastion_need if why else need
        tagged = _tags_of(host.asset, tags)
        reasons = [f"tagged {t}" for t in tagged] or ["admin and database ports"]
        if _private_tier(reach, host):
            reasons.append("private tier")
        if tagged:
            units = _swept_units(reach, host, classes, protocols, need, required)
        else:
            units = _port_units(host_depths(reach, host, ports), classes, required)
        found = judge(ctx, reach, host.asset, units, host, bool(tagged), sensitive=reasons,
                      **extra)
        if found is not None:
            yield found
    endpoint_ports = tuple(int(p) for p in ctx.param("endpoint_ports") or ())
    for host in reach.endpoints() if endpoint_ports else ():
        depths = host_depths(reach, host, endpoint_ports)
        units = [front_door(Unit(TCP, d.port, d.port, d, SENSITIVE, need)) for d in depths]
        found = judge(ctx, reach, host.asset, units, host, sensitive=["VPC endpoint interface"],
                      endpoint=str(host.asset.attr("description") or ""))
        if found is not None:
            yield found
    for db in ctx.inventory.of(RDS_INSTANCE):
        found = _rds(ctx, reach, db, need)
        if found is not None:
            yield found


def _rds(ctx: CheckContext, reach: AwsReach, db: Asset, need: int) -> Result | None:
    if db.attr("publicly_accessible") is None or db.attr("port") is None or not db.attr(
        "subnet_ids"
    ):
        return ctx.unknown(
            db,
            "cannot decide the defense depth: publicly_accessible, port or subnets unknown",
            depth=None,
        )
    depth, per_subnet = rds_depth(reach, db)
    zero = [s for s, d in per_subnet if d.depth == 0]
    if zero and len(zero) < len(per_subnet):
        return ctx.unknown(
            db,
            f"depth 0 (exposed) if the instance runs in subnet {', '.join(zero)}, else more: "
            "see aws.network.db_ports_not_internet_reachable",
            subnets={s: d.depth for s, d in per_subnet},
            depth=None,
        )
    unit = Unit(TCP, depth.port, depth.port, depth, "database", need)
    return judge(ctx, reach, db, [unit], sensitive=["database"])


def _rank(u: Unit, ctx: CheckContext) -> tuple[Any, ...]:
    """Weakest first: lowest depth, most severe class, an open security group (latent
    exposure) before a closed one, tcp before udp, then port order."""
    d = u.depth
    level = d.depth if d.depth is not None else d.at_least
    sg_blocks = d.best is not None and any(c.layer == "security-group" for c in d.best.changes)
    return (level, -int(severity_of(ctx, u.klass)), sg_blocks, u.protocol != TCP, u.lo)


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
    group = same_layers(units, first) if swept else [first]
    label = ports_text(group, merge=True) if len(group) > 1 else first.label()
    weakest = shown(first, host, ports_text(group, merge=True))
    evidence = {**extra, **unit_evidence(units, weakest, swept, group)}
    short = [u for u in units if u.depth.depth is not None and u.depth.depth < u.need]
    best = weakest.depth.best
    what = f"{label} on {asset.name}"
    changes = best.changes if best is not None else ()
    blockers = "; ".join(blocker_text(x) for x in changes)
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
    blockers = "; ".join(blocker_text(x) for x in changes)
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
    first = shown(min(loud, key=lambda u: (u.protocol != TCP, u.lo)), host, None)
    evidence = {**extra, **unit_evidence(units, first, swept)}
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


__all__ = ["CLASS_SEVERITY", "PORT_CLASSES", "SENSITIVE_TAGS"]
