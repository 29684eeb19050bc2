"""Defender for Cloud through ARM REST against the loopback fake: the plans of both demo
subscriptions, the assessments summarised per resource (two pages followed through nextLink),
their findings (sub-assessments of the unhealthy vulnerability assessments, in the REST shapes
of the 2019-01-01-preview API and of Defender Vulnerability Management) counted per severity,
the demo's verdicts, and failed listings recorded so that the patching checks never pass."""

from __future__ import annotations

from support.azure import DEV, SUB
from support.azure_collect import collect_fake
from support.checks import by_uid, run_one

from posture.collectors.azure.collector import all_permissions
from posture.collectors.azure.defender import group_findings, summarize_findings, topic_of
from posture.demo.azure_fake import FakeArm
from posture.model import Inventory, Status

PRICINGS = "Microsoft.Security/pricings"
ASSESSMENTS = "Microsoft.Security/assessments"
SUB_ASSESSMENTS = "Microsoft.Security/assessments/subAssessments"
MDVM_MACHINES = "1195afff-c881-495e-9bc5-1486211ae03f"
MDVM_IMAGES = "c0b7cfc6-3172-465a-b378-53c7ff2cc0d5"
SQL_VA = "82e20e14-edc5-4373-bfc4-f13121257c37"
VMS = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.compute/virtualmachines"
ACR = (f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.containerregistry/"
       "registries/acrprod")
SQL = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.sql/servers"


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
                          f"{VMS}/vm-private", ACR, f"{SQL}/sql-prod",
                          f"{SQL}/sql-reporting"}  # the second page was followed
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
    sql = {f.resource_name: f.status for f in
           run_one("azure.patching.sql_vulnerabilities_resolved", estate)}
    assert sql == {"sql-prod": Status.FAIL, "sql-reporting": Status.PASS,
                   "sql-legacy": Status.INCONCLUSIVE}


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


def test_findings_summarised_per_resource(estate: Inventory) -> None:
    found = {a.attr("resource_id"): a.attr("topics") for a in estate.of(ASSESSMENTS)}
    web = found[f"{VMS}/vm-web"]["machine_vulnerabilities"]["findings"]
    # four open; a resolved (Healthy) and an exempted (NotApplicable) finding are not counted,
    # although their CVEs were published earlier
    assert web == {
        "open": 4, "severities": {"high": 2, "medium": 1, "low": 1},
        "not_open": {"healthy": 1, "not_applicable": 1}, "fixable": 3,
        "oldest_published": {"id": "CVE-2022-3715", "severity": "low",
                             "published": "2023-01-05T15:15:00+00:00"},
        "ids": ["CVE-2023-38408", "CVE-2024-6387", "CVE-2023-48795", "CVE-2022-3715"],
        "images": None, "last_scanned": "2026-11-30T04:12:31.123456+00:00"}
    # the image findings came in two pages; MDVM's own severity (Critical) wins over the
    # status's, and the exempted Log4Shell finding of an old image is not open
    images = found[ACR]["image_vulnerabilities"]["findings"]
    assert (images["open"], images["severities"], images["images"], images["not_open"]) == (
        4, {"critical": 1, "high": 2, "medium": 1}, 2, {"not_applicable": 1})
    assert images["oldest_published"]["id"] == "CVE-2023-4863"
    assert images["ids"][0] == "CVE-2023-4863" and images["fixable"] == 3
    # vm-app's assessment is healthy: its one sub-assessment is healthy too
    assert found[f"{VMS}/vm-app"]["machine_vulnerabilities"]["findings"]["open"] == 0
    # system updates have no findings
    assert found[f"{VMS}/vm-web"]["system_updates"]["findings"] is None
    # SQL vulnerability assessment rules (no CVE: the rule ids), counted on the server
    sql = found[f"{SQL}/sql-prod"]["sql_vulnerabilities"]["findings"]
    assert (sql["severities"], sql["ids"], sql["not_open"]) == (
        {"high": 1, "low": 1}, ["VA2065", "VA2109"], {"healthy": 1})
    # nothing per CVE reaches the snapshot
    assert not estate.of(SUB_ASSESSMENTS)


def test_demo_findings_in_the_verdicts(estate: Inventory) -> None:
    vulns = {f.resource_name: f for f in
             run_one("azure.patching.machines_vulnerabilities_resolved", estate)}
    assert vulns["vm-web"].status == Status.FAIL
    assert vulns["vm-web"].message.startswith("unresolved vulnerability findings (2 high, 1 "
                                              "medium, 1 low) for ")
    assert vulns["vm-web"].message.endswith("; oldest open: CVE-2022-3715 (low, published "
                                            "2023-01-05)")
    (image,) = run_one("azure.patching.registry_images_vulnerabilities_resolved", estate)
    assert "(1 critical, 2 high, 1 medium in 2 images)" in image.message


