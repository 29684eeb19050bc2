"""Patch and vulnerability management on Azure from Defender for Cloud: plans per subscription
(graded by what they would cover), coverage and SLA compliance of machines, registry images and
SQL databases, with their findings (sub-assessments) counted per severity. Ages are measured
from the test scans' finish time, 2026-01-01."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support.azure import DEV, az, error, inventory
from support.azure_platforms import (
    ASSESSMENTS,
    PRICINGS,
    VM,
    assessed,
    cluster,
    plan,
    pricing,
    registry,
    topic,
    uid_of,
    vm,
)
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

SERVERS = "azure.patching.defender_for_servers_enabled"
CONTAINERS = "azure.patching.defender_for_containers_enabled"
PLANS = "azure.patching.defender_plans_enabled"
ASSESSED = "azure.patching.machines_assessed_for_updates"
UPDATES = "azure.patching.machines_system_updates_installed"
VULNS = "azure.patching.machines_vulnerabilities_resolved"
IMAGES = "azure.patching.registry_images_vulnerabilities_resolved"
SQL = "azure.patching.sql_vulnerabilities_resolved"
SQL_SERVER = "Microsoft.Sql/servers"
SUB_ASSESSMENTS = "Microsoft.Security/assessments/subAssessments"
OTHERS = ("SqlServers", "SqlServerVirtualMachines", "OpenSourceRelationalDatabases",
          "CosmosDbs", "StorageAccounts", "AppServices", "KeyVaults", "Arm")
OLD, RECENT = "2025-11-01T00:00:00+00:00", "2025-12-20T00:00:00+00:00"  # 61 and 12 days


def _one(check_id: str, *assets: Any, **params: Any) -> tuple[Status, Severity, str]:
    found = only(run_one(check_id, inventory(*assets), **params))
    return found.status, found.severity, found.message


def test_defender_for_servers_graded_by_the_machines_it_would_cover() -> None:
    assert _one(SERVERS, pricing(VirtualMachines=plan(sub_plan="P2")), vm("a")) == (
        Status.PASS, Severity.HIGH, "Defender for Servers is on (plan P2)")
    assert _one(SERVERS, pricing(VirtualMachines=plan("Free")), vm("a"), vm("b")) == (
        Status.FAIL, Severity.HIGH, "Defender for Servers is off (Free tier), with 2 "
        "resource(s) it would cover in the subscription")
    # a VM of another subscription does not count; none here: LOW, a gap for the next one
    other = replace(vm("elsewhere"), account=DEV)
    status, severity, message = _one(SERVERS, pricing(VirtualMachines=plan("Free")), other)
    assert (status, severity) == (Status.FAIL, Severity.LOW)
    assert message.endswith("no resource it covers is collected in the subscription today, new "
                            "ones would be unprotected")
    assert _one(SERVERS, pricing())[0:2] == (Status.INCONCLUSIVE, Severity.HIGH)


def test_defender_for_containers_needs_its_image_scanning_component() -> None:
    on = plan(ContainerRegistriesVulnerabilityAssessments=True)
    assert _one(CONTAINERS, pricing(Containers=on), registry())[0] == Status.PASS
    # trap: the plan is on, its registry image scanning component is off
    off = plan(ContainerRegistriesVulnerabilityAssessments=False)
    assert _one(CONTAINERS, pricing(Containers=off), registry(), cluster()) == (
        Status.FAIL, Severity.HIGH, "Defender for Containers is on but registry image scanning "
        "(ContainerRegistriesVulnerabilityAssessments) is off, with 2 resource(s) it would cover "
        "in the subscription")
    assert _one(CONTAINERS, pricing(Containers=plan("Free")))[0:2] == (Status.FAIL, Severity.LOW)


def test_defender_data_plans() -> None:
    every = {p: plan() for p in OTHERS}
    assert _one(PLANS, pricing(**every))[0] == Status.PASS
    status, _, message = _one(PLANS, pricing(**{**every, "KeyVaults": plan("Free"),
                                                "CosmosDbs": plan("Free")}))
    assert (status, message) == (Status.FAIL, "2 of 8 plans are off (Free tier): Defender for "
                                 "Azure Cosmos DB, Defender for Key Vault")
    missing = dict(every)
    del missing["Arm"]
    assert _one(PLANS, pricing(**missing))[::2] == (Status.INCONCLUSIVE,
                                                    "plan(s) not reported: Arm")
    # a narrower policy
    assert _one(PLANS, pricing(Arm=plan()), plans=("Arm",))[0] == Status.PASS


def test_pricings_not_collected_are_inconclusive() -> None:
    gap = error("security", "Pricings_List", (PRICINGS,))
    for check_id in (SERVERS, CONTAINERS, PLANS):
        found = run_one(check_id, inventory(vm("a"), errors=(gap,)))
        assert {f.status for f in found} == {Status.INCONCLUSIVE}, check_id


def test_machines_assessed_for_updates() -> None:
    web, app, db, old = vm("web"), vm("app"), vm("db"), vm("old")
    found = by_uid(run_one(ASSESSED, inventory(
        web, assessed(web, system_updates=topic("Unhealthy", OLD)),
        app, assessed(app, system_updates=topic()),
        db, assessed(db, system_updates=topic("NotApplicable", cause="VmDeallocated")),
        old, assessed(old, machine_vulnerabilities=topic()))))
    assert {u.rsplit("/", 1)[-1]: f.status for u, f in found.items()} == {
        "web": Status.PASS, "app": Status.PASS, "db": Status.INCONCLUSIVE, "old": Status.FAIL}
    assert found[old.uid].message == ("Defender for Cloud reports no system-update assessment: "
                                      "nothing shows whether the machine is patched")
    assert found[db.uid].message == ("the system-update assessment is NotApplicable "
                                     "(VmDeallocated): not assessed now")


@pytest.mark.parametrize(("found", "status", "message"), [
    (topic("Unhealthy", OLD), Status.FAIL, "missing system updates for 61 days (since "
     "2025-11-01), past the 30-day SLA: Defender for Cloud's 'System updates should be installed "
     "on your machines (powered by Azure Update Manager)' is unhealthy"),
    # trap: missing updates, but within the SLA: not (yet) a finding
    (topic("Unhealthy", RECENT), Status.PASS, "missing system updates for 12 days (since "
     "2025-12-20), within the 30-day SLA"),
    (topic(), Status.PASS, "Defender for Cloud finds no missing system updates ('System "
     "updates should be installed on your machines (powered by Azure Update Manager)' is "
     "healthy)"),
    (topic("Unhealthy"), Status.INCONCLUSIVE, "Defender for Cloud reports missing system "
     "updates ('System updates should be installed on your machines (powered by Azure Update "
     "Manager)' is unhealthy) since a date it does not give"),
    (None, Status.INCONCLUSIVE, "Defender for Cloud reports no system-update assessment for it"),
])
def test_system_updates_against_the_sla(found: Any, status: Status, message: str) -> None:
    web = vm("web")
    assets = [web] + ([assessed(web, system_updates=found)] if found else [])
    assert _one(UPDATES, *assets)[::2] == (status, message)


def test_sla_is_a_parameter_and_counts_are_reported() -> None:
    web = vm("web")
    summary = assessed(web, system_updates=topic("Unhealthy", OLD, unhealthy=3))
    status, _, message = _one(UPDATES, web, summary, sla_days=90)
    assert (status, message) == (Status.PASS, "missing system updates (3 unhealthy) for 61 days "
                                 "(since 2025-11-01), within the 90-day SLA")


def test_machine_vulnerabilities() -> None:
    web, app, db = vm("web"), vm("app"), vm("db")
    found = by_uid(run_one(VULNS, inventory(
        web, assessed(web, machine_vulnerabilities=topic("Unhealthy", OLD, name="Machines "
                                                         "should have vulnerability findings "
                                                         "resolved")),
        app, assessed(app, machine_vulnerabilities=topic()),
        db)))
    assert [found[u].status for u in (web.uid, app.uid, db.uid)] == [
        Status.FAIL, Status.PASS, Status.INCONCLUSIVE]
    assert found[web.uid].message.startswith("unresolved vulnerability findings for 61 days")
    assert found[web.uid].evidence["days"] == 61


def test_assessments_not_collected_never_pass() -> None:
    web = vm("web")
    gap = error("security", "Assessments_List", (ASSESSMENTS,))
    inv = inventory(web, assessed(web, system_updates=topic()), errors=(gap,))
    for check_id in (ASSESSED, UPDATES):
        assert by_uid(run_one(check_id, inv))[web.uid].status == Status.INCONCLUSIVE
    listing = error("compute", "VirtualMachines_ListAll", (VM,))
    found = run_one(UPDATES, inventory(errors=(listing,)))
    assert {f.status for f in found} == {Status.INCONCLUSIVE}


def test_registry_images() -> None:
    scanned, stale, fresh = registry("scanned"), registry("stale"), registry("fresh")
    on = pricing(Containers=plan(ContainerRegistriesVulnerabilityAssessments=True))
    found = by_uid(run_one(IMAGES, inventory(
        on, scanned, assessed(scanned, image_vulnerabilities=topic(name="images")),
        stale, assessed(stale, image_vulnerabilities=topic("Unhealthy", OLD, unhealthy=4,
                                                           name="images")),
        fresh)))
    assert found[scanned.uid].status == Status.PASS
    assert found[stale.uid].message == (
        "images with unresolved vulnerabilities (4 unhealthy) for 61 days (since 2025-11-01), "
        "past the 30-day SLA: Defender for Cloud's 'images' is unhealthy")
    # plan on and nothing reported yet: unknown, not clean
    assert found[fresh.uid].status == Status.INCONCLUSIVE
    # scanning off in the subscription: the registry is unscanned (a known gap)
    off = pricing(Containers=plan(ContainerRegistriesVulnerabilityAssessments=False))
    assert _one(IMAGES, off, registry("unscanned"))[::2] == (
        Status.FAIL, "its images are not scanned: Defender for Containers image scanning is off "
        "in the subscription")


def findings(severities: dict[str, int], oldest: dict[str, str] | None = None,
             images: int | None = None, not_open: dict[str, int] | None = None
             ) -> dict[str, Any]:
    """A topic's findings summary (docs/azure-assets.md): open findings per severity."""
    return {"open": sum(severities.values()), "severities": severities,
            "not_open": not_open or {}, "fixable": None, "oldest_published": oldest,
            "ids": [], "images": images, "last_scanned": None}


