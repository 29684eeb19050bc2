"""Cloud Run services read with the real discovery clients from the loopback fake: regions from
the v1 listing on the global endpoint, services from v2, each IAM policy; environment values
scanned and never kept; a refused policy read is recorded against the service and the invocation
check is INCONCLUSIVE there."""

from __future__ import annotations

from support.checks import run_one
from support.gcp import ginventory
from support.gcp_collect import collected_by_name, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import run
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import RUN_SERVICE
from posture.model import Status

SERVICES = "/v2/projects/acme-prod/locations/us-central1/services"


def test_services_ingress_invokers_and_environment(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, run)
    assert set(found) == {"web", "internal-api", "orders", "thumbnailer"}
    assert {n: a.attr("ingress") for n, a in found.items()} == {
        "web": "INGRESS_TRAFFIC_ALL", "internal-api": "INGRESS_TRAFFIC_INTERNAL_ONLY",
        "orders": "INGRESS_TRAFFIC_ALL", "thumbnailer": "INGRESS_TRAFFIC_ALL"}
    assert found["web"].attr("iam_bindings") == [
        {"role": "roles/run.invoker", "members": ["allUsers"], "condition": None}]
    orders = found["orders"]
    assert (orders.attr("runtime"), orders.attr("region")) == ("nodejs18", "us-central1")
    assert [h["key"] for h in orders.attr("env_secrets")] == ["DATABASE_URL"]
    assert "Sup3rS3cret" not in str(orders.raw) and "Sup3rS3cret" not in str(orders.attrs)
    assert found["internal-api"].attr("secret_env_names") == ["DB_PASSWORD"]
    assert found["thumbnailer"].attr("managed_by") == "cloudfunctions"
    assert gcp_fake.paths(SERVICES) and run.collect(project_scope(gcp_fake, "acme-dev")) == []


def test_runtime_from_base_image() -> None:
    base = "us-central1-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/nodejs22"
    assert run.runtime_of(base) == "nodejs22"
    assert run.runtime_of(base + ":latest") == "nodejs22"
    assert run.runtime_of("us-docker.pkg.dev/p/r/web@sha256:00") is None


def test_refused_policy_is_recorded_against_the_service() -> None:
    with scope_on_fake(f"GET {SERVICES}/web:getIamPolicy") as scope:
        found = {a.name: a for a in run.collect(scope)}
    [error] = scope.errors
    assert (error.operation, error.asset_types, error.resource_uid, error.region) == (
        "services.getIamPolicy", (f"{RUN_SERVICE}#iam_policy",), found["web"].uid,
        "us-central1")
    assert found["web"].attr("iam_bindings") is None
    inv = ginventory(*found.values(), errors=(error,))
    by = {f.resource_name: f.status for f in run_one("gcp.serverless.not_publicly_invocable",
                                                     inv)}
    assert by["web"] == Status.INCONCLUSIVE and by["orders"] == Status.PASS


def test_refused_region_listing() -> None:
    with scope_on_fake(f"GET {SERVICES}") as scope:
        assert run.collect(scope) == []
    assert [(e.operation, e.region) for e in scope.errors] == [("services.list", "us-central1")]


def test_permissions_grow_by_the_listings() -> None:
    assert {"run.services.list", "run.services.getIamPolicy"} <= set(all_permissions())
