"""Defense depth on Azure: how many independent layers keep each sensitive port of a VM from
the internet.

Depth is computed by :mod:`posture.graph.azure.depth` (docs/azure-assets.md, "Defense
depth"): the least number of layer flips - a public IP on the IP configuration, an NSG rule at
the subnet or NIC level, an NSG where a Standard SKU entry point has none (secure by default),
the backend port of a public load balancer's rule, a firewall DNAT rule - after which an
arbitrary internet client reaches the port, over every candidate path. Depth 0 is a real
exposure: ``azure.network.admin_ports_not_internet_reachable`` and
``azure.network.db_ports_not_internet_reachable`` report it (evidence ``depth: 0``); this check
reports the VMs one change away (depth 1) and, more generally, below the required depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from posture.checks._shared import DepthWording, depth_finding, port_classes

from posture.engine import CheckContext, Result
from posture.graph.azure.depth import NSG_LAYERS, vm_depths
from posture.graph.azure.reach import NETWORK_READS, VM, AzureNetwork
from posture.graph.depth import Depth, Layer
from posture.model import Principle, Severity
from posture.net import PORT_CLASSES
from posture.registry import check

CLASS_SEVERITY = (("admin", "low"), ("database", "low"))


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


def _nsg_blocks(d: Depth) -> bool:
    """Open NSGs (a latent exposure) rank before a closed one among equally deep ports."""
    return d.best is not None and any(c.layer in NSG_LAYERS for c in d.best.changes)


WORDING = DepthWording(blocker=_blocker, rank=_nsg_blocks, through=_through, explain=True)


@check(
    "azure.network.sensitive_ports_defense_in_depth", Severity.LOW, (Principle.DEFENSE_IN_DEPTH,),
    reads=NETWORK_READS,
    params={"port_classes": PORT_CLASSES, "class_severity": CLASS_SEVERITY, "min_depth": 2},
)
def sensitive_ports_defense_in_depth(ctx: CheckContext) -> Iterator[Result]:
    """Sensitive ports of Azure VMs are kept from the internet by at least two independent layers

    The security policy asks for several controls in depth, not just 'not exposed today'. For every
    administrative and database port of every VM, the depth is the least number of independent
    changes (a public IP on the IP configuration, an allow in the subnet's or the NIC's NSG ahead
    of the rule that denies, an NSG where a Standard SKU public IP or load balancer has none, the
    backend port of a public load balancer rule or inbound NAT rule, a firewall DNAT rule) after
    which an arbitrary internet client reaches the port, over every candidate path (the public IP,
    each public load balancer rule and each firewall DNAT rule reaching an IP configuration of the
    VM). Depth 1 - one change exposes it - fails at the severity of the port's class (parameters
    port_classes, class_severity); the message names the single layer, its NSG and rule, and the
    change. Depth 0 is a real exposure, reported by
    azure.network.admin_ports_not_internet_reachable and
    azure.network.db_ports_not_internet_reachable (evidence depth 0), not here. Undecidable layers
    give INCONCLUSIVE unless the lower bound already meets the requirement.

    Remediation: Add a second, independent layer in front of the port: keep the VM without a public
    IP (reach it through Azure Bastion), deny the port from Internet in the NSG of the subnet and
    of the NIC, and allow it only from the tier that needs it (an ASG or a subnet).
    """
    net: AzureNetwork = ctx.derived("azure.network.reach", AzureNetwork)
    classes = port_classes(ctx)
    need = int(ctx.param("min_depth"))
    ports = tuple(classes)
    for vm in ctx.inventory.of(VM):
        depths = vm_depths(net, vm, ports)
        if depths is None:
            yield ctx.passed(vm, "no network interface: no path from the internet")
            continue
        found = depth_finding(ctx, vm, depths, classes, need, WORDING)
        if found is not None:
            yield found


__all__ = ["CLASS_SEVERITY", "PORT_CLASSES"]
