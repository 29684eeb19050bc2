"""``posture audit SNAPSHOT|DIR``: audit a saved inventory snapshot offline (no cloud access);
a directory saved by ``scan aws --organization --snapshot-out DIR`` re-audits every account of
the organisation (each snapshot's SHA-256 checked against the manifest first).

``--cloud SNAPSHOT`` (repeatable; an organisation scan's directory adds every account's
snapshot, verified against its manifest) audits cloud snapshots *beside* a GitHub snapshot: the
CI-to-cloud check follows the repositories' workflow tokens into their identities. Only the
GitHub snapshot is judged; the cloud snapshots are read, and named in the report's manifest
(``scan.notes``: file, provider, accounts, SHA-256) so the evidence says what was joined. A
cloud snapshot given as SNAPSHOT, or a GitHub snapshot given as ``--cloud``, is a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from posture.cli.options import (
    ReportOptions,
    report_command,
    say,
)
from posture.cli.report import audit_and_report
from posture.model import Provider
from posture.pipeline import Prepared, joined

SnapshotOrDir = Annotated[
    Path,
    typer.Argument(
        metavar="SNAPSHOT",
        help="A snapshot saved by `scan`, or the directory of an organisation scan.",
    ),
]
def cloud_option(beside: str) -> Any:
    """The repeatable ``--cloud SNAPSHOT`` option, joined ``beside`` a GitHub snapshot."""
    return typer.Option(
        "--cloud", metavar="SNAPSHOT",
        help=f"{beside}: a cloud snapshot (aws, azure, gcp) or organisation scan directory to "
        "join, so the CI-to-cloud check follows workflow tokens into it (repeatable).")


CloudSnapshots = Annotated[list[Path] | None, cloud_option("With a GitHub SNAPSHOT")]


@report_command
def audit(
    snapshot_file: SnapshotOrDir,
    *,
    cloud: CloudSnapshots = None,
    options: ReportOptions,
) -> None:
    """Audit a saved snapshot (or an organisation scan's directory) offline, no cloud access."""
    from posture.pipeline import load_prepared

    if snapshot_file.is_dir():
        if cloud:
            raise ValueError("--cloud joins cloud snapshots to a GitHub snapshot file, not to "
                             "an organisation scan's directory")
        _audit_directory(snapshot_file, options)
    prepared = load_prepared(snapshot_file)
    if cloud:
        before = len(prepared.inventory.meta.notes)
        prepared = _joined(prepared, snapshot_file, cloud)
        if not options.quiet:
            for note in prepared.inventory.meta.notes[before:]:
                say(note)
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


def _joined(prepared: Prepared, path: Path, clouds: list[Path]) -> Prepared:
    """``prepared`` with the cloud snapshots as companions, named in its manifest's notes."""
    provider = prepared.inventory.meta.provider
    if provider is not Provider.GITHUB:
        raise ValueError(f"--cloud joins cloud snapshots to a GitHub snapshot; {path} is a "
                         f"snapshot of {provider.value}")
    return joined(prepared, cloud_snapshots(clouds))


def cloud_snapshots(clouds: list[Path]) -> list[tuple[str, Prepared]]:
    """The ``--cloud`` snapshots, loaded (and verified, for an organisation's directory);
    a GitHub snapshot among them is a usage error."""
    found: list[tuple[str, Prepared]] = []
    for given in clouds:
        for name, one in _cloud_snapshots(given):
            if one.inventory.meta.provider is Provider.GITHUB:
                raise ValueError(f"--cloud {name} is a github snapshot: give the GitHub "
                                 "snapshot as SNAPSHOT and cloud snapshots as --cloud")
            found.append((name, one))
    return found


def _cloud_snapshots(path: Path) -> list[tuple[str, Prepared]]:
    """(name, prepared) of a snapshot file, or of every account of an organisation scan's
    directory (each verified against the manifest)."""
    from posture.org.manifest import read_manifest, read_verified
    from posture.pipeline import load_prepared

    if not path.is_dir():
        return [(str(path), load_prepared(path))]
    out = []
    for entry in read_manifest(path).accounts:
        read_verified(path, entry)
        file = path / entry.snapshot
        out.append((str(file), load_prepared(file)))
    return out
