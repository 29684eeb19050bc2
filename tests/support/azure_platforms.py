"""Builders of Azure platform assets for check tests (attrs as in docs/azure-assets.md:
Defender for Cloud, AKS, App Service, Container Registry, flexible servers, Cosmos DB, storage
accounts and disks). Every builder's defaults describe a well-configured resource, so a test
changes the one attribute it is about."""

from __future__ import annotations

from typing import Any

from posture.model import Asset

from .azure import RG, SUB, az

PROVIDERS = f"{RG}/providers"
VM = "Microsoft.Compute/virtualMachines"
DISK = "Microsoft.Compute/disks"
PRICINGS = "Microsoft.Security/pricings"
ASSESSMENTS = "Microsoft.Security/assessments"
CLUSTER = "Microsoft.ContainerService/managedClusters"
REGISTRY = "Microsoft.ContainerRegistry/registries"
SITE = "Microsoft.Web/sites"
POSTGRES = "Microsoft.DBforPostgreSQL/flexibleServers"
MYSQL = "Microsoft.DBforMySQL/flexibleServers"
COSMOS = "Microsoft.DocumentDB/databaseAccounts"
STORAGE = "Microsoft.Storage/storageAccounts"
UPDATES = "System updates should be installed on your machines (powered by Azure Update Manager)"


def uid_of(type_: str, name: str) -> str:
    return f"{PROVIDERS}/{type_}/{name}".lower()


def plan(tier: str = "Standard", sub_plan: str | None = None, **extensions: bool) -> dict[str, Any]:
    return {"tier": tier, "enabled": None if tier is None else tier == "Standard",
            "sub_plan": sub_plan, "extensions": extensions}


def pricing(account: str = SUB, /, **plans: dict[str, Any]) -> Asset:
    """The subscription's plans (``VirtualMachines=plan("Free")``)."""
    return az(PRICINGS, f"/subscriptions/{account}/providers/microsoft.security/pricings",
              "Defender for Cloud plans", region="global", subscription_id=account,
              plans=plans)


def topic(status: str = "Healthy", since: str | None = None, cause: str | None = None,
          unhealthy: int | None = None, name: str = UPDATES) -> dict[str, Any]:
    bad = status == "Unhealthy"
    return {"status": status, "unhealthy": (1 if bad else 0) if unhealthy is None else unhealthy,
            "since": since, "first_evaluated": "2025-01-01T00:00:00+00:00",
            "display_name": name, "key": "e1145ab1-eb4f-43d8-911b-36ddf771d13f", "cause": cause}


def assessed(resource: Asset, **topics: dict[str, Any]) -> Asset:
    """The assessment summary of ``resource`` with the given topics."""
    return az(ASSESSMENTS, f"{resource.uid}/providers/microsoft.security/assessments",
              resource.name, region="global", resource_id=resource.uid,
              resource_type="/".join(resource.uid.split("/")[-3:-1]), source="Azure",
              counts={"healthy": 0, "unhealthy": 0, "not_applicable": 0},
              oldest_unhealthy=None, topics=topics)


def vm(name: str, **attrs: Any) -> Asset:
    base = {"vm_name": name, "os_disk_id": uid_of(DISK, f"{name}-osdisk")}
    return az(VM, uid_of(VM, name), **{**base, **attrs})


def cluster(name: str = "aks", **attrs: Any) -> Asset:
    base: dict[str, Any] = {
        "cluster_name": name, "kubernetes_version": "1.32.7", "kubernetes_minor": "1.32",
        "support_plan": "KubernetesOfficial", "fqdn": f"{name}.hcp.westeurope.azmk8s.io",
        "private_cluster": True, "authorized_ip_ranges": [], "local_accounts_disabled": True,
        "rbac_enabled": True, "entra_integration": True, "azure_rbac": True,
        "network_plugin": "azure", "network_policy": "cilium", "kms_enabled": True,
        "kms_key_id": "https://kv.vault.azure.net/keys/etcd/1", "defender_enabled": True,
        "node_pools": [{"name": "system", "minor": "1.32", "version": "1.32.7",
                        "public_ip": False}],
        "diagnostic_settings": [{"name": "audit", "enabled_log_categories": ["kube-audit-admin"],
                                 "has_destination": True}],
    }
    return az(CLUSTER, uid_of(CLUSTER, name), **{**base, **attrs})


