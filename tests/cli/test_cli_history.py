"""The command line of history, diff, exceptions and evidence: three recorded audits in which
failures appear, persist and resolve; ``--fail-on-new``; ``--exceptions``; ``posture evidence``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.aws import asset, inventory
from typer.testing import CliRunner, Result

from posture import snapshot
from posture.cli.main import app

runner = CliRunner()
Run = Callable[..., subprocess.CompletedProcess[str]]
OneLine = Callable[[subprocess.CompletedProcess[str], int, str], None]
VOLUME = "AWS::EC2::Volume"
CHECK = "aws.encryption.ebs_volume_encrypted"


def _snap(tmp_path: Path, name: str, **volumes: bool) -> Path:
    assets = [
        asset(VOLUME, f"arn:aws:ec2:us-east-1:123456789012:volume/{vol}", encrypted=enc)
        for vol, enc in volumes.items()
    ]
    path = tmp_path / f"{name}.json"
    snapshot.save(inventory(*assets), path)
    return path


def _audit(snap: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", str(snap), "-o", str(out), "-q", "-c", CHECK, *extra])
    return result.exit_code, result.stdout


def test_history_and_diff_across_three_scans(tmp_path: Path) -> None:
    db = str(tmp_path / "history.db")
    s1 = _snap(tmp_path, "s1", vol_a=False, vol_b=False, vol_c=True)
    s2 = _snap(tmp_path, "s2", vol_a=False, vol_b=True, vol_c=False)
    s3 = _snap(tmp_path, "s3", vol_a=True, vol_b=True, vol_c=False, vol_d=False)
    code, text = _audit(s1, tmp_path / "r1", "--store", db, "--fail-on-new", "high")
    assert code == 0 and "first of its scope" in text  # no baseline yet: nothing is new
    code, text = _audit(s2, tmp_path / "r2", "--store", db, "--fail-on-new", "high")
    assert code == 1, text  # vol_c newly fails
    assert "1 new, 1 resolved, 1 still open" in text
    code, _ = _audit(s3, tmp_path / "r3", "--store", db, "--fail-on-new", "critical")
    assert code == 0  # vol_d is new, but only high
    listed = json.loads(runner.invoke(app, ["history", "--store", db, "--json"]).stdout)
    assert [r["id"] for r in listed] == [3, 2, 1]
    assert [r["counts"]["FAIL"] for r in listed] == [2, 2, 2]
    latest = json.loads(runner.invoke(app, ["diff", "--store", db, "--json"]).stdout)
    assert (latest["before"]["id"], latest["after"]["id"]) == (2, 3)

    def vols(changes: list[dict]) -> list[str]:
        return sorted(c["resource_uid"].rsplit("/", 1)[1] for c in changes)

    assert vols(latest["new"]) == ["vol_d"]
    assert vols(latest["resolved"]) == ["vol_a"]
    assert vols(latest["still_open"]) == ["vol_c"]
    first = json.loads(runner.invoke(app, ["diff", "1", "2", "--store", db, "--json"]).stdout)
    assert (vols(first["new"]), vols(first["resolved"]), vols(first["still_open"])) == (
        ["vol_c"],
        ["vol_b"],
        ["vol_a"],
    )
    table = runner.invoke(app, ["diff", "2", "--store", db])  # 2 against the one before it
    assert table.exit_code == 0 and "New failures (1)" in table.stdout
    gate = runner.invoke(app, ["diff", "--store", db, "--fail-on-new", "medium"])
    assert gate.exit_code == 1
    # the report of a recorded scan shows what is new since the previous one
    doc = json.loads((tmp_path / "r3" / "findings.json").read_text())
    assert doc["history"] == {
        "record": 3,
        "previous_record": 2,
        "previous_scan_id": "test-scan",
        "new": 1,
        "resolved": 1,
        "still_open": 1,
    }
    html = (tmp_path / "r3" / "report.html").read_text()
    assert html.count('data-new="1"') == 1 and 'id="history"' in html
    _audit(s3, tmp_path / "plain")  # not recorded: no history block, no markers
    assert "history" not in json.loads((tmp_path / "plain" / "findings.json").read_text())
    assert 'data-new="1"' not in (tmp_path / "plain" / "report.html").read_text()


def test_store_from_the_environment_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap = _snap(tmp_path, "s", vol_a=False)
    monkeypatch.setenv("POSTURE_STORE", str(tmp_path / "env.db"))
    assert _audit(snap, tmp_path / "r")[0] == 0
    assert len(json.loads(runner.invoke(app, ["history", "--json"]).stdout)) == 1
    monkeypatch.delenv("POSTURE_STORE")
    assert runner.invoke(app, ["history"]).exit_code == 2  # no store given
    code, _ = _audit(snap, tmp_path / "r", "--fail-on-new", "high")
    assert code == 2  # --fail-on-new needs a store
    one = runner.invoke(app, ["diff", "--store", str(tmp_path / "env.db")])
    assert one.exit_code == 3  # only one scan: nothing to compare with




def test_exceptions_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, risks: Path
) -> None:
    snap = _snap(tmp_path, "s", vol_a=False)
    monkeypatch.setenv("POSTURE_TODAY", "2026-06-30")
    code, text = _audit(snap, tmp_path / "a", "--exceptions", str(risks), "--fail-on", "high")
    assert code == 0, text
    assert "1 finding(s) EXCEPTED, 0 expired" in text
    doc = json.loads((tmp_path / "a" / "findings.json").read_text())
    assert [f["status"] for f in doc["findings"]] == ["EXCEPTED"]
    monkeypatch.setenv("POSTURE_TODAY", "2026-07-01")
    expired = _audit_result(snap, tmp_path / "b", "--exceptions", str(risks), "--fail-on", "high")
    assert expired.exit_code == 1  # the exception expired: the finding counts again
    assert "expired on 2026-06-30" in expired.stderr  # a warning: on stderr
    doc = json.loads((tmp_path / "b" / "findings.json").read_text())
    assert doc["exceptions"]["entries"][0]["state"] == "expired"


def test_malformed_exceptions_file_is_a_one_line_error(tmp_path: Path, risks: Path) -> None:
    bad = risks
    bad.write_text(risks.read_text().replace('owner = "platform"\n', ""))
    snap = _snap(tmp_path, "s", vol_a=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from posture.cli.main import main; main()",
            "audit",
            str(snap),
            "--exceptions",
            str(bad),
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [f"posture: error: {bad}:1: exception lacks owner"]
    assert not (tmp_path / "out").exists()  # checked before anything ran


def test_evidence_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, risks: Path) -> None:
    snap = _snap(tmp_path, "s", vol_a=False, vol_b=True)
    monkeypatch.setenv("POSTURE_TODAY", "2026-01-15")
    out = tmp_path / "evidence"
    result = runner.invoke(
        app,
        [
            "evidence",
            "--framework",
            "soc2",
            str(snap),
            "-o",
            str(out),
            "--exceptions",
            str(risks),
            "-c",
            CHECK,
        ],
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "README.txt",
        "SHA256SUMS",
        "controls.csv",
        "exceptions.toml",
        "findings.csv",
        "findings.json",
        "manifest.json",
        "report.html",
        "snapshot.json",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["framework"]["id"] == "SOC2"
    assert manifest["scan_id"] == "test-scan" and manifest["evaluated_on"] == "2026-01-15"
    assert manifest["catalogue_version"].startswith(manifest["tool_version"] + "+c")
    assert (out / "snapshot.json").read_bytes() == snap.read_bytes()
    assert manifest["snapshot_sha256"] == hashlib.sha256(snap.read_bytes()).hexdigest()
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json", "SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    controls = (out / "controls.csv").read_text(encoding="utf-8-sig").splitlines()
    assert controls[0] == (
        "framework,control,title,verdict,pass,fail,inconclusive,error,excepted,checks"
    )
    assert all(line.startswith("SOC2,") for line in controls[1:])
    cc61 = next(line for line in controls if line.startswith("SOC2,CC6.1,"))
    assert ",EXCEPTED,1,0,0,0,1," in cc61 and CHECK in cc61
    html = (out / "report.html").read_text()
    assert manifest["catalogue_version"] in html
    # a folder holding something else is refused
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    busy = runner.invoke(app, ["evidence", str(snap), "-o", str(tmp_path / "busy")])
    assert busy.exit_code == 2
    assert (
        runner.invoke(app, ["evidence", str(snap), "-o", str(out), "--framework", "iso"]).exit_code
        == 2
    )


def _audit_result(snap: Path, out: Path, *extra: str) -> Result:
    return runner.invoke(app, ["audit", str(snap), "-o", str(out), "-q", "-c", CHECK, *extra])


def test_exception_warnings_go_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, risks: Path
) -> None:
    """An expired exception and one naming no known check are warnings on stderr (a typo fails
    closed: its finding stays FAIL); stdout keeps the report lines."""
    snap = _snap(tmp_path, "s", vol_a=False)
    one = risks.read_text()
    typo = (one.replace(CHECK, "aws.encryption.ebs_volume_encrypt")
            .replace("vol_a", "x").replace("2026-06-30", "2027-06-30"))
    risks.write_text(one + "\n" + typo)
    monkeypatch.setenv("POSTURE_TODAY", "2026-07-01")
    result = _audit_result(snap, tmp_path / "a", "--exceptions", str(risks), "--fail-on", "high")
    assert result.exit_code == 1, result.output
    assert not [line for line in result.stdout.splitlines() if line.startswith("warning")]
    assert "exceptions: 2 in" in result.stdout
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 2, warnings
    assert warnings[0] == (
        f"warning: {risks}:8: check 'aws.encryption.ebs_volume_encrypt' names no check of this "
        "posture (see `posture checks list`): the exception covers nothing")
    assert warnings[1].startswith(f"warning: exception {risks}:1 (") and "expired" in warnings[1]


def test_blanket_exception_is_refused_and_never_passes_fail_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, posture: Run, one_line_error: OneLine,
    risks: Path,
) -> None:
    snap = _snap(tmp_path, "s", vol_a=False)
    risks.write_text(risks.read_text().replace(f'"{CHECK}"', '"*"').replace('"*/vol_a"', '"*"'))
    monkeypatch.setenv("POSTURE_TODAY", "2026-01-01")
    proc = posture("audit", str(snap), "-o", str(tmp_path / "a"), "--exceptions", str(risks),
                   "--fail-on", "low")
    one_line_error(proc, 2, f"{risks}:2: check = '*' with resource = '*' excepts every finding")
    assert not (tmp_path / "a").exists()
    # meant: allowed, and said on every run
    risks.write_text(risks.read_text() + "allow_all = true\n")
    result = _audit_result(snap, tmp_path / "b", "--exceptions", str(risks))
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        f"warning: {risks}:1: check '*' on resource '*' excepts every finding (allow_all = true)")


def test_history_and_diff_on_a_mistyped_store_create_nothing(
    tmp_path: Path, posture: Run, one_line_error: OneLine
) -> None:
    typo = tmp_path / "histroy.db"
    for command in ("history", "diff"):
        one_line_error(posture(command, "--store", str(typo)), 3, f"{typo}: no history store")
    assert not typo.exists()
    # a store in a folder that does not exist: named, for the commands that record too
    snap = _snap(tmp_path, "s", vol_a=False)
    missing = tmp_path / "nowhere" / "history.db"
    proc = posture("audit", str(snap), "-o", str(tmp_path / "r"), "-q", "-c", CHECK,
                   "--store", str(missing))
    one_line_error(proc, 3, f"{missing}: the folder {missing.parent} does not exist")
    one_line_error(posture("history", "--store", str(missing)), 3, str(missing))
