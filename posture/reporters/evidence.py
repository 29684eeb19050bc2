"""An evidence folder an auditor takes as is: the reports of one framework's checks, the
snapshot they were computed from, the exceptions file applied, and ``manifest.json`` with the
SHA-256 of every file.

Layout of ``DIR``::

    README.txt        what the folder is and how to verify it
    findings.csv      findings.json      report.html      controls.csv
    identity.csv      who reaches what, how (only when the snapshot holds identities)
    snapshot.json     the inventory snapshot, byte for byte as audited
    exceptions.toml   the accepted risks applied (only with --exceptions)
    manifest.json     tool version, scan id, catalogue version, framework, evaluation date,
                      and {path, sha256, bytes} of every other file

The folder is written afresh: an existing ``DIR`` must be empty or hold only these files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posture import __version__
from posture.errors import ReportError
from posture.history.tracking import Tracked, Tracking
from posture.model import ScanMeta
from posture.pipeline import AuditRun, Prepared, run_audit
from posture.registry import Catalogue, Framework
from posture.reporters import (
    IDENTITY_FILENAME,
    OutputFormat,
    Report,
    companions,
    write_reports,
)

MANIFEST = "manifest.json"
SNAPSHOT = "snapshot.json"
EXCEPTIONS = "exceptions.toml"
README = "README.txt"
FORMATS = (OutputFormat.CSV, OutputFormat.JSON, OutputFormat.HTML, OutputFormat.CONTROLS)
OURS = frozenset(
    {
        MANIFEST,
        SNAPSHOT,
        EXCEPTIONS,
        README,
        "findings.csv",
        "findings.json",
        "report.html",
        "controls.csv",
        IDENTITY_FILENAME,
    }
)

_README = """Evidence folder written by posture {version}
Framework: {framework} ({framework_name})
Scan: {scan_id} ({provider}; accounts {accounts}; finished {finished})
Check catalogue: {catalogue}

report.html    the report for people (opens offline, loads nothing from the network)
controls.csv   one row per {framework} control: verdict, counts per status, checks behind it
findings.csv   one row per finding (check x resource), with evidence and remediation
findings.json  the same, machine-readable, with the scan manifest and collection errors
snapshot.json  the inventory the findings were computed from; re-audit it with
               `posture audit snapshot.json` to reproduce findings.json
manifest.json  the SHA-256 of every file here; verify with
               `sha256sum <file>` and compare
"""
_README_IDENTITY = """identity.csv   one row per identity and access: sign-in path (SSO or local),
               MFA, privilege standing or just in time, and whether it reaches production
"""


@dataclass(frozen=True, slots=True)
class Evidence:
    directory: Path
    manifest: dict[str, Any]
    tracked: Tracked


def _check_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out}: output path exists and is not a directory")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OURS)
        if foreign:
            raise ReportError(
                f"{out}: evidence folder is not empty (holds {foreign[0]!r}); use a new folder"
            )


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write evidence: {exc.strerror or exc}") from None


def _digest(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"path": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def write_evidence(
    prepared: Prepared,
    snapshot_bytes: bytes,
    catalogue: Catalogue,
    framework: Framework,
    out: Path,
    tracking: Tracking,
    check_ids: tuple[str, ...] = (),
) -> Evidence:
    """Audit the framework's checks on the snapshot and write the evidence folder."""
    _check_dir(out)
    mapped = {c for ids in framework.checks_by_control.values() for c in ids}
    reports: list[Report] = []

    def report(r: AuditRun) -> dict[OutputFormat, Path]:
        reports.append(Report.of(r, (framework,)))
        return write_reports(reports[-1], out, FORMATS)

    run, written = run_audit(
        prepared,
        catalogue,
        report,
        check_ids=check_ids,
        within=mapped,
        tracking=tracking,
    )
    files = [out / SNAPSHOT, *written.values()]
    extra = companions(reports[-1], FORMATS)
    files += [out / name for name in sorted(extra)]
    if IDENTITY_FILENAME not in extra:
        (out / IDENTITY_FILENAME).unlink(missing_ok=True)  # a previous folder's, now stale
    _write(out / SNAPSHOT, snapshot_bytes)
    if tracking.exceptions is not None:
        _write(out / EXCEPTIONS, Path(tracking.exceptions.path).read_bytes())
        files.append(out / EXCEPTIONS)
    _write(out / README, _readme(framework, run, IDENTITY_FILENAME in extra).encode("utf-8"))
    files.append(out / README)
    manifest = _manifest(framework, run, tracking, files)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    _write(out / MANIFEST, text.encode("utf-8"))
    return Evidence(out, manifest, run.tracked)


def _readme(framework: Framework, run: AuditRun, identity: bool = False) -> str:
    meta = run.prepared.inventory.meta
    return (_README + (_README_IDENTITY if identity else "")).format(
        version=__version__,
        framework=framework.id,
        framework_name=framework.name,
        scan_id=meta.scan_id,
        provider=meta.provider.value,
        accounts=", ".join(meta.accounts) or "-",
        finished=meta.finished_at,
        catalogue=run.catalogue_version,
    )


def _manifest(
    framework: Framework, run: AuditRun, tracking: Tracking, files: list[Path]
) -> dict[str, Any]:
    meta: ScanMeta = run.prepared.inventory.meta
    history = run.tracked.history
    return {
        "schema": "posture.evidence",
        "schema_version": 1,
        "tool": "posture",
        "tool_version": __version__,
        "framework": {"id": framework.id, "name": framework.name},
        "scan_id": meta.scan_id,
        "provider": meta.provider.value,
        "accounts": list(meta.accounts),
        "regions": list(meta.regions),
        "scan_started_at": meta.started_at,
        "scan_finished_at": meta.finished_at,
        "catalogue_version": run.catalogue_version,
        "checks": sorted(run.checks),
        "snapshot_sha256": run.prepared.snapshot_sha256,
        "evaluated_on": (tracking.today.isoformat() if tracking.today else None),
        "history_record": history.record_id if history else None,
        "files": sorted((_digest(p) for p in files), key=lambda d: d["path"]),
    }
