"""``posture evidence``: an existing evidence folder is replaced only with ``--force``, every file
in the folder is in its manifest, ``SHA256SUMS`` verifies with ``sha256sum -c``, and the
re-audit its README.txt states gives ``findings.json`` byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import DEMO
from typer.testing import CliRunner, Result

from posture.cli.main import app

SNAPSHOT = DEMO / "snapshot.json"
TODAY = "2026-01-15"


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_TODAY", TODAY)


def _evidence(out: Path, *extra: str) -> Result:
    return CliRunner().invoke(app, ["evidence", str(SNAPSHOT), "-o", str(out), *extra])


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _assert_manifest_lists_every_file(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    assert manifest["checksums"] == "SHA256SUMS"
    assert {p.name for p in folder.iterdir()} == listed | {"manifest.json", "SHA256SUMS"}
    return manifest


def test_an_existing_evidence_folder_is_replaced_only_with_force(
    tmp_path: Path, risks: Path
) -> None:
    out = tmp_path / "evidence"
    first = _evidence(out, "--exceptions", str(risks), "-c", "aws.encryption.ebs_volume_encrypted")
    assert first.exit_code == 0, first.output
    assert "exceptions.toml" in {f["path"] for f in _assert_manifest_lists_every_file(out)["files"]}
    before = _contents(out)
    refused = _evidence(out, "-c", "aws.encryption.ebs_volume_encrypted")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        f"posture: error: {out}: already holds an evidence folder; use a new folder, or "
        "--force to replace it")
    assert _contents(out) == before  # untouched
    forced = _evidence(out, "--force", "-c", "aws.encryption.ebs_volume_encrypted")
    assert forced.exit_code == 0, forced.output
    manifest = _assert_manifest_lists_every_file(out)
    assert not (out / "exceptions.toml").exists()  # the previous run's, not this one's
    assert "exceptions.toml" not in {f["path"] for f in manifest["files"]}
    # a folder holding a file posture did not write is refused, --force or not, and kept
    (out / "notes.txt").write_text("mine")
    for extra in ((), ("--force",)):
        busy = _evidence(out, *extra)
        assert busy.exit_code == 2 and "'notes.txt'" in busy.stderr, busy.output
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum here")
def test_sha256sums_verifies_every_file(tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    assert _evidence(out, "-c", "aws.encryption.ebs_volume_encrypted").exit_code == 0
    manifest = _assert_manifest_lists_every_file(out)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    verified = {line.rsplit(": ", 1)[0] for line in check.stdout.splitlines()}
    assert verified == {f["path"] for f in manifest["files"]} | {"manifest.json"}
    (out / "findings.csv").write_bytes(b"tampered\n")
    tampered = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True,
                              text=True, timeout=60)
    assert tampered.returncode != 0 and "findings.csv: FAILED" in tampered.stdout


def _readme_commands(folder: Path, heading: str) -> list[str]:
    """The indented command lines below ``heading`` in the folder's README.txt."""
    lines = (folder / "README.txt").read_text(encoding="utf-8").splitlines()
    start = lines.index(heading) + 1
    commands = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        commands.append(line.strip())
    return commands


@pytest.mark.parametrize("checks", [(), ("aws.encryption.ebs_volume_encrypted",
                                         "aws.iam.console_users_have_mfa")])
def test_the_readme_reaudit_reproduces_findings_json(
    tmp_path: Path, checks: tuple[str, ...], store_path: str, risks: Path
) -> None:
    """Recorded in a store, with exceptions, all checks or a few: the README's command, run in
    the folder on another day, writes the same findings.json byte for byte."""
    risks.write_text(risks.read_text().replace("*/vol_a", "*"))  # the demo's volumes
    out = tmp_path / "evidence"
    selected = [a for c in checks for a in ("-c", c)]
    result = _evidence(out, "--exceptions", str(risks), "--store", store_path, *selected)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert doc["exceptions"]["file"] == "exceptions.toml"
    assert all(c["title"] for fw in doc["summary"]["by_control"].values() for c in fw.values())
    commands = _readme_commands(out, "Reproduce findings.json from this folder:")
    assert commands[0].startswith(f"POSTURE_TODAY={TODAY} posture audit snapshot.json "
                                  "--exceptions exceptions.toml ")
    assert all(f"-c {c}" in commands[0] for c in checks)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "POSTURE_TODAY": "2027-12-31"}
    for command in commands:
        proc = subprocess.run(command, shell=True, cwd=out, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
    assert (tmp_path / "reaudit" / "findings.json").read_bytes() == (
        out / "findings.json").read_bytes()


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    """An SQLite history store the evidence run records into."""
    return str(tmp_path / "history.db")