def with_findings(found: dict[str, Any], summary: dict[str, Any] | None) -> dict[str, Any]:
    return {**found, "findings": summary}


LOG4SHELL = {"id": "CVE-2021-44228", "severity": "critical",
             "published": "2021-12-10T10:15:00+00:00"}


def test_registry_findings_are_counted_per_severity_and_image() -> None:
    stale = registry("stale")
    found = with_findings(topic("Unhealthy", OLD, unhealthy=1, name="images"),
                          findings({"critical": 3, "high": 12}, LOG4SHELL, images=4))
    assert _one(IMAGES, stale, assessed(stale, image_vulnerabilities=found)) == (
        Status.FAIL, Severity.HIGH, "images with unresolved vulnerabilities (3 critical, 12 high "
        "in 4 images) for 61 days (since 2025-11-01), past the 30-day SLA: Defender for "
        "Cloud's 'images' is unhealthy; oldest open: CVE-2021-44228 (critical, published "
        "2021-12-10)")
    recent = with_findings(topic("Unhealthy", RECENT, name="images"),
                           findings({"high": 2}, images=1))
    assert _one(IMAGES, stale, assessed(stale, image_vulnerabilities=recent))[::2] == (
        Status.PASS, "images with unresolved vulnerabilities (2 high in 1 image) for 12 days "
        "(since 2025-12-20), within the 30-day SLA")


