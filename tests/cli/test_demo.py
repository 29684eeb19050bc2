"""The demo account: the golden snapshot audits to the golden findings, byte for byte, and a
live demo run (moto on loopback, the real collector over HTTP) reaches the same verdicts."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from support import DEMO
from typer.testing import CliRunner

from posture.cli.main import app
from posture.pipeline import audit, load_prepared
from posture.reporters import OutputFormat, Report, write_reports


def test_golden_snapshot_audits_to_golden_findings(tmp_path: Path) -> None:
    prepared = load_prepared(DEMO / "snapshot.json")
    findings = audit(prepared)
    from posture.registry import load_catalogue, select_frameworks

    report = Report(
        findings=findings,
        inventory_meta=prepared.inventory.meta,
        collection_errors=prepared.inventory.errors,
        snapshot_sha256=prepared.snapshot_sha256,
        # as `posture audit` writes it: the frameworks of the snapshot's cloud
        frameworks=select_frameworks(load_catalogue().frameworks,
                                     (prepared.inventory.meta.provider,)),
    )
    written = write_reports(report, tmp_path, [OutputFormat.JSON])
    assert written[OutputFormat.JSON].read_bytes() == (DEMO / "findings.json").read_bytes()


def _verdicts(doc: dict) -> Counter[tuple[str, str]]:
    return Counter((f["check_id"], f["status"]) for f in doc["findings"])


def test_live_demo_writes_reports_and_matches_golden_verdicts(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    for name in ("findings.csv", "findings.json", "report.html"):
        assert (tmp_path / name).stat().st_size > 0
    live = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    golden = json.loads((DEMO / "findings.json").read_text(encoding="utf-8"))
    extra, missing = _verdicts(live) - _verdicts(golden), _verdicts(golden) - _verdicts(live)
    assert not extra and not missing, (extra, missing, live["collection_errors"])
    failing_principles = {p for f in live["findings"] if f["status"] == "FAIL"
                          for p in f["principles"]}
    assert len(failing_principles) >= 6, failing_principles
    assert live["collection_errors"] == []
    # the joined attack path: legacy-jumphost (SSH open to the world) runs as ops-admin
    (attack,) = [f for f in live["findings"]
                 if f["check_id"] == "aws.network.no_exposed_host_with_admin_identity"
                 and f["status"] == "FAIL"]
    assert attack["resource_name"] == "legacy-jumphost" and attack["severity"] == "critical"
    assert attack["message"].startswith(
        "attack path: internet -> tcp/22 -> legacy-jumphost -> role ops-admin -> administrator")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<g class="hop identity"' in html  # drawn: network hops, then identity hops


@pytest.mark.parametrize(("cloud", "sdk"), [("azure", "azure"), ("gcp", "google")])
def test_demo_without_the_sdk_says_what_to_install(
    tmp_path: Path, without_sdk: Callable[[str, str], None], cloud: str, sdk: str
) -> None:
    without_sdk(sdk, cloud)
    result = CliRunner().invoke(app, ["demo", cloud, "-o", str(tmp_path), "-q"])
    assert result.exit_code == 3, result.output
    assert f"pip install 'posture[{cloud}]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "findings.json").exists()


def test_demo_without_the_demo_extra_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto is not installed (``None`` in ``sys.modules``: Python's own way to make an import
    fail): one line naming the extra, exit 3, before anything is written."""
    for name in [m for m in sys.modules if m == "moto" or m.startswith("moto.")] + ["moto"]:
        monkeypatch.setitem(sys.modules, name, None)
    result = CliRunner().invoke(app, ["demo", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("posture: error: the demo needs the emulator: ")
    assert "pip install 'posture[demo]'" in line
    assert not any(tmp_path.iterdir())


def test_demo_takes_check_ids_and_names_only_the_reports_it_wrote(tmp_path: Path) -> None:
    """``demo -c`` (as the README says) and ``-f controls``: no pointer to an HTML report that
    was not written."""
    check = "aws.encryption.ebs_volume_encrypted"
    result = CliRunner().invoke(app, ["demo", "-o", str(tmp_path), "-q", "-f", "controls,json",
                                      "-c", check])
    assert result.exit_code == 0, result.output
    assert "report.html" not in result.stdout and "Open the HTML report" not in result.stdout
    assert not (tmp_path / "report.html").exists()
    doc = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert {f["check_id"] for f in doc["findings"]} == {check}


def test_demo_with_an_unknown_check_id_fails_before_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)  # the emulator would fail: never reached
    result = CliRunner().invoke(app, ["demo", "-o", str(tmp_path), "-c", "aws.nope.nothing"])
    assert result.exit_code == 2, result.output
    assert "unknown check id 'aws.nope.nothing'" in result.stderr
