"""The command line people expect from Prowler and ScoutSuite: which checks run (``-c`` ids and
globs, ``--service``, ``--severity``, ``--exclude-check``), what a run says on stderr
(``--quiet``, ``--verbose``, ``--log-level``, plain progress lines off a terminal), and the
script-friendly outputs (``checks list --plain``, ``diff --summary``, findings.csv's provider)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from support.aws import asset, inventory
from typer.testing import CliRunner

from posture import snapshot
from posture.cli.main import app
from posture.model import Severity
from posture.registry import load_catalogue

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo" / "snapshot.json"  # the AWS demo account
Run = Callable[..., subprocess.CompletedProcess[str]]
OneLine = Callable[[subprocess.CompletedProcess[str], int, str], None]


def _audit(out: Path, *args: str, snap: Path = DEMO) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["audit", str(snap), "-o", str(out), "-f", "json,csv", "-q",
                                 *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads((out / "findings.json").read_text(encoding="utf-8"))


def _ran(doc: dict) -> set[str]:  # type: ignore[type-arg]
    return {f["check_id"] for f in doc["findings"]}


def _aws_ids(pattern: str = "aws.*") -> set[str]:
    return {i for i in load_catalogue().ids() if fnmatchcase(i, pattern)}


# ------------------------------------------------------------------------- which checks run


def test_service_and_severity_select_checks_by_the_catalogue(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    _, doc = _audit(tmp_path, "--service", "kubernetes,network", "--severity", "critical",
                    "--severity", "high")
    ran = _ran(doc)
    assert ran, "the demo account has Kubernetes and network findings"
    for check_id in ran:
        spec = catalogue.get(check_id).spec
        assert check_id.split(".")[1] in {"kubernetes", "network"}, check_id
        assert spec.severity in (Severity.CRITICAL, Severity.HIGH), check_id


def test_check_globs_and_exclusions(tmp_path: Path) -> None:
    _, doc = _audit(tmp_path, "-c", "aws.kubernetes.*", "--exclude-check",
                    "aws.kubernetes.eks_endpoint_*,aws.kubernetes.eks_version_supported")
    ran = _ran(doc)
    assert ran and all(fnmatchcase(i, "aws.kubernetes.*") for i in ran)
    assert not [i for i in ran if fnmatchcase(i, "aws.kubernetes.eks_endpoint_*")]
    assert "aws.kubernetes.eks_version_supported" not in ran
    # a plain id and a glob, comma-separated, in one option
    _, doc = _audit(tmp_path / "b", "-c", "aws.kubernetes.eks_endpoint_not_public,aws.iam.*")
    assert _ran(doc) <= {"aws.kubernetes.eks_endpoint_not_public"} | _aws_ids("aws.iam.*")
    assert "aws.kubernetes.eks_endpoint_not_public" in _ran(doc)


def test_severity_filters_checks_and_fail_on_judges_what_ran(tmp_path: Path) -> None:
    """``--severity`` chooses checks, the reports hold their findings, and the exit code of
    ``--fail-on`` follows exactly those findings."""
    for sev in ("critical", "low"):
        code, doc = _audit(tmp_path / sev, "--severity", sev, "--fail-on", "critical")
        fails = [f for f in doc["findings"] if f["status"] == "FAIL"]
        assert code == (1 if any(f["severity"] == "critical" for f in fails) else 0), sev
        catalogue = load_catalogue()
        assert {catalogue.get(i).spec.severity.label for i in _ran(doc)} == {sev}
    assert _audit(tmp_path / "c2", "--severity", "critical", "--fail-on", "critical")[0] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["-c", "aws.nope.*"], "-c 'aws.nope.*' matches no check id"),
    (["-c", "aws.nope.missing"], "unknown check id 'aws.nope.missing'"),
    (["--exclude-check", "aws.x*"], "--exclude-check 'aws.x*' matches no check id"),
    (["--service", "k8s"], "unknown service 'k8s' (known: appservice,"),
    (["--severity", "huge"], "unknown severity 'huge'"),
    (["--severity", "info"], "--severity info selects no check"),
    (["-c", "aws.kubernetes.*", "--exclude-check", "aws.kubernetes.*"], "selects no check"),
    (["--service", "appservice"], "--service appservice selects no aws check"),
    (["-q", "-v"], "--quiet and --verbose contradict each other"),
    (["--log-level", "loud"], "unknown --log-level 'loud'"),
])
def test_bad_selection_is_a_one_line_usage_error(
    args: list[str], message: str, tmp_path: Path, posture: Run, one_line_error: OneLine,
) -> None:
    proc = posture("audit", str(DEMO), "-o", str(tmp_path / "out"), "-f", "json", *args)
    one_line_error(proc, 2, message)
    assert not (tmp_path / "out" / "findings.json").exists()


def test_demo_and_evidence_refuse_a_bad_selection_before_any_work(
    tmp_path: Path, posture: Run, one_line_error: OneLine,
) -> None:
    proc = posture("demo", "-o", str(tmp_path / "demo"), "-c", "aws.nope.*")
    one_line_error(proc, 2, "matches no check id")
    assert "emulator" not in proc.stdout  # refused before the emulator started
    proc = posture("evidence", str(DEMO), "-o", str(tmp_path / "ev"), "--severity", "huge")
    one_line_error(proc, 2, "unknown severity 'huge'")
    assert not (tmp_path / "ev").exists()


def test_checks_list_plain_prints_one_id_per_line() -> None:
    result = runner.invoke(app, ["checks", "list", "--plain"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == list(load_catalogue().ids())
    chosen = runner.invoke(app, ["checks", "list", "--plain", "--provider", "aws", "--service",
                                 "kubernetes", "--severity", "critical"])
    assert chosen.stdout.splitlines() == sorted(
        i for i in _aws_ids("aws.kubernetes.*")
        if load_catalogue().get(i).spec.severity is Severity.CRITICAL)
    both = runner.invoke(app, ["checks", "list", "--plain", "--json"])
    assert both.exit_code == 2 and "give one" in both.output


# ---------------------------------------------------------------------------- stderr lines


def test_plain_progress_lines_when_not_a_terminal(tmp_path: Path, posture: Run) -> None:
    """A pipe (cron, CI) gets one plain line per phase on stderr, the same every run."""
    args = ("audit", str(DEMO), "-f", "json", "--service", "kubernetes")
    first = posture(*args, "-o", str(tmp_path / "a"))
    second = posture(*args, "-o", str(tmp_path / "b"))
    assert first.returncode == 0, first.stderr
    checks = len(_aws_ids("aws.kubernetes.*"))  # the snapshot's cloud's checks of the service
    assert first.stderr.splitlines() == [f"info: running checks ({checks})",
                                         "info: running checks: done"]
    assert first.stderr == second.stderr
    assert "\x1b" not in first.stderr + first.stdout  # no colours or cursor movement
    verbose = posture(*args, "-o", str(tmp_path / "c"), "-v")
    assert "debug: posture.progress: running checks: aws.kubernetes." in verbose.stderr
    for quiet in (["-q"], ["--log-level", "error"]):
        proc = posture(*args, "-o", str(tmp_path / "d"), *quiet)
        assert proc.returncode == 0 and proc.stderr == "", (quiet, proc.stderr)
        assert ("Failed checks" in proc.stdout) is (quiet[0] != "-q")  # -q: no summary


def test_scan_logs_one_line_per_collected_service_and_region(
    moto_endpoint: str, tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["scan", "aws", "--endpoint-url", moto_endpoint, "-r",
                                 "us-east-1", "-o", str(tmp_path), "-f", "json", "--service",
                                 "encryption"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    collected = [line for line in lines if line.startswith("info: collecting aws: ")]
    assert "info: collecting aws: ec2 us-east-1" in collected
    assert len(collected) == len(set(collected)) > 5
    start = lines.index(f"info: running checks ({len(_aws_ids('aws.encryption.*'))})")
    assert lines[start + 1] == "info: running checks: done"
    assert not [line for line in lines[start:] if line.startswith("info: collecting")]
    quiet = runner.invoke(app, ["scan", "aws", "--endpoint-url", moto_endpoint, "-r",
                                "us-east-1", "-o", str(tmp_path), "-f", "json", "-q", "-c",
                                "aws.encryption.*"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


# --------------------------------------------------------------------------- the outputs


def test_findings_csv_has_a_provider_column(tmp_path: Path) -> None:
    _audit(tmp_path, "--service", "network")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "findings.csv").read_text("utf-8-sig"))))
    assert rows and {r["provider"] for r in rows} == {"aws"}
    assert list(rows[0])[3:5] == ["severity", "provider"]


VOLUME = "AWS::EC2::Volume"
CHECK = "aws.encryption.ebs_volume_encrypted"


def _snap(tmp_path: Path, name: str, **volumes: bool) -> Path:
    path = tmp_path / f"{name}.json"
    snapshot.save(inventory(*(
        asset(VOLUME, f"arn:aws:ec2:us-east-1:123456789012:volume/{v}", encrypted=enc)
        for v, enc in volumes.items())), path)
    return path


def test_diff_summary_counts_per_severity_and_check(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    for name, vols in (("s1", {"a": False, "b": False}), ("s2", {"a": False, "c": False})):
        result = runner.invoke(app, ["audit", str(_snap(tmp_path, name, **vols)), "-o",
                                     str(tmp_path / name), "-q", "-c", CHECK, "--store", db])
        assert result.exit_code == 0, result.output
    text = runner.invoke(app, ["diff", "--store", db, "--summary"])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert "severity  new  resolved  still open  sev. changed" in lines
    severity = load_catalogue().get(CHECK).spec.severity.label
    row = next(line for line in lines if line.startswith(f"{severity} "))
    assert row.split()[1:] == ["1", "1", "1", "0"]
    assert next(line for line in lines if line.startswith(CHECK)).split()[1:] == [
        "1", "1", "1", "0"]
    assert lines[-1] == "total: 1 new, 1 resolved, 1 still open, 0 sev. changed"
    assert "volume/" not in text.stdout  # counts, not the list of resources
    doc = json.loads(runner.invoke(app, ["diff", "--store", db, "--summary", "--json"]).stdout)
    assert set(doc) == {"before", "after", "summary"}
    assert doc["summary"]["by_check"] == {CHECK: {"new": 1, "resolved": 1, "still_open": 1,
                                                  "severity_changed": 0}}
    assert list(doc["summary"]["by_severity"]) == ["critical", "high", "medium", "low", "info"]


def test_log_level_governs_warnings_too(tmp_path: Path) -> None:
    """A warning (an exception naming no check) is on stderr at the default level and at
    ``-q``, and dropped at ``--log-level error``; the error line of a failure never is."""
    risks = tmp_path / "exceptions.toml"
    risks.write_text('[[exception]]\ncheck = "aws.nope.typo"\nresource = "*"\nreason = "r"\n'
                     'owner = "o@example.com"\nexpires = 2099-01-01\n', encoding="utf-8")
    args = ["audit", str(DEMO), "-o", str(tmp_path / "out"), "-f", "json", "-c",
            "aws.kubernetes.*", "--exceptions", str(risks)]
    for extra, warned in (([], True), (["-q"], True), (["--log-level", "error"], False)):
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        assert ("warning: " in result.stderr) is warned, (extra, result.stderr)
    failed = runner.invoke(app, [*args, "--log-level", "error", "--service", "nope"])
    assert failed.exit_code == 2 and failed.stderr.startswith("posture: error: unknown service")
