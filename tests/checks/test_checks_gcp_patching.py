"""Patch and vulnerability management on GCP: VM Manager coverage (missing, stale, API disabled),
critical/high vulnerabilities against the SLA (graded up when the internet reaches the machine),
recurring patch deployments and their instance filters, registry scanning and the latest images
(the trap: an old image free of known vulnerabilities is still old); each PASS, FAIL and not
collected."""

from __future__ import annotations

from support.gcp import firewall, gasset, gcp_error, project, results, statuses
from support.gcp_platforms import (
    api,
    days_ago,
    deployment,
    image,
    inventory,
    report,
    repository,
    vm,
)

from posture.gcp import (
    AR_REPOSITORY,
    OS_INVENTORY,
    PATCH_DEPLOYMENT,
    PATCH_JOB,
    VULNERABILITY_REPORT,
)
from posture.model import Asset, Severity, Status

OSCONFIG = "osconfig.googleapis.com"
REPORTING = "gcp.patching.vm_manager_reporting"


def test_reporting_missing_stale_and_api_disabled() -> None:
    web, old, dark = vm("web"), vm("old"), vm("dark")
    found = results(REPORTING, web, old, dark, vm("stopped", status="TERMINATED"),
                    vm("node", labels={"goog-gke-node": ""}),
                    inventory(web), inventory(old, age_days=20), api(OSCONFIG))
    assert {n: f.status for n, f in found.items()} == {
        "web": Status.PASS, "old": Status.FAIL, "dark": Status.FAIL}
    assert found["old"].message == ("its last OS inventory is 20 days old (> 7): the agent "
                                    "stopped reporting")
    assert found["dark"].message == ("no OS inventory: the OS Config agent is not running, or "
                                     "enable-osconfig is off")
    off = results(REPORTING, dark, api(OSCONFIG, "DISABLED"))
    assert off["dark"].message == ("VM Manager is not enabled on project acme-test (the OS "
                                   "Config API is off)")


def test_reporting_zone_not_listed_is_inconclusive_not_fail() -> None:
    dark = vm("dark")
    gap = gcp_error("osconfig", "inventories.list", (OS_INVENTORY,), region="us-central1-a")
    found = results(REPORTING, dark, errors=(gap,))
    assert found["dark"].status == Status.INCONCLUSIVE
    assert found["dark"].message == "the OS inventories of its zone could not be listed"


SLA = "gcp.patching.vm_vulnerabilities_within_sla"


def test_vulnerabilities_against_the_sla() -> None:
    late, fresh, high, clean = vm("late", external=False), vm("fresh"), vm("high"), vm("clean")
    found = results(SLA, late, fresh, high, clean,
                    report(late, critical=2, critical_days=45),
                    report(fresh, critical=1, critical_days=5),
                    report(high, high=3, high_days=50), report(clean))
    assert {n: (f.status, f.severity) for n, f in found.items()} == {
        "late": (Status.FAIL, Severity.HIGH), "fresh": (Status.PASS, Severity.HIGH),
        "high": (Status.FAIL, Severity.MEDIUM), "clean": (Status.PASS, Severity.HIGH)}
    assert found["late"].message == ("2 critical vulnerabilities (2 with a fix available), the "
                                     "oldest first seen 45 days ago (SLA 15 days)")
    assert found["late"].evidence["top_cves"][0]["cve"] == "CVE-2024-6387"


def test_exposed_machine_past_the_sla_is_critical() -> None:
    web = vm("web")
    found = results(SLA, web, report(web, critical=1, critical_days=30),
                    firewall("https", rules=(("tcp", ("443",)),)))
    assert (found["web"].status, found["web"].severity) == (Status.FAIL, Severity.CRITICAL)
    assert found["web"].message.endswith("and the internet reaches it on tcp/443")


def test_no_report_is_never_clean() -> None:
    seen, dark = vm("seen"), vm("dark")
    found = results(SLA, seen, dark, inventory(seen))
    assert {n: f.status for n, f in found.items()} == {
        "seen": Status.INCONCLUSIVE, "dark": Status.INCONCLUSIVE}
    assert found["seen"].message == ("vulnerabilities unknown: VM Manager has no vulnerability "
                                     "report for it")
    gap = gcp_error("osconfig", "vulnerabilityReports.list", (VULNERABILITY_REPORT,),
                    region="us-central1-a")
    found = results(SLA, dark, errors=(gap,))
    assert "could not be listed" in found["dark"].message


