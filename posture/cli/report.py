"""The end of ``scan``, ``audit`` and ``demo``: collect under a progress bar, run the audit
(:func:`posture.pipeline.run_audit`) into the chosen report formats, then print the summary,
the files written and what exceptions and the history store made of the run (``evidence``
prints the latter too)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.table import Table
from rich.text import Text

from posture.cli.options import ReportOptions, err, out, prepare_and_save, progress, say, warn
from posture.cli.selection import require_provider
from posture.history.tracking import Tracked, Tracking
from posture.model import Finding, Inventory, Provider, Status
from posture.pipeline import (
    AuditRun,
    ExitCode,
    Prepared,
    failures_by_severity,
    joined,
    run_audit,
)
from posture.registry import load_catalogue

if TYPE_CHECKING:
    from posture.reporters import OutputFormat, Report, Swept

TABLE_ROWS = 25  # failed findings printed; the rest are in the reports


def scan_and_report(
    label: str,
    collect: Callable[[Callable[[str], None]], Inventory],
    snapshot_out: Path | None,
    options: ReportOptions,
    companions: Sequence[tuple[str, Prepared]] = (),
) -> NoReturn:
    """The tail every ``scan`` shares: collect (``collect`` is given the progress callback),
    save the snapshot if asked, audit (with other providers' snapshots beside it, for the
    checks that join them), report, and exit with the findings' exit code."""
    with progress(f"Collecting {label}", None, options.quiet) as step:
        inventory = collect(step)
    prepared = prepare_and_save(inventory, snapshot_out)
    if companions:
        prepared = joined(prepared, companions)
    raise typer.Exit(int(audit_and_report(prepared, options)))


def audit_and_report(prepared: Prepared, options: ReportOptions) -> ExitCode:
    """Audit the prepared inventory, write the reports and print what happened; returns the
    exit code the findings call for (``--fail-on``, ``--fail-on-new``)."""
    from posture.reporters import Report, parse_formats
    from posture.reporters.html_trend import trend_of

    chosen = parse_formats(options.formats)
    refuse_security_hub(prepared.inventory.meta.provider, options)
    require_provider(options.selection, options.check_ids, prepared.inventory.meta.provider)
    catalogue = load_catalogue()
    frameworks = options.frameworks_of(catalogue, prepared.inventory.meta.provider)
    run, written = run_audit(
        prepared,
        catalogue,
        lambda r: write_all(replace(Report.of(r, frameworks), shown_frameworks=options.frameworks,
                                    trend=trend_of(r, options.tracking, chosen)),
                            options.output_dir, chosen),
        check_ids=options.check_ids,
        tracking=options.tracking,
        fail_on=options.fail_on,
        progress=lambda total: progress("Running checks", total, options.quiet),
    )
    if not options.quiet:
        print_summary(run.findings, prepared)
    print_written(written)
    print_tracked(run.tracked, options.tracking)
    send_destinations(run, lambda: Report.of(run, frameworks), options)
    return run.exit_code


def refuse_security_hub(provider: Provider, options: ReportOptions) -> None:
    """``--security-hub`` imports AWS findings: a usage error on another provider's snapshot."""
    if options.security_hub and provider is not Provider.AWS:
        raise ValueError(f"--security-hub imports AWS findings; this is a {provider.value} "
                         "snapshot (-f asff and the other formats still carry its findings)")


def send_destinations(run: AuditRun, report: Callable[[], Report],
                      options: ReportOptions) -> None:
    """After the reports and the history record: ``--notify`` (a failure is a warning), then
    ``--security-hub`` (refused findings are warned one by one, then a DestinationError)."""
    refuse_security_hub(run.prepared.inventory.meta.provider, options)
    if options.notify:
        _notify(run, options.notify)
    if options.security_hub:
        _security_hub(run, report())


def _notify(run: AuditRun, url: str) -> None:
    from posture.destinations import DestinationError
    from posture.destinations.notify import message, post, redacted

    history = run.tracked.history
    if history is None:  # the store failed (said above): nothing to tell what is new
        warn("notify: the scan is not recorded in the history store, nothing posted")
        return
    payload = message(run.tracked.changes, run.prepared.inventory.meta, history.record_id,
                      history.previous_id)
    if payload is None:
        why = ("first recorded scan of its scope" if history.previous_id is None
               else f"no new failure since scan #{history.previous_id}")
        say(f"notify: {why}, nothing posted")
        return
    try:
        post(url, payload)
    except DestinationError as exc:
        warn(f"{exc} (the reports and the history record are written)")
        return
    say(f"notify: {len(run.tracked.changes.new) if run.tracked.changes else 0} new "
        f"failure(s) posted to {redacted(url)}")


def _security_hub(run: AuditRun, report: Report) -> None:
    from posture.destinations import DestinationError
    from posture.destinations.security_hub import export

    done = export(report, run.checks)
    say(f"security hub: {done.imported} imported, {done.archived} archived in {done.region} "
        f"(account {done.account})"
        + (f"; {done.skipped} skipped (other accounts or providers)" if done.skipped else ""))
    if done.archive_error:
        warn(f"security hub: earlier findings not archived: {done.archive_error}")
    for failed in done.failed[:TABLE_ROWS]:
        warn(f"security hub refused {failed.id}: {failed.code}: {failed.message}")
    if len(done.failed) > TABLE_ROWS:
        warn(f"security hub refused {len(done.failed) - TABLE_ROWS} more finding(s)")
    if done.failed:
        raise DestinationError(f"Security Hub refused {len(done.failed)} finding(s) (named "
                               "above); findings.asff.json (-f asff) holds every finding")


@dataclass(frozen=True, slots=True)
class Written:
    """The reports a run wrote (label -> path) and the folder's sweep (:func:`sweep_outputs`)."""

    files: dict[str, Path]
    swept: Swept


