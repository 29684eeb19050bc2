"""Azure Kubernetes Service clusters (``Microsoft.ContainerService/managedClusters``,
api-version 2024-09-01, ARM REST) and each cluster's diagnostic settings (control-plane logs:
``kube-audit``, ``kube-audit-admin``).

What the API server admits: a private cluster (``apiServerAccessProfile.enablePrivateCluster``)
has no public endpoint (``enablePrivateClusterPublicFQDN`` only publishes a DNS name for the
private address); a public one admits ``authorizedIPRanges`` only, or every address when the list
is empty. Local accounts (``disableLocalAccounts`` absent = enabled) keep a static cluster-admin
certificate (``listClusterAdminCredential``) beside Entra ID. The SSH public keys of the Linux
profile are kept in raw (public keys); the API never returns secrets in this listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.azure import base as arm
from posture.collectors.azure.monitor import fetch_diagnostic_settings
from posture.collectors.azure.rest import subscription_listing
from posture.model import Asset

CLUSTER = "Microsoft.ContainerService/managedClusters"
API_VERSION = "2024-09-01"
PERMISSIONS = (
    "Microsoft.ContainerService/managedClusters/read",
    "Microsoft.Insights/DiagnosticSettings/Read",
)


def collect(scope: arm.SubscriptionScope) -> list[Asset]:
    items = subscription_listing(scope, "Microsoft.ContainerService/managedClusters",
                                 API_VERSION, "containerservice", "ManagedClusters_List",
                                 (CLUSTER,))

    def cluster(item: Mapping[str, Any]) -> Asset:
        diag = fetch_diagnostic_settings(scope, str(arm.rid(item["id"])), arm.region_of(item),
                                         f"{CLUSTER}#diagnostic_settings")
        return normalize_cluster(scope, item, diag)

    return arm.parallel_map(cluster, items or ())


def minor_of(version: Any) -> str | None:
    """``1.29`` of ``1.29.7`` (the minor version a support calendar lists)."""
    parts = str(version or "").strip().lstrip("v").split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return f"{int(parts[0])}.{int(parts[1])}"


def normalize_pool(pool: Mapping[str, Any]) -> dict[str, Any]:
    version = pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion")
    return {
        "name": pool.get("name"),
        "mode": pool.get("mode"),
        "count": pool.get("count"),
        "os_type": pool.get("osType"),
        "vm_size": pool.get("vmSize"),
        "version": version,
        "minor": minor_of(version),
        "node_image_version": pool.get("nodeImageVersion"),
        "public_ip": bool(pool.get("enableNodePublicIP")),
        "subnet_id": arm.rid(pool.get("vnetSubnetID")),
    }


def normalize_cluster(scope: arm.SubscriptionScope, item: Mapping[str, Any],
                      diagnostic_settings: list[dict[str, Any]] | None) -> Asset:
    p = arm.props(item)
    access = p.get("apiServerAccessProfile") or {}
    aad = p.get("aadProfile")
    security = p.get("securityProfile") or {}
    kms = security.get("azureKeyVaultKms") or {}
    defender = (security.get("defender") or {}).get("securityMonitoring") or {}
    network = p.get("networkProfile") or {}
    upgrade = p.get("autoUpgradeProfile") or {}
    version = p.get("currentKubernetesVersion") or p.get("kubernetesVersion")
    attrs = {
        "cluster_name": item.get("name"),
        "resource_group": arm.resource_group(item.get("id")),
        "kubernetes_version": version,
        "kubernetes_minor": minor_of(version),
        "support_plan": p.get("supportPlan") or "KubernetesOfficial",
        "sku_tier": (item.get("sku") or {}).get("tier"),
        "provisioning_state": p.get("provisioningState"),
        "power_state": (p.get("powerState") or {}).get("code"),
        "fqdn": p.get("fqdn"),
        "private_fqdn": p.get("privateFQDN"),
        "private_cluster": bool(access.get("enablePrivateCluster")),
        "private_cluster_public_fqdn": bool(access.get("enablePrivateClusterPublicFQDN")),
        "authorized_ip_ranges": sorted(str(r) for r in access.get("authorizedIPRanges") or ()),
        "vnet_integration": bool(access.get("enableVnetIntegration")),
        "local_accounts_disabled": bool(p.get("disableLocalAccounts")),
        "rbac_enabled": p.get("enableRBAC"),
        "entra_integration": bool(aad),
        "azure_rbac": bool((aad or {}).get("enableAzureRBAC")),
        "admin_group_ids": sorted(str(g).lower() for g in (aad or {}).get("adminGroupObjectIDs")
                                  or ()),
        "network_plugin": network.get("networkPlugin"),
        "network_policy": network.get("networkPolicy"),
        "kms_enabled": bool(kms.get("enabled")),
        "kms_key_id": kms.get("keyId") if kms.get("enabled") else None,
        "defender_enabled": bool(defender.get("enabled")),
        "workload_identity": bool((security.get("workloadIdentity") or {}).get("enabled")),
        "auto_upgrade_channel": upgrade.get("upgradeChannel"),
        "node_os_upgrade_channel": upgrade.get("nodeOSUpgradeChannel"),
        "node_pools": sorted((normalize_pool(a) for a in p.get("agentPoolProfiles") or ()),
                             key=lambda a: str(a["name"])),
        "diagnostic_settings": diagnostic_settings,
    }
    return scope.arm_asset(CLUSTER, item, attrs)
