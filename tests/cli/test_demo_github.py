"""`posture demo github`: the packaged loopback fake of the GitHub API, the real collector
(PyGithub), audited with the GCP demo's projects beside it, so that the report shows the path
from a pull request to production admin, and the secure-code section."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from posture.cli.main import app

runner = CliRunner()
JOIN = "github.cicd.pull_request_to_production_admin"


def test_demo_github_joins_the_gcp_demo_and_shows_the_pull_request_path(tmp_path: Path) -> None:
    snap = tmp_path / "github.json"
    result = runner.invoke(app, ["demo", "github", "-o", str(tmp_path), "-q",
                                 "--snapshot-out", str(snap)])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert {f["provider"] for f in doc["findings"]} == {"github"}
    assert any(n.startswith("joined with gcp snapshot") for n in doc["scan"]["notes"])
    by = {(f["check_id"], f["resource_name"]): f for f in doc["findings"]}
    web = by[(JOIN, "acme/web")]
    # acme/web's pull requests reach Owner of acme-prod through the unconditioned provider
    assert (web["status"], web["severity"]) == ("FAIL", "critical")
    kinds = [hop["kind"] for hop in web["evidence"]["path"]]
    assert kinds[0] == "pull request" and kinds[-1] == "administrator"
    assert "acme-prod" in web["evidence"]["path"][-1]["id"]
    # the trap: payments-api reaches Editor only through its reviewed production environment
    payments = by[(JOIN, "acme/payments-api")]
    assert payments["status"] == "PASS" and "requires approval" in payments["message"]
    # protected by rulesets, not classic branch protection
    assert by[("github.change.default_branch_pull_request_required",
               "acme/payments-api")]["status"] == "PASS"
    assert by[("github.change.default_branch_pull_request_required", "acme/web")]["status"] \
        == "FAIL"
    assert not any(f["resource_name"] == "acme/legacy-billing" for f in doc["findings"]
                   if f["check_id"].startswith(("github.code.", "github.change.")))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="secure-code"' in html and "acme/legacy-billing" in html
    # the saved snapshot is the GitHub one alone, and carries no secret value
    saved = json.loads(snap.read_text(encoding="utf-8"))
    assert saved["meta"]["provider"] == "github"
