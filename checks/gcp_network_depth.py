"""Defense depth on GCP: how many independent layers keep each sensitive port of an instance
from the internet (docs/gcp-assets.md, "Defense depth"; the engine is
:mod:`posture.checks._gcp_depth`).

Depth 0 is a real exposure, reported by the exposure checks (their FAIL evidence carries
``depth: 0``); this check reports the instances one change away (depth 1) and, generally, below
the required depth, with the evidence shape of ``aws.network.sensitive_ports_defense_in_depth``
so that the report's depth table and the CSV ``depth`` column read both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from posture.checks._gcp import INSTANCE
from posture.checks._gcp_depth import GcpDepth
from posture.checks._gcp_exposure import PATH_READS, estate, unresolved_results
from posture.checks.gcp_network import ADMIN_PORTS, DB_PORTS

from posture.engine import CheckContext, Result
from posture.graph.depth import Depth, Layer, depth_evidence, depth_text
from posture.model import Asset, Principle, Severity
from posture.registry import check

PORT_CLASSES = (("admin", ADMIN_PORTS), ("database", DB_PORTS))
CLASS_SEVERITY = (("admin", "low"), ("database", "low"))
SERVICES = {
    22: "SSH", 3389: "RDP", 5985: "WinRM", 5986: "WinRM", 1433: "SQL Server", 1521: "Oracle",
    3306: "MySQL", 5432: "PostgreSQL", 5984: "CouchDB", 6379: "Redis", 9042: "Cassandra",
    9200: "Elasticsearch", 9300: "Elasticsearch", 11211: "Memcached", 27017: "MongoDB",
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
    if x.layer == "external-address":
        if x.blocking:
            return f"the missing external IPv{x.key[-1]} address of {x.resource}"
        return f"{x.detail} on {x.resource}"
    if x.layer == "route":
        return f"the routes of network {x.resource}{rule or f' ({x.detail})'}"
    if x.layer == "vpc-firewall":
        return f"the VPC firewall rules of network {x.resource}{rule}"
    if x.layer.endswith("-policy"):
        kind = x.layer.removesuffix("-policy").replace("-", " ")
        return f"{kind} firewall policy {x.resource}{rule}"
    if x.layer == "named-port":
        return f"instance group {x.resource}{rule}"
    return f"{x.layer} {x.resource}{rule}"


def _evidence(depths: Sequence[Depth], weakest: Depth) -> dict[str, Any]:
    return {
        **depth_evidence(weakest),
        "port": weakest.port,
        "depth_by_port": {str(d.port): depth_text(d) for d in depths},
    }


def _judge(
    ctx: CheckContext,
    engine: GcpDepth,
    host: Asset,
    depths: Sequence[Depth],
    classes: Mapping[int, str],
    need: int,
) -> Result | None:
    if any(d.depth == 0 for d in depths):
        return None  # exposed: the exposure checks report it (evidence depth 0)
    undecided = [d for d in depths if d.depth is None and d.at_least < need]
    if undecided:
        d = undecided[0]
        return ctx.unknown(
            host,
            f"cannot decide the defense depth of {_service(d.port)} on {host.name}: "
            f"{d.unknown} (at least {d.at_least} layer(s))",
            undecided=sorted({str(x.unknown) for x in undecided}),
            depth=None,
            depth_at_least=min(x.at_least for x in undecided),
        )

    def rank(d: Depth) -> tuple[Any, ...]:
        """Weakest first: lowest depth, most severe class, then a port that something admits
        (held back by a deny, a missing address or route) before one nothing admits."""
        level = d.depth if d.depth is not None else d.at_least
        quiet = not engine.admitted_somewhere(host, d.port)
        return (level, -int(_severity(ctx, classes.get(d.port, "database"))), quiet, d.port)

    weakest = min(depths, key=rank)
    evidence = _evidence(depths, weakest)
    short = [d for d in depths if d.depth is not None and d.depth < need]
    changes = weakest.best.changes if weakest.best is not None else ()
    blockers = "; ".join(_blocker(x) for x in changes)
    what = f"{_service(weakest.port)} on {host.name}"
    if not short:
        level = weakest.depth if weakest.depth is not None else f">= {weakest.at_least}"
        return ctx.passed(
            host,
            f"every sensitive port is at depth >= {need}; the weakest, {what}, is at depth "
            f"{level}" + (f": {blockers}" if blockers else ""),
            **evidence,
        )
    severity = max(_severity(ctx, classes.get(d.port, "database")) for d in short)
    others = sorted({d.port for d in short} - {weakest.port})
    also = ""
    if others:
        more = f" (+{len(others) - 5} more)" if len(others) > 5 else ""
        also = f" Also below depth {need}: tcp/{', '.join(map(str, others[:5]))}{more}."
    if len(changes) == 1:
        message = (
            f"only {blockers} keeps {what} from the internet; one change exposes it: "
            f"{changes[0].change}.{also}"
        )
    else:
        message = (
            f"only {len(changes)} layers keep {what} from the internet (required: {need}): "
            f"{blockers}.{also}"
        )
    return ctx.fail_at(severity, host, message, **evidence)


@check(
    id="gcp.network.sensitive_ports_defense_in_depth",
    title="Sensitive ports of GCP instances are kept from the internet by at least two "
    "independent layers",
    severity=Severity.LOW,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=PATH_READS,
    remediation=(
        "Add a second, independent layer in front of the port: remove the instance's external "
        "IP (reach it through Identity-Aware Proxy or a load balancer), keep the VPC firewall "
        "closed to the internet on the port, and let an organisation or folder firewall policy "
        "deny the port from 0.0.0.0/0 so that a single VPC rule cannot open it."
    ),
    rationale=(
        "The security policy asks for several controls in depth, not just 'not exposed today'. "
        "For every administrative and database port of every instance, the depth is the least "
        "number of independent layer changes (an external address, a route to the internet "
        "gateway, one firewall level: a hierarchical or network firewall policy or the VPC "
        "rules, a load balancer's named port or Identity-Aware Proxy) after which some internet "
        "client reaches the port, over every candidate path (each interface over IPv4 and IPv6, "
        "each external load balancer delivering to the instance). Depth 1 - one change exposes "
        "it - fails at the severity of the port's class (parameters port_classes, "
        "class_severity); the message names the single layer, its resource and rule, and the "
        "change. Depth 0 is a real exposure, reported by "
        "gcp.network.admin_ports_not_internet_reachable and "
        "gcp.network.db_ports_not_internet_reachable (evidence depth 0), not here. Undecidable "
        "layers (secure tags, unread policies or routes, Cloud Armor) give INCONCLUSIVE unless "
        "the lower bound already meets the requirement."
    ),
    params={"port_classes": PORT_CLASSES, "class_severity": CLASS_SEVERITY, "min_depth": 2},
)
def sensitive_ports_defense_in_depth(ctx: CheckContext) -> Iterator[Result]:
    engine = ctx.derived("gcp.network.depth", lambda inv: GcpDepth(estate(ctx), inv))
    classes = _classes(ctx)
    need = int(ctx.param("min_depth"))
    ports = tuple(classes)
    for host in ctx.inventory.of(INSTANCE):
        found = _judge(ctx, engine, host, engine.host_depths(host, ports), classes, need)
        if found is not None:
            yield found
    yield from unresolved_results(ctx, ports, "sensitive ports (their defense depth is undecided)")


__all__ = ["CLASS_SEVERITY", "PORT_CLASSES"]