def registry(name: str = "acr", **attrs: Any) -> Asset:
    base = {"registry_name": name, "sku": "Premium", "admin_user_enabled": False,
            "anonymous_pull_enabled": False, "public_network_access": "Disabled",
            "network_rules_apply": True, "network_default_action": "Deny", "ip_rules": []}
    return az(REGISTRY, uid_of(REGISTRY, name), **{**base, **attrs})


def config(**over: Any) -> dict[str, Any]:
    base = {"min_tls_version": "1.2", "scm_min_tls_version": "1.2", "ftps_state": "Disabled",
            "remote_debugging": False, "public_network_access": "Enabled",
            "access_restrictions": [{"name": "office", "priority": 100, "action": "Allow",
                                     "tag": "Default", "source": "203.0.113.0/24",
                                     "subnet_id": None}],
            "access_default_action": "Deny"}
    return {**base, **over}


def auth(enabled: bool = True, require: bool | None = True,
         action: str | None = "Return401") -> dict[str, Any]:
    return {"enabled": enabled, "require_authentication": require,
            "unauthenticated_action": action, "providers": ["azureActiveDirectory"]}


def site(name: str = "app", **attrs: Any) -> Asset:
    base = {"site_name": name, "kind": "app,linux", "function_app": False, "https_only": True,
            "client_cert_enabled": True, "client_cert_mode": "Required",
            "public_network_access": "Enabled", "config": config(), "auth": auth()}
    return az(SITE, uid_of(SITE, name), **{**base, **attrs})


def flex(name: str = "pg", engine: str = "postgresql", **attrs: Any) -> Asset:
    base: dict[str, Any] = {
            "server_name": name, "engine": engine, "public_network_access": "Disabled",
            "delegated_subnet_id": None, "firewall_rules": [], "require_secure_transport": True,
            "tls_parameter": "TLSv1.2", "min_tls_version": "1.2",
            "data_encryption": "AzureKeyVault", "cmk_key_uri": "https://kv/keys/db/1",
            "backup_retention_days": 35, "geo_redundant_backup": "Enabled"}
    type_ = POSTGRES if engine == "postgresql" else MYSQL
    return az(type_, uid_of(type_, name), **{**base, **attrs})


def rule(name: str, start: str, end: str) -> dict[str, str]:
    return {"name": name, "start_ip": start, "end_ip": end}


def cosmos(name: str = "cosmos", **attrs: Any) -> Asset:
    base = {"account_name": name, "public_network_access": "Disabled", "ip_rules": [],
            "vnet_filter_enabled": False, "vnet_rule_subnet_ids": [],
            "local_auth_disabled": True, "cmk_key_uri": "https://kv/keys/cosmos",
            "minimal_tls_version": "Tls12", "min_tls_version": "1.2"}
    return az(COSMOS, uid_of(COSMOS, name), **{**base, **attrs})


def storage(name: str = "st", **attrs: Any) -> Asset:
    base = {"account_name": name, "public_network_access": "Enabled",
            "network_default_action": "Deny", "ip_rules": [], "vnet_rule_subnet_ids": [],
            "infrastructure_encryption": True, "key_source": "Microsoft.Keyvault",
            "key_vault_uri": "https://kv.vault.azure.net"}
    return az(STORAGE, uid_of(STORAGE, name), **{**base, **attrs})


def disk(name: str = "disk", attached_to: str | None = "vm", **attrs: Any) -> Asset:
    base = {"disk_name": name, "managed_by": uid_of(VM, attached_to) if attached_to else None,
            "disk_state": "Attached" if attached_to else "Unattached",
            "encryption_type": "EncryptionAtRestWithCustomerKey",
            "disk_encryption_set_id": uid_of("Microsoft.Compute/diskEncryptionSets", "des"),
            "ade_enabled": False, "network_access_policy": "DenyAll",
            "public_network_access": "Disabled"}
    return az(DISK, uid_of(DISK, name), **{**base, **attrs})
