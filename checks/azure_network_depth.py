"""Defense depth on Azure: how many independent layers keep each sensitive port of a VM from
the internet.

Depth is computed by :mod:`posture.checks._azure_depth` (docs/azure-assets.md, "Defense
depth"): the least number of layer flips - a public IP on the IP configuration, an NSG rule at
the subnet or NIC level, an NSG where a Standard SKU entry point has none (secure by default),
the backend port of a public load balancer's rule, a firewall DNAT rule - after which an
arbitrary internet client reaches the port, over every candidate path. Depth 0 is a real
exposure: ``azure.network.admin_ports_not_internet_reachable`` and
``azure.network.db_ports_not_internet_reachable`` report it (evidence ``depth: 0``); this check
reports the VMs one change away (depth 1) and, more generally, below the required depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from posture.checks._azure_depth import NSG_LAYERS, vm_depths
from posture.checks._azure_reach import NETWORK_READS, VM, AzureNetwork
from posture.checks.azure_network import ADMIN_PORTS, DB_PORTS

from posture.engine import CheckContext, Result
from posture.graph.depth import Depth, Layer, depth_evidence, depth_text
from posture.model import Asset, Principle, Severity
from posture.registry import check

PORT_CLASSES = (("admin", ADMIN_PORTS), ("database", DB_PORTS))
CLASS_SEVERITY = (("admin", "low"), ("database", "low"))
SERVICES = {
    22: "SSH", 3389: "RDP", 5985: "WinRM", 5986: "WinRM", 1433: "SQL Server", 1521: "Oracle",
    3306: "MySQL", 5432: "PostgreSQL", 5984: "CouchDB", 6379: "Redis", 9042: "Cassandra",
    9200: "Elasticsearch", 11211: "Memcached", 27017: "MongoDB",
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
    if x.layer in NSG_LAYERS:
        level = {"subnet-nsg": "subnet", "nic-nsg": "NIC"}.get(x.layer, "subnet and NIC")
        return f"{level} NSG {x.resource} (rule {x.rule})" if x.rule else (
            f"{level} NSG {x.resource} ({x.detail})")
    if x.layer == "public-address":
        if x.detail == "no public IP address":
            return f"the absence of a public IP address on {x.resource}"
        return f"{x.detail} ({x.resource})"
    if x.layer == "secure-by-default":
        return x.detail
    if x.layer == "lb-rule":
        return f"load balancer {x.resource} ({x.rule}: {x.detail})"
    if x.layer == "dnat-rule":
        return f"firewall {x.resource} DNAT rule {x.rule} ({x.detail})"
    return f"{x.layer} {x.resource} ({x.rule or x.detail})"


def _through(layers: Sequence[Layer]) -> str:
    """The layers of the path that let the traffic through, in words."""
    out = []
    for x in layers:
        if x.blocking is not False:
            continue
        if x.layer in NSG_LAYERS:
            out.append(f"NSG {x.resource} {x.detail} (rule {x.rule})")
        elif x.layer == "public-address":
            out.append(f"{x.resource} has {x.detail}")
        elif x.layer == "lb-rule":
            out.append(f"load balancer {x.resource} {x.detail} ({x.rule})")
        elif x.layer == "dnat-rule":
            out.append(f"firewall {x.resource} {x.detail} ({x.rule})")
    return "; ".join(out)


def _rank(d: Depth, klass: str, ctx: CheckContext) -> tuple[Any, ...]:
    """Weakest first: lowest depth, most severe class, open NSGs (latent exposure) before a
    closed one, then port order."""
    level = d.depth if d.depth is not None else d.at_least
    nsg_blocks = d.best is not None and any(c.layer in NSG_LAYERS for c in d.best.changes)
    return (level, -int(_severity(ctx, klass)), nsg_blocks, d.port)


def _evidence(depths: Sequence[Depth], weakest: Depth) -> dict[str, Any]:
    return {
        **depth_evidence(weakest),
        "port": weakest.port,
        "depth_by_port": {str(d.port): depth_text(d) for d in depths},
    }


def _judge(
    ctx: CheckContext, vm: Asset, depths: Sequence[Depth], classes: Mapping[int, str], need: int
) -> Result | None:
    if any(d.depth == 0 for d in depths):
        return None  # exposed: the exposure checks report it (evidence depth 0)
    undecided = [d for d in depths if d.depth is None and d.at_least < need]
    if undecided:
        d = undecided[0]
        return ctx.unknown(
            vm,
            f"cannot decide the defense depth of {_service(d.port)}: {d.unknown} "
            f"(at least {d.at_least} layer(s))",
            undecided=sorted({str(x.unknown) for x in undecided}),
            depth=None,
            depth_at_least=min(x.at_least for x in undecided),
        )
    weakest = min(depths, key=lambda d: _rank(d, classes.get(d.port, "database"), ctx))
    if weakest.best is not None:
        weakest = replace(weakest, best=weakest.best.explained())
    evidence = _evidence(depths, weakest)
    best = weakest.best
    changes = best.changes if best is not None else ()
    what = f"{_service(weakest.port)} on {vm.name}"
    blockers = "; ".join(_blocker(x) for x in changes)
    short = [d for d in depths if d.depth is not None and d.depth < need]
    if not short:
        level = weakest.depth if weakest.depth is not None else f">= {weakest.at_least}"
        return ctx.passed(
            vm,
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
    through = _through(best.layers) if best is not None else ""
    through = f"; open: {through}" if through else ""
    if len(changes) == 1:
        message = (
            f"only {blockers} keeps {what} from the internet{through}; one change exposes it: "
            f"{changes[0].change}.{also}"
        )
    else:
        message = (
            f"only {len(changes)} layers keep {what} from the internet (required: {need}): "
            f"{blockers}{through}.{also}"
        )
    return ctx.fail_at(severity, vm, message, **evidence)


@check(
    id="azure.network.sensitive_ports_defense_in_depth",
    title="Sensitive ports of Azure VMs are kept from the internet by at least two independent "
    "layers",
    severity=Severity.LOW,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=NETWORK_READS,
    remediation=(
        "Add a second, independent layer in front of the port: keep the VM without a public IP "
        "(reach it through Azure Bastion), deny the port from Internet in the NSG of the subnet "
        "and of the NIC, and allow it only from the tier that needs it (an ASG or a subnet)."
    ),
    rationale=(
        "The security policy asks for several controls in depth, not just 'not exposed today'. "
        "For every administrative and database port of every VM, the depth is the least number "
        "of independent changes (a public IP on the IP configuration, an allow in the subnet's "
        "or the NIC's NSG ahead of the rule that denies, an NSG where a Standard SKU public IP "
        "or load balancer has none, the backend port of a public load balancer rule or inbound "
        "NAT rule, a firewall DNAT rule) after which an arbitrary internet client reaches the "
        "port, over every candidate path (the public IP, each public load balancer rule and "
        "each firewall DNAT rule reaching an IP configuration of the VM). Depth 1 - one change "
        "exposes it - fails at the severity of the port's class (parameters port_classes, "
        "class_severity); the message names the single layer, its NSG and rule, and the "
        "change. Depth 0 is a real exposure, reported by "
        "azure.network.admin_ports_not_internet_reachable and "
        "azure.network.db_ports_not_internet_reachable (evidence depth 0), not here. "
        "Undecidable layers give INCONCLUSIVE unless the lower bound already meets the "
        "requirement."
    ),
    params={"port_classes": PORT_CLASSES, "class_severity": CLASS_SEVERITY, "min_depth": 2},
)
def sensitive_ports_defense_in_depth(ctx: CheckContext) -> Iterator[Result]:
    net: AzureNetwork = ctx.derived("azure.network.reach", AzureNetwork)
    classes = _classes(ctx)
    need = int(ctx.param("min_depth"))
    ports = tuple(classes)
    for vm in ctx.inventory.of(VM):
        depths = vm_depths(net, vm, ports)
        if depths is None:
            yield ctx.passed(vm, "no network interface: no path from the internet")
            continue
        found = _judge(ctx, vm, depths, classes, need)
        if found is not None:
            yield found


__all__ = ["CLASS_SEVERITY", "PORT_CLASSES"]
