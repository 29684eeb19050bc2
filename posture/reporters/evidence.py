"""An evidence folder an auditor takes as is: the reports of one framework's checks, the
snapshot they were computed from, the exceptions file applied, and ``manifest.json`` with the
SHA-256 of every file (``SHA256SUMS`` holds the same for ``sha256sum -c``).

Layout of ``DIR``::

    README.txt        what the folder is, how to verify it and how to reproduce findings.json
    findings.csv      findings.json      report.html      controls.csv
    identity.csv      who reaches what, how (only when the snapshot holds identities)
    snapshot.json     the inventory snapshot, byte for byte as audited
    exceptions.toml   the accepted risks applied (only with --exceptions)
    manifest.json     tool version, scan id, catalogue version, framework, evaluation date,
                      and {path, sha256, bytes} of every other file but SHA256SUMS
    SHA256SUMS        ``sha256  name`` of every file, manifest.json included

Every file in the folder is named in the manifest. ``findings.json`` is the one ``posture audit
snapshot.json`` writes (with ``--exceptions exceptions.toml`` on the evaluation date): byte for
byte, whatever the framework, the exceptions file's path or a history store. An existing folder
is refused unless forced; forced, it is replaced whole (no file of the previous folder stays
unless this run wrote it again), and a folder holding a file posture does not write is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from posture import __version__
from posture.errors import ReportError
from posture.history.tracking import Tracked, Tracking
from posture.model import ScanMeta
from posture.pipeline import AuditRun, Prepared, run_audit, select_checks
from posture.registry import Catalogue, Framework, select_frameworks
from posture.reporters import (
    IDENTITY_FILENAME,
    OutputFormat,
    Report,
    companions,
    write_reports,
)

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SNAPSHOT = "snapshot.json"
EXCEPTIONS = "exceptions.toml"
README = "README.txt"
FORMATS = (OutputFormat.CSV, OutputFormat.JSON, OutputFormat.HTML, OutputFormat.CONTROLS)
# findings.json is written as `posture audit` writes it (every framework's control titles, no
# history block), so that the README's re-audit reproduces it byte for byte
FRAMEWORK_FORMATS = tuple(f for f in FORMATS if f is not OutputFormat.JSON)
OURS = frozenset(
    {
        MANIFEST,
        SUMS,
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
snapshot.json  the inventory the findings were computed from, byte for byte as audited
"""
_README_IDENTITY = """identity.csv   one row per identity and access: sign-in path (SSO or local),
               MFA, privilege standing or just in time, and whether it reaches production
"""
_README_EXCEPTIONS = """exceptions.toml the accepted risks applied (evaluated on {today})
"""
_README_END = """manifest.json  tool, scan, catalogue, framework, evaluation date, and the
               SHA-256 of every other file
SHA256SUMS     the SHA-256 of every file, manifest.json included

Verify every file:
  sha256sum -c SHA256SUMS

Reproduce findings.json from this folder:
  {reaudit}
  cmp findings.json ../reaudit/findings.json
"""


@dataclass(frozen=True, slots=True)
class Evidence:
    directory: Path
    manifest: dict[str, Any]
    tracked: Tracked


def _check_dir(out: Path, force: bool) -> frozenset[str]:
    """The names of an existing evidence folder's files (``force`` replaces them); a folder
    holding anything posture does not write is refused, ``force`` or not."""
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out}: output path exists and is not a directory")
    if not out.is_dir():
        return frozenset()
    try:
        names = frozenset(p.name for p in out.iterdir())
    except OSError as exc:
        raise ReportError(f"{out}: cannot read the folder: {exc.strerror or exc}") from None
    foreign = sorted(names - OURS)
    if foreign:
        raise ReportError(
            f"{out}: the folder holds {foreign[0]!r}, which posture did not write; use a new "
            "folder"
        )
    if names and not force:
        raise ReportError(
            f"{out}: already holds an evidence folder; use a new folder, or --force to replace it"
        )
    return names


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ReportError(f"{path}: cannot write evidence: {exc.strerror or exc}") from None


def _remove(path: Path) -> None:
    if not (path.exists() or path.is_symlink()):
        return  # unlink would fail on a read-only file system even so
    try:
        path.unlink()
    except OSError as exc:
        raise ReportError(f"{path}: cannot replace evidence: {exc.strerror or exc}") from None


