"""VM Manager and Service Usage read with the real discovery clients from the loopback fake:
inventories per zone (two pages), vulnerability reports summarised (never copied), patch
deployments; a project where the OS Config API is disabled is an answer, not an error; a refused
zone listing is recorded against that zone and the patching checks are INCONCLUSIVE there."""

from __future__ import annotations

from support.checks import run_one
from support.gcp_collect import collect_denied, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import osconfig, serviceusage
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import OS_INVENTORY, PATCH_DEPLOYMENT, SERVICE_USAGE, VULNERABILITY_REPORT
from posture.model import Status

WEB = "//compute.googleapis.com/projects/acme-prod/zones/us-central1-a/instances/web-1"


def test_inventories_reports_and_deployments(gcp_fake: FakeGoogle) -> None:
    scope = project_scope(gcp_fake, "acme-prod")
    found = osconfig.collect(scope)
    assert scope.errors == []
    by = {(a.type, a.name): a for a in found}
    assert {n for t, n in by if t == OS_INVENTORY} == {"web-1", "app-1", "db-1", "worker-1"}
    assert {n for t, n in by if t == VULNERABILITY_REPORT} == {"web-1", "app-1", "db-1",
                                                                "worker-1"}
    assert {n for t, n in by if t == PATCH_DEPLOYMENT} == {"weekly-web", "one-off-2023"}
    inv = by[(OS_INVENTORY, "web-1")]
    assert (inv.attr("instance"), inv.region, inv.attr("os_short_name")) == (WEB, "us-central1-a",
                                                                            "debian")
    web = by[(VULNERABILITY_REPORT, "web-1")]
    assert (web.attr("critical_count"), web.attr("critical_fixable"), web.attr("high_count"),
            web.attr("vulnerability_count")) == (2, 1, 2, 5)
    assert web.attr("top_cves")[0]["cve"] == "CVE-2024-6387"  # critical, oldest first
    assert "vulnerabilities" not in web.raw  # a summary, not the list
    # the distribution's "Important" is high
    assert by[(VULNERABILITY_REPORT, "db-1")].attr("high_count") == 1
    weekly = by[(PATCH_DEPLOYMENT, "weekly-web")]
    assert weekly.attr("instance_filter")["group_labels"] == [{"tier": "web"}]
    assert (weekly.attr("recurring"), weekly.attr("frequency")) == (True, "WEEKLY")
    assert by[(PATCH_DEPLOYMENT, "one-off-2023")].attr("recurring") is False
    assert {p for p in gcp_fake.paths("/v1/projects/acme-prod/locations/")
            if p.endswith("/inventories")} == {
        f"/v1/projects/acme-prod/locations/{z}/instances/-/inventories"
        for z in ("us-central1-a", "us-central1-b", "us-east1-b")}


def test_disabled_api_is_an_answer(gcp_fake: FakeGoogle) -> None:
    scope = project_scope(gcp_fake, "acme-dev")
    assert osconfig.collect(scope) == [] and scope.errors == []
    states = {a.name: a.attr("state") for a in serviceusage.collect(scope)}
    assert states == {"osconfig.googleapis.com": "DISABLED",
                      "containerscanning.googleapis.com": "DISABLED"}


def test_refused_zone_is_recorded_there_and_inconclusive() -> None:
    call = "GET /v1/projects/acme-prod/locations/us-central1-a/instances/-/inventories"
    with scope_on_fake(call) as scope:
        found = osconfig.collect(scope)
    assert [(e.operation, e.region, e.asset_types) for e in scope.errors] == [
        ("inventories.list", "us-central1-a", (OS_INVENTORY,))]
    assert {a.name for a in found if a.type == OS_INVENTORY} == {"db-1", "worker-1"}
    inv = collect_denied(call)
    by = {f.resource_name: f for f in run_one("gcp.patching.vm_manager_reporting", inv)}
    assert by["web-1"].status == Status.INCONCLUSIVE  # never FAIL on a zone not read
    assert by["db-1"].status == Status.PASS


def test_refused_instance_listing_and_service_read() -> None:
    with scope_on_fake("GET /compute/v1/projects/acme-prod/aggregated/instances",
                       "GET /v1/projects/acme-prod/services/osconfig.googleapis.com") as scope:
        found = osconfig.collect(scope)
        states = {a.name: a.attr("state") for a in serviceusage.collect(scope)}
    assert {a.type for a in found} == {PATCH_DEPLOYMENT}
    assert states["osconfig.googleapis.com"] is None
    assert {(e.operation, e.asset_types) for e in scope.errors} == {
        ("instances.aggregatedList", (OS_INVENTORY, VULNERABILITY_REPORT)),
        ("services.get", (SERVICE_USAGE,))}


def test_permissions_grow_by_the_listings() -> None:
    assert {"osconfig.inventories.list", "osconfig.vulnerabilityReports.list",
            "osconfig.patchDeployments.list", "serviceusage.services.get"} <= set(
        all_permissions())
