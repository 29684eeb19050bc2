"""GKE checks: the API server's reach (public endpoint, authorized networks judged as the wide
internet, Google Cloud public IPs, a private endpoint with global access), legacy authorisation,
Workload Identity, node identity, secrets encryption, network policy, logging, shielded and private
nodes, and the version's end of standard support; each PASS, FAIL and not collected."""

from __future__ import annotations

import pytest
from support.gcp import binding, gcp_error, project, results, statuses
from support.gcp_platforms import DEFAULT_SA, FULL_SCOPE, cluster, pool

from posture.gcp import GKE_CLUSTER
from posture.model import Severity, Status

CP = "gcp.kubernetes.control_plane_not_public"
LISTING_DENIED = gcp_error("container", "clusters.list", (GKE_CLUSTER,))


def test_open_endpoint_fails_with_its_depth_and_private_one_passes() -> None:
    found = results(
        CP,
        cluster("open", public_endpoint_enabled=True, public_endpoint="34.1.2.3",
                authorized_networks_enabled=False, authorized_networks=[]),
        cluster("office", public_endpoint_enabled=True, public_endpoint="34.1.2.4",
                authorized_networks=["203.0.113.0/28", "10.0.0.0/8"]),
        cluster("private"))
    assert {n: f.status for n, f in found.items()} == {
        "open": Status.FAIL, "office": Status.PASS, "private": Status.PASS}
    assert found["open"].message == (
        "the Kubernetes API server of open is reachable from the internet: public endpoint "
        "34.1.2.3 with authorized networks disabled: every internet address reaches it")
    assert found["open"].evidence["depth"] == 0
    assert [(h["kind"], h["id"]) for h in found["open"].evidence["path"]] == [
        ("internet", "any address"), ("authorized networks", "disabled"),
        ("GKE public endpoint", "34.1.2.3"), ("Kubernetes API server", "open")]
    # allow-listed: one change (widen the authorized networks) from the internet
    office = found["office"]
    assert office.message == ("not reachable from the internet: public endpoint 34.1.2.4 "
                              "reachable only from allow-listed ranges (203.0.113.0/28)")
    assert office.evidence["depth"] == 1
    assert office.evidence["single_change"]["layer"] == "authorized-networks"
    assert found["private"].evidence["depth"] == 2
    assert "path" not in found["private"].evidence  # no internet path to draw
    assert office.evidence["path"][0]["id"] == "203.0.113.0/28"  # the narrow path, drawn too


def test_trap_private_endpoint_reachable_from_peered_networks_is_not_internet() -> None:
    found = results(CP, cluster("peered", private_endpoint_global_access=True,
                                authorized_networks_enabled=False, authorized_networks=[]))
    assert found["peered"].status == Status.PASS
    assert "reachable from any region of the VPC and connected networks only" in found[
        "peered"].message
    assert found["peered"].evidence["single_change"]["layer"] == "public-endpoint"


def test_wide_authorized_networks_and_google_cloud_ips() -> None:
    # two /9 halves of the internet add up to it; private ranges count for nothing
    found = results(
        CP,
        cluster("halves", public_endpoint_enabled=True, public_endpoint="34.1.2.3",
                authorized_networks=["0.0.0.0/1", "128.0.0.0/1"]),
        cluster("rfc1918", public_endpoint_enabled=True, public_endpoint="34.1.2.5",
                authorized_networks=["10.0.0.0/8", "172.16.0.0/12"]),
        cluster("gcp-ips", public_endpoint_enabled=True, public_endpoint="34.1.2.6",
                authorized_networks=["203.0.113.0/28"], gcp_public_cidrs_access=True))
    assert found["halves"].status == Status.FAIL
    assert found["halves"].severity == Severity.HIGH
    assert found["rfc1918"].status == Status.PASS
    assert "admit no public address" in found["rfc1918"].message
    assert (found["gcp-ips"].status, found["gcp-ips"].severity) == (Status.FAIL, Severity.MEDIUM)
    assert "every Google Cloud public address" in found["gcp-ips"].message


def test_endpoint_not_collected_is_inconclusive() -> None:
    old = cluster("old", public_endpoint_enabled=None)
    assert statuses(CP, old) == {"old": Status.INCONCLUSIVE}
    # the listing failed: a scope finding, never a clean PASS
    found = results(CP, errors=(LISTING_DENIED,))
    assert [f.status for f in found.values()] == [Status.INCONCLUSIVE]


