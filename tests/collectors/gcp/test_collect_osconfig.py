"""VM Manager and Service Usage read with the real discovery clients from the loopback fake:
inventories per zone (two pages), vulnerability reports summarised (never copied), patch
deployments and their schedules, patch jobs (two pages, the latest of each deployment); a
project where the OS Config API is disabled is an answer, not an error; a refused zone or job
listing is recorded and the patching checks are INCONCLUSIVE there."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Callable

from support.checks import run_one
from support.gcp_collect import collect_denied, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import osconfig, serviceusage
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import (
    OS_INVENTORY,
    PATCH_DEPLOYMENT,
    PATCH_JOB,
    SERVICE_USAGE,
    VULNERABILITY_REPORT,
)
from posture.model import Asset, CollectionError, Finding, Status

WEB = "//compute.googleapis.com/projects/acme-prod/zones/us-central1-a/instances/web-1"


def test_inventories_reports_and_deployments(gcp_fake: FakeGoogle) -> None:
    scope = project_scope(gcp_fake, "acme-prod")
    found = osconfig.collect(scope)
    assert scope.errors == []
    by = {(a.type, a.name): a for a in found}
    assert {n for t, n in by if t == OS_INVENTORY} == {"web-1", "app-1", "db-1", "worker-1"}
    assert {n for t, n in by if t == VULNERABILITY_REPORT} == {"web-1", "app-1", "db-1",
                                                                "worker-1"}
    assert {n for t, n in by if t == PATCH_DEPLOYMENT} == {"weekly-web", "one-off-2023",
                                                           "monthly-db"}
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
    assert (weekly.attr("weekly_day"), weekly.attr("max_interval_days")) == ("SUNDAY", 7)
    once = by[(PATCH_DEPLOYMENT, "one-off-2023")]
    assert (once.attr("recurring"), once.attr("max_interval_days")) == (False, None)
    monthly = by[(PATCH_DEPLOYMENT, "monthly-db")]
    assert monthly.attr("week_day_of_month") == {"week_ordinal": 2, "day_of_week": "TUESDAY",
                                                 "day_offset": 0}
    assert monthly.attr("max_interval_days") == 35
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


def _refused(call: str, check_id: str) -> tuple[list[Asset], list[CollectionError],
                                                dict[str, Finding]]:
    """``osconfig.collect`` of acme-prod on a fake refusing ``call`` (assets, errors), and
    ``check_id``'s findings by name on a whole collection refused the same call."""
    with scope_on_fake(call) as scope:
        found = osconfig.collect(scope)
    by = {f.resource_name: f for f in run_one(check_id, collect_denied(call))}
    return found, scope.errors, by


def test_refused_zone_is_recorded_there_and_inconclusive() -> None:
    found, errors, by = _refused(
        "GET /v1/projects/acme-prod/locations/us-central1-a/instances/-/inventories",
        "gcp.patching.vm_manager_reporting")
    assert [(e.operation, e.region, e.asset_types) for e in errors] == [
        ("inventories.list", "us-central1-a", (OS_INVENTORY,))]
    assert {a.name for a in found if a.type == OS_INVENTORY} == {"db-1", "worker-1"}
    assert by["web-1"].status == Status.INCONCLUSIVE  # never FAIL on a zone not read
    assert by["db-1"].status == Status.PASS


def test_refused_instance_listing_and_service_read() -> None:
    with scope_on_fake("GET /compute/v1/projects/acme-prod/aggregated/instances",
                       "GET /v1/projects/acme-prod/services/osconfig.googleapis.com") as scope:
        found = osconfig.collect(scope)
        states = {a.name: a.attr("state") for a in serviceusage.collect(scope)}
    assert {a.type for a in found} == {PATCH_DEPLOYMENT, PATCH_JOB}
    assert states["osconfig.googleapis.com"] is None
    assert {(e.operation, e.asset_types) for e in scope.errors} == {
        ("instances.aggregatedList", (OS_INVENTORY, VULNERABILITY_REPORT)),
        ("services.get", (SERVICE_USAGE,))}


def test_permissions_grow_by_the_listings() -> None:
    assert {"osconfig.inventories.list", "osconfig.vulnerabilityReports.list",
            "osconfig.patchDeployments.list", "osconfig.patchJobs.list",
            "serviceusage.services.get"} <= set(all_permissions())


def test_patch_jobs_across_pages_with_their_counts(gcp_fake: FakeGoogle) -> None:
    jobs = {a.attr("job_id")[:13]: a for a in osconfig.collect(project_scope(gcp_fake,
                                                                             "acme-prod"))
            if a.type == PATCH_JOB}
    assert {j: (a.attr("deployment"), a.attr("state")) for j, a in jobs.items()} == {
        "7c1a2b3d-0001": ("weekly-web", "SUCCEEDED"),
        "7c1a2b3d-0002": ("weekly-web", "SUCCEEDED"),  # page two
        "7c1a2b3d-0003": ("weekly-web", "TIMED_OUT"),
        "7c1a2b3d-0004": (None, "COMPLETED_WITH_ERRORS"),  # run by hand
        "7c1a2b3d-0005": ("monthly-db", "SUCCEEDED"),
        "7c1a2b3d-0006": ("one-off-2023", "SUCCEEDED")}
    by_hand = jobs["7c1a2b3d-0004"]
    assert (by_hand.name, by_hand.attr("display_name")) == (
        "7c1a2b3d-0004-4e5f-8a9b-000000000030", "emergency-openssh-fix")
    # int64 counts arrive as JSON strings; instance_count sums every count
    assert {k: by_hand.attr(k) for k in ("succeeded_count", "failed_count", "no_agent_count",
                                         "timed_out_count", "instance_count")} == {
        "succeeded_count": 5, "failed_count": 1, "no_agent_count": 1, "timed_out_count": 0,
        "instance_count": 7}
    assert jobs["7c1a2b3d-0005"].attr("instance_count") == 0  # its filter matched no instance
    assert gcp_fake.paths("/v1/projects/acme-prod/patchJobs").count(
        "/v1/projects/acme-prod/patchJobs") >= 2


