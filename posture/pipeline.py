"""The audit pipeline shared by ``scan``, ``audit``, ``demo`` and ``evidence``: inventory →
findings → tracked findings → reports, in one place (:func:`run_audit`).

A freshly collected inventory is serialized and read back before it is audited, so a scan and a
later ``posture audit`` of its saved snapshot see exactly the same data and write byte-identical
findings.

The pipeline sits below the reporters: :func:`run_audit` is handed the report step as a
function of its :class:`AuditRun` (the CLI's formats, or the evidence folder's), so the order
audit → track (exceptions, history store) → report is fixed here and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

from posture import snapshot
from posture.engine import RunOptions, run
from posture.errors import SnapshotError
from posture.history.tracking import Tracked, Tracking, track
from posture.model import Finding, Inventory, Severity, Status
from posture.registry import Catalogue, load_catalogue

W = TypeVar("W")
Step = Callable[[str], None]
# given the number of checks about to run, a context that yields the per-check callback
Progress = Callable[[int], AbstractContextManager[Step | None]]


class ExitCode(IntEnum):
    """Process exit codes (documented in the README)."""

    OK = 0
    FINDINGS = 1  # a FAIL at or above --fail-on
    USAGE = 2  # bad option, unknown format / check id / severity
    INPUT = 3  # cannot scan or read the input: credentials, endpoint, region, snapshot
    PARTIAL = 4  # an organisation scan with accounts not (fully) scanned; outranks FINDINGS
    HISTORY = 5  # the reports were written, the history store failed to record; outranks 1, 4
    INTERNAL = 70  # a bug in posture


@dataclass(frozen=True, slots=True)
class Prepared:
    inventory: Inventory
    snapshot_text: str
    snapshot_sha256: str
    companions: tuple[Inventory, ...] = ()  # other providers' snapshots the joining checks read


def prepare(inventory: Inventory) -> Prepared:
    """Serialize and re-read an inventory so that scan and audit share one representation."""
    text = snapshot.dumps(inventory)
    reread = snapshot.from_document(json.loads(text))
    return Prepared(reread, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_prepared(path: Path) -> Prepared:
    inventory = snapshot.load(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:  # pragma: no cover - load() has just read it
        raise SnapshotError(f"{path}: {exc}") from None
    return Prepared(inventory, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def joined(prepared: Prepared, companions: Iterable[tuple[str, Prepared]]) -> Prepared:
    """``prepared`` with other providers' snapshots (``(name, prepared)``, the same snapshot
    once) as the companions its joining checks read, each named in the manifest's notes (file,
    provider, accounts, SHA-256) so that the evidence says what was joined."""
    loaded: dict[str, tuple[str, Prepared]] = {}
    for name, one in companions:
        loaded.setdefault(one.snapshot_sha256, (name, one))
    notes = tuple(
        f"joined with {p.inventory.meta.provider.value} snapshot {name} (accounts "
        f"{', '.join(p.inventory.meta.accounts) or 'none'}; sha256 {sha})"
        for sha, (name, p) in loaded.items())
    meta = prepared.inventory.meta
    inventory = replace(prepared.inventory, meta=replace(meta, notes=meta.notes + notes))
    return replace(prepared, inventory=inventory,
                   companions=tuple(p.inventory for _, p in loaded.values()))


def audit(
    prepared: Prepared,
    catalogue: Catalogue | None = None,
    check_ids: Iterable[str] = (),
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Finding, ...]:
    catalogue = catalogue or load_catalogue()
    options = RunOptions(params=params or {}, companions=prepared.companions)
    return run(catalogue, prepared.inventory, check_ids, options, progress=progress)


def exit_code(findings: Iterable[Finding], fail_on: Severity | None) -> ExitCode:
    if fail_on is None:
        return ExitCode.OK
    for f in findings:
        if f.status == Status.FAIL and f.severity >= fail_on:
            return ExitCode.FINDINGS
    return ExitCode.OK


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for f in findings:
        out[f.status.value] += 1
    return out


def failures_by_severity(findings: Iterable[Finding]) -> dict[Severity, int]:
    out = {s: 0 for s in sorted(Severity, reverse=True)}
    for f in findings:
        if f.status == Status.FAIL:
            out[f.severity] += 1
    return out


@dataclass(frozen=True, slots=True)
class AuditRun:
    """One audit of a prepared snapshot: the checks that ran, their findings after exceptions
    and history (:class:`~posture.history.tracking.Tracked`), and the exit code they call for."""

    prepared: Prepared
    checks: tuple[str, ...]  # ids of the checks that ran, sorted
    tracked: Tracked
    catalogue_version: str
    exit_code: ExitCode  # a FAIL at or above ``fail_on``, or a new one at ``--fail-on-new``

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.tracked.findings


def select_checks(
    prepared: Prepared,
    catalogue: Catalogue,
    check_ids: Iterable[str] = (),
    within: Collection[str] | None = None,
) -> tuple[str, ...]:
    """The ids of the checks to run on this snapshot: the ones asked for (all by default) of
    its provider, and only those in ``within`` when given (a framework's mapped checks)."""
    chosen = catalogue.select(ids=tuple(check_ids), provider=prepared.inventory.meta.provider)
    return tuple(c.spec.id for c in chosen if within is None or c.spec.id in within)


def run_audit(
    prepared: Prepared,
    catalogue: Catalogue,
    report: Callable[[AuditRun], W],
    *,
    check_ids: Iterable[str] = (),
    within: Collection[str] | None = None,
    tracking: Tracking | None = None,
    fail_on: Severity | None = None,
    progress: Progress | None = None,
) -> tuple[AuditRun, W]:
    """Audit → track → report: run the selected checks (:func:`select_checks`), apply the
    exceptions and record the scan (``tracking``), then hand the run to ``report`` (which
    writes the reports) and return the run with what ``report`` returned. A store that fails
    to record does not stop the reports (``tracked.store_error``, exit ``HISTORY``)."""
    checks = select_checks(prepared, catalogue, check_ids, within)
    with (progress or _quiet)(len(checks)) as step:
        findings = audit(prepared, catalogue, checks, progress=step) if checks else ()
    version = catalogue.version()
    tracked = track(
        tracking or Tracking(), prepared.inventory, findings, prepared.snapshot_sha256, version
    )
    code = max(exit_code(tracked.findings, fail_on), tracking_gate(tracked))
    run = AuditRun(prepared, checks, tracked, version, code)
    return run, report(run)


def tracking_gate(tracked: Tracked) -> ExitCode:
    """What exceptions and the store make of the exit code: ``HISTORY`` when the store failed
    (the reports are written all the same: :mod:`posture.history.tracking`), ``FINDINGS`` for
    failures new at ``--fail-on-new``."""
    if tracked.store_error is not None:
        return ExitCode.HISTORY
    return ExitCode.FINDINGS if tracked.new_failures else ExitCode.OK


def _quiet(_total: int) -> AbstractContextManager[Step | None]:
    return nullcontext(None)
