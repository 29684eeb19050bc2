"""``posture audit SNAPSHOT``: audit a saved inventory snapshot offline (no cloud access)."""

from __future__ import annotations

import typer

from posture.cli.options import (
    ReportOptions,
    SnapshotArg,
    report_command,
)
from posture.cli.report import audit_and_report


@report_command
def audit(
    snapshot_file: SnapshotArg,
    *,
    options: ReportOptions,
) -> None:
    """Audit a saved inventory snapshot offline (no cloud access)."""
    from posture.pipeline import load_prepared

    prepared = load_prepared(snapshot_file)
    raise typer.Exit(int(audit_and_report(prepared, options)))
