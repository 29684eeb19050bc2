"""AKS and Azure Container Registry checks: the API server's reach judged by the width of its
authorized ranges, sign-in and RBAC, the version against the dated AKS calendar (LTS included,
node pools lagging the control plane), network policy, KMS, audit logs, Defender's sensor and
node public IPs; registries' admin user, reach (the firewall is Premium only) and anonymous
pull. The test scans finished on 2026-01-01."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import az, error, inventory, subnet, vnet
from support.azure_platforms import CLUSTER, cluster, plan, pricing, registry
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

API = "azure.kubernetes.aks_api_server_not_public"
LOCAL = "azure.kubernetes.aks_local_accounts_disabled"
ENTRA = "azure.kubernetes.aks_entra_rbac_enabled"
VERSION = "azure.kubernetes.aks_version_supported"
POLICY = "azure.kubernetes.aks_network_policy_enabled"
KMS = "azure.kubernetes.aks_secrets_encrypted_with_kms"
AUDIT = "azure.kubernetes.aks_audit_logging_enabled"
SENSOR = "azure.kubernetes.aks_defender_sensor_enabled"
NODES = "azure.kubernetes.aks_nodes_no_public_ip"
ADMIN = "azure.kubernetes.registry_admin_user_disabled"
PUBLIC = "azure.kubernetes.registry_not_public"
ANONYMOUS = "azure.kubernetes.registry_anonymous_pull_disabled"


def _one(check_id: str, *assets: Any) -> tuple[Status, Severity, str]:
    found = only(run_one(check_id, inventory(*assets)))
    return found.status, found.severity, found.message


PUBLIC_API = {"private_cluster": False}


@pytest.mark.parametrize(("attrs", "status", "severity", "message"), [
    ({}, Status.PASS, Severity.CRITICAL, "private cluster: the API server has only a private "
     "endpoint in the cluster's virtual network"),
    ({**PUBLIC_API, "local_accounts_disabled": False}, Status.FAIL, Severity.CRITICAL,
     "the API server aks.hcp.westeurope.azmk8s.io is reachable from the whole internet (no "
     "authorized IP ranges); local accounts are enabled, so a leaked cluster-admin certificate "
     "works from anywhere"),
    (PUBLIC_API, Status.FAIL, Severity.HIGH, "the API server aks.hcp.westeurope.azmk8s.io is "
     "reachable from the whole internet (no authorized IP ranges); only Entra ID sign-in stands "
     "in the way"),
    # trap: ranges that add up to the internet are no restriction
    ({**PUBLIC_API, "authorized_ip_ranges": ["0.0.0.0/1", "128.0.0.0/1"]}, Status.FAIL,
     Severity.HIGH, "the API server aks.hcp.westeurope.azmk8s.io is reachable from the whole "
     "internet (authorized ranges 0.0.0.0/1, 128.0.0.0/1 admit 3,702,390,784 public "
     "addresses); only Entra ID sign-in stands in the way"),
    ({**PUBLIC_API, "authorized_ip_ranges": ["203.0.113.0/28", "10.0.0.0/8"]}, Status.PASS,
     Severity.CRITICAL, "the public API server admits only 16 public address(es): "
     "203.0.113.0/28"),
    # IPv6: a /32 is an allow-list, the whole global unicast space is not
    ({**PUBLIC_API, "authorized_ip_ranges": ["2001:db8::/32"]}, Status.PASS, Severity.CRITICAL,
     "the public API server admits only 79,228,162,514,264,337,593,543,950,336 public "
     "address(es): 2001:db8::/32"),
    ({**PUBLIC_API, "authorized_ip_ranges": ["2000::/3"]}, Status.FAIL, Severity.HIGH,
     "the API server aks.hcp.westeurope.azmk8s.io is reachable from the whole internet "
     "(authorized ranges 2000::/3 admit 42,535,295,865,117,307,932,921,825,928,971,026,432 "
     "public addresses); only Entra ID sign-in stands in the way"),
])
def test_api_server_reach(attrs: dict[str, Any], status: Status, severity: Severity,
                          message: str) -> None:
    assert _one(API, cluster(**attrs)) == (status, severity, message)


def test_public_api_server_is_an_entry_point_with_path_and_depth() -> None:
    found = only(run_one(API, inventory(cluster(**PUBLIC_API))))
    hops = found.evidence["path"]
    assert [h["kind"] for h in hops] == ["internet", "authorized IP ranges",
                                         "AKS public endpoint", "Kubernetes API server"]
    assert (hops[0]["id"], hops[2]["id"]) == ("any address", "aks.hcp.westeurope.azmk8s.io")
    assert (found.evidence["state"], found.evidence["depth"]) == ("exposed", 0)
    narrow = only(run_one(API, inventory(cluster(**PUBLIC_API,
                                                 authorized_ip_ranges=["203.0.113.0/28"]))))
    assert (narrow.evidence["state"], narrow.evidence["depth"]) == ("allow-listed", 1)
    assert narrow.evidence["single_change"]["layer"] == "authorized-IP-ranges"


def test_private_cluster_names_the_vnets_that_reach_its_endpoint() -> None:
    """A private cluster is not exposed; its private endpoint is reached from the nodes' VNet
    and the VNets peered to it, and the finding says which (not an internet path)."""
    nodes = subnet("aks-nodes", "10.0.1.0/24")
    pool = {"name": "system", "minor": "1.32", "version": "1.32.7", "public_ip": False,
            "subnet_id": nodes.uid}
    peering = az("Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
                 f"{nodes.attr('vnet_id')}/virtualnetworkpeerings/to-hub",
                 vnet_id=nodes.attr("vnet_id"), peering_state="Connected",
                 remote_vnet_id=nodes.attr("vnet_id").replace("/vnet", "/hub"),
                 remote_address_prefixes=["10.9.0.0/16"])
    found = only(run_one(API, inventory(cluster(node_pools=[pool]), vnet(), nodes, peering)))
    assert found.status == Status.PASS and "path" not in found.evidence
    assert found.evidence["private_endpoint"] == (
        "its private endpoint in VNet vnet, reached from there and the peered VNets hub")
    assert (found.evidence["state"], found.evidence["depth"]) == ("blocked", 1)


def test_sign_in_and_rbac() -> None:
    assert _one(LOCAL, cluster())[0] == Status.PASS
    assert _one(LOCAL, cluster(local_accounts_disabled=False))[0] == Status.FAIL
    assert _one(ENTRA, cluster())[::2] == (
        Status.PASS, "Entra ID sign-in with Azure RBAC for Kubernetes authorization")
    assert _one(ENTRA, cluster(azure_rbac=False))[0] == Status.PASS
    assert _one(ENTRA, cluster(rbac_enabled=False)) == (
        Status.FAIL, Severity.HIGH, "Kubernetes RBAC is off: every authenticated identity is "
        "cluster administrator")
    assert _one(ENTRA, cluster(entra_integration=False))[0:2] == (Status.FAIL, Severity.MEDIUM)
    assert _one(ENTRA, cluster(rbac_enabled=None))[0] == Status.INCONCLUSIVE


def _pool(minor: str) -> list[dict[str, Any]]:
    return [{"name": "system", "minor": minor, "public_ip": False}]


@pytest.mark.parametrize(("attrs", "status", "message"), [
    ({}, Status.PASS, "Kubernetes 1.32 (control plane, the oldest) is supported until "
     "2026-03-31"),
    ({"kubernetes_minor": "1.31", "node_pools": _pool("1.31")}, Status.FAIL,
     "Kubernetes 1.31 (control plane) is past AKS end of support since 2025-11-01: no "
     "Kubernetes security fixes"),
    # trap: past the standard calendar, but on Long Term Support
    ({"kubernetes_minor": "1.31", "node_pools": _pool("1.31"),
      "support_plan": "AKSLongTermSupport"}, Status.PASS,
     "Kubernetes 1.31 (control plane, the oldest) is supported (Long Term Support) until "
     "2026-11-30"),
    # trap: an up-to-date control plane over a node pool left behind
    ({"node_pools": _pool("1.29")}, Status.FAIL, "Kubernetes 1.29 (node pool system) is past "
     "AKS end of support since 2025-03-31: no Kubernetes security fixes"),
    ({"kubernetes_minor": "1.19", "node_pools": _pool("1.19")}, Status.INCONCLUSIVE,
     "Kubernetes 1.19 (control plane) is not in the AKS calendar posture knows"),
    ({"kubernetes_minor": None}, Status.INCONCLUSIVE, "its Kubernetes version was not reported"),
])
def test_version_against_the_dated_calendar(attrs: dict[str, Any], status: Status,
                                            message: str) -> None:
    found = only(run_one(VERSION, inventory(cluster(**attrs))))
    assert found.status == status and found.message.startswith(message), found.message
    if status != Status.INCONCLUSIVE or attrs.get("kubernetes_minor"):
        assert "learn.microsoft.com/azure/aks" in found.evidence["source"]


def test_network_policy_kms_nodes() -> None:
    assert _one(POLICY, cluster())[0] == Status.PASS
    assert _one(POLICY, cluster(network_policy="none"))[::2] == (
        Status.FAIL, "no network policy engine: every pod reaches every other pod and service "
        "in the cluster")
    assert _one(KMS, cluster())[0] == Status.PASS
    assert _one(KMS, cluster(kms_enabled=False))[0] == Status.FAIL
    assert _one(NODES, cluster())[0] == Status.PASS
    pools = [{"name": "edge", "minor": "1.32", "public_ip": True}]
    assert _one(NODES, cluster(node_pools=pools))[::2] == (
        Status.FAIL, "node pool(s) edge give every node a public IP address")


def test_audit_logs() -> None:
    assert _one(AUDIT, cluster())[::2] == (
        Status.PASS, "audit logs (kube-audit-admin) are exported by diagnostic setting audit")
    # trap: a setting that exports other categories, or audit to no destination
    other = [{"name": "perf", "enabled_log_categories": ["kube-apiserver"],
              "has_destination": True},
             {"name": "nowhere", "enabled_log_categories": ["kube-audit"],
              "has_destination": False}]
    assert _one(AUDIT, cluster(diagnostic_settings=other))[0] == Status.FAIL
    assert _one(AUDIT, cluster(diagnostic_settings=[]))[0] == Status.FAIL
    assert _one(AUDIT, cluster(diagnostic_settings=None))[0] == Status.INCONCLUSIVE
    aks = cluster()
    gap = error("monitor", "DiagnosticSettings_List", (f"{CLUSTER}#diagnostic_settings",),
                resource_uid=aks.uid)
    assert only(run_one(AUDIT, inventory(aks, errors=(gap,)))).status == Status.INCONCLUSIVE
    # ... while a check reading only the listing still decides
    assert only(run_one(KMS, inventory(aks, errors=(gap,)))).status == Status.PASS


def test_defender_sensor_needs_the_plan() -> None:
    assert _one(SENSOR, cluster(), pricing(Containers=plan()))[0] == Status.PASS
    assert _one(SENSOR, cluster(defender_enabled=False))[0] == Status.FAIL
    # trap: the profile is set, the subscription's plan is off
    assert _one(SENSOR, cluster(), pricing(Containers=plan("Free")))[::2] == (
        Status.FAIL, "the Defender sensor profile is set but Defender for Containers is off in "
        "the subscription: nothing analyses it")


def test_clusters_not_collected_are_inconclusive() -> None:
    gap = error("containerservice", "ManagedClusters_List", (CLUSTER,))
    for check_id in (API, LOCAL, ENTRA, VERSION, POLICY, KMS, AUDIT, SENSOR, NODES):
        found = run_one(check_id, inventory(errors=(gap,)))
        assert {f.status for f in found} == {Status.INCONCLUSIVE}, check_id


def test_registry_admin_user() -> None:
    assert _one(ADMIN, registry())[0] == Status.PASS
    assert _one(ADMIN, registry(admin_user_enabled=True))[::2] == (
        Status.FAIL, "the admin user is enabled: two static passwords push and pull every "
        "repository")


@pytest.mark.parametrize(("attrs", "status", "message"), [
    ({}, Status.PASS, "public network access is disabled (private endpoints only)"),
    # trap: a Standard registry's network rules do not exist: it is public
    ({"sku": "Standard", "network_rules_apply": False, "public_network_access": "Enabled"},
     Status.FAIL, "the registry is reachable from the internet: a Standard SKU registry has no "
     "firewall (Premium only): its endpoint admits every network"),
    ({"public_network_access": "Enabled", "network_default_action": "Allow"}, Status.FAIL,
     "the registry is reachable from the internet: the registry firewall's default action is "
     "Allow"),
    ({"public_network_access": "Enabled", "ip_rules": ["203.0.113.7"]}, Status.PASS,
     "the registry firewall admits only 1 public address(es): 203.0.113.7/32"),
    ({"public_network_access": "Enabled", "ip_rules": ["0.0.0.0/0"]}, Status.FAIL,
     "the registry is reachable from the internet: the registry firewall's IP rules admit "
     "3,702,390,784 public addresses"),
])
def test_registry_reach(attrs: dict[str, Any], status: Status, message: str) -> None:
    assert _one(PUBLIC, registry(**attrs))[::2] == (status, message)


def test_registry_anonymous_pull_graded_by_reach() -> None:
    assert _one(ANONYMOUS, registry())[0] == Status.PASS
    assert _one(ANONYMOUS, registry(anonymous_pull_enabled=True))[0:2] == (
        Status.FAIL, Severity.MEDIUM)
    found = _one(ANONYMOUS, registry(anonymous_pull_enabled=True, public_network_access=
                                     "Enabled", network_default_action="Allow"))
    assert found[0:2] == (Status.FAIL, Severity.HIGH)
    gap = error("containerregistry", "Registries_List", ("Microsoft.ContainerRegistry/registries",))
    for check_id in (ADMIN, PUBLIC, ANONYMOUS):
        assert {f.status for f in by_uid(run_one(check_id, inventory(errors=(gap,)))).values()
                } == {Status.INCONCLUSIVE}
