"""Virtual machines (with user data and extension settings scanned for secrets, see
:mod:`compute_vmdata`) and managed disks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.mgmt.compute import ComputeManagementClient

from posture.collectors.azure.base import (
    SubscriptionScope,
    id_name,
    parallel_map,
    props,
    ref,
    refs,
    resource_group,
    rid,
)
from posture.collectors.azure.compute_vmdata import PERMISSIONS as VM_DATA_PERMISSIONS
from posture.collectors.azure.compute_vmdata import VmData, fetch_vm_data, redact_vm, vm_data_attrs
from posture.model import Asset

VM = "Microsoft.Compute/virtualMachines"
DISK = "Microsoft.Compute/disks"

PERMISSIONS = (
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/disks/read",
    *VM_DATA_PERMISSIONS,
)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(ComputeManagementClient)
    vms = scope.listing(
        "compute", "VirtualMachines_ListAll", (VM,), client.virtual_machines.list_all
    )
    details = parallel_map(lambda v: fetch_vm_data(scope, client, v), vms or ())
    disks = scope.listing("compute", "Disks_List", (DISK,), client.disks.list)
    return [normalize_vm(scope, v, d) for v, d in zip(vms or (), details, strict=True)] + [
        normalize_disk(scope, d) for d in disks or ()
    ]


def normalize_vm(
    scope: SubscriptionScope, item: Mapping[str, Any], data: VmData | None = None
) -> Asset:
    """``data`` None = the detail calls were not made: the secret attrs are null (unknown)."""
    p = props(item)
    storage = p.get("storageProfile") or {}
    os_disk = storage.get("osDisk") or {}
    os_profile = p.get("osProfile") or {}
    linux = os_profile.get("linuxConfiguration") or {}
    attrs = {
        "vm_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "vm_size": (p.get("hardwareProfile") or {}).get("vmSize"),
        "os_type": os_disk.get("osType"),
        "nic_ids": refs((p.get("networkProfile") or {}).get("networkInterfaces")),
        "os_disk_id": ref(os_disk.get("managedDisk")),
        "data_disk_ids": refs(d.get("managedDisk") for d in storage.get("dataDisks") or ()),
        "encryption_at_host": (p.get("securityProfile") or {}).get("encryptionAtHost"),
        "password_authentication_disabled": linux.get("disablePasswordAuthentication"),
        **identity_attrs(item.get("identity")),
        "provisioning_state": p.get("provisioningState"),
        **vm_data_attrs(data or VmData(None, None), scope.subscription),
    }
    return scope.arm_asset(VM, item, attrs, raw=redact_vm(item))


def identity_attrs(identity: Mapping[str, Any] | None) -> dict[str, Any]:
    """The VM's managed identities as role assignments name them (``principalId``): the
    system-assigned one, and each user-assigned identity (its resource id, lower-case, and its
    ``principalId``/``clientId``) from ``identity.userAssignedIdentities``."""
    identity = identity or {}
    kinds = {k.strip().lower() for k in str(identity.get("type") or "").split(",")}
    assigned = identity.get("userAssignedIdentities") or {}
    return {
        "identity_type": identity.get("type"),
        "identity_principal_id": (
            _guid(identity.get("principalId")) if "systemassigned" in kinds else None
        ),
        "identity_tenant_id": identity.get("tenantId"),
        "user_assigned_identities": sorted(
            (
                {
                    "id": rid(uid),
                    "name": id_name(uid),
                    "principal_id": _guid((value or {}).get("principalId")),
                    "client_id": (value or {}).get("clientId"),
                }
                for uid, value in assigned.items()
            ),
            key=lambda i: str(i["id"]),
        ),
    }


def _guid(value: Any) -> str | None:
    return str(value).lower() if value else None


def normalize_disk(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    encryption = p.get("encryption") or {}
    ade = p.get("encryptionSettingsCollection") or {}
    attrs = {
        "disk_name": item.get("name"),
        "managed_by": rid(item.get("managedBy")),
        "disk_state": p.get("diskState"),
        "size_gb": p.get("diskSizeGB"),
        "encryption_type": encryption.get("type"),
        "disk_encryption_set_id": rid(encryption.get("diskEncryptionSetId")),
        "ade_enabled": ade.get("enabled") if ade else False,
        "network_access_policy": p.get("networkAccessPolicy"),
        "public_network_access": p.get("publicNetworkAccess"),
    }
    return scope.arm_asset(DISK, item, attrs)
