"""``posture audit SNAPSHOT|DIR``: audit a saved inventory snapshot offline (no cloud access);
a directory saved by ``scan aws --organization --snapshot-out DIR`` re-audits every account of
the organisation (each snapshot's SHA-256 checked against the manifest first)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posture.cli.options import (
    ReportOptions,
    report_command,
)
from posture.cli.report import audit_and_report

SnapshotOrDir = Annotated[
    Path,
    typer.Argument(
        metavar="SNAPSHOT",
        help="A snapshot saved by `scan`, or the directory of an organisation scan.",
    ),
]


@report_command
def audit(
    snapshot_file: SnapshotOrDir,
    *,
    options: ReportOptions,
) -> None:
    """Audit a saved snapshot (or an organisation scan's directory) offline, no cloud access."""
    from posture.pipeline import load_prepared

    if snapshot_file.is_dir():
        _audit_directory(snapshot_file, options)
    prepared = load_prepared(snapshot_file)
    raise typer.Exit(int(audit_and_report(prepared, options)))


def _audit_directory(path: Path, options: ReportOptions) -> None:
    from posture.cli.org_report import account_progress, report_organization
    from posture.org.manifest import read_manifest
    from posture.org.run import audit_directory
    from posture.registry import load_catalogue

    catalogue = load_catalogue()
    total = len(read_manifest(path).accounts)
    with account_progress("Auditing accounts", total, options.quiet) as on_account:
        result = audit_directory(path, catalogue, check_ids=options.check_ids,
                                 on_account=on_account)
    report_organization(result, catalogue, options)
