"""The Azure asset contracts (docs/azure-assets.md) as data: network security groups, virtual
machines, storage accounts and key vaults. NSG rules and their attachments are structural."""

from __future__ import annotations

from collections.abc import Mapping

from posture.contracts.fields import ANY_LIST, ID, STRS, B, Field, N, S, list_of, record, required

NSG_RULE = record(
    name=S, priority=required(N), direction=required(S), access=required(S),
    protocol=required(S), source_prefixes=STRS, source_asg_ids=STRS, source_ports=STRS,
    destination_prefixes=STRS, destination_asg_ids=STRS, destination_ports=STRS, default=B,
)
SECRET_HITS = list_of(record(type=S, key=S, line=N, fingerprint=S, extension=S))
NETWORK_ACL = {
    "public_network_access": S, "network_default_action": S, "network_bypass": S,
    "ip_rules": ANY_LIST, "vnet_rule_subnet_ids": STRS, "private_endpoint_count": N,
}

IP_CONFIGURATION = record(
    name=S, id=S, private_ip=S, public_ip_id=S, subnet_id=S, primary=B,
    private_ip_version=S, asg_ids=STRS, lb_backend_pool_ids=STRS, lb_nat_rule_ids=STRS,
    appgw_backend_pool_ids=STRS,
)

CONTRACTS: Mapping[str, Mapping[str, Field]] = {
    "Microsoft.Network/networkInterfaces": {
        "nic_name": S, "resource_group": S, "vm_id": ID, "nsg_id": ID,
        "ip_forwarding": B.structure(), "ip_configurations": list_of(IP_CONFIGURATION).strict(),
        "private_ips": STRS.strict(), "public_ip_ids": STRS.strict(), "subnet_ids": STRS.strict(),
    },
    "Microsoft.Network/virtualNetworks/subnets": {
        "subnet_name": S, "vnet_id": ID, "address_prefixes": STRS.strict(), "nsg_id": ID,
        "route_table_id": ID, "nat_gateway_id": ID, "default_outbound_access": B.structure(),
        "is_bastion_subnet": B.structure(), "is_firewall_subnet": B.structure(),
        "service_endpoints": STRS,
    },
    "Microsoft.Network/publicIPAddresses": {
        "ip_address": ID, "allocation_method": S, "ip_version": S, "sku": S,
        "attached_to": ID, "fqdn": S,
    },
    "Microsoft.Compute/disks": {
        "disk_name": S, "disk_state": S, "managed_by": S, "size_gb": N, "encryption_type": S,
        "disk_encryption_set_id": S, "ade_enabled": B, "network_access_policy": S,
        "public_network_access": S,
    },
    "Microsoft.Network/networkSecurityGroups": {
        "nsg_name": S, "resource_group": S,
        "rules": list_of(NSG_RULE).strict(), "default_rules": list_of(NSG_RULE).strict(),
        "subnet_ids": STRS.strict(), "nic_ids": STRS.strict(), "flow_log_ids": STRS,
    },
    "Microsoft.Compute/virtualMachines": {
        "vm_name": S, "resource_group": S, "vm_size": S, "os_type": S,
        "nic_ids": STRS.structure(), "os_disk_id": S, "data_disk_ids": STRS,
        "encryption_at_host": B, "password_authentication_disabled": B,
        "identity_type": S, "identity_principal_id": ID, "identity_tenant_id": S,
        "user_assigned_identities": list_of(
            record(id=S, name=S, principal_id=S, client_id=S)
        ).structure(),
        "provisioning_state": S, "user_data_present": B, "user_data_secrets": SECRET_HITS,
        "extensions": list_of(record(
            name=S, publisher=S, type=S, type_handler_version=S, provisioning_state=S,
            setting_names=STRS, protected_settings_from_key_vault=B,
        )),
        "extension_secrets": SECRET_HITS,
    },
    "Microsoft.Storage/storageAccounts": {
        "account_name": S, "resource_group": S, "kind": S, "sku": S, "minimum_tls_version": S,
        "https_only": B, "allow_blob_public_access": B, "allow_shared_key_access": B,
        "creation_time": S, "key_creation_time": record(key1=S, key2=S),
        "key_expiration_days": N, "key_source": S, "key_vault_uri": S,
        "infrastructure_encryption": B, **NETWORK_ACL,
    },
    "Microsoft.KeyVault/vaults": {
        "vault_name": S, "resource_group": S, "vault_uri": S, "tenant_id": S, "sku": S,
        "soft_delete_enabled": B, "soft_delete_retention_days": N,
        "purge_protection_enabled": B, "rbac_authorization": B, "access_policy_count": N,
        "diagnostic_settings": list_of(record(name=S, has_destination=B, workspace_id=S)),
        "key_count": N, **NETWORK_ACL,
    },
}

__all__ = ["CONTRACTS"]
