"""``posture evidence``: write an auditor's evidence folder for one or more frameworks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posture.cli.logs import LOG
from posture.cli.options import HistoryStore, SnapshotArg, err, say, warn_exceptions
from posture.cli.report import print_tracked
from posture.cli.selection import Chosen, require_provider, selecting


@selecting(err)
def evidence(
    snapshot_file: SnapshotArg,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="The evidence folder (new or empty).")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the evidence folder already in --output-dir.")
    ] = False,
    framework: Annotated[
        list[str] | None,
        typer.Option("--framework", help="The frameworks whose checks to report (repeatable or "
                     "comma-separated ids; default soc2)."),
    ] = None,
    exceptions: Annotated[
        Path | None,
        typer.Option("--exceptions", help="TOML file of accepted risks (copied into the folder)."),
    ] = None,
    store: HistoryStore = None,
    *,
    chosen: Chosen,
) -> None:
    """Audit a snapshot and write a folder an auditor takes as is: reports, controls.csv, the
    snapshot, manifest.json and SHA256SUMS with the SHA-256 of every file."""
    from posture.history.tracking import Tracking
    from posture.pipeline import load_prepared
    from posture.registry import framework_ids, load_catalogue
    from posture.reporters.evidence import write_evidence

    catalogue = load_catalogue()
    frameworks = tuple(catalogue.framework(i) for i in framework_ids(framework) or ("soc2",))
    tracking = Tracking.parse(store, exceptions, None)
    warn_exceptions(tracking)
    prepared = load_prepared(snapshot_file)
    require_provider(chosen.selection, chosen.check_ids, prepared.inventory.meta.provider)
    data = snapshot_file.read_bytes()
    result = write_evidence(
        prepared, data, catalogue, frameworks, output_dir, tracking, chosen.check_ids, force
    )
    LOG.info("evidence: %d finding(s), %d file(s) written", len(result.tracked.findings),
             len(result.manifest["files"]))
    for entry in result.manifest["files"]:
        say(f"{entry['sha256']}  {output_dir / entry['path']}")
    say(f"manifest: {output_dir / 'manifest.json'}")
    say(f"checksums: {output_dir / result.manifest['checksums']}")
    print_tracked(result.tracked, tracking)
    if result.tracked.store_error is not None:  # the folder is written; the store failed
        raise typer.Exit(5)  # ExitCode.HISTORY
