"""``posture evidence``: write an auditor's evidence folder for one framework."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posture.cli.options import HistoryStore, SnapshotArg, out
from posture.cli.report import print_tracked


def evidence(
    snapshot_file: SnapshotArg,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="The evidence folder (new or empty).")
    ],
    framework: Annotated[
        str, typer.Option("--framework", help="The framework whose checks to report (soc2).")
    ] = "soc2",
    exceptions: Annotated[
        Path | None,
        typer.Option("--exceptions", help="TOML file of accepted risks (copied into the folder)."),
    ] = None,
    store: HistoryStore = None,
    check: Annotated[
        list[str] | None, typer.Option("--check", "-c", help="Only this check id (repeatable).")
    ] = None,
) -> None:
    """Audit a snapshot and write a folder an auditor takes as is: reports, controls.csv, the
    snapshot and manifest.json with the SHA-256 of every file."""
    from posture.history.tracking import Tracking
    from posture.pipeline import load_prepared
    from posture.registry import load_catalogue
    from posture.reporters.evidence import write_evidence

    catalogue = load_catalogue()
    chosen = catalogue.framework(framework)
    tracking = Tracking.parse(store, exceptions, None)
    prepared = load_prepared(snapshot_file)
    data = snapshot_file.read_bytes()
    result = write_evidence(
        prepared, data, catalogue, chosen, output_dir, tracking, tuple(check or ())
    )
    for entry in result.manifest["files"]:
        out.print(f"{entry['sha256']}  {output_dir / entry['path']}", markup=False)
    out.print(f"manifest: {output_dir / 'manifest.json'}", markup=False)
    print_tracked(result.tracked, tracking)
