"""Patch and vulnerability management on GCP: VM Manager coverage (missing, stale, API disabled),
critical/high vulnerabilities against the SLA (graded up when the internet reaches the machine),
recurring patch deployments and their instance filters, registry scanning and the latest images
(the trap: an old image free of known vulnerabilities is still old); each PASS, FAIL and not
collected."""

from __future__ import annotations

from support.gcp import firewall, gcp_error, results, statuses
from support.gcp_platforms import (
    api,
    deployment,
    image,
    inventory,
    report,
    repository,
    vm,
)

from posture.gcp import AR_REPOSITORY, OS_INVENTORY, PATCH_DEPLOYMENT, VULNERABILITY_REPORT
from posture.model import Severity, Status

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
