"""Patch and vulnerability management on Azure from Defender for Cloud: plans per subscription
(graded by what they would cover), coverage and SLA compliance of machines and registry images.
Ages are measured from the test scans' finish time, 2026-01-01."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support.azure import DEV, error, inventory
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