PATCH = "gcp.patching.instance_patch_scheduled"


def test_patch_deployment_filters() -> None:
    web = vm("web-1", labels={"tier": "web"})
    db = vm("db-1", labels={"tier": "db"})
    found = results(PATCH, web, db, deployment("web", group_labels=[{"tier": "web"}],
                                               zones=["us-central1-a"]),
                    deployment("once", recurring=False), deployment("paused", state="PAUSED"),
                    deployment("ended", end_days_ago=10))
    assert {n: f.status for n, f in found.items()} == {"web-1": Status.PASS,
                                                       "db-1": Status.FAIL}
    assert found["web-1"].message == "patched on schedule by web"
    assert found["db-1"].message == ("no active recurring patch deployment targets it "
                                     "(deployments: ended, once, paused, web)")
    # every criterion must hold: the right labels in another zone are not targeted
    other = deployment("west", group_labels=[{"tier": "web"}], zones=["europe-west1-b"])
    assert statuses(PATCH, web, other)["web-1"] == Status.FAIL
    by_name = deployment("names", instances=["us-central1-a/db-1"])
    assert statuses(PATCH, db, by_name)["db-1"] == Status.PASS
    assert statuses(PATCH, db, deployment("all"))["db-1"] == Status.PASS


def test_patching_with_api_disabled_or_listing_failed() -> None:
    db = vm("db-1")
    found = results(PATCH, db, api(OSCONFIG, "DISABLED"))
    assert found["db-1"].message == ("no patch deployment can run: VM Manager is not enabled on "
                                     "project acme-test")
    gap = gcp_error("osconfig", "patchDeployments.list", (PATCH_DEPLOYMENT,))
    found = results(PATCH, db, errors=(gap,))
    assert found["db-1"].status == Status.INCONCLUSIVE


SCANNING = "gcp.patching.registry_scanning_enabled"


def test_registry_scanning() -> None:
    found = results(
        SCANNING, repository("active"), repository("off", scanning="SCANNING_DISABLED"),
        repository("inherits", scanning=None), repository("maven", fmt="MAVEN", scanning=None),
        api("containerscanning.googleapis.com"))
    assert {n: f.status for n, f in found.items()} == {
        "active": Status.PASS, "off": Status.FAIL, "inherits": Status.PASS}
    assert found["inherits"].message == ("the Container Scanning API is enabled: pushed images "
                                         "are scanned")
    found = results(SCANNING, repository("inherits", scanning=None))
    assert found["inherits"].status == Status.INCONCLUSIVE
    found = results(SCANNING, repository("inherits", scanning=None),
                    api("containerscanning.googleapis.com", "DISABLED"))
    assert found["inherits"].status == Status.FAIL


IMAGES = "gcp.patching.image_vulnerabilities_within_sla"


def test_latest_images_against_the_sla() -> None:
    found = results(
        IMAGES,
        repository("late", images=[image("web", critical=3, high=5, age=30)]),
        repository("fresh", images=[image("web", critical=3, age=5)]),
        repository("clean"))
    assert {n: f.status for n, f in found.items()} == {
        "late": Status.FAIL, "fresh": Status.PASS, "clean": Status.PASS}
    assert found["late"].message == (
        "1 latest image(s) carry critical vulnerabilities past the 15-day SLA; the worst, "
        "web@sha256:aaaaaaaaaaaa (3 critical (3 fixable), 5 high, uploaded 30 days ago)")


def test_trap_an_old_image_without_known_vulnerabilities_is_still_old() -> None:
    found = results(IMAGES, repository("old", images=[image("batch", age=400)]))
    f = found["old"]
    assert (f.status, f.severity) == (Status.FAIL, Severity.LOW)
    assert "not rebuilt for over 180 days" in f.message


def test_images_not_scanned_or_not_listed_are_inconclusive() -> None:
    found = results(IMAGES, repository("unscanned", scanning="SCANNING_DISABLED"),
                    repository("unlisted", images=None, latest_images=None),
                    repository("unread", vulnerability_counts_read=False,
                               images=[image("web", critical=None, high=None)]))
    assert {n: f.status for n, f in found.items()} == {
        "unscanned": Status.INCONCLUSIVE, "unlisted": Status.INCONCLUSIVE,
        "unread": Status.INCONCLUSIVE}
    gap = gcp_error("containeranalysis", "occurrences.getVulnerabilitySummary",
                    (f"{AR_REPOSITORY}#vulnerabilities",))
    found = results(IMAGES, repository("clean"), errors=(gap,))
    assert found["clean"].status == Status.INCONCLUSIVE


