"""GKE clusters read with the real discovery client from the loopback fake: the endpoint from the
current and the older fields, node pools, no credentials in the snapshot; zones the listing
could not reach and a refused listing are recorded; the demo estate holds one platform of each
kind, with the GKE endpoint open to the internet."""

from __future__ import annotations

from typing import Any

from support.checks import run_one
from support.gcp_collect import collect_fake, collected_by_name, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import gke
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import (
    AR_REPOSITORY,
    BQ_DATASET,
    FUNCTION,
    GKE_CLUSTER,
    OS_INVENTORY,
    RUN_SERVICE,
    SECRET,
)
from posture.model import Status

LIST = "GET /v1/projects/acme-prod/locations/-/clusters"


def test_clusters_endpoints_and_pools(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, gke)
    prod, payments = found["prod-gke"], found["payments-gke"]
    assert (prod.uid, prod.region) == (
        "//container.googleapis.com/projects/acme-prod/locations/us-central1/clusters/prod-gke",
        "us-central1")
    assert {k: prod.attr(k) for k in ("public_endpoint_enabled", "public_endpoint",
                                      "authorized_networks_enabled", "secrets_encryption_state",
                                      "release_channel", "datapath_provider")} == {
        "public_endpoint_enabled": True, "public_endpoint": "34.118.10.20",
        "authorized_networks_enabled": False, "secrets_encryption_state": "DECRYPTED",
        "release_channel": "UNSPECIFIED", "datapath_provider": "LEGACY_DATAPATH"}
    [pool] = prod.attr("node_pools")
    assert (pool["service_account"], pool["workload_metadata_mode"],
            pool["legacy_endpoints_disabled"]) == ("default", "GCE_METADATA", True)
    assert payments.attr("authorized_networks") == ["10.0.0.0/8", "203.0.113.0/28"]
    assert (payments.attr("autopilot"), payments.attr("private_nodes"),
            payments.attr("private_endpoint_global_access")) == (True, True, True)
    # no credential or CA certificate in the snapshot
    assert "clusterCaCertificate" not in str(prod.raw)
    assert prod.raw["masterAuth"] == {"clientCertificateConfig": {}}
    assert set(prod.raw["nodePools"][0]["config"]["metadata"].values()) == {
        "<redacted by posture>"}
    assert gke.collect(project_scope(gcp_fake, "acme-dev")) == []


def test_older_fields_decide_when_the_new_ones_are_absent() -> None:
    legacy: dict[str, Any] = {"privateClusterConfig": {"enablePrivateNodes": True,
                                                       "enablePrivateEndpoint": True,
                                                       "privateEndpoint": "10.0.0.2"},
                              "masterAuthorizedNetworksConfig": {"enabled": True, "cidrBlocks": [
                                  {"cidrBlock": "10.0.0.0/8"}]}}
    assert {k: v for k, v in gke.endpoint(legacy).items() if k in (
        "public_endpoint_enabled", "private_nodes", "authorized_networks")} == {
        "public_endpoint_enabled": False, "private_nodes": True,
        "authorized_networks": ["10.0.0.0/8"]}
    public = gke.endpoint({"endpoint": "34.1.2.3"})  # no private cluster config: public
    assert (public["public_endpoint_enabled"], public["public_endpoint"]) == (True, "34.1.2.3")
    # the current fields win: public endpoint off although the older ones say nothing
    current = gke.endpoint({"endpoint": "34.1.2.3", "controlPlaneEndpointsConfig": {
        "ipEndpointsConfig": {"enabled": True, "enablePublicEndpoint": False}}})
    assert current["public_endpoint_enabled"] is False


def test_missing_zones_and_refused_listing_are_recorded() -> None:
    with scope_on_fake(overrides={LIST: {"clusters": [], "missingZones": ["us-east1-b"]}}
                       ) as scope:
        assert gke.collect(scope) == []
    assert [(e.region, e.asset_types) for e in scope.errors] == [("us-east1-b", (GKE_CLUSTER,))]
    with scope_on_fake(LIST) as scope:
        assert gke.collect(scope) == []
    assert [(e.operation, e.code) for e in scope.errors] == [
        ("clusters.list", "PERMISSION_DENIED")]


def test_demo_has_one_platform_of_each_kind(gcp_fake: FakeGoogle) -> None:
    inv = collect_fake(gcp_fake.base)
    kinds = {t: len(inv.of(t)) for t in (GKE_CLUSTER, RUN_SERVICE, FUNCTION, BQ_DATASET, SECRET,
                                         AR_REPOSITORY, OS_INVENTORY)}
    assert all(kinds.values()), kinds
    by = {(f.check_id, f.resource_name): f for c in (
        "gcp.kubernetes.control_plane_not_public", "gcp.serverless.not_publicly_invocable")
        for f in run_one(c, inv)}
    assert by[("gcp.kubernetes.control_plane_not_public", "prod-gke")].status == Status.FAIL
    assert by[("gcp.kubernetes.control_plane_not_public", "payments-gke")].status == Status.PASS
    assert by[("gcp.serverless.not_publicly_invocable", "web")].status == Status.FAIL
    internal = by[("gcp.serverless.not_publicly_invocable", "internal-api")]
    assert (internal.status, internal.evidence["state"]) == (Status.FAIL, "latent")
    assert [e.service for e in inv.errors] == ["sqladmin"]  # only the recorded 403


def test_permissions_grow_by_the_listing() -> None:
    assert "container.clusters.list" in all_permissions()
