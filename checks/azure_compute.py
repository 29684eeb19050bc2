"""Virtual machine storage on Azure, from what the collector already reads: managed disks, the
key that encrypts them (platform, customer, or both), and who can download a disk through an
export (SAS) URL.

Every managed disk is encrypted at rest by the platform; the checks ask *whose key* (a
customer-managed key in a disk encryption set, or Azure Disk Encryption inside the guest),
which matters most for unattached disks: data nobody runs or watches any more.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check

VM = "Microsoft.Compute/virtualMachines"
DISK = "Microsoft.Compute/disks"
CUSTOMER_KEY = ("EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys")


def attached(disk: Asset) -> bool:
    return bool(disk.attr("managed_by")) or str(disk.attr("disk_state")) in (
        "Attached", "Reserved", "ActiveSAS")


def _key_result(ctx: CheckContext, disk: Asset, where: str) -> Result:
    kind = disk.attr("encryption_type")
    evidence = {"encryption_type": kind, "disk_encryption_set_id":
                disk.attr("disk_encryption_set_id"), "ade_enabled": disk.attr("ade_enabled"),
                "disk_state": disk.attr("disk_state")}
    if kind in CUSTOMER_KEY:
        return ctx.passed(disk, f"the {where} disk is encrypted with a customer-managed key",
                          **evidence)
    if disk.attr("ade_enabled"):
        return ctx.passed(disk, f"the {where} disk is encrypted in the guest (Azure Disk "
                          "Encryption, keys in Key Vault)", **evidence)
    if kind is None:
        return ctx.unknown(disk, f"the {where} disk's encryption type was not reported",
                           **evidence)
    return ctx.fail(disk, f"the {where} disk is encrypted with a platform-managed key only",
                    **evidence)


@check("azure.compute.disk_customer_managed_key", Severity.LOW,
       (Principle.ENCRYPTION_AT_REST,), reads={DISK})
def disk_customer_managed_key(ctx: CheckContext) -> Iterator[Result]:
    """OS and data disks are encrypted with a customer-managed key

    Managed disks are always encrypted with a platform-managed key; a customer-managed key (a
    disk encryption set) makes every use auditable in Key Vault and revocable. LOW for disks in
    use; unattached disks are judged by azure.compute.unattached_disk_customer_managed_key.

    Remediation: Create a disk encryption set with a Key Vault key and switch the VM's disks to
    it (deallocate the VM, then `az disk update --encryption-type
    EncryptionAtRestWithCustomerKey --disk-encryption-set <id>`).
    """
    for disk in ctx.inventory.of(DISK):
        if attached(disk):
            yield _key_result(ctx, disk, "attached")


@check("azure.compute.unattached_disk_customer_managed_key", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST,), reads={DISK})
def unattached_disk_customer_managed_key(ctx: CheckContext) -> Iterator[Result]:
    """Unattached disks are encrypted with a customer-managed key

    A disk left behind by a deleted VM keeps its data but no longer has an owner watching it;
    with a customer-managed key, disabling the key makes all such leftovers unreadable at once.

    Remediation: Delete unattached disks that are no longer needed; re-encrypt the others with a
    disk encryption set (`az disk update --encryption-type EncryptionAtRestWithCustomerKey
    --disk-encryption-set <id>`).
    """
    for disk in ctx.inventory.of(DISK):
        if not attached(disk):
            yield _key_result(ctx, disk, "unattached")


@check("azure.compute.disk_network_access_restricted", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={DISK})
def disk_network_access_restricted(ctx: CheckContext) -> Iterator[Result]:
    """Managed disks cannot be exported to any network

    With the disk network access policy AllowAll (the default), a SAS export URL generated for
    the disk downloads its whole content from any network; DenyAll or AllowPrivate (through a
    disk access resource and private endpoint) limit exports.

    Remediation: Set the disk's network access policy to DenyAll, or AllowPrivate with a disk
    access resource, and public network access to Disabled (`az disk update
    --network-access-policy DenyAll --public-network-access Disabled`).
    """
    for disk in ctx.inventory.of(DISK):
        policy, public = disk.attr("network_access_policy"), disk.attr("public_network_access")
        evidence = {"network_access_policy": policy, "public_network_access": public}
        if policy in ("DenyAll", "AllowPrivate") or public == "Disabled":
            yield ctx.passed(disk, f"exports are restricted (network access policy {policy}, "
                             f"public network access {public})", **evidence)
        else:
            state = policy or "not set (AllowAll by default)"
            yield ctx.fail(disk, f"network access policy is {state}: an export URL of the disk "
                           "downloads it from any network", **evidence)


@check("azure.compute.vm_managed_disks", Severity.LOW, (Principle.ENCRYPTION_AT_REST,),
       reads={f"{VM}#listing"})
def vm_managed_disks(ctx: CheckContext) -> Iterator[Result]:
    """Virtual machines use managed disks

    An unmanaged disk is a VHD blob in a storage account: anyone with the account's keys or a
    SAS reads it, and its encryption and network rules are the account's. Managed disks have
    their own encryption, access policy and RBAC.

    Remediation: Convert the VM to managed disks (`az vm convert`), then delete the old VHDs
    and their storage account if nothing else uses it.
    """
    for vm in ctx.inventory.of(VM):
        if vm.attr("os_disk_id"):
            yield ctx.passed(vm, "the OS disk is a managed disk")
        else:
            yield ctx.fail(vm, "the OS disk is an unmanaged VHD in a storage account")
