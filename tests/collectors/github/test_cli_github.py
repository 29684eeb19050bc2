"""``posture scan github`` end to end against the loopback fake (with or without GitHub checks in
the catalogue), ``posture permissions github``, and the one-line errors of the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from posture.cli.main import app
from posture.collectors.github.collector import PERMISSION_NAMES, all_permissions
from posture.demo.github_fake import TOKEN, FakeGithub

runner = CliRunner()


def test_scan_github_writes_a_snapshot_and_reports(
    github_fake: FakeGithub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    snap, out = tmp_path / "github.json", tmp_path / "reports"
    result = runner.invoke(app, [
        "scan", "github", "--org", "acme", "--api-url", github_fake.api_url,
        "--snapshot-out", str(snap), "-o", str(out), "-q",
    ])
    assert result.exit_code == 0, result.output
    doc = json.loads(snap.read_text(encoding="utf-8"))
    assert doc["meta"]["provider"] == "github"
    assert doc["meta"]["accounts"] == ["acme"]
    assert "127.0.0.1/acme/payments-api" in {a["uid"] for a in doc["assets"]}
    assert [e["operation"] for e in doc["errors"]] == [
        "GET /repos/{owner}/{repo}/branches/{branch}/protection"]
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert {f["provider"] for f in findings["findings"]} <= {"github"}
    assert (out / "report.html").is_file()
    assert "Request GET" not in result.output  # PyGithub's INFO lines kept quiet
    again = runner.invoke(app, ["audit", str(snap), "-o", str(tmp_path / "audit"), "-q"])
    assert again.exit_code == 0, again.output


def test_scan_github_with_a_token_file_and_single_repositories(
    github_fake: FakeGithub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    snap = tmp_path / "repo.json"
    result = runner.invoke(app, [
        "scan", "github", "--repo", "acme/web", "--token-file", str(token),
        "--api-url", github_fake.api_url, "--snapshot-out", str(snap),
        "-o", str(tmp_path / "out"), "-q",
    ])
    assert result.exit_code == 0, result.output
    uids = {a["uid"] for a in json.loads(snap.read_text(encoding="utf-8"))["assets"]}
    assert uids == {"127.0.0.1/acme/web", "127.0.0.1/acme/web/environments/production"}


def test_permissions_github_lists_the_token_and_app_permissions() -> None:
    result = runner.invoke(app, ["permissions", "github"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    token = doc["fine_grained_personal_access_token"]
    assert token["repository_permissions"] == {
        name: "Read-only" for name in (
            "Actions", "Administration", "Code scanning alerts", "Dependabot alerts",
            "Deployments", "Environments", "Metadata", "Secret scanning alerts", "Secrets")}
    assert token["organization_permissions"] == {"Administration": "Read-only",
                                                 "Secrets": "Read-only"}
    app_permissions = doc["github_app"]["default_permissions"]
    assert set(app_permissions.values()) == {"read"}  # read-only, nothing else
    assert sorted(f"{k}:{v}" for k, v in app_permissions.items()) == list(all_permissions())
    assert {p.partition(":")[0] for p in all_permissions()} == set(PERMISSION_NAMES)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--org", "acme"], 3, "no GitHub credentials: set GITHUB_TOKEN"),
    ([], 2, "nothing to scan"),
    (["--org", "acme", "--app-id", "1"], 2, "needs --app-id, --app-key-file and --installation-id"),
    (["--org", "acme", "--api-url", "http://ghe.example.com/api/v3"], 2, "https://"),
    (["--repo", "acme"], 2, "--repo 'acme': expected OWNER/NAME"),
])
def test_scan_github_errors_are_one_line(
    args: list[str], code: int, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    result = runner.invoke(app, ["scan", "github", *args, "-o", str(tmp_path), "-q"])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 3  # one message (wrapped at 80 columns)


def test_malformed_repo_is_a_usage_error(
    github_fake: FakeGithub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    result = runner.invoke(app, ["scan", "github", "--repo", "acme", "--api-url",
                                 github_fake.api_url, "-o", str(tmp_path), "-q"])
    assert result.exit_code == 2, result.output
    assert "expected OWNER/NAME" in result.output


def test_scan_github_with_cloud_joins_the_snapshot_in_one_run(
    github_fake: FakeGithub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.github_cloud import ADMIN, aws_account, github_role, sub

    from posture import snapshot

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    aws = tmp_path / "aws.json"
    snapshot.save(aws_account(github_role(
        "deploy", sub("StringEquals", "repo:acme/web:pull_request"), ADMIN)), aws)
    out = tmp_path / "reports"
    result = runner.invoke(app, ["scan", "github", "--org", "acme", "--api-url",
                                 github_fake.api_url, "--cloud", str(aws), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert any(n.startswith("joined with aws snapshot") for n in doc["scan"]["notes"])
    join = {f["resource_name"]: f for f in doc["findings"]
            if f["check_id"] == "github.cicd.pull_request_to_production_admin"}
    assert (join["acme/web"]["status"], join["acme/web"]["severity"]) == ("FAIL", "critical")
    assert join["acme/payments-api"]["status"] == "PASS"


def test_scan_github_refuses_a_bad_cloud_snapshot_before_scanning(
    fresh_fake: FakeGithub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    bad = tmp_path / "aws.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["scan", "github", "--org", "acme", "--api-url",
                                 fresh_fake.api_url, "--cloud", str(bad), "-o",
                                 str(tmp_path / "out"), "-q"])
    assert result.exit_code not in (0, 1, 70) and "Traceback" not in result.output
    assert str(bad) in result.output
    assert fresh_fake.requests == []  # nothing was collected