def test_only_the_latest_jobs_of_each_deployment_are_kept() -> None:
    jobs = [{"name": f"projects/1/patchJobs/j{i:02d}", "createTime": f"2025-01-{i:02d}T00:00:00Z",
             "patchDeployment": "projects/1/patchDeployments/daily" if i % 2 else None}
            for i in range(1, 21)]
    kept = [j["name"].rsplit("/", 1)[1] for j in osconfig.recent_jobs(jobs)]
    assert kept == ["j19", "j17", "j15", "j13", "j11", "j20", "j18", "j16", "j14", "j12"]


def _longest_gap(run_day: Callable[[int, int], int | None]) -> int:
    """The longest gap between monthly runs over 2024-2031, ``run_day(year, month)`` being the
    day of the month's run (None: that month is skipped)."""
    runs = [dt.date(y, m, day) for y in range(2024, 2032) for m in range(1, 13)
            if (day := run_day(y, m)) is not None]
    return max((b - a).days for a, b in itertools.pairwise(runs))


def _on_day(month_day: int) -> Callable[[int, int], int | None]:
    """Every month on day N (-1: the last day), months without day N skipped."""
    def run_day(year: int, month: int) -> int | None:
        last = calendar.monthrange(year, month)[1]
        day = last if month_day == -1 else month_day
        return day if day <= last else None
    return run_day


def _on_tuesday(ordinal: int) -> Callable[[int, int], int | None]:
    """Every month on the Nth Tuesday (-1: the last)."""
    def run_day(year: int, month: int) -> int | None:
        tuesdays = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
                    if dt.date(year, month, d).weekday() == calendar.TUESDAY]
        return tuesdays[ordinal if ordinal < 0 else ordinal - 1]
    return run_day


def test_max_interval_days_agrees_with_the_calendar() -> None:
    for day in [*range(1, 32), -1]:
        schedule = {"frequency": "MONTHLY", "monthly": {"monthDay": day}}
        assert osconfig.max_interval_days(schedule) == _longest_gap(_on_day(day)), day
    for ordinal in (1, 2, 3, 4, -1):
        schedule = {"frequency": "MONTHLY", "monthly": {"weekDayOfMonth": {
            "weekOrdinal": ordinal, "dayOfWeek": "TUESDAY"}}}
        assert osconfig.max_interval_days(schedule) == _longest_gap(_on_tuesday(ordinal)), ordinal
    assert osconfig.max_interval_days({"frequency": "DAILY"}) == 1
    assert osconfig.max_interval_days({"frequency": "MONTHLY"}) is None


def test_refused_job_listing_is_recorded_and_inconclusive() -> None:
    found, errors, by = _refused("GET /v1/projects/acme-prod/patchJobs",
                                 "gcp.patching.patch_jobs_succeed")
    assert [(e.operation, e.code, e.asset_types) for e in errors] == [
        ("patchJobs.list", "PERMISSION_DENIED", (PATCH_JOB,))]
    assert PATCH_JOB not in {a.type for a in found}
    assert {n: f.status for n, f in by.items()} == {  # and the engine's scope finding
        "weekly-web": Status.INCONCLUSIVE, "monthly-db": Status.INCONCLUSIVE,
        "osconfig:patchJobs.list": Status.INCONCLUSIVE}
    assert by["weekly-web"].message == "the patch jobs of its project could not be listed"


def test_patching_checks_on_the_recorded_projects(gcp_fake: FakeGoogle) -> None:
    from support.gcp_collect import collect_fake

    inv = collect_fake(gcp_fake.base)
    scheduled = {f.resource_name: f for f in run_one(
        "gcp.patching.patch_deployment_scheduled", inv)}
    assert {n: f.status for n, f in scheduled.items()} == {"acme-prod": Status.PASS,
                                                           "acme-dev": Status.FAIL}
    assert scheduled["acme-prod"].message == (
        "patched on schedule by weekly-web (WEEKLY on SUNDAY: 1 of 8 running instance(s)); "
        "monthly-db patches nothing: its instance filter (labels tier=database) matches none "
        "of the running instances")
    assert "VM Manager is not enabled on project acme-dev" in scheduled["acme-dev"].message
    jobs = {f.resource_name: f for f in run_one("gcp.patching.patch_jobs_succeed", inv)}
    assert {n: f.status for n, f in jobs.items()} == {"weekly-web": Status.FAIL,
                                                      "monthly-db": Status.PASS}
    assert jobs["weekly-web"].message == ("its latest patch job (3 days ago) ended TIMED_OUT: "
                                          "1 timed out of 1 instance(s)")
