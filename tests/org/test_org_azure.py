"""Azure management groups through the organisation executor, with the real SDK clients and
``DefaultAzureCredential`` against the loopback HTTPS fake of ARM: ``mg-contoso`` holds
contoso-prod (below mg-prod) and contoso-dev (below mg-dev, every call refused). One snapshot per
subscription with the management groups as context, the group path in the rows, contoso-dev
``failed`` and INCONCLUSIVE while contoso-prod completes (exit 4), ``posture audit DIR``
byte-identical."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.azure import DEV, SERVICE_PRINCIPAL, SUB
from typer.testing import CliRunner

from posture.cli.main import app
from posture.demo.azure_fake import FakeArm

runner = CliRunner()
MG = "Microsoft.Management/managementGroups"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """One organisation scan of ``mg-contoso`` in this process: (snapshot dir, reports,
    output)."""
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
            "--ca-bundle", str(fake.ca), "--snapshot-out", str(base / "snap"),
            "-o", str(base / "out"),
        ])
        assert result.exit_code == 4, result.output
        yield base / "snap", base / "out", result.output


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
    doc = json.loads((out / "findings.json").read_text())
    dev = [f for f in doc["findings"] if f["account"] == DEV]
    assert dev and {f["status"] for f in dev} == {"INCONCLUSIVE"}
    prod = [f for f in doc["findings"] if f["account"] == SUB]
    assert {"PASS", "FAIL"} <= {f["status"] for f in prod}
    assert {(f["account_name"], f["ou"]) for f in prod} == {
        ("contoso-prod", "mg-contoso/Contoso production")}
    html = (out / "report.html").read_text()
    assert 'id="accounts"' in html and f'href="#account={SUB}&amp;status=FAIL"' in html


def test_audit_of_the_directory_is_byte_identical(
    scanned: tuple[Path, Path, str], tmp_path: Path
) -> None:
    snap, out, _ = scanned
    result = runner.invoke(app, ["audit", str(snap), "-o", str(tmp_path), "-q"])
    assert result.exit_code == 4, result.output
    for name in ("findings.json", "findings.csv", "report.html"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_cluster_options_need_a_management_group_or_several_subscriptions() -> None:
    result = runner.invoke(app, ["scan", "azure", "--subscription", SUB, "--workers", "2",
                                 "-q"])
    assert result.exit_code == 2, result.output
    assert "--workers only apply with --management-group or several --subscription" in (
        result.output)
