"""``--framework`` on audit (and so on every scan) and demo: which frameworks report.html and
controls.csv show. By default an AWS audit shows the provider-neutral frameworks and the AWS
benchmarks only; the option (repeatable or comma-separated, any case) chooses instead, even a
benchmark of another cloud; an unknown id is a one-line usage error before anything runs.
findings.json does not depend on the option (but for a benchmark of another cloud chosen)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from posture.cli.main import app

runner = CliRunner()
SNAPSHOT = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "snapshot.json"
CHECK = "aws.network.admin_ports_not_internet_reachable"


def _audit(out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", str(SNAPSHOT), "-o", str(out), "-q", "-c", CHECK,
                                 "-f", "controls,html,json", *extra])
    return result.exit_code, result.output


def _frameworks(out: Path) -> set[str]:
    text = (out / "controls.csv").read_text(encoding="utf-8-sig")
    return {row[0] for row in list(csv.reader(io.StringIO(text, newline="")))[1:]}


def test_an_aws_audit_shows_no_azure_or_gcp_benchmark(tmp_path: Path) -> None:
    code, output = _audit(tmp_path / "a")
    assert code == 0, output
    assert _frameworks(tmp_path / "a") == {
        "SOC2", "ISO27001-2022", "NIST-800-53-R5", "PCI-DSS-4.0", "CIS-AWS-3.0", "CIS-AWS-7.0"}
    html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert "CIS-AZURE" not in html and "CIS-GCP" not in html


def test_framework_chooses_what_report_html_and_controls_csv_show(tmp_path: Path) -> None:
    code, output = _audit(tmp_path / "b", "--framework", "soc2,cis-aws-7.0",
                          "--framework", "PCI-DSS-4.0", "--framework", "cis-gcp-5.0")
    assert code == 0, output
    assert _frameworks(tmp_path / "b") == {"SOC2", "CIS-AWS-7.0", "PCI-DSS-4.0", "CIS-GCP-5.0"}
    html = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert 'id="framework-CIS-GCP-5.0"' in html and "NIST-800-53-R5" not in html
    # findings.json keeps every framework of the audited cloud, chosen or not
    _audit(tmp_path / "c", "--framework", "soc2")
    _audit(tmp_path / "d")
    assert (tmp_path / "c" / "findings.json").read_bytes() == (
        tmp_path / "d" / "findings.json").read_bytes()


def test_an_unknown_framework_is_a_usage_error_before_the_run(tmp_path: Path) -> None:
    code, output = _audit(tmp_path / "x", "--framework", "soc2,iso")
    assert code == 2
    assert "unknown framework 'iso'" in output and "ISO27001-2022" in output
    assert not (tmp_path / "x").exists()
    demo = runner.invoke(app, ["demo", "-o", str(tmp_path / "e"), "--framework", "hipaa"])
    assert demo.exit_code == 2 and "unknown framework 'hipaa'" in demo.output
    assert not (tmp_path / "e").exists()


def test_help_names_the_option() -> None:
    for command in (["audit"], ["scan", "aws"], ["demo"]):
        result = runner.invoke(app, [*command, "--help"], terminal_width=200)
        assert "--framework" in result.output, command


def test_evidence_reports_the_checks_and_controls_of_every_chosen_framework(
    tmp_path: Path,
) -> None:
    out = tmp_path / "evidence"
    result = runner.invoke(app, ["evidence", str(SNAPSHOT), "-o", str(out), "-c", CHECK,
                                 "--framework", "soc2", "--framework", "pci-dss-4.0"])
    assert result.exit_code == 0, result.output
    assert _frameworks(out) == {"SOC2", "PCI-DSS-4.0"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["framework"]["id"] == "SOC2"
    assert [f["id"] for f in manifest["frameworks"]] == ["SOC2", "PCI-DSS-4.0"]  # as given
    assert manifest["frameworks"][1]["version"] == "4.0.1"
    assert "Framework: SOC2, PCI-DSS-4.0" in (out / "README.txt").read_text(encoding="utf-8")