@pytest.mark.parametrize(("severities", "graded"), [
    ({"critical": 1, "low": 4}, Severity.HIGH),
    ({"medium": 2, "low": 1}, Severity.MEDIUM),
    ({"low": 3}, Severity.LOW),
])
def test_a_topic_past_its_sla_is_graded_by_its_worst_open_finding(
        severities: dict[str, int], graded: Severity) -> None:
    web = vm("web")
    found = with_findings(topic("Unhealthy", OLD, name="vulns"), findings(severities))
    status, severity, _ = _one(VULNS, web, assessed(web, machine_vulnerabilities=found))
    assert (status, severity) == (Status.FAIL, graded)


def test_exempted_and_resolved_findings_are_not_open_findings() -> None:
    # trap: the assessment says unhealthy, but every finding under it is healthy or exempted
    # (NotApplicable): nothing open to count, and not a clean bill either
    web = vm("web")
    found = with_findings(topic("Unhealthy", OLD, name="vulns"),
                          findings({}, not_open={"healthy": 2, "not_applicable": 3}))
    assert _one(VULNS, web, assessed(web, machine_vulnerabilities=found))[::2] == (
        Status.INCONCLUSIVE, "Defender for Cloud's 'vulns' is unhealthy but lists no open "
        "finding (2 healthy, 3 not applicable): not evidence either way")


