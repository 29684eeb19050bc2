"""Just-in-time VM access: exposed admin ports with and without a Defender for Cloud JIT
policy, an unreachable VM, a partial policy and a listing that could not be read."""

from __future__ import annotations

from typing import Any

from support.azure import GLOBAL, RG, SUB, az, error, inventory, nsg, one_vm, public_ip, rule
from support.checks import only, run_one

from posture.model import Status

CHECK = "azure.identity.vm_admin_ports_just_in_time"
JIT = "Microsoft.Security/locations/jitNetworkAccessPolicies"
VM_ID = f"{RG}/providers/microsoft.compute/virtualmachines/h"
OPEN = nsg("open-admin", rule("admin-any", 110, src="Internet", ports=["22", "3389"]))


def _jit(*ports: int, state: str = "Succeeded", vm: str = VM_ID) -> Any:
    vms = [{"vm_id": vm.lower(), "ports": [
        {"number": p, "protocol": "*", "allowed_sources": ["*"], "max_duration": "PT3H"}
        for p in ports]}]
    return az(JIT, f"{RG}/providers/microsoft.security/locations/westeurope/"
              "jitnetworkaccesspolicies/jit", region=GLOBAL, policy_name="jit",
              provisioning_state=state, virtual_machines=vms, vm_ids=[vm.lower()])


def _exposed(*extra: Any) -> list[Any]:
    return one_vm(subnet_nsg=OPEN, pip=public_ip("pip-h", "20.0.0.1"), extra=extra)


def test_exposed_admin_ports_without_jit_fail() -> None:
    found = only(run_one(CHECK, inventory(*_exposed())))
    assert found.status is Status.FAIL
    assert found.message == ("tcp/22/3389 reachable from the internet without a just-in-time "
                             "policy (standing access)")


def test_jit_covering_every_exposed_port_passes_and_a_partial_one_fails() -> None:
    found = only(run_one(CHECK, inventory(*_exposed(_jit(22, 3389)))))
    assert found.status is Status.PASS and "policy jit" in found.message
    partial = only(run_one(CHECK, inventory(*_exposed(_jit(22)))))
    assert partial.status is Status.FAIL and partial.message.startswith("tcp/3389 ")
    # a policy still provisioning, or for another VM, protects nothing
    assert only(run_one(CHECK, inventory(*_exposed(_jit(22, 3389, state="Failed"))))).status \
        is Status.FAIL
    other = _jit(22, 3389, vm=f"/subscriptions/{SUB}/resourcegroups/rg/providers/"
                 "microsoft.compute/virtualmachines/other")
    assert only(run_one(CHECK, inventory(*_exposed(other)))).status is Status.FAIL


def test_unreachable_vm_passes_and_unread_policies_make_it_inconclusive() -> None:
    assets = one_vm(subnet_nsg=OPEN)  # no public IP: latent, not reachable
    assert only(run_one(CHECK, inventory(*assets))).status is Status.PASS
    denied = error("security", "JitNetworkAccessPolicies_List", (JIT,))
    findings = run_one(CHECK, inventory(*assets, errors=(denied,)))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}
    # an exposed VM is not failed on policies that were not read
    exposed = run_one(CHECK, inventory(*_exposed(), errors=(denied,)))
    assert {f.status for f in exposed} == {Status.INCONCLUSIVE}
    assert any("whether a just-in-time policy covers it is unknown" in f.message
               for f in exposed)