def write_all(report: Report, out_dir: Path, formats: Sequence[OutputFormat]) -> Written:
    """Write the chosen formats and their companions (``identity.csv``), then remove the
    previous run's reports this run did not write again."""
    from posture.reporters import companions, sweep_outputs, write_reports

    reports = write_reports(report, out_dir, formats)
    written: dict[str, Path] = {f.value: p for f, p in reports.items()}
    for name in companions(report, formats):
        written[name.rsplit(".", 1)[0]] = out_dir / name
    return Written(written, sweep_outputs(out_dir, written.values()))


def print_written(written: Written) -> None:
    for label, path in sorted(written.files.items()):
        say(f"{label:>5}: {path}")  # never folded: logs and scripts read the paths
    for path in written.swept.removed:
        say(f"removed: {path} (written by the previous run, not by this one)")
    for path in written.swept.kept:
        warn(f"{path} is not from this run: kept (posture removes only the files it wrote, "
             "unchanged)")


def print_summary(findings: tuple[Finding, ...], prepared: Prepared) -> None:
    """The failed findings (a table on a terminal, one line each in logs), the assets one
    change away from exposure, the counts per status and the collection warning."""
    fails = [f for f in findings if f.status == Status.FAIL]
    fails.sort(key=lambda f: (-f.severity, f.check_id, f.resource_uid))
    if fails and out.is_terminal:
        out.print(_fail_table(fails))
    elif fails:
        # logs (cron, CI, pipes): one plain line per finding, nothing folded or cropped
        out.print(f"Failed checks ({len(fails)})", markup=False)
        for f in fails[:TABLE_ROWS]:
            line = f"  {f.severity.label:<8}  {f.check_id}  {f.resource_name or f.resource_uid}"
            out.print(Text(f"{line}  [{f.region}]  {f.message}"), soft_wrap=True)
    if len(fails) > TABLE_ROWS:
        out.print(f"... and {len(fails) - TABLE_ROWS} more in the reports", markup=False)
    _print_depth(fails)
    by_sev = failures_by_severity(findings)
    statuses = {s: sum(1 for f in findings if f.status == s) for s in Status}
    out.print(
        " · ".join(f"{s.value} {n}" for s, n in statuses.items())
        + "   FAIL by severity: "
        + ", ".join(f"{s.label} {n}" for s, n in by_sev.items() if n),
        markup=False,
    )
    errors = prepared.inventory.errors
    if errors:
        warn(
            f"{len(errors)} API call(s) failed during collection; the checks that "
            "needed their data are INCONCLUSIVE (see the report)."
        )


def _fail_table(fails: list[Finding]) -> Table:
    table = Table(title=f"Failed checks ({len(fails)})", show_lines=False)
    # narrow terminals (and pipes, 80 columns) fold the long cells instead of starving a column
    table.add_column("severity", no_wrap=True)
    table.add_column("check", overflow="fold", min_width=14, ratio=2)
    table.add_column("resource", overflow="fold", min_width=10, max_width=40, ratio=2)
    table.add_column("region", overflow="fold", min_width=9)
    table.add_column("message", overflow="fold", min_width=20, ratio=4)
    for f in fails[:TABLE_ROWS]:
        # resource names are attacker-controlled: Text() cells are never parsed as markup
        cells = (
            f.severity.label,
            f.check_id,
            f.resource_name or f.resource_uid,
            f.region,
            f.message,
        )
        table.add_row(*(Text(c) for c in cells))
    return table


def _print_depth(fails: list[Finding]) -> None:
    """Assets one change away from the internet (defense depth 1), whatever their severity:
    the change is the point, so it is printed even when the table above is full."""
    single = [f for f in fails if isinstance(f.evidence.get("single_change"), dict)]
    if not single:
        return
    out.print(f"Defense depth 1 (one change exposes it): {len(single)} asset(s)", markup=False)
    for f in single[:3]:
        out.print(Text(f"  {f.resource_name or f.resource_uid}: {f.message}"))
    if len(single) > 3:
        out.print(f"  ... and {len(single) - 3} more in the reports", markup=False)


def print_tracked(tracked: Tracked, tracking: Tracking | None) -> None:
    """What scan/audit/evidence say about exceptions and the history store after the reports."""
    if tracked.exceptions is not None:
        entries = tracked.exceptions.entries
        excepted = sum(e.matched for e in entries if e.state.value == "active")
        say(
            f"exceptions: {len(entries)} in {tracked.exceptions.source}, "
            f"{excepted} finding(s) EXCEPTED, {len(tracked.exceptions.expired)} expired"
        )
        for e in tracked.exceptions.expired:
            r = e.risk
            warn(
                f"exception {tracked.exceptions.source}:{r.line} ({r.check} on "
                f"{r.resource}, owner {r.owner}) expired on {r.expires.isoformat()}; "
                f"{e.matched} finding(s) it covered count as FAIL again"
            )
    if tracked.store_error is not None:  # exit 5: the reports are written, the store failed
        err.print(f"posture: error: {tracked.store_error} (the reports were written, without "
                  "the history)", markup=False, soft_wrap=True)
    history = tracked.history
    if history is None or tracking is None:
        return
    if history.previous_id is None:
        say(f"history: recorded as scan #{history.record_id} (first of its scope)")
        return
    say(
        f"history: recorded as scan #{history.record_id}; since scan #{history.previous_id}: "
        f"{len(history.new)} new, {history.resolved} resolved, {history.still_open} still open "
        "failure(s)"
    )
    if tracking.fail_on_new is not None and tracked.new_failures:
        say(
            f"{tracked.new_failures} new failure(s) at or above "
            f"{tracking.fail_on_new.label} (--fail-on-new)"
        )