def test_findings_not_read_never_pass() -> None:
    fresh, stale = registry("fresh"), registry("stale")
    gap = error("security", "SubAssessments_List", (f"{SUB_ASSESSMENTS}#image_vulnerabilities",))
    found = by_uid(run_one(IMAGES, inventory(
        fresh, assessed(fresh, image_vulnerabilities=topic("Unhealthy", RECENT, name="images")),
        stale, assessed(stale, image_vulnerabilities=topic("Unhealthy", OLD, name="images")),
        errors=(gap,))))
    # within the SLA, but its findings could not be read: not verified
    assert found[fresh.uid].status == Status.INCONCLUSIVE
    # past the SLA by the assessment alone: still a failure, without counts
    assert (found[stale.uid].status, found[stale.uid].message) == (
        Status.FAIL, "images with unresolved vulnerabilities for 61 days (since 2025-11-01), "
        "past the 30-day SLA: Defender for Cloud's 'images' is unhealthy")
    # the failed listing is reported for the subscription; other topics are not affected
    assert any(f.resource_type == "posture::CollectionScope" for f in found.values())
    web = vm("web")
    vulns = run_one(VULNS, inventory(web, assessed(web, machine_vulnerabilities=topic()),
                                     errors=(gap,)))
    assert {f.status for f in vulns} == {Status.PASS}


def sql_server(name: str = "sql") -> Any:
    return az(SQL_SERVER, uid_of(SQL_SERVER, name), server_name=name)


def test_sql_vulnerability_findings() -> None:
    clean, stale, new, off = sql_server("clean"), sql_server("stale"), sql_server("new"), \
        sql_server("off")
    name = "SQL databases should have vulnerability findings resolved"
    inv = inventory(
        pricing(SqlServers=plan()),
        clean, assessed(clean, sql_vulnerabilities=topic(name=name)),
        stale, assessed(stale, sql_vulnerabilities=with_findings(
            topic("Unhealthy", OLD, name=name), findings({"high": 2, "medium": 5}))),
        new)
    found = by_uid(run_one(SQL, inv))
    assert [found[s.uid].status for s in (clean, stale, new)] == [
        Status.PASS, Status.FAIL, Status.INCONCLUSIVE]
    assert (found[stale.uid].severity, found[stale.uid].message) == (
        Severity.MEDIUM, "unresolved SQL vulnerability findings (2 high, 5 medium) for 61 days "
        "(since 2025-11-01), past the 30-day SLA: Defender for Cloud's 'SQL databases should "
        "have vulnerability findings resolved' is unhealthy")
    # the plan that would assess it is off: a known gap, not an unknown
    assert _one(SQL, pricing(SqlServers=plan("Free")), off)[::2] == (
        Status.FAIL, "its databases are not assessed: Defender for Azure SQL databases is off "
        "in the subscription")
    listing = error("sql", "Servers_List", (SQL_SERVER,))
    assert {f.status for f in run_one(SQL, inventory(errors=(listing,)))} == {
        Status.INCONCLUSIVE}
    gap = error("security", "SubAssessments_List", (f"{SUB_ASSESSMENTS}#sql_vulnerabilities",))
    assert by_uid(run_one(SQL, replace(inv, errors=(gap,))))[clean.uid].status == \
        Status.INCONCLUSIVE
