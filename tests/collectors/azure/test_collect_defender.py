"""Defender for Cloud through ARM REST against the loopback fake: the plans of both demo
subscriptions, the assessments summarised per resource (two pages followed through nextLink),
the demo's verdicts, and failed listings recorded so that the patching checks never pass."""

from __future__ import annotations

from support.azure import DEV, SUB
from support.azure_collect import collect_fake
from support.checks import by_uid, run_one

from posture.collectors.azure.collector import all_permissions
from posture.collectors.azure.defender import topic_of
from posture.demo.azure_fake import FakeArm
from posture.model import Inventory, Status

PRICINGS = "Microsoft.Security/pricings"
ASSESSMENTS = "Microsoft.Security/assessments"
VMS = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.compute/virtualmachines"
ACR = (f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.containerregistry/"
       "registries/acrprod")


def test_plans_per_subscription(estate: Inventory) -> None:
    assert estate.errors == ()
    plans = {a.account: a.attr("plans") for a in estate.of(PRICINGS)}
    assert set(plans) == {SUB, DEV}
    prod = plans[SUB]
    assert prod["VirtualMachines"]["enabled"] and prod["VirtualMachines"]["sub_plan"] == "P2"
    assert prod["Containers"]["extensions"] == {
        "AgentlessDiscoveryForKubernetes": True,
        "ContainerRegistriesVulnerabilityAssessments": True, "ContainerSensor": True}
    assert prod["KubernetesService"]["deprecated"] and prod["KubernetesService"][
        "replaced_by"] == ["Containers"]
    assert {p for p, v in prod.items() if not v["enabled"]} == {
        "AppServices", "KeyVaults", "OpenSourceRelationalDatabases", "CosmosDbs",
        "KubernetesService", "ContainerRegistry"}
    assert not any(v["enabled"] for v in plans[DEV].values())


def test_assessments_summarised_per_resource(estate: Inventory) -> None:
    found = {a.attr("resource_id"): a for a in estate.of(ASSESSMENTS)}
    assert set(found) == {f"{VMS}/vm-web", f"{VMS}/vm-app", f"{VMS}/vm-double",
                          f"{VMS}/vm-private", ACR}  # the second page was followed
    web = found[f"{VMS}/vm-web"]
    assert web.uid == f"{VMS}/vm-web/providers/microsoft.security/assessments"
    assert (web.attr("counts"), web.attr("resource_type")) == (
        {"healthy": 1, "unhealthy": 3, "not_applicable": 0}, "microsoft.compute/virtualmachines")
    assert web.attr("oldest_unhealthy") == {
        "key": "4fb67663-9ab9-475d-b026-8c544cced439",
        "display_name": "Endpoint protection should be installed on your machines",
        "since": "2025-12-01T00:00:00+00:00"}
    updates = web.attr("topics")["system_updates"]
    assert (updates["status"], updates["since"][:19]) == ("Unhealthy", "2026-02-03T08:15:02")
    assert set(web.attr("topics")) == {"system_updates", "machine_vulnerabilities",
                                       "update_checks"}
    private = found[f"{VMS}/vm-private"].attr("topics")["system_updates"]
    assert (private["status"], private["cause"]) == ("NotApplicable", "VmDeallocated")
    assert found[ACR].attr("topics")["image_vulnerabilities"]["unhealthy"] == 1


def test_topics_by_key_then_by_display_name() -> None:
    assert topic_of("E1145AB1-EB4F-43D8-911B-36DDF771D13F", "") == "system_updates"
    assert topic_of("00000000-0000-0000-0000-000000000000",
                    "Machines should have system updates installed") == "system_updates"
    assert topic_of("x", "Container registry images should have vulnerability findings "
                    "resolved") == "image_vulnerabilities"
    assert topic_of("x", "Storage accounts should restrict network access") is None


def test_demo_verdicts(estate: Inventory) -> None:
    servers = by_uid(run_one("azure.patching.defender_for_servers_enabled", estate))
    assert {f.account: f.status for f in servers.values()} == {
        SUB: Status.PASS, DEV: Status.FAIL}
    updates = {f.resource_name: f.status for f in
               run_one("azure.patching.machines_system_updates_installed", estate)}
    assert updates == {"vm-web": Status.FAIL, "vm-app": Status.PASS, "vm-double": Status.PASS,
                       "vm-private": Status.INCONCLUSIVE, "vm-lb": Status.INCONCLUSIVE,
                       "vm-fw": Status.INCONCLUSIVE}
    covered = {f.resource_name: f.status for f in
               run_one("azure.patching.machines_assessed_for_updates", estate)}
    assert (covered["vm-lb"], covered["vm-fw"], covered["vm-web"]) == (
        Status.FAIL, Status.FAIL, Status.PASS)
    images = {f.resource_name: f.status for f in
              run_one("azure.patching.registry_images_vulnerabilities_resolved", estate)}
    assert images == {"acrprod": Status.FAIL}


def test_failed_listings_are_recorded_and_never_pass(fake: FakeArm) -> None:
    fake.fail(f"/subscriptions/{SUB}/providers/microsoft.security/assessments", 403,
              "AuthorizationFailed", "no Microsoft.Security/assessments/read")
    fake.fail(f"/subscriptions/{DEV}/providers/microsoft.security/pricings", 403,
              "AuthorizationFailed", "no Microsoft.Security/pricings/read")
    inv = collect_fake(fake)
    assert {(e.account, e.operation, e.asset_types) for e in inv.errors} == {
        (SUB, "Assessments_List", (ASSESSMENTS,)), (DEV, "Pricings_List", (PRICINGS,))}
    assert not inv.of(ASSESSMENTS) and [a.account for a in inv.of(PRICINGS)] == [SUB]
    updates = run_one("azure.patching.machines_system_updates_installed", inv)
    assert Status.PASS not in {f.status for f in updates}
    servers = run_one("azure.patching.defender_for_servers_enabled", inv)
    assert {f.status for f in servers if f.account == DEV} == {Status.INCONCLUSIVE}


def test_permissions() -> None:
    assert {"Microsoft.Security/pricings/read", "Microsoft.Security/assessments/read"} <= set(
        all_permissions())
