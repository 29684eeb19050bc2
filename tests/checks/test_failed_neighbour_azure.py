"""A failed detail call on one resource never turns another resource's FAIL into PASS (Azure).

End to end: the real Azure SDK collects the demo subscriptions from the loopback ARM fake, with
the rule collection groups of the firewall policy ``fwpol-prod`` answering 503; the network
checks then judge the VM that the policy's DNAT rule exposes on RDP. Without the policy's rules
the firewall's DNAT reach is unknown: the VM's finding is INCONCLUSIVE and names the failed call,
never PASS.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.azure import SUB
from support.azure_collect import collect_fake, collect_fresh
from support.checks import by_uid, run_one

from posture.demo.azure_fake import FakeArm
from posture.model import Finding, Inventory, Status

ADMIN = "azure.network.admin_ports_not_internet_reachable"
DEPTH = "azure.network.sensitive_ports_defense_in_depth"
POLICY = (f"/subscriptions/{SUB}/resourceGroups/rg-prod/providers/Microsoft.Network/"
          "firewallPolicies/fwpol-prod")
OPERATION = "FirewallPolicyRuleCollectionGroups_List"


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return collect_fresh(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    with FakeArm(Path(tmp_path_factory.mktemp("tls"))) as fake:
        fake.fail(f"{POLICY}/ruleCollectionGroups", 503, "ServiceUnavailable", "try later")
        return collect_fake(fake)


def _dnat_vm(inv: Inventory) -> str:
    """The VM the DNAT rule rdp-to-vm-fw translates to (10.0.3.10)."""
    nics = [n for n in inv.of("Microsoft.Network/networkInterfaces")
            if "10.0.3.10" in str(n.attrs)]
    assert len(nics) == 1
    vm = nics[0].attr("vm_id") or nics[0].attr("virtual_machine_id")
    assert vm, nics[0].attrs
    return str(inv.get(str(vm)).uid) if inv.get(str(vm)) else str(vm)


def _finding(inv: Inventory, check_id: str, uid: str) -> Finding:
    found = by_uid(run_one(check_id, inv))
    match = [f for k, f in found.items() if k.lower() == uid.lower()]
    assert len(match) == 1, sorted(found)
    return match[0]


def test_the_dnat_vm_fails_when_every_call_succeeds(intact: Inventory) -> None:
    assert _finding(intact, ADMIN, _dnat_vm(intact)).status == Status.FAIL


def test_a_503_on_the_policy_rules_leaves_the_dnat_vm_inconclusive(
    intact: Inventory, broken: Inventory
) -> None:
    assert {e.operation for e in broken.errors} == {OPERATION}

    found = _finding(broken, ADMIN, _dnat_vm(intact))

    assert found.status == Status.INCONCLUSIVE, found.message
    assert OPERATION in found.message


def test_proven_fails_stay_fail(intact: Inventory, broken: Inventory) -> None:
    """A VM exposed through its own public address or a load balancer fails with or without
    the policy's rules."""
    before = {k: f.status for k, f in by_uid(run_one(ADMIN, intact)).items()}
    after = {k: f.status for k, f in by_uid(run_one(ADMIN, broken)).items()}
    dnat = _dnat_vm(intact).lower()
    kept = {k for k, s in before.items() if s == Status.FAIL and k.lower() != dnat}
    assert kept
    assert {k: after[k] for k in kept} == {k: Status.FAIL for k in kept}


def test_no_depth_reads_pass_without_the_policy_rules(broken: Inventory) -> None:
    """The unknown DNAT rules are an unknown layer on every VM's firewall path: no depth
    verdict passes on them."""
    statuses = {f.status for f in run_one(DEPTH, broken)}
    assert Status.PASS not in statuses
    assert Status.INCONCLUSIVE in statuses
