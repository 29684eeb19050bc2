"""``posture audit SNAPSHOT``: audit a saved inventory snapshot offline (no cloud access)."""

from __future__ import annotations

from pathlib import Path

import typer

from posture.cli.options import (
    CheckIds,
    ExceptionsOpt,
    FailOn,
    FailOnNew,
    Formats,
    OutputDir,
    Quiet,
    ReportOptions,
    SnapshotArg,
    Store,
)
from posture.cli.report import audit_and_report


def audit(
    snapshot_file: SnapshotArg,
    output_dir: OutputDir = Path("posture-report"),
    formats: Formats = "csv,json,html",
    fail_on: FailOn = None,
    check: CheckIds = None,
    quiet: Quiet = False,
    store: Store = None,
    exceptions: ExceptionsOpt = None,
    fail_on_new: FailOnNew = None,
) -> None:
    """Audit a saved inventory snapshot offline (no cloud access)."""
    from posture.pipeline import load_prepared

    options = ReportOptions.parse(
        output_dir, formats, fail_on, check, quiet, store, exceptions, fail_on_new
    )
    prepared = load_prepared(snapshot_file)
    raise typer.Exit(int(audit_and_report(prepared, options)))
