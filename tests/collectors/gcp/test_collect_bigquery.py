"""BigQuery datasets read with the real discovery client (``bigquery/v2/`` under the endpoint)
from the loopback fake: each dataset read in full for its access entries and default key; a
refused ``datasets.get`` leaves that dataset's access unknown, recorded against it."""

from __future__ import annotations

from support.gcp_collect import collected_by_name, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import bigquery
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import BQ_DATASET


def test_datasets_access_and_keys(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, bigquery)
    analytics, finance = found["analytics"], found["finance"]
    assert (analytics.uid, analytics.region, analytics.attr("cmek")) == (
        "//bigquery.googleapis.com/projects/acme-prod/datasets/analytics", "us", False)
    assert {"role": "READER", "member": "allAuthenticatedUsers", "condition": None} in (
        analytics.attr("access"))
    assert {"role": "OWNER", "member": "user:alice@acme.example", "condition": None} in (
        analytics.attr("access"))
    assert (finance.region, finance.attr("default_kms_key")) == (
        "us-central1",
        "projects/acme-prod/locations/us-central1/keyRings/prod-ring/cryptoKeys/data-90d")
    [sandbox] = bigquery.collect(project_scope(gcp_fake, "acme-dev"))
    assert {"role": "WRITER", "member": "allUsers", "condition": None} in sandbox.attr("access")
    assert "/bigquery/v2/projects/acme-prod/datasets/finance" in gcp_fake.paths("/bigquery/")


def test_access_entry_members() -> None:
    assert [bigquery.member_of(e) for e in (
        {"groupByEmail": "g@acme.example"}, {"domain": "acme.example"},
        {"specialGroup": "projectReaders"}, {"iamMember": "allUsers"},
        {"view": {"projectId": "p", "datasetId": "d", "tableId": "v"}},
        {"dataset": {"dataset": {"projectId": "p", "datasetId": "shared"}}})] == [
        "group:g@acme.example", "domain:acme.example", "projectReaders", "allUsers",
        "view:p.d.v", "dataset:p.shared"]


def test_refused_get_is_recorded_against_the_dataset() -> None:
    with scope_on_fake("GET /bigquery/v2/projects/acme-prod/datasets/analytics") as scope:
        found = {a.name: a for a in bigquery.collect(scope)}
    [error] = scope.errors
    assert (error.asset_types, error.resource_uid, error.region) == (
        (f"{BQ_DATASET}#details",), found["analytics"].uid, "us")
    assert (found["analytics"].attr("access"), found["analytics"].attr("cmek")) == (None, None)
    assert found["finance"].attr("cmek") is True


def test_permissions() -> None:
    assert "bigquery.datasets.get" in all_permissions()