def test_only_unhealthy_vulnerability_keys_are_listed(fake: FakeArm) -> None:
    collect_fake(fake)
    listed = {p.lower() for p in fake.paths() if p.lower().endswith("/subassessments")}
    base = f"/subscriptions/{SUB}/providers/microsoft.security/assessments"
    assert listed == {f"{base}/{MDVM_MACHINES}/subassessments",
                      f"{base}/{MDVM_IMAGES}/subassessments", f"{base}/{SQL_VA}/subassessments"}


def test_a_failed_findings_listing(fake: FakeArm) -> None:
    fake.fail(f"/subscriptions/{SUB}/providers/microsoft.security/assessments/{MDVM_MACHINES}/"
              "subassessments", 403, "AuthorizationFailed",
              "no Microsoft.Security/assessments/subAssessments/read")
    inv = collect_fake(fake)
    assert {(e.account, e.operation, e.asset_types) for e in inv.errors} == {
        (SUB, "SubAssessments_List", (f"{SUB_ASSESSMENTS}#machine_vulnerabilities",))}
    topics = {a.name: a.attr("topics") for a in inv.of(ASSESSMENTS)}
    assert topics["vm-web"]["machine_vulnerabilities"]["findings"] is None
    assert topics["acrprod"]["image_vulnerabilities"]["findings"]["open"] == 4
    vulns = {f.resource_name: f.status for f in
             run_one("azure.patching.machines_vulnerabilities_resolved", inv)}
    # vm-web still fails on its assessment; vm-app's healthy assessment is not verified
    assert (vulns["vm-web"], vulns["vm-app"]) == (Status.FAIL, Status.INCONCLUSIVE)
    updates = {f.resource_name: f.status for f in
               run_one("azure.patching.machines_system_updates_installed", inv)}
    assert updates["vm-app"] == Status.PASS


def _sub(resource: str, key: str, status: str, **properties: object) -> dict[str, object]:
    return {"id": f"{resource}/providers/Microsoft.Security/assessments/{key}/subAssessments/x",
            "name": "x", "properties": {"status": {"code": status, "severity": "High"},
                                        **properties}}


def test_older_shapes_and_sql_findings_count_on_their_server() -> None:
    rg = "/subscriptions/S/resourceGroups/RG/providers"
    # the 2019-01-01-preview shape (Qualys image scanning): CVEs as a list, patchable, digest
    qualys = _sub(f"{rg}/Microsoft.ContainerRegistry/registries/acr",
                  "dbd0cb49-b563-45e7-9724-889e799fa648", "Unhealthy", id="1001",
                  additionalData={
                      "assessedResourceType": "ContainerRegistryVulnerability",
                      "cve": [{"title": "CVE-2019-12345", "link": "http://contoso.com"}],
                      "patchable": True, "publishedTime": "2018-01-01T00:00:00.0000000Z",
                      "imageDigest": "c186fc44", "repositoryName": "myRepo"})
    summary = summarize_findings([qualys])
    assert (summary["ids"], summary["fixable"], summary["images"]) == (["CVE-2019-12345"], 1, 1)
    assert summary["oldest_published"]["published"] == "2018-01-01T00:00:00+00:00"
    # SQL vulnerability assessment rules: no CVE, the rule id; counted on the server
    server = f"{rg}/Microsoft.Sql/servers/srv"
    rule = _sub(server, SQL_VA, "Unhealthy", id="VA2064", additionalData={
        "assessedResourceType": "SqlServerVulnerability", "type": "AzureDatabase"})
    index = group_findings({SQL_VA: ("sql_vulnerabilities", [rule]),
                            MDVM_IMAGES: ("image_vulnerabilities", None)})
    assert list(index[SQL_VA] or {}) == [server.lower()] and index[MDVM_IMAGES] is None
    assert summarize_findings([rule])["ids"] == ["VA2064"]
    assert topic_of(SQL_VA.upper(), "") == "sql_vulnerabilities"


def test_permissions() -> None:
    assert {"Microsoft.Security/pricings/read", "Microsoft.Security/assessments/read",
            "Microsoft.Security/assessments/subAssessments/read"} <= set(all_permissions())