def _digest(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"path": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _exceptions_bytes(tracking: Tracking) -> bytes | None:
    """The exceptions file as it was applied (refused if it changed since it was read)."""
    source = tracking.exceptions
    if source is None:
        return None
    try:
        data = Path(source.path).read_bytes()
    except OSError as exc:
        raise ReportError(f"{source.path}: cannot copy exceptions: {exc.strerror or exc}") \
            from None
    if hashlib.sha256(data).hexdigest() != source.sha256:
        raise ReportError(f"{source.path}: changed while the evidence was written; run again")
    return data


def write_evidence(
    prepared: Prepared,
    snapshot_bytes: bytes,
    catalogue: Catalogue,
    framework: Framework | tuple[Framework, ...],
    out: Path,
    tracking: Tracking,
    check_ids: tuple[str, ...] = (),
    force: bool = False,
) -> Evidence:
    """Audit the framework's checks on the snapshot and write the evidence folder; an existing
    one is replaced only with ``force`` (and then none of its files stays unless rewritten)."""
    before = _check_dir(out, force)
    for name in (MANIFEST, SUMS):  # a folder replaced halfway has no manifest
        _remove(out / name)
    risks = _exceptions_bytes(tracking)
    if tracking.exceptions is not None:  # named as in the folder, where the README re-audits
        tracking = replace(tracking, exceptions=replace(tracking.exceptions, path=EXCEPTIONS))
    frameworks = (framework,) if isinstance(framework, Framework) else framework
    mapped = {c for fw in frameworks for ids in fw.checks_by_control.values() for c in ids}
    reports: list[Report] = []

    def report(r: AuditRun) -> dict[OutputFormat, Path]:
        reports.append(Report.of(r, frameworks))
        written = write_reports(reports[-1], out, FRAMEWORK_FORMATS)
        audited = select_frameworks(catalogue.frameworks, (r.prepared.inventory.meta.provider,))
        plain = replace(Report.of(r, audited), history=None)  # as `posture audit` writes it
        return {**written, **write_reports(plain, out, (OutputFormat.JSON,))}

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
    _write(out / SNAPSHOT, snapshot_bytes)
    if risks is not None:
        _write(out / EXCEPTIONS, risks)
        files.append(out / EXCEPTIONS)
    readme = _readme(frameworks, run, catalogue, IDENTITY_FILENAME in extra, tracking)
    _write(out / README, readme.encode("utf-8"))
    files.append(out / README)
    for name in sorted(before - {p.name for p in files} - {MANIFEST, SUMS}):
        _remove(out / name)  # the replaced folder's, not this one's
    manifest = _manifest(frameworks, run, tracking, files)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    _write(out / MANIFEST, text.encode("utf-8"))
    sums = [_digest(p) for p in sorted([*files, out / MANIFEST], key=lambda p: p.name)]
    _write(out / SUMS, "".join(f"{d['sha256']}  {d['path']}\n" for d in sums).encode("utf-8"))
    return Evidence(out, manifest, run.tracked)


def _readme(frameworks: tuple[Framework, ...], run: AuditRun, catalogue: Catalogue,
            identity: bool, tracking: Tracking) -> str:
    meta = run.prepared.inventory.meta
    text = _README + (_README_IDENTITY if identity else "")
    if tracking.exceptions is not None:
        text += _README_EXCEPTIONS
    return (text + _README_END).format(
        version=__version__,
        framework=", ".join(f.id for f in frameworks),
        framework_name="; ".join(f.name for f in frameworks),
        scan_id=meta.scan_id,
        provider=meta.provider.value,
        accounts=", ".join(meta.accounts) or "-",
        finished=meta.finished_at,
        catalogue=run.catalogue_version,
        today=tracking.today.isoformat() if tracking.today else "-",
        reaudit=reaudit_command(run, catalogue, tracking),
    )


def reaudit_command(run: AuditRun, catalogue: Catalogue, tracking: Tracking) -> str:
    """The command that reproduces the folder's findings.json, run in the folder: the same
    exceptions on the same day, and the same checks (named when not all of the provider's)."""
    words = ["posture", "audit", SNAPSHOT]
    if tracking.exceptions is not None:
        if tracking.today is not None:
            words.insert(0, f"POSTURE_TODAY={tracking.today.isoformat()}")
        words += ["--exceptions", EXCEPTIONS]
    if set(run.checks) != set(select_checks(run.prepared, catalogue)):
        words += [w for check in run.checks for w in ("-c", check)]
    return " ".join([*words, "-q", "-f", "json", "-o", "../reaudit"])


def _manifest(
    frameworks: tuple[Framework, ...], run: AuditRun, tracking: Tracking, files: list[Path]
) -> dict[str, Any]:
    meta: ScanMeta = run.prepared.inventory.meta
    history = run.tracked.history
    return {
        "schema": "posture.evidence",
        "schema_version": 1,
        "tool": "posture",
        "tool_version": __version__,
        "framework": {"id": frameworks[0].id, "name": frameworks[0].name},  # the first
        "frameworks": [{"id": f.id, "name": f.name, "version": f.version, "source": f.source}
                       for f in frameworks],
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
        "checksums": SUMS,
    }
