"""``posture audit github.json --cloud aws.json``: saved snapshots joined end to end — the
CI-to-cloud finding in the reports, the joined snapshots named in the manifest, every other
finding unchanged, and one-line errors for combinations that make no sense."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.github import environment, inventory, org, repo
from support.github_cloud import ADMIN, aws_account, azure_identity, github_role, sub
from typer.testing import CliRunner

from posture import snapshot
from posture.cli.main import app

JOIN = "github.cicd.pull_request_to_production_admin"
runner = CliRunner()


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Path]:
    """A GitHub snapshot and an AWS one whose admin role trusts acme/app's pull requests."""
    files = {"github": tmp_path / "github.json", "aws": tmp_path / "aws.json",
             "azure": tmp_path / "azure.json"}
    snapshot.save(inventory(org(), repo(), environment()), files["github"])
    snapshot.save(aws_account(github_role(
        "deploy", sub("StringEquals", "repo:acme/app:pull_request"), ADMIN)), files["aws"])
    snapshot.save(azure_identity("repo:acme/app:environment:production"), files["azure"])
    return files


def audit(out: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["audit", *args, "-o", str(out), "-f", "json", "-q"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return doc


def test_audit_with_cloud_snapshots_joins_them(saved: dict[str, Path], tmp_path: Path) -> None:
    doc = audit(tmp_path / "joined", str(saved["github"]), "--cloud", str(saved["aws"]),
                "--cloud", str(saved["azure"]))
    (join,) = [f for f in doc["findings"] if f["check_id"] == JOIN]
    assert (join["status"], join["severity"]) == ("FAIL", "critical")
    assert join["message"].startswith("repository acme/app's workflow on a pull request can "
                                      "assume role deploy, which is admin-equivalent")
    assert [h["kind"] for h in join["evidence"]["path"]][-2:] == ["role", "administrator"]
    assert {p["cloud"] for p in join["evidence"]["ci_paths"]} == {"aws", "azure"}
    notes = doc["scan"]["notes"]
    sha = hashlib.sha256(saved["aws"].read_bytes()).hexdigest()
    assert f"joined with aws snapshot {saved['aws']} (accounts 123456789012; sha256 {sha})" \
        in notes
    assert any(n.startswith("joined with azure snapshot") for n in notes)
    assert doc["scan"]["provider"] == "github"


def test_without_cloud_only_the_join_differs(saved: dict[str, Path], tmp_path: Path) -> None:
    alone = audit(tmp_path / "alone", str(saved["github"]))
    joined = audit(tmp_path / "joined", str(saved["github"]), "--cloud", str(saved["aws"]))
    assert alone["scan"]["notes"] == []
    (lonely,) = [f for f in alone["findings"] if f["check_id"] == JOIN]
    assert lonely["status"] == "INCONCLUSIVE" and "--cloud" in lonely["message"]
    rest = [[f for f in d["findings"] if f["check_id"] != JOIN] for d in (alone, joined)]
    assert rest[0] == rest[1] and rest[0]
    audit(tmp_path / "again", str(saved["github"]))
    assert (tmp_path / "alone" / "findings.json").read_bytes() == \
        (tmp_path / "again" / "findings.json").read_bytes()


def _posture(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from posture.cli.main import main; main()",
                           *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ), stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("args", "code", "text"), [
    (("aws", "--cloud", "aws"), 2, "joins cloud snapshots to a GitHub snapshot; "),
    (("github", "--cloud", "github"), 2, "is a github snapshot: give the GitHub snapshot as"),
    (("github", "--cloud", "missing"), 3, "snapshot file not found"),
    (("github", "--cloud", "bad"), 3, "malformed JSON"),
], ids=["cloud-as-main", "github-as-cloud", "missing", "malformed"])
def test_one_line_errors(saved: dict[str, Path], tmp_path: Path, args: tuple[str, ...],
                         code: int, text: str) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    paths = {**{k: str(v) for k, v in saved.items()}, "missing": str(tmp_path / "nope.json"),
             "bad": str(tmp_path / "bad.json")}
    argv = [paths.get(a, a) for a in args]
    proc = _posture("audit", *argv, "-o", str(tmp_path / "out"), "-q")
    assert proc.returncode == code, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("posture: error: "), proc.stderr
    assert text in lines[0]


def test_an_organisation_directory_adds_every_account(saved: dict[str, Path],
                                                      tmp_path: Path) -> None:
    from posture.org.manifest import FILENAME, AccountEntry, AccountStatus, Manifest, OuStep

    folder = tmp_path / "org"
    folder.mkdir()
    data = saved["aws"].read_bytes()
    (folder / "123456789012.json").write_bytes(data)
    entry = AccountEntry("123456789012", "prod", (OuStep("r-1", "Root"),), False,
                         AccountStatus.SCANNED, "", ("us-east-1",), "123456789012.json",
                         hashlib.sha256(data).hexdigest())
    manifest = Manifest("org-scan", "1", "t0", "t1", None, "o-1", "arn", "999999999999",
                        (entry,))
    (folder / FILENAME).write_bytes(manifest.dumps())
    doc = audit(tmp_path / "out", str(saved["github"]), "--cloud", str(folder))
    (join,) = [f for f in doc["findings"] if f["check_id"] == JOIN]
    assert join["status"] == "FAIL"
    (folder / "123456789012.json").write_bytes(data.replace(b"deploy", b"deplox"))
    proc = _posture("audit", str(saved["github"]), "--cloud", str(folder), "-o",
                    str(tmp_path / "tampered"), "-q")
    assert proc.returncode == 3 and "does not match the manifest" in proc.stderr
