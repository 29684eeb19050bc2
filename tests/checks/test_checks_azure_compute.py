"""VM storage on Azure from data already collected: whose key encrypts attached and unattached
disks (platform, customer, both, or the guest's Azure Disk Encryption), disk export network
access, and unmanaged (VHD) OS disks."""

from __future__ import annotations

import pytest
from support.azure import error, inventory
from support.azure_platforms import DISK, VM, disk, vm
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

CMK = "azure.compute.disk_customer_managed_key"
UNATTACHED = "azure.compute.unattached_disk_customer_managed_key"
EXPORT = "azure.compute.disk_network_access_restricted"
MANAGED = "azure.compute.vm_managed_disks"
PLATFORM = "EncryptionAtRestWithPlatformKey"


def test_disk_keys_split_by_attachment() -> None:
    disks = [
        disk("cmk"),
        disk("both", encryption_type="EncryptionAtRestWithPlatformAndCustomerKeys"),
        disk("platform", encryption_type=PLATFORM),
        disk("ade", encryption_type=PLATFORM, ade_enabled=True),
        disk("unknown", encryption_type=None),
        disk("left-over", attached_to=None, encryption_type=PLATFORM),
        disk("left-over-cmk", attached_to=None),
    ]
    attached = {f.resource_name: f for f in run_one(CMK, inventory(*disks))}
    assert {n: f.status for n, f in attached.items()} == {
        "cmk": Status.PASS, "both": Status.PASS, "platform": Status.FAIL, "ade": Status.PASS,
        "unknown": Status.INCONCLUSIVE}
    assert attached["platform"].severity == Severity.LOW
    assert attached["platform"].message == ("the attached disk is encrypted with a "
                                            "platform-managed key only")
    unattached = {f.resource_name: f for f in run_one(UNATTACHED, inventory(*disks))}
    assert {n: f.status for n, f in unattached.items()} == {
        "left-over": Status.FAIL, "left-over-cmk": Status.PASS}
    assert unattached["left-over"].severity == Severity.MEDIUM


@pytest.mark.parametrize(("policy", "public", "status"), [
    ("DenyAll", "Enabled", Status.PASS),
    ("AllowPrivate", "Enabled", Status.PASS),
    ("AllowAll", "Disabled", Status.PASS),
    ("AllowAll", "Enabled", Status.FAIL),
    (None, None, Status.FAIL),  # not set: AllowAll by default
])
def test_disk_export_network(policy: str | None, public: str | None, status: Status) -> None:
    found = only(run_one(EXPORT, inventory(disk(network_access_policy=policy,
                                                public_network_access=public))))
    assert found.status == status
    if policy is None:
        assert found.message == ("network access policy is not set (AllowAll by default): an "
                                 "export URL of the disk downloads it from any network")


def test_managed_disks() -> None:
    found = by_uid(run_one(MANAGED, inventory(vm("managed"), vm("vhd", os_disk_id=None))))
    assert sorted(f.status for f in found.values()) == [Status.FAIL, Status.PASS]


def test_not_collected_is_inconclusive() -> None:
    gap = error("compute", "Disks_List", (DISK,))
    for check_id in (CMK, UNATTACHED, EXPORT):
        assert {f.status for f in run_one(check_id, inventory(errors=(gap,)))} == {
            Status.INCONCLUSIVE}, check_id
    gap = error("compute", "VirtualMachines_ListAll", (VM,))
    assert {f.status for f in run_one(MANAGED, inventory(errors=(gap,)))} == {
        Status.INCONCLUSIVE}
