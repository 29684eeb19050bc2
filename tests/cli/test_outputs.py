"""A reports folder run into again: the files posture wrote there before and does not write
this time are removed (listed, with their SHA-256, in ``.posture-outputs``), the others are
left as they are and named on stderr; nothing posture did not write is ever deleted."""

from __future__ import annotations

from pathlib import Path

from support import DEMO
from typer.testing import CliRunner, Result

from posture.cli.main import app
from posture.reporters import OUTPUTS_MARKER

SNAPSHOT = str(DEMO / "snapshot.json")
CHECK = "aws.iam.console_users_have_mfa"  # the demo has identities: controls adds identity.csv


def _audit(out: Path, formats: str) -> Result:
    result = CliRunner().invoke(app, ["audit", SNAPSHOT, "-o", str(out), "-q", "-c", CHECK,
                                      "-f", formats])
    assert result.exit_code == 0, result.output
    return result


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_fewer_formats_remove_the_previous_runs_files(tmp_path: Path) -> None:
    out = tmp_path / "r"
    _audit(out, "csv,json,html,controls")
    assert _names(out) == {"findings.csv", "findings.json", "report.html", "controls.csv",
                           "identity.csv", OUTPUTS_MARKER}
    (out / "notes.txt").write_text("mine")
    again = _audit(out, "json")
    assert _names(out) == {"findings.json", "notes.txt", OUTPUTS_MARKER}
    removed = sorted(line for line in again.stdout.splitlines() if line.startswith("removed"))
    assert removed == [f"removed: {out / name} (written by the previous run, not by this one)"
                       for name in ("controls.csv", "findings.csv", "identity.csv",
                                    "report.html")]
    assert again.stderr == ""
    assert f" json: {out / 'findings.json'}" in again.stdout.splitlines()  # never folded
    marker = (out / OUTPUTS_MARKER).read_text(encoding="utf-8").splitlines()
    assert [line.split("  ")[1] for line in marker if not line.startswith("#")] == [
        "findings.json"]


def test_files_posture_did_not_write_or_that_changed_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "report.html").write_text("an older report, from before the marker")
    _audit(out, "csv,json")
    (out / "findings.csv").write_text("edited by hand")
    (out / OUTPUTS_MARKER).write_text(
        (out / OUTPUTS_MARKER).read_text() + f"{'0' * 64}  ../outside.txt\n")
    (tmp_path / "outside.txt").write_text("never touched")
    again = _audit(out, "json")
    assert (out / "report.html").exists() and (out / "findings.csv").read_text() == (
        "edited by hand")
    assert (tmp_path / "outside.txt").exists()
    assert sorted(again.stderr.strip().splitlines()) == [
        f"warning: {out / name} is not from this run: kept (posture removes only the files it "
        "wrote, unchanged)" for name in ("findings.csv", "report.html")]
