"""The shared part of an organisation run (``scan aws --organization``, ``scan gcp
--organization/--folder``, ``scan azure --management-group`` and ``audit DIR``): the evidence
directory refused before anything is read, where the tasks run, a line per account (project,
subscription) as it completes (above a progress bar on a terminal, plain lines in logs), then
the merged audit into the chosen report formats, the summary, the accounts not fully scanned
and the exit code (4 when one was not)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from posture.cli.options import ReportOptions, out, say
from posture.cli.report import (
    print_summary,
    print_tracked,
    refuse_security_hub,
    send_destinations,
)
from posture.cli.selection import require_provider
from posture.model import Finding, Provider, Severity, Status
from posture.org.manifest import AccountEntry
from posture.org.plan import ou_text
from posture.org.run import OnAccount, OrgResult, audit_run
from posture.pipeline import failures_by_severity
from posture.registry import Catalogue

if TYPE_CHECKING:
    from posture.org.plan import OrgPlan

NOUNS = {Provider.AWS: "account", Provider.GCP: "project", Provider.AZURE: "subscription"}


def prepare_organization(provider: Provider, options: ReportOptions,
                         snapshot_out: Path | None, replace: bool) -> Catalogue:
    """Before anything is read: the catalogue with the chosen checks (unknown ids: exit 2 now)
    and the evidence directory made ready (a used one refused now)."""
    from posture.org.manifest import open_dir
    from posture.registry import load_catalogue

    catalogue = load_catalogue()
    catalogue.select(ids=options.check_ids, provider=provider)
    require_provider(options.selection, options.check_ids, provider)
    refuse_security_hub(provider, options)
    if snapshot_out is not None:
        open_dir(snapshot_out, replace=replace)
    return catalogue


def discover_and_run(
    provider: Provider,
    discover: Callable[[], OrgPlan],
    options: ReportOptions,
    *,
    workers: int | None,
    scheduler: str | None,
    snapshot_out: Path | None,
    replace: bool,
) -> NoReturn:
    """An organisation scan from its start: :func:`prepare_organization` (before anything is
    read), then ``discover`` the plan, then :func:`run_organization`."""
    catalogue = prepare_organization(provider, options, snapshot_out, replace)
    run_organization(discover(), catalogue, options, workers=workers, scheduler=scheduler,
                     snapshot_out=snapshot_out)


def run_organization(
    chosen: OrgPlan,
    catalogue: Catalogue,
    options: ReportOptions,
    *,
    workers: int | None,
    scheduler: str | None,
    snapshot_out: Path | None,
) -> NoReturn:
    """Scan every task of ``chosen`` where ``--workers``/``--scheduler`` say, then report."""
    from posture.org.executor import Cluster
    from posture.org.run import scan_organization

    noun = NOUNS[chosen.provider]
    total = len(chosen.tasks)
    cluster = Cluster.choose(workers, scheduler, total)
    if not options.quiet:
        say(f"organization {chosen.organization_id}: scanning {total} {noun}(s) "
            f"{cluster.describe()}")
    with account_progress(f"Scanning {noun}s", total, options.quiet) as on_account:
        result = scan_organization(chosen, cluster, check_ids=options.check_ids,
                                   out_dir=snapshot_out, on_account=on_account,
                                   catalogue=catalogue)
    if snapshot_out is not None:
        say(f"snapshots: {snapshot_out} ({len(result.manifest.accounts)} {noun}(s); "
            f"manifest sha256 {result.manifest_sha256})")
    report_organization(result, catalogue, options)


def account_line(entry: AccountEntry, findings: tuple[Finding, ...], done: int,
                 total: int) -> str:
    """``[2/4] 111111111111 prod-web (Root/Prod): scanned, FAIL 3 (high 1, medium 2)``."""
    where = ou_text(entry.ou_path)
    who = f"{entry.id} {entry.name}" + (f" ({where})" if where else "")
    fails = failures_by_severity(findings)
    n = sum(fails.values())
    detail = ", ".join(f"{s.label} {c}" for s, c in fails.items() if c)
    text = f"[{done}/{total}] {who}: {entry.status.value}, FAIL {n}" + (f" ({detail})"
                                                                          if n else "")
    if entry.reason:
        text += f"; {entry.reason}"
    return text


@contextmanager
def account_progress(label: str, total: int, quiet: bool) -> Iterator[OnAccount]:
    """Yields the per-account callback: a line per account (on a terminal above a progress
    bar), nothing when quiet."""
    if quiet:
        yield lambda *_: None
        return
    if not out.is_terminal:
        yield lambda entry, found, done, of: say(account_line(entry, found, done, of))
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, console=out, transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(entry: AccountEntry, found: tuple[Finding, ...], done: int,
                    of: int) -> None:
            bar.console.print(Text(account_line(entry, found, done, of)), soft_wrap=True)
            bar.update(task, completed=done)

        yield advance


def report_organization(
    result: OrgResult,
    catalogue: Catalogue,
    options: ReportOptions,
) -> NoReturn:
    """Audit the merged run (exceptions, history), write the reports, print, exit."""
    from posture.cli.report import print_written, write_all
    from posture.org.report import report_of
    from posture.reporters import parse_formats

    run = audit_run(result, catalogue, tracking=options.tracking, fail_on=options.fail_on)
    frameworks = options.frameworks_of(catalogue, run.prepared.inventory.meta.provider)
    report = replace(report_of(run, result, frameworks), shown_frameworks=options.frameworks)
    written = write_all(report, options.output_dir, parse_formats(options.formats))
    if not options.quiet:
        print_summary(run.findings, run.prepared)
    print_accounts(result)
    print_written(written)
    print_tracked(run.tracked, options.tracking)
    send_destinations(run, lambda: report, options)  # --notify, --security-hub
    raise typer.Exit(int(run.exit_code))


def print_accounts(result: OrgResult) -> None:
    """The organisation in one line, then each account not fully scanned, with its reason."""
    accounts = result.manifest.accounts
    noun = NOUNS.get(Provider(result.manifest.provider), "account")
    fails: dict[str, int] = {}
    for f in result.findings:
        if f.status == Status.FAIL and f.severity >= Severity.HIGH:
            fails[f.account] = fails.get(f.account, 0) + 1
    say(f"organization {result.manifest.organization_id}: {len(accounts)} {noun}(s), "
        f"{sum(1 for a in accounts if fails.get(a.id))} with high or critical FAILs")
    incomplete = result.incomplete
    if incomplete:
        say(f"warning: {len(incomplete)} {noun}(s) not fully scanned; their unread checks are "
            "INCONCLUSIVE (exit code 4):")
        for a in incomplete:
            say(f"  {a.id} {a.name}: {a.status.value}: {a.reason}")


def split_ids(values: list[str] | None) -> tuple[str, ...]:
    """``--accounts 1,2 --accounts 3`` → ``("1", "2", "3")`` (each a 12-digit account id)."""
    ids = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    bad = [v for v in ids if not (len(v) == 12 and v.isdigit())]
    if bad:
        raise ValueError(f"not an AWS account id (12 digits): {', '.join(bad)}")
    return tuple(dict.fromkeys(ids))