SIMPLE = [
    ("gcp.kubernetes.private_nodes_enabled", {"node_pools": [pool(private_nodes=False)]},
     "node pool(s) pool-1 give their nodes external IP addresses"),
    ("gcp.kubernetes.secrets_encrypted_with_kms",
     {"secrets_encryption_state": "DECRYPTED", "secrets_kms_key": None},
     "application-layer secrets encryption is DECRYPTED: Secrets in etcd are not encrypted "
     "with a customer key"),
    ("gcp.kubernetes.legacy_authorization_disabled",
     {"legacy_abac": True, "client_certificate": True},
     "legacy authorisation in use: legacy ABAC, a client certificate"),
    ("gcp.kubernetes.network_policy_enabled", {"datapath_provider": "LEGACY_DATAPATH"},
     "network policies are not enforced (no Dataplane V2, no network policy add-on): every pod "
     "reaches every other"),
    ("gcp.kubernetes.logging_enabled", {"logging_service": "none", "logging_components": []},
     "cluster logging is off: no system or workload logs"),
    ("gcp.kubernetes.shielded_nodes_enabled", {"shielded_nodes": False},
     "Shielded GKE nodes are disabled"),
    ("gcp.kubernetes.workload_identity_enabled",
     {"workload_pool": None, "node_pools": [pool(workload_metadata_mode="GCE_METADATA",
                                                 legacy_endpoints_disabled=False)]},
     "pods can obtain the node's credentials: no workload pool; node pool(s) pool-1 serve the "
     "node's metadata to pods; legacy metadata endpoints on pool-1"),
]


@pytest.mark.parametrize(("check_id", "bad", "message"), SIMPLE, ids=[s[0] for s in SIMPLE])
def test_cluster_settings_pass_fail_and_not_collected(check_id: str, bad: dict[str, object],
                                                      message: str) -> None:
    found = results(check_id, cluster("good"), cluster("bad", **bad))  # type: ignore[arg-type]
    assert (found["good"].status, found["bad"].status) == (Status.PASS, Status.FAIL)
    assert found["bad"].message == message
    gap = results(check_id, cluster("good"), errors=(LISTING_DENIED,))
    assert {f.status for f in gap.values()} == {Status.INCONCLUSIVE}


def test_trap_calico_add_on_and_autopilot_metadata() -> None:
    calico = cluster("calico", datapath_provider="LEGACY_DATAPATH", network_policy=True)
    assert statuses("gcp.kubernetes.network_policy_enabled", calico) == {"calico": Status.PASS}
    # Autopilot always serves the GKE metadata server, whatever the pool says
    auto = cluster("auto", autopilot=True, node_pools=[pool(workload_metadata_mode=None)])
    assert statuses("gcp.kubernetes.workload_identity_enabled", auto) == {"auto": Status.PASS}
    unsigned = cluster("unsigned", node_pools=[pool(secure_boot=False)])
    found = results("gcp.kubernetes.shielded_nodes_enabled", unsigned)
    assert (found["unsigned"].status, found["unsigned"].severity) == (Status.FAIL, Severity.LOW)


NODES = "gcp.kubernetes.node_default_service_account_restricted"


def test_default_node_service_account_graded_by_scope_and_role() -> None:
    owner = project(bindings=[binding("roles/editor", f"serviceAccount:{DEFAULT_SA}")])
    found = results(
        NODES, owner,
        cluster("full", node_pools=[pool(service_account="default")]),
        cluster("narrow", node_pools=[pool(service_account=DEFAULT_SA, oauth_scopes=[
            "https://www.googleapis.com/auth/devstorage.read_only"])]),
        cluster("own"))
    assert found["full"].status == Status.FAIL and found["full"].severity == Severity.HIGH
    assert found["full"].message == (
        "node pool(s) pool-1 run as the default compute service account (which holds "
        "roles/editor on acme-test) with the cloud-platform scope")
    assert (found["narrow"].status, found["narrow"].severity) == (Status.FAIL, Severity.LOW)
    assert found["own"].status == Status.PASS
    assert FULL_SCOPE in cluster().attr("node_pools")[0]["oauth_scopes"]
    gap = results(NODES, cluster("own"), errors=(LISTING_DENIED,))
    assert {f.status for f in gap.values()} == {Status.INCONCLUSIVE}


VERSION = "gcp.kubernetes.version_supported"


def test_version_past_end_of_standard_support_and_unknown() -> None:
    found = results(
        VERSION,
        cluster("current"),
        cluster("old", current_master_version="1.29.15-gke.1026000", release_channel="UNSPECIFIED"),
        cluster("old-nodes", node_pools=[pool(version="1.28.3-gke.100")]),
        cluster("future", current_master_version="1.99.0-gke.1"))
    assert {n: f.status for n, f in found.items()} == {
        "current": Status.PASS, "old": Status.FAIL, "old-nodes": Status.FAIL,
        "future": Status.INCONCLUSIVE}
    assert found["old"].message == ("past the end of standard support: control plane "
                                    "1.29.15-gke.1026000 (since 2025-04-12)")
    assert found["old"].evidence["release_channel"] == "UNSPECIFIED"
    assert "GKE release schedule" in found["old"].evidence["source"]
    assert found["future"].message.startswith("end of support unknown for control plane 1.99.0")
    assert found["current"].message == "in standard support until 2027-04-11 (channel REGULAR)"
    gap = results(VERSION, cluster("current"), errors=(LISTING_DENIED,))
    assert {f.status for f in gap.values()} == {Status.INCONCLUSIVE}
