"""What every audit does after the checks ran (:func:`posture.pipeline.run_audit` calls
:func:`track`): apply accepted-risk exceptions, record the scan in the history store, and
compare it with the previous scan of the same scope (``--fail-on-new``).

The history store never costs a run its reports: :meth:`Tracking.parse` checks the store before
anything is collected (:func:`~posture.history.store.preflight`: one that cannot be reached
stops the run there), and a store that fails when the scan is recorded (locked longer than the
wait, gone) leaves :attr:`Tracked.store_error` set instead of raising: the reports are written
without the history, and the run exits ``HISTORY`` (5) saying the scan was not recorded.

Without ``--store`` and ``--exceptions`` nothing here changes the findings or the reports, so a
scan and an audit of its snapshot still write byte-identical ``findings.json``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from posture.history import exceptions as exc_mod
from posture.history.diff import HistoryContext, ScanDiff, diff
from posture.model import Finding, Inventory, Severity


@dataclass(frozen=True, slots=True)
class Tracking:
    """The options: ``--store``, ``--exceptions``, ``--fail-on-new`` (validated)."""

    store: str | None = None
    exceptions: exc_mod.ExceptionsFile | None = None
    fail_on_new: Severity | None = None
    today: dt.date | None = None

    @classmethod
    def parse(
        cls,
        store: str | None = None,
        exceptions: Path | None = None,
        fail_on_new: str | None = None,
        today: dt.date | None = None,
    ) -> Tracking:
        """Validate before a long scan: the exceptions file parses, the severity exists, and
        ``--fail-on-new`` has a store to compare with (usage errors, exit 2); then the store
        is reached, created if new and written to (a :class:`StoreError`, exit 3, names it)."""
        threshold = None
        if fail_on_new is not None and fail_on_new.strip().lower() != "none":
            threshold = Severity.parse(fail_on_new)
            if not store:
                raise ValueError("--fail-on-new needs a history store (--store or POSTURE_STORE)")
        loaded = exc_mod.load(exceptions) if exceptions is not None else None
        if store:
            _preflight(store)
        return cls(store or None, loaded, threshold, today or exc_mod.today())


def _preflight(store: str) -> None:
    from posture.history.store import StoreError, preflight

    try:
        preflight(store)
    except StoreError as exc:
        raise StoreError(f"{exc} (checked first: nothing was collected or written)") from None


@dataclass(frozen=True, slots=True)
class Tracked:
    findings: tuple[Finding, ...]
    exceptions: exc_mod.ExceptionsOutcome | None = None
    history: HistoryContext | None = None
    changes: ScanDiff | None = None
    new_failures: int = 0  # new FAILs at or above ``--fail-on-new`` (0 without it)
    store_error: str | None = None  # the store failed: the scan is not recorded (no history)


def track(
    tracking: Tracking,
    inventory: Inventory,
    findings: tuple[Finding, ...],
    snapshot_sha256: str | None,
    catalogue_version: str,
    *,
    scope: str | None = None,
    compared: Collection[str] | None = None,
) -> Tracked:
    """Exceptions, then the history store: record the scan (under ``scope``, default its
    accounts and regions) and diff it with the previous scan of that scope, limited to the
    ``compared`` accounts when given (an organisation run: the accounts it scanned fully)."""
    outcome = None
    if tracking.exceptions is not None:
        on = tracking.today or exc_mod.today()
        findings, outcome = exc_mod.apply(findings, tracking.exceptions, on)
    if not tracking.store:
        return Tracked(findings, outcome)
    from posture.history.store import StoreError, open_store

    record = None
    try:
        with open_store(tracking.store) as store:
            record = store.record(inventory.meta, findings, snapshot_sha256, catalogue_version,
                                  scope=scope)
            previous = store.previous(record)
            changes = (diff(store.findings(previous), store.findings(record), compared)
                       if previous else None)
    except StoreError as exc:  # the reports are still written: see the module docstring
        done = (f"recorded as scan #{record.id}, but not compared with the scan before it"
                if record is not None else "this scan was not recorded")
        return Tracked(findings, outcome, store_error=f"{exc}; {done}")
    history = HistoryContext.of(record.id, previous, changes)
    hits = 0
    if tracking.fail_on_new is not None and changes is not None:
        hits = len(changes.new_at_or_above(tracking.fail_on_new))
    return Tracked(findings, outcome, history, changes, hits)