SCHEDULED = "gcp.patching.patch_deployment_scheduled"
MONTHLY_31 = {"frequency": "MONTHLY", "weekly_day": None, "month_day": 31,
              "max_interval_days": 61}
SECOND_TUESDAY = {"frequency": "MONTHLY", "weekly_day": None, "max_interval_days": 35,
                  "week_day_of_month": {"week_ordinal": 2, "day_of_week": "TUESDAY",
                                        "day_offset": 0}}


def test_project_with_a_recurring_deployment_passes_and_names_the_idle_one() -> None:
    web, db = vm("web-1", labels={"tier": "web"}), vm("db-1", labels={"tier": "db"})
    found = results(SCHEDULED, project(), web, db, vm("node", labels={"goog-gke-node": ""}),
                    deployment("weekly-web", group_labels=[{"tier": "web"}]),
                    deployment("monthly-db", group_labels=[{"tier": "database"}],
                               schedule=SECOND_TUESDAY))
    f = found["acme-test"]
    assert f.status == Status.PASS
    assert f.message == (
        "patched on schedule by weekly-web (WEEKLY on SUNDAY: 1 of 2 running instance(s)); "
        "monthly-db patches nothing: its instance filter (labels tier=database) matches none "
        "of the running instances")
    assert f.evidence["deployments"] == [
        {"name": "monthly-db", "targets": 0, "verdict": "idle"},
        {"name": "weekly-web", "targets": 1, "verdict": "ok"}]


def test_trap_a_label_no_instance_carries_and_a_one_time_deployment_patch_nothing() -> None:
    found = results(SCHEDULED, project(), vm("db-1", labels={"tier": "db"}), vm("app-1"),
                    deployment("monthly-db", group_labels=[{"tier": "database"}],
                               schedule=SECOND_TUESDAY),
                    deployment("one-off", recurring=False),
                    deployment("paused", state="PAUSED"), deployment("ended", end_days_ago=3))
    f = found["acme-test"]
    assert (f.status, f.severity) == (Status.FAIL, Severity.MEDIUM)
    assert f.message == (
        "2 running instance(s) and no active recurring patch deployment patches them often "
        f"enough: ended ended on {days_ago(3)}; monthly-db "
        "patches nothing: its instance filter (labels tier=database) matches none of the "
        "running instances; one-off is a one-time deployment (not recurring); paused is paused")


def test_a_schedule_longer_than_the_limit_fails() -> None:
    found = results(SCHEDULED, project(), vm("app-1"),
                    deployment("monthly-31", schedule=MONTHLY_31))
    assert found["acme-test"].message == (
        "1 running instance(s) and no active recurring patch deployment patches them often "
        "enough: monthly-31 runs MONTHLY on day 31: up to 61 days between runs (> 35)")
    # the 2nd Tuesday passes the default limit, not a weekly policy
    tuesday = deployment("patch-tuesday", schedule=SECOND_TUESDAY)
    assert statuses(SCHEDULED, project(), vm("app-1"), tuesday)["acme-test"] == Status.PASS
    found = results(SCHEDULED, project(), vm("app-1"), tuesday, max_interval_days=7)
    assert found["acme-test"].message.endswith(
        "patch-tuesday runs MONTHLY on the 2nd TUESDAY: up to 35 days between runs (> 7)")


def test_project_without_deployment_api_off_or_not_listed() -> None:
    found = results(SCHEDULED, project(), vm("app-1"), vm("stopped", status="TERMINATED"),
                    project("acme-empty"))
    assert set(found) == {"acme-test"}  # a project without running instances is not judged
    assert found["acme-test"].message == (
        "1 running instance(s) and no active recurring patch deployment patches them often "
        "enough: no patch deployment")
    found = results(SCHEDULED, project(), vm("app-1"), api(OSCONFIG, "DISABLED"))
    assert found["acme-test"].message == ("1 running instance(s) and no patch deployment can "
                                          "run: VM Manager is not enabled on project acme-test")
    gap = gcp_error("osconfig", "patchDeployments.list", (PATCH_DEPLOYMENT,))
    found = results(SCHEDULED, project(), vm("app-1"), errors=(gap,))
    assert found["acme-test"].status == Status.INCONCLUSIVE
    assert found["acme-test"].message == ("the patch deployments of project acme-test could "
                                          "not be listed")
    # a schedule the collector could not read is not judged either way
    odd = deployment("odd", schedule={"frequency": "MONTHLY", "max_interval_days": None})
    found = results(SCHEDULED, project(), vm("app-1"), odd)
    assert found["acme-test"].status == Status.INCONCLUSIVE


