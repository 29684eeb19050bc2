"""Defense depth on GCP: how many independent layers keep each sensitive port of an instance
from the internet (docs/gcp-assets.md, "Defense depth"; the engine is
:mod:`posture.graph.gcp.depth`).

Depth 0 is a real exposure, reported by the exposure checks (their FAIL evidence carries
``depth: 0``); this check reports the instances one change away (depth 1) and, generally, below
the required depth, with the evidence shape of ``aws.network.sensitive_ports_defense_in_depth``
so that the report's depth table and the CSV ``depth`` column read both.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import DepthWording, depth_finding, port_classes
from posture.checks._shared import gcp_estate as estate
from posture.checks.gcp_network import unresolved_results

from posture.engine import CheckContext, Result
from posture.gcp import INSTANCE
from posture.graph.depth import Depth, Layer
from posture.graph.gcp.depth import GcpDepth
from posture.graph.gcp.exposure import PATH_READS
from posture.model import Asset, Principle, Severity
from posture.net import PORT_CLASSES
from posture.registry import check

CLASS_SEVERITY = (("admin", "low"), ("database", "low"))


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


@check("gcp.network.sensitive_ports_defense_in_depth", Severity.LOW, (Principle.DEFENSE_IN_DEPTH,),
       reads=PATH_READS,
       params={"port_classes": PORT_CLASSES, "class_severity": CLASS_SEVERITY, "min_depth": 2})
def sensitive_ports_defense_in_depth(ctx: CheckContext) -> Iterator[Result]:
    """Sensitive ports of GCP instances are kept from the internet by at least two
    independent layers

    The security policy asks for several controls in depth, not just 'not exposed today'. For every
    administrative and database port of every instance, the depth is the least number of
    independent layer changes (an external address, a route to the internet gateway, one firewall
    level: a hierarchical or network firewall policy or the VPC rules, a load balancer's named port
    or Identity-Aware Proxy) after which some internet client reaches the port, over every
    candidate path (each interface over IPv4 and IPv6, each external load balancer delivering to
    the instance). Depth 1 - one change exposes it - fails at the severity of the port's class
    (parameters port_classes, class_severity); the message names the single layer, its resource and
    rule, and the change. Depth 0 is a real exposure, reported by
    gcp.network.admin_ports_not_internet_reachable and gcp.network.db_ports_not_internet_reachable
    (evidence depth 0), not here. Undecidable layers (secure tags, unread policies or routes, Cloud
    Armor) give INCONCLUSIVE unless the lower bound already meets the requirement.

    Remediation: Add a second, independent layer in front of the port: remove the instance's
    external IP (reach it through Identity-Aware Proxy or a load balancer), keep the VPC firewall
    closed to the internet on the port, and let an organisation or folder firewall policy deny the
    port from 0.0.0.0/0 so that a single VPC rule cannot open it.
    """
    engine = ctx.derived("gcp.network.depth", lambda inv: GcpDepth(estate(ctx), inv))
    classes = port_classes(ctx)
    need = int(ctx.param("min_depth"))
    ports = tuple(classes)
    for host in ctx.inventory.of(INSTANCE):
        def quiet(d: Depth, host: Asset = host) -> bool:
            # a port something admits (held back by a deny, a missing address or route) ranks
            # before one nothing admits
            return not engine.admitted_somewhere(host, d.port)

        wording = DepthWording(blocker=_blocker, rank=quiet, name_host=True)
        found = depth_finding(ctx, host, engine.host_depths(host, ports), classes, need, wording)
        if found is not None:
            yield found
    yield from unresolved_results(ctx, ports, "sensitive ports (their defense depth is undecided)")


__all__ = ["CLASS_SEVERITY", "PORT_CLASSES"]
