"""Azure management groups through the organisation executor, with the real SDK clients and
``DefaultAzureCredential`` against the loopback HTTPS fake of ARM: ``mg-contoso`` holds
contoso-prod (below mg-prod) and contoso-dev (below mg-dev, every call refused). One snapshot per
subscription with the management groups as context, the group path in the rows, contoso-dev
``failed`` and INCONCLUSIVE while contoso-prod completes (exit 4), ``posture audit DIR``
byte-identical. Entra ID (the fake's recorded Graph, ``--graph-endpoint``) is read once by the
coordinator, carried by every subscription's snapshot, and its findings appear once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.azure import DEV, SERVICE_PRINCIPAL, SUB, TENANT
from support.org import assert_audit_reproduces, findings_doc
from typer.testing import CliRunner

from posture.cli.main import app
from posture.demo.azure_fake import FakeArm

runner = CliRunner()
MG = "Microsoft.Management/managementGroups"
TENANT_ACCOUNT = f"tenants/{TENANT}"
GRAPH_CALLS: list[str] = []  # the Graph requests of the module's scan


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """One organisation scan of ``mg-contoso`` in this process, Entra ID read from the fake's
    Graph: (snapshot dir, reports, output)."""
    base = tmp_path_factory.mktemp("azure-org")
    with pytest.MonkeyPatch.context() as mp, FakeArm(base / "tls") as fake:
        for key, value in SERVICE_PRINCIPAL.items():
            mp.setenv(key, value)
        fake.fail(f"/subscriptions/{DEV}", 403, "AuthorizationFailed",
                  "The client does not have authorization over scope "
                  f"'/subscriptions/{DEV}'")
        result = runner.invoke(app, [
            "scan", "azure", "--management-group", "mg-contoso", "--workers", "0",
            "--arm-endpoint", fake.base, "--authority-host", fake.base,
            "--ca-bundle", str(fake.ca), "--graph-endpoint", fake.base,
            "--snapshot-out", str(base / "snap"), "-o", str(base / "out"),
        ])
        assert result.exit_code == 4, result.output
        GRAPH_CALLS[:] = [p for p in fake.paths() if p.startswith("/v1.0/")]
        yield base / "snap", base / "out", result.output


def _reported(out: Path, account: str) -> list[dict[str, Any]]:
    """The findings the scan reported on ``account`` (a subscription, or the tenant)."""
    return [f for f in findings_doc(out)["findings"] if f["account"] == account]


def test_one_snapshot_per_subscription_with_the_groups_as_context(
    scanned: tuple[Path, Path, str]
) -> None:
    snap, _, output = scanned
    manifest = json.loads((snap / "manifest.json").read_text())
    assert (manifest["provider"], manifest["organization"]["id"]) == ("azure", "mg-contoso")
    subs = {a["id"]: a for a in manifest["accounts"]}
    assert {k: (a["name"], a["status"]) for k, a in subs.items()} == {
        SUB: ("contoso-prod", "scanned"), DEV: ("contoso-dev", "failed")}
    assert [(s["id"], s["name"]) for s in subs[SUB]["ou_path"]] == [
        ("mg-contoso", "mg-contoso"), ("mg-prod", "Contoso production")]
    assert "AuthorizationFailed" in subs[DEV]["reason"]
    for a in subs.values():
        data = (snap / a["snapshot"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == a["sha256"]
        doc = json.loads(data)
        assert doc["meta"]["accounts"] == [a["id"]]
        assert {x["name"] for x in doc["assets"] if x["type"] == MG} == {
            "mg-contoso", "Contoso production", "Contoso development"}
    assert f"{SUB} contoso-prod (mg-contoso/Contoso production): scanned" in output
    assert "1 subscription(s) not fully scanned" in output


def test_the_unreadable_subscription_is_inconclusive_and_the_other_completes(
    scanned: tuple[Path, Path, str]
) -> None:
    _, out, _ = scanned
    dev = _reported(out, DEV)
    assert dev and {f["status"] for f in dev} == {"INCONCLUSIVE"}
    prod = _reported(out, SUB)
    assert {"PASS", "FAIL"} <= {f["status"] for f in prod}
    assert {(f["account_name"], f["ou"]) for f in prod} == {
        ("contoso-prod", "mg-contoso/Contoso production")}
    html = (out / "report.html").read_text()
    assert 'id="accounts"' in html and f'href="#account={SUB}&amp;status=FAIL"' in html


def test_audit_of_the_directory_is_byte_identical(
    scanned: tuple[Path, Path, str], tmp_path: Path
) -> None:
    snap, out, _ = scanned
    assert_audit_reproduces(snap, out, tmp_path, exit_code=4)


def test_cluster_options_need_a_management_group_or_several_subscriptions() -> None:
    result = runner.invoke(app, ["scan", "azure", "--subscription", SUB, "--workers", "2",
                                 "-q"])
    assert result.exit_code == 2, result.output
    assert "--workers only apply with --management-group or several --subscription" in (
        result.output)


def test_the_tenant_is_read_once_and_carried_by_every_subscription(
    scanned: tuple[Path, Path, str]
) -> None:
    snap, _, _ = scanned
    # one read of each Graph collection for two subscriptions (the coordinator's)
    assert GRAPH_CALLS.count("/v1.0/users") == 2  # two pages: @odata.nextLink
    assert GRAPH_CALLS.count("/v1.0/identity/conditionalAccess/policies") == 1
    manifest = json.loads((snap / "manifest.json").read_text())
    held = {}
    for a in manifest["accounts"]:
        doc = json.loads((snap / a["snapshot"]).read_bytes())
        held[a["id"]] = {x["uid"] for x in doc["assets"] if x["account"] == TENANT_ACCOUNT}
    assert held[SUB] and held[SUB] == held[DEV]  # the scanned and the failed one alike
    assert any("/users/" in uid for uid in held[SUB])


def test_tenant_findings_appear_once_beside_the_subscriptions(
    scanned: tuple[Path, Path, str]
) -> None:
    _, out, _ = scanned
    doc = findings_doc(out)
    tenant = _reported(out, TENANT_ACCOUNT)
    keys = [(f["check_id"], f["resource_uid"]) for f in tenant]
    assert tenant and len(keys) == len(set(keys))
    assert {f["check_id"] for f in tenant} == {
        "azure.identity.mfa_required_for_all_users", "azure.identity.mfa_required_for_admin_roles",
        "azure.identity.users_mfa_registered", "azure.identity.no_privileged_roles_for_guests",
        "azure.identity.no_standing_privileged_directory_roles",
        "azure.identity.app_credentials_short_lived"}
    # the tenant was read: no subscription says Entra ID was not
    assert not [f for f in doc["findings"] if "Entra ID was not read" in f["message"]]
    standing = {f["resource_name"]: f["status"] for f in tenant
                if f["check_id"] == "azure.identity.no_standing_privileged_directory_roles"}
    assert standing["Global Administrator → Alice Admin"] == "FAIL"
    # the subscription's own checks name principals from the carried directory
    escalation = [f for f in doc["findings"] if f["account"] == SUB
                  and f["check_id"] == "azure.iam.no_role_assignment_escalation"]
    assert any(f["message"].startswith("Carol Cloud (carol@contoso.example, user ")
               for f in escalation)


def test_no_graph_endpoint_for_a_custom_cloud_reads_no_tenant() -> None:
    from posture.collectors.azure.base import AzureTarget
    from posture.org.azure import read_tenant

    # no known cloud and no --graph-endpoint: nothing read, not even the subscription's tenant
    tenant = read_tenant(object(), AzureTarget(arm_endpoint="https://127.0.0.1:1"), object(),
                         [SUB])
    assert (tenant.assets, tenant.errors) == ((), ())


def _verdicts(out: Path) -> set[tuple[str, str, str, str]]:
    doc = findings_doc(out)
    return {(f["account"], f["check_id"], f["resource_uid"], f["status"])
            for f in doc["findings"]}


def test_a_subscription_snapshot_holds_the_tenant_a_single_scan_reads(
    scanned: tuple[Path, Path, str], tmp_path: Path
) -> None:
    from azure.identity import ClientSecretCredential

    from posture.collectors.azure.base import AzureTarget
    from posture.collectors.azure.collector import collect

    with FakeArm(tmp_path / "tls") as fake:
        credential = ClientSecretCredential(TENANT, "client-id", "secret", authority=fake.base,
                                            disable_instance_discovery=True,
                                            connection_verify=str(fake.ca))
        alone = collect(AzureTarget(subscriptions=(SUB,), arm_endpoint=fake.base,
                                    graph_endpoint=fake.base, ca_bundle=str(fake.ca),
                                    retry_total=0), credential=credential)
    doc = json.loads((scanned[0] / f"{SUB}.json").read_text())
    assert {a["uid"] for a in doc["assets"] if a["type"] != MG} == {a.uid for a in alone.assets}


def test_a_local_cluster_of_two_workers_reads_the_tenant_once_too(
    scanned: tuple[Path, Path, str], tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as mp, FakeArm(tmp_path / "tls") as fake:
        for key, value in SERVICE_PRINCIPAL.items():
            mp.setenv(key, value)
        fake.fail(f"/subscriptions/{DEV}", 403, "AuthorizationFailed", "denied")
        result = runner.invoke(app, [
            "scan", "azure", "--management-group", "mg-contoso", "--workers", "2",
            "--arm-endpoint", fake.base, "--authority-host", fake.base,
            "--ca-bundle", str(fake.ca), "--graph-endpoint", fake.base,
            "--snapshot-out", str(tmp_path / "snap"), "-o", str(tmp_path / "out"),
        ])
        graph = [p for p in fake.paths() if p.startswith("/v1.0/")]
    assert result.exit_code == 4, result.output
    assert "on a local Dask cluster of 2 worker process(es)" in result.output
    assert sorted(graph) == sorted(GRAPH_CALLS)  # the coordinator's reads, none of the workers'
    assert _verdicts(tmp_path / "out") == _verdicts(scanned[1])
