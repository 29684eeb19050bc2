"""Just-in-time VM access on Azure: Defender for Cloud JIT policies on the VMs whose
administrative ports the internet reaches (the NSG path evaluator of
:mod:`posture.graph.azure.reach`, shared with ``azure.network.admin_ports_not_internet_reachable``).
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.graph.azure.reach import NETWORK_READS, AzureNetwork, Reach
from posture.model import Asset, Principle, Severity
from posture.net import ADMIN_PORTS
from posture.registry import check

JIT_POLICY = "Microsoft.Security/locations/jitNetworkAccessPolicies"


def jit_ports(inventory_policies: list[Asset]) -> dict[str, dict[int, tuple[str, str | None]]]:
    """VM uid → port → (JIT policy name, longest request duration), from provisioned policies."""
    out: dict[str, dict[int, tuple[str, str | None]]] = {}
    for policy in inventory_policies:
        if str(policy.attr("provisioning_state") or "Succeeded") != "Succeeded":
            continue
        for vm in policy.attr("virtual_machines") or ():
            for port in vm.get("ports") or ():
                if port.get("protocol") in ("*", "tcp"):
                    out.setdefault(str(vm.get("vm_id")), {})[int(port["number"])] = (
                        policy.name, port.get("max_duration"))
    return out


@check("azure.identity.vm_admin_ports_just_in_time", Severity.HIGH,
       (Principle.JUST_IN_TIME, Principle.DEFENSE_IN_DEPTH),
       reads={*NETWORK_READS, JIT_POLICY}, params={"admin_ports": ADMIN_PORTS})
def vm_admin_ports_just_in_time(ctx: CheckContext) -> Iterator[Result]:
    """VMs whose administrative ports the internet reaches are under just-in-time access

    A Defender for Cloud JIT policy keeps SSH, RDP and WinRM closed by an NSG deny rule and opens
    them for one requester's address for a limited time. A VM whose admin ports a complete
    internet path reaches (entry point and both NSG levels) fails unless a provisioned JIT policy
    covers each of those ports; a VM not reachable on them passes, and one the path evaluator
    cannot decide is INCONCLUSIVE unless JIT covers it.

    Remediation: Enable just-in-time VM access (Defender for Cloud) for the VM's SSH/RDP/WinRM
    ports with a short maximum request duration, and remove the standing allow rules; or reach the
    VM through Azure Bastion only.
    """
    net: AzureNetwork = ctx.derived("azure.network.reach", AzureNetwork)
    covered = jit_ports(list(ctx.inventory.of(JIT_POLICY)))
    ports = [int(p) for p in ctx.param("admin_ports")]
    for vm, endpoints in net.hosts():
        verdicts = [net.internet_exposure(ep, p) for ep in endpoints for p in ports]
        exposed = sorted({v.port for v in verdicts if v.state is Reach.EXPOSED})
        undecided = sorted({v.port for v in verdicts if v.state is Reach.UNKNOWN})
        jit = covered.get(vm.uid, {})
        open_ports = exposed + [p for p in undecided if p not in exposed]
        if not open_ports:
            yield ctx.passed(vm, "administrative ports are not reachable from the internet",
                             jit_ports=sorted(jit))
            continue
        missing = [p for p in open_ports if p not in jit]
        evidence = {"exposed_ports": exposed, "undecided_ports": undecided,
                    "jit": {str(p): {"policy": n, "max_duration": d} for p, (n, d) in
                            sorted(jit.items())}}
        shown = "/".join(map(str, open_ports))
        if not missing:
            policies = ", ".join(sorted({jit[p][0] for p in open_ports}))
            yield ctx.passed(vm, f"tcp/{shown} is under just-in-time access (policy "
                             f"{policies}); reachable now only while a request is open or a "
                             "rule precedes JIT's deny", **evidence)
        elif unread := "; ".join(e.describe() for e in ctx.inventory.errors_affecting(
                (JIT_POLICY,)) if e.covers(vm.account, vm.region)):
            yield ctx.unknown(vm, f"tcp/{shown} reachable from the internet; whether a "
                              f"just-in-time policy covers it is unknown: {unread}", **evidence)
        elif [p for p in missing if p in exposed]:
            gap = "/".join(str(p) for p in missing if p in exposed)
            yield ctx.fail(vm, f"tcp/{gap} reachable from the internet without a just-in-time "
                           "policy (standing access)", **evidence)
        else:
            yield ctx.unknown(vm, f"cannot decide whether tcp/{'/'.join(map(str, missing))} is "
                              "reachable from the internet, and no just-in-time policy covers "
                              "it", **evidence)
