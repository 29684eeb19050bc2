"""AKS clusters through ARM REST against the loopback fake, with each cluster's diagnostic
settings through the monitor SDK: the demo's public cluster (no authorized ranges, local
accounts, 1.29) and its private LTS cluster; a failed diagnostic-settings read is recorded on
the cluster and makes only the audit-log check inconclusive."""

from __future__ import annotations

from support.azure import SUB
from support.azure_collect import collect_fake
from support.checks import run_one

from posture.collectors.azure.aks import minor_of
from posture.demo.azure_fake import FakeArm
from posture.model import Inventory, Severity, Status

CLUSTER = "Microsoft.ContainerService/managedClusters"
CLUSTERS = (f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/"
            "microsoft.containerservice/managedclusters")


def test_clusters(estate: Inventory) -> None:
    assert estate.errors == ()
    found = {a.name: a for a in estate.of(CLUSTER)}
    assert set(found) == {"aks-prod", "aks-internal"}
    prod, internal = found["aks-prod"], found["aks-internal"]
    assert (prod.uid, prod.region, prod.account) == (f"{CLUSTERS}/aks-prod", "westeurope", SUB)
    assert {k: prod.attr(k) for k in (
        "kubernetes_minor", "support_plan", "private_cluster", "authorized_ip_ranges",
        "local_accounts_disabled", "entra_integration", "network_policy", "kms_enabled",
        "defender_enabled", "diagnostic_settings")} == {
        "kubernetes_minor": "1.29", "support_plan": "KubernetesOfficial",
        "private_cluster": False, "authorized_ip_ranges": [], "local_accounts_disabled": False,
        "entra_integration": False, "network_policy": None, "kms_enabled": False,
        "defender_enabled": False, "diagnostic_settings": []}
    assert [(p["name"], p["minor"], p["public_ip"]) for p in prod.attr("node_pools")] == [
        ("apps", "1.29", False), ("system", "1.29", False)]
    assert {k: internal.attr(k) for k in (
        "private_cluster", "local_accounts_disabled", "azure_rbac", "network_policy",
        "kms_enabled", "support_plan")} == {
        "private_cluster": True, "local_accounts_disabled": True, "azure_rbac": True,
        "network_policy": "cilium", "kms_enabled": True, "support_plan": "AKSLongTermSupport"}
    (setting,) = internal.attr("diagnostic_settings")
    assert setting["enabled_log_categories"] == ["kube-apiserver", "kube-audit-admin"]


def test_minor_versions() -> None:
    assert [minor_of(v) for v in ("1.29.9", "v1.30", "1.9.6", "", None, "latest")] == [
        "1.29", "1.30", "1.9", None, None, None]


def test_demo_verdicts(estate: Inventory) -> None:
    api = {f.resource_name: (f.status, f.severity) for f in
           run_one("azure.kubernetes.aks_api_server_not_public", estate)}
    assert api == {"aks-prod": (Status.FAIL, Severity.CRITICAL),
                   "aks-internal": (Status.PASS, Severity.CRITICAL)}
    for check_id, prod in (("aks_version_supported", Status.FAIL),
                           ("aks_local_accounts_disabled", Status.FAIL),
                           ("aks_entra_rbac_enabled", Status.FAIL),
                           ("aks_network_policy_enabled", Status.FAIL),
                           ("aks_secrets_encrypted_with_kms", Status.FAIL),
                           ("aks_audit_logging_enabled", Status.FAIL),
                           ("aks_defender_sensor_enabled", Status.FAIL),
                           ("aks_nodes_no_public_ip", Status.PASS)):
        found = {f.resource_name: f.status for f in
                 run_one(f"azure.kubernetes.{check_id}", estate)}
        # the private cluster on Long Term Support (1.34) passes every one
        assert found == {"aks-prod": prod, "aks-internal": Status.PASS}, check_id


def test_failed_diagnostic_settings_are_recorded_on_the_cluster(fake: FakeArm) -> None:
    uid = f"{CLUSTERS}/aks-internal"
    fake.fail(f"{uid}/providers/microsoft.insights/diagnosticsettings", 403,
              "AuthorizationFailed", "no diagnosticSettings/read")
    inv = collect_fake(fake)
    (err,) = inv.errors
    assert (err.resource_uid, err.asset_types) == (uid, (f"{CLUSTER}#diagnostic_settings",))
    audit = {f.resource_uid: f.status for f in
             run_one("azure.kubernetes.aks_audit_logging_enabled", inv)}
    assert audit[uid] == Status.INCONCLUSIVE
    kms = {f.resource_uid: f.status for f in
           run_one("azure.kubernetes.aks_secrets_encrypted_with_kms", inv)}
    assert kms[uid] == Status.PASS
