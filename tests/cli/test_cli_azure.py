"""``posture scan azure`` end to end: service principal from the environment, custom ARM
endpoint and authority host, the fake's CA bundle; the same reports as AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.azure import DEV, SERVICE_PRINCIPAL
from support.reports import status_in
from typer.testing import CliRunner

from posture.cli.main import app
from posture.demo.azure_fake import FakeArm

runner = CliRunner()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("azure-cli")
    mp = pytest.MonkeyPatch()
    for key, value in SERVICE_PRINCIPAL.items():
        mp.setenv(key, value)
    with FakeArm(folder / "tls") as fake:
        fake.fail(
            f"/subscriptions/{DEV}/providers/microsoft.sql",
            403,
            "AuthorizationFailed",
            "The client does not have authorization to perform action 'Microsoft.Sql/servers/read'",
        )
        result = runner.invoke(
            app,
            [
                "scan",
                "azure",
                "--arm-endpoint",
                fake.base,
                "--authority-host",
                fake.base,
                "--ca-bundle",
                str(fake.ca),
                "--snapshot-out",
                str(folder / "inv.json"),
                "-o",
                str(folder / "out"),
                "-q",
            ],
        )
    mp.undo()
    assert result.exit_code == 0, result.output
    doc = json.loads((folder / "out" / "findings.json").read_text(encoding="utf-8"))
    yield folder, doc


def test_reports_are_written_and_snapshot_reaudits_identically(
    scanned: tuple[Path, dict], tmp_path: Path
) -> None:  # type: ignore[type-arg]
    folder, _ = scanned
    assert {p.name for p in (folder / "out").iterdir()} >= {
        "findings.csv",
        "findings.json",
        "report.html",
    }
    again = runner.invoke(app, ["audit", str(folder / "inv.json"), "-o", str(tmp_path), "-q"])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "findings.csv").read_bytes() == (
        folder / "out" / "findings.csv"
    ).read_bytes()


def test_exposure_traps_are_not_reported(scanned: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    _, doc = scanned
    admin = "azure.network.admin_ports_not_internet_reachable"
    # real exposures: public IP, public load balancer NAT rule, firewall DNAT
    assert status_in(doc, admin, "vm-web") == "FAIL"
    assert status_in(doc, admin, "vm-lb") == "FAIL"
    assert status_in(doc, admin, "vm-fw") == "FAIL"
    # traps: NSG priority shadowing, subnet-vs-NIC double evaluation, private-only VM
    assert status_in(doc, admin, "vm-app") == "PASS"
    assert status_in(doc, admin, "vm-double") == "PASS"
    assert status_in(doc, admin, "vm-private") == "PASS"
    assert status_in(doc, "azure.network.db_ports_not_internet_reachable", "vm-private") == "PASS"
    assert status_in(doc, "azure.network.admin_access_only_from_bastion", "vm-double") == "PASS"
    # the private VM's open NIC NSG is latent exposure, and only latent
    latent = "azure.network.no_latent_sensitive_port_exposure"
    assert status_in(doc, latent, "vm-private") == "FAIL"
    others = ("vm-app", "vm-double", "vm-web", "vm-lb")
    assert {status_in(doc, latent, n) for n in others} == {"PASS"}


def test_a_denied_provider_is_inconclusive_not_pass(scanned: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    _, doc = scanned
    scope = [
        f
        for f in doc["findings"]
        if f["check_id"] == "azure.transit.sql_min_tls12" and f["account"] == DEV
    ]
    assert [f["status"] for f in scope] == ["INCONCLUSIVE"]
    assert "AuthorizationFailed" in scope[0]["message"]
    assert status_in(doc, "azure.transit.sql_min_tls12", "sql-legacy") == "FAIL"


def test_findings_cover_every_principle_area(scanned: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    _, doc = scanned
    expected = {
        ("azure.transit.storage_min_tls12", "stunset"): "FAIL",
        ("azure.transit.appgw_min_tls12", "appgw-default"): "INCONCLUSIVE",
        ("azure.encryption.sql_tde_enabled", "legacydb"): "FAIL",
        (
            "azure.iam.no_standing_privileged_roles",
            "Owner ⇢ da7e0000-0000-0000-0000-000000000004",
        ): "PASS",
        ("azure.audit.activity_log_exported", "contoso-dev"): "FAIL",
        ("azure.segregation.no_prod_nonprod_peering", "prod-to-dev"): "FAIL",
    }
    for (check_id, name), status in expected.items():
        assert status_in(doc, check_id, name) == status, (check_id, name)


def test_permissions_and_option_errors(tmp_path: Path) -> None:
    role = runner.invoke(app, ["permissions", "azure"])
    assert role.exit_code == 0 and json.loads(role.output)["IsCustom"] is True
    missing = runner.invoke(app, ["scan", "azure", "--ca-bundle", str(tmp_path / "nope.pem")])
    assert missing.exit_code == 3 and "CA bundle not found" in missing.output
    plain = runner.invoke(app, ["scan", "azure", "--arm-endpoint", "http://127.0.0.1:1"])
    assert plain.exit_code == 2