JOBS = "gcp.patching.patch_jobs_succeed"


def job(deployment_id: str | None, days: int, state: str = "SUCCEEDED", *,
        job_id: str | None = None, **counts: int) -> Asset:
    """A patch job ``days`` old; ``counts``: instance counts (``succeeded_count=3``)."""
    job_id = job_id or f"{deployment_id}-{days}"
    every = {"succeeded_count": 0, "reboot_required_count": 0, "failed_count": 0,
             "timed_out_count": 0, "no_agent_count": 0, "inactive_count": 0,
             "skipped_count": 0, **counts}
    return gasset(PATCH_JOB, f"//osconfig.googleapis.com/projects/123456789/patchJobs/{job_id}",
                  job_id=job_id, deployment=deployment_id, state=state,
                  create_time=days_ago(days), percent_complete=100, dry_run=False,
                  instance_count=sum(every.values()), **every)


def test_latest_job_of_each_recurring_deployment() -> None:
    found = results(
        JOBS, deployment("good"), deployment("bad"), deployment("once", recurring=False),
        job("good", 3, succeeded_count=4, inactive_count=1),
        job("good", 10, "COMPLETED_WITH_ERRORS", failed_count=2),  # older: fixed since
        job("bad", 3, "COMPLETED_WITH_ERRORS", succeeded_count=5, failed_count=1,
            no_agent_count=1),
        job("bad", 10, succeeded_count=7), job("once", 700, "TIMED_OUT", timed_out_count=3),
        job(None, 1, "TIMED_OUT", timed_out_count=3))  # run by hand: not a deployment's
    assert {n: f.status for n, f in found.items()} == {"good": Status.PASS, "bad": Status.FAIL}
    assert found["good"].message == ("its latest patch job (3 days ago) ended SUCCEEDED: 4 of 5 "
                                     "instance(s) patched, 1 stopped instance(s) skipped")
    assert found["bad"].message == ("its latest patch job (3 days ago) ended "
                                    "COMPLETED_WITH_ERRORS: 1 failed, 1 without an agent of 7 "
                                    "instance(s)")
    assert (found["bad"].evidence["failed_count"], found["bad"].evidence["job"]) == (1, "bad-3")


def test_trap_a_running_job_does_not_hide_the_failure_before_it() -> None:
    found = results(JOBS, deployment("web"), job("web", 0, "PATCHING", succeeded_count=1),
                    job("web", 7, "TIMED_OUT", timed_out_count=2, succeeded_count=1))
    assert found["web"].status == Status.FAIL
    assert found["web"].message == ("its latest patch job (7 days ago) ended TIMED_OUT: 2 timed "
                                     "out of 3 instance(s) (a newer job is still running)")
    canceled = results(JOBS, deployment("web"), job("web", 2, "CANCELED"))
    assert canceled["web"].message == "its latest patch job (2 days ago) ended CANCELED"
    nothing = results(JOBS, deployment("web"), job("web", 2))
    assert nothing["web"].status == Status.PASS
    assert nothing["web"].message.endswith("on no instance: its filter matched none")


def test_jobs_not_listed_not_run_or_still_running_are_inconclusive() -> None:
    gap = gcp_error("osconfig", "patchJobs.list", (PATCH_JOB,))
    found = results(JOBS, deployment("web"), errors=(gap,))
    assert found["web"].message == "the patch jobs of its project could not be listed"
    found = results(JOBS, deployment("new"), deployment("first"), job("first", 0, "STARTED"))
    assert {n: (f.status, f.message) for n, f in found.items()} == {
        "new": (Status.INCONCLUSIVE, "no patch job of it was found: it has not run yet"),
        "first": (Status.INCONCLUSIVE, "its first patch job is still running")}
