"""``posture history`` and ``posture diff``: the scan history store on the command line, and the
lines ``scan``/``audit`` print about exceptions and history."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from posture.diff import Change, ScanDiff, diff
from posture.model import Severity
from posture.pipeline import ExitCode

if TYPE_CHECKING:
    from posture.store import ScanRecord, Store
    from posture.tracking import Tracked, Tracking

StoreArg = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="POSTURE_STORE",
        help="The history store: an SQLite file path or a URL (postgresql+psycopg://...).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _out() -> Any:
    from posture.cli import out

    return out


def _say(text: str) -> None:
    _out().print(text, markup=False, soft_wrap=True)


def print_tracked(tracked: Tracked, tracking: Tracking | None) -> None:
    """What scan/audit say about exceptions and the history store after the reports."""
    if tracked.exceptions is not None:
        entries = tracked.exceptions.entries
        excepted = sum(e.matched for e in entries if e.state.value == "active")
        _say(
            f"exceptions: {len(entries)} in {tracked.exceptions.source}, "
            f"{excepted} finding(s) EXCEPTED, {len(tracked.exceptions.expired)} expired"
        )
        for e in tracked.exceptions.expired:
            r = e.risk
            _say(
                f"warning: exception {tracked.exceptions.source}:{r.line} ({r.check} on "
                f"{r.resource}, owner {r.owner}) expired on {r.expires.isoformat()}; "
                f"{e.matched} finding(s) it covered count as FAIL again"
            )
    history = tracked.history
    if history is None or tracking is None:
        return
    if history.previous_id is None:
        _say(f"history: recorded as scan #{history.record_id} (first of its scope)")
        return
    _say(
        f"history: recorded as scan #{history.record_id}; since scan #{history.previous_id}: "
        f"{len(history.new)} new, {history.resolved} resolved, {history.still_open} still open "
        "failure(s)"
    )
    if tracking.fail_on_new is not None and tracked.new_failures:
        _say(
            f"{tracked.new_failures} new failure(s) at or above "
            f"{tracking.fail_on_new.label} (--fail-on-new)"
        )


def _need(store: str | None) -> str:
    if not store:
        raise ValueError("no history store given: use --store PATH|URL or set POSTURE_STORE")
    return store


def history(
    store: StoreArg = None,
    limit: Annotated[int, typer.Option(help="Show at most this many scans.")] = 50,
    as_json: AsJson = False,
) -> None:
    """List the recorded scans, newest first."""
    from posture.store import open_store

    with open_store(_need(store)) as db:
        records = db.scans(limit=limit)
    if as_json:
        sys.stdout.write(json.dumps([r.document() for r in records], indent=2) + "\n")
        return
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
    _out().print(table, width=200)


def _pair(db: Store, scan_a: str | None, scan_b: str | None) -> tuple[ScanRecord, ScanRecord]:
    from posture.store import StoreError

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
    store: StoreArg = None,
    as_json: AsJson = False,
    fail_on_new: Annotated[
        str | None,
        typer.Option("--fail-on-new", help="Exit 1 if a new FAIL at or above this severity."),
    ] = None,
) -> None:
    """New, resolved and still-open failures between two scans.

    No scan given: the latest scan against the one before it of the same scope. One scan: that
    scan against the one before it of its scope.
    """
    from posture.store import open_store

    threshold = Severity.parse(fail_on_new) if fail_on_new else None
    with open_store(_need(store)) as db:
        before, after = _pair(db, scan_a, scan_b)
        changes = diff(db.findings(before), db.findings(after))
    if as_json:
        doc = {"before": before.document(), "after": after.document(), **changes.document()}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        _print_diff(before, after, changes)
    if threshold is not None and changes.new_at_or_above(threshold):
        raise typer.Exit(int(ExitCode.FINDINGS))


def _print_diff(before: ScanRecord, after: ScanRecord, changes: ScanDiff) -> None:
    out = _out()
    _say(f"scan #{before.id} ({before.scan_id}) → scan #{after.id} ({after.scan_id})")
    if before.scope != after.scope:
        _say("note: the two scans have different scopes (accounts or regions)")
    for title, changes_, show_before in (
        ("New failures", changes.new, False),
        ("Resolved", changes.resolved, True),
        ("Still open", changes.still_open, False),
        ("Severity changed", changes.severity_changed, False),
    ):
        if changes_:
            out.print(_table(title, changes_, show_before), width=200)
        else:
            _say(f"{title}: none")


def register(app: typer.Typer) -> None:
    from posture.cli import handled

    app.command("history")(handled(history))
    app.command("diff")(handled(diff_cmd))
