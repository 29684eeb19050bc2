"""Workload identity pools and providers read with the real IAM discovery client from the loopback
fake (providers over two pages); a denied provider listing recorded against its pool and the
check INCONCLUSIVE there; the permissions grow by the two listings."""

from __future__ import annotations

from support.checks import run_one
from support.gcp_collect import collect_denied, collected_by_name, project_scope

from posture.collectors.gcp import wif
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.model import Status

POOL = "projects/111111111111/locations/global/workloadIdentityPools/github"


def test_pools_and_providers(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, wif)
    assert set(found) == {"github", "github-any", "github-prod"}
    assert found["github"].attr("provider_ids") == ["github-any", "github-prod"]
    prod = found["github-prod"]
    assert (prod.uid, prod.type) == (f"//iam.googleapis.com/{POOL}/providers/github-prod",
                                     wif.PROVIDER)
    assert prod.attr("issuer_uri") == "https://token.actions.githubusercontent.com"
    assert prod.attr("attribute_condition") == (
        "assertion.repository == 'acme/payments-api' && assertion.environment == 'production'")
    assert prod.attr("pool_name") == POOL and found["github-any"].attr("attribute_condition") \
        is None
    assert wif.collect(project_scope(gcp_fake, "acme-dev")) == []


def test_denied_providers_recorded_and_inconclusive() -> None:
    inv = collect_denied(f"GET /v1/{POOL}/providers")
    assert [(e.operation, e.asset_types, e.resource_uid) for e in inv.errors] == [
        ("workloadIdentityPools.providers.list", (wif.PROVIDER,), f"//iam.googleapis.com/{POOL}")]
    assert inv.get(f"//iam.googleapis.com/{POOL}").attr("provider_ids") is None  # type: ignore[union-attr]
    findings = run_one("gcp.cicd.github_workload_identity_restricted", inv)
    assert [f.status for f in findings] == [Status.INCONCLUSIVE]


def test_permissions_grow_by_the_listings() -> None:
    assert {"iam.workloadIdentityPools.list", "iam.workloadIdentityPoolProviders.list"} <= set(
        all_permissions())
