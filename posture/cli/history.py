"""``posture history`` and ``posture diff``: the scan history store on the command line."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from posture.cli.options import HistoryStore, out, say
from posture.history.diff import Change, ScanDiff, diff
from posture.model import Severity
from posture.pipeline import ExitCode

if TYPE_CHECKING:
    from posture.history.store import ScanRecord, Store

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _need(store: str | None) -> str:
    if not store:
        raise ValueError("no history store given: use --store PATH|URL or set POSTURE_STORE")
    return store


def history(
    store: HistoryStore = None,
    limit: Annotated[int, typer.Option(help="Show at most this many scans.")] = 50,
    as_json: AsJson = False,
) -> None:
    """List the recorded scans, newest first."""
    from posture.history.store import open_store

    with open_store(_need(store), create=False) as db:
        records = db.scans(limit=limit)
    if as_json:
        sys.stdout.write(json.dumps([r.document() for r in records], indent=2) + "\n")
        return
    out.print(_scans_table(records), width=200)


def _scans_table(records: list[ScanRecord]) -> Table:
    table = Table(title=f"{len(records)} recorded scan(s)")
    for col in (
        "#",
        "scan id",
        "scope",
        "finished",
        "FAIL",
        "EXCEPTED",
        "PASS",
        "INCONCL.",
        "ERROR",
        "snapshot",
    ):
        table.add_column(col, overflow="fold")
    for r in records:
        scope = f"{r.provider} {','.join(r.accounts)} {','.join(r.regions) or '-'}"
        c = r.counts
        cells = (
            str(r.id),
            r.scan_id,
            scope,
            r.finished_at,
            str(c["FAIL"]),
            str(c["EXCEPTED"]),
            str(c["PASS"]),
            str(c["INCONCLUSIVE"]),
            str(c["ERROR"]),
            (r.snapshot_sha256 or "-")[:12],
        )
        table.add_row(*(Text(x) for x in cells))
    return table


def _pair(db: Store, scan_a: str | None, scan_b: str | None) -> tuple[ScanRecord, ScanRecord]:
    from posture.history.store import StoreError

    if scan_a and scan_b:
        return db.get(scan_a), db.get(scan_b)
    if scan_a:
        after = db.get(scan_a)
    else:
        latest = db.scans(limit=1)
        if not latest:
            raise StoreError("the history store has no scans yet")
        after = latest[0]
    before = db.previous(after)
    if before is None:
        raise StoreError(f"scan #{after.id} is the first of its scope: nothing to compare with")
    return before, after


def _table(title: str, changes: tuple[Change, ...], show_before: bool) -> Table:
    table = Table(title=f"{title} ({len(changes)})")
    for col in ("severity", "check", "resource", "region", "now" if show_before else "message"):
        table.add_column(col, overflow="fold")
    for c in changes:
        f = c.current
        severity = f.severity.label
        if c.before and c.after and c.before.severity != c.after.severity:
            severity = f"{c.before.severity.label} → {c.after.severity.label}"
        last = (c.after.status.value if c.after else "gone") if show_before else f.message
        cells = (severity, f.check_id, f.resource_name or f.resource_uid, f.region, last)
        table.add_row(*(Text(x) for x in cells))
    return table


def diff_cmd(
    scan_a: Annotated[str | None, typer.Argument(help="The earlier scan (# or scan id).")] = None,
    scan_b: Annotated[str | None, typer.Argument(help="The later scan (# or scan id).")] = None,
    store: HistoryStore = None,
    as_json: AsJson = False,
    fail_on_new: Annotated[
        str | None,
        typer.Option("--fail-on-new", help="Exit 1 if a new FAIL at or above this severity."),
    ] = None,
    summary: Annotated[
        bool,
        typer.Option("--summary", help="Counts of new, resolved, still-open and "
                     "severity-changed failures per severity and per check, not the list."),
    ] = False,
) -> None:
    """New, resolved and still-open failures between two scans.

    No scan given: the latest scan against the one before it of the same scope. One scan: that
    scan against the one before it of its scope.
    """
    from posture.history.store import open_store

    threshold = Severity.parse(fail_on_new) if fail_on_new else None
    with open_store(_need(store), create=False) as db:
        before, after = _pair(db, scan_a, scan_b)
        changes = diff(db.findings(before), db.findings(after))
    if as_json:
        body = {"summary": summarize(changes)} if summary else changes.document()
        doc = {"before": before.document(), "after": after.document(), **body}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    elif summary:
        _print_summary(before, after, changes)
    else:
        _print_diff(before, after, changes)
    if threshold is not None and changes.new_at_or_above(threshold):
        raise typer.Exit(int(ExitCode.FINDINGS))


def _print_diff(before: ScanRecord, after: ScanRecord, changes: ScanDiff) -> None:
    say(f"scan #{before.id} ({before.scan_id}) → scan #{after.id} ({after.scan_id})")
    if before.scope != after.scope:
        say("note: the two scans have different scopes (accounts or regions)")
    for title, changes_, show_before in (
        ("New failures", changes.new, False),
        ("Resolved", changes.resolved, True),
        ("Still open", changes.still_open, False),
        ("Severity changed", changes.severity_changed, False),
    ):
        if changes_:
            out.print(_table(title, changes_, show_before), width=200)
        else:
            say(f"{title}: none")


KINDS = ("new", "resolved", "still_open", "severity_changed")
Counts = dict[str, dict[str, int]]


def _severity(change: Change, kind: str) -> Severity:
    """The severity a change is counted at: a resolved failure's as it failed, the others'
    as they are now."""
    found = change.before if kind == "resolved" and change.before else change.current
    return found.severity


def summarize(changes: ScanDiff) -> dict[str, Counts]:
    """``diff --summary``: per severity (every one, most severe first) and per check (those
    with a count, by id) the number of changes of each kind (:data:`KINDS`)."""
    by_severity: Counts = {s.label: dict.fromkeys(KINDS, 0) for s in sorted(Severity,
                                                                            reverse=True)}
    by_check: Counts = {}
    for kind in KINDS:
        for c in getattr(changes, kind):
            by_severity[_severity(c, kind).label][kind] += 1
            by_check.setdefault(c.current.check_id, dict.fromkeys(KINDS, 0))[kind] += 1
    return {"by_severity": by_severity, "by_check": dict(sorted(by_check.items()))}


def _print_summary(before: ScanRecord, after: ScanRecord, changes: ScanDiff) -> None:
    """The counts of :func:`summarize` as two plain fixed-width tables (logs and scripts)."""
    say(f"scan #{before.id} ({before.scan_id}) → scan #{after.id} ({after.scan_id})")
    if before.scope != after.scope:
        say("note: the two scans have different scopes (accounts or regions)")
    counts = summarize(changes)
    heads = ("new", "resolved", "still open", "sev. changed")
    for title, rows in (("severity", counts["by_severity"]), ("check", counts["by_check"])):
        width = max([len(title), *(len(k) for k in rows)])
        say(f"{title:<{width}}  " + "  ".join(f"{h:>{len(h)}}" for h in heads))
        for key, row in rows.items():
            say(f"{key:<{width}}  " + "  ".join(f"{row[k]:>{len(h)}}"
                                                 for k, h in zip(KINDS, heads, strict=True)))
        if not rows:
            say("(no failure new, resolved or open)")
    total = {k: len(getattr(changes, k)) for k in KINDS}
    say("total: " + ", ".join(f"{n} {h}" for n, h in zip(total.values(), heads, strict=True)))
