"""Defense depth: how many independent layers keep each sensitive port from the internet.

Depth is computed by :mod:`posture.graph.depth` (docs/reachability.md, "Defense depth"): the
least number of layer flips - a public address, an internet-gateway route, a network-ACL entry,
a security-group rule, a target-group registration - after which a wide range of internet
clients reaches the port, over every candidate path (each interface over IPv4 and IPv6, each
internet-facing load balancer whose target group holds the asset). Depth 0 is a real exposure:
the exposure checks report it (their evidence carries ``depth: 0``); this check reports the
assets one change away (depth 1) and, more generally, below the required depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from posture.checks._aws_exposure import READS, reach_of
from posture.checks.aws_network import ADMIN_PORTS, BASTION_TAGS, DB_PORTS

from posture.engine import CheckContext, Result
from posture.graph.aws import RDS_INSTANCE, AwsReach, Host
from posture.graph.depth import NEVER, Depth, Layer, host_depths, name_best, rds_depth
from posture.model import Asset, Principle, Severity
from posture.registry import check

PORT_CLASSES = (("admin", ADMIN_PORTS), ("database", DB_PORTS))
CLASS_SEVERITY = (("admin", "low"), ("database", "low"))
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
def _pairs(value: Any) -> list[tuple[str, Any]]:
    return list(value.items()) if isinstance(value, Mapping) else [tuple(p) for p in value]


def _classes(ctx: CheckContext) -> dict[int, str]:
    """port -> its class (the first class listing it)."""
    out: dict[int, str] = {}
    for name, ports in _pairs(ctx.param("port_classes")):
        for p in ports:
            out.setdefault(int(p), str(name))
    return out


def _severity(ctx: CheckContext, klass: str) -> Severity:
    table = {str(k): v for k, v in _pairs(ctx.param("class_severity"))}
    return Severity.parse(str(table.get(klass, ctx.spec.severity.label)))


def _service(port: int) -> str:
    name = SERVICES.get(port)
    return f"{name} (tcp/{port})" if name else f"tcp/{port}"


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


def _rank(d: Depth, klass: str, ctx: CheckContext) -> tuple[Any, ...]:
    """Weakest first: lowest depth, most severe class, an open security group (latent
    exposure) before a closed one, then port order."""
    level = d.depth if d.depth is not None else d.at_least
    sg_blocks = d.best is not None and any(c.layer == "security-group" for c in d.best.changes)
    return (level, -int(_severity(ctx, klass)), sg_blocks, d.port)


def _depth_text(d: Depth) -> int | str:
    if d.depth is not None:
        return d.depth
    if d.at_least >= NEVER:
        return "unreachable"  # no set of flips opens any candidate path
    return f">={d.at_least}" if d.at_least else "undecided"


def _evidence(depths: Sequence[Depth], weakest: Depth) -> dict[str, Any]:
    best = weakest.best
    out: dict[str, Any] = {
        "depth": weakest.depth,
        "port": weakest.port,
        "via": best.via if best else None,
        "layers": [x.to_dict() for x in best.layers] if best else [],
        # every sensitive port's depth (">=N": a lower bound; "undecided")
        "depth_by_port": {str(d.port): _depth_text(d) for d in depths},
    }
    if weakest.depth is None:
        out["depth_at_least"] = weakest.at_least
    if best and best.changes:
        out["changes"] = [x.to_dict() for x in best.changes]
        if len(best.changes) == 1:
            out["single_change"] = best.changes[0].to_dict()
    return out


def _judge(
    ctx: CheckContext,
    asset: Asset,
    depths: Sequence[Depth],
    classes: Mapping[int, str],
    need: int,
    host: Host | None = None,
    **extra: Any,
) -> Result | None:
    if any(d.depth == 0 for d in depths):
        return None  # exposed: the exposure checks report it (evidence depth 0)
    undecided = [d for d in depths if d.depth is None and d.at_least < need]
    if undecided:
        d = undecided[0]
        return ctx.unknown(
            asset,
            f"cannot decide the defense depth of {_service(d.port)}: {d.unknown} "
            f"(at least {d.at_least} layer(s))",
            undecided=sorted({str(x.unknown) for x in undecided}),
            depth=None,
            **extra,
        )
    weakest = min(depths, key=lambda d: _rank(d, classes.get(d.port, "database"), ctx))
    if host is not None:
        weakest = name_best(weakest, host)
    elif weakest.best is not None:
        weakest = replace(weakest, best=weakest.best.explained())
    evidence = {**extra, **_evidence(depths, weakest)}
    short = [d for d in depths if d.depth is not None and d.depth < need]
    best = weakest.best
    what = f"{_service(weakest.port)} on {asset.name}"
    changes = best.changes if best is not None else ()
    blockers = "; ".join(_blocker(x) for x in changes)
    if not short:
        level = weakest.depth if weakest.depth is not None else f">= {weakest.at_least}"
        return ctx.passed(
            asset,
            f"every sensitive port is at depth >= {need}; the weakest, {what}, is at depth "
            f"{level}" + (f": {blockers}" if blockers else ""),
            **evidence,
        )
    severity = max(_severity(ctx, classes.get(d.port, "database")) for d in short)
    message = _shortfall(weakest, what, need, sorted({d.port for d in short} - {weakest.port}))
    return ctx.fail_at(severity, asset, message, **evidence)


def _shortfall(weakest: Depth, what: str, need: int, others: Sequence[int]) -> str:
    """The FAIL message: the layers that alone keep the port from the internet, the open
    security group if that is what lets it through, and the single change at depth 1."""
    best = weakest.best
    changes = best.changes if best is not None else ()
    blockers = "; ".join(_blocker(x) for x in changes)
    also = ""
    if others:
        more = f" (+{len(others) - 5} more)" if len(others) > 5 else ""
        also = f" Also below depth {need}: tcp/{', '.join(map(str, others[:5]))}{more}."
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
        f"only {len(changes)} layers keep {what} from the internet (required: {need}): "
        f"{blockers}{through}.{also}"
    )


@check(
    id="aws.network.sensitive_ports_defense_in_depth",
    title="Sensitive ports are kept from the internet by at least two independent layers",
    severity=Severity.LOW,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=READS | {RDS_INSTANCE},
    remediation=(
        "Add a second, independent layer in front of the port: move the host or database to a "
        "private subnet (no internet-gateway route, no public address), turn off "
        "PubliclyAccessible, restrict the subnet's network ACL, and allow the port in the "
        "security group only from the tier that needs it."
    ),
    rationale=(
        "The security policy asks for several controls in depth, not just 'not exposed today'. "
        "For every administrative and database port of every EC2 host and RDS instance, the "
        "depth is the least number of independent layer changes (a public address, an "
        "internet-gateway route, a network-ACL entry, a security-group rule, a target-group "
        "registration) that would expose the port to the wide internet, over every candidate "
        "path (each interface over IPv4 and IPv6, each internet-facing load balancer forwarding "
        "to the asset). Depth 1 - one change exposes it - fails at the severity of the port's "
        "class (parameters port_classes, class_severity); the message names the single layer, "
        "its resource and rule, and the change. Depth 0 is a real exposure, reported by "
        "aws.network.admin_ports_not_internet_reachable and "
        "aws.network.db_ports_not_internet_reachable (evidence depth 0), not here. Bastions "
        "(tagged, or inferred as the exposure checks do) need bastion_min_depth (default 1: the "
        "allow-list is their one layer). Undecidable layers give INCONCLUSIVE unless the lower "
        "bound already meets the requirement."
    ),
    params={
        "port_classes": PORT_CLASSES,
        "class_severity": CLASS_SEVERITY,
        "min_depth": 2,
        "bastion_min_depth": 1,
        "bastion_tags": BASTION_TAGS,
        "infer_bastions": True,
    },
)
def sensitive_ports_defense_in_depth(ctx: CheckContext) -> Iterator[Result]:
    from posture.checks._aws_bastion import bastions

    reach: AwsReach = ctx.derived("aws.reach", reach_of)
    classes = _classes(ctx)
    admin = [p for p, k in classes.items() if k == "admin"] or list(ADMIN_PORTS)
    known = bastions(reach, ctx.param("bastion_tags"), admin, ctx.param("infer_bastions"))
    need, bastion_need = int(ctx.param("min_depth")), int(ctx.param("bastion_min_depth"))
    ports = tuple(classes)
    for host in reach.hosts():
        depths = host_depths(reach, host, ports)
        why = known.get(host.asset.uid)
        extra = {"bastion": why} if why else {}
        required = bastion_need if why else need
        found = _judge(ctx, host.asset, depths, classes, required, host, **extra)
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
    port = int(db.attr("port"))
    return _judge(ctx, db, [depth], {port: "database"}, need)


__all__ = ["CLASS_SEVERITY", "PORT_CLASSES"]
