"""What the commands share: the consoles, the typer options every report-writing command takes
(one definition each, so their names and help texts cannot drift between ``scan aws``,
``scan azure``, ``scan gcp`` and ``audit``), the progress bar and snapshot writing."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from posture.cli.logs import configure, parse_level, plain_progress, shows
from posture.cli.selection import SELECTION_PARAMS, Selection, select_ids
from posture.errors import SnapshotError
from posture.history.tracking import Tracking
from posture.model import Inventory, Provider, Severity
from posture.pipeline import Prepared, prepare
from posture.registry import (
    Catalogue,
    Framework,
    find_framework,
    framework_ids,
    load_frameworks,
    select_frameworks,
)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

OutputDir = Annotated[Path, typer.Option("--output-dir", "-o", help="Directory for the reports.")]
Formats = Annotated[
    str, typer.Option("--format", "-f", help="Comma-separated report formats: "
                      "csv, json, html, controls, ocsf, junit, asff, pdf (needs Chromium).")
]
FailOn = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Exit 1 when a FAIL at or above this severity exists "
        "(info, low, medium, high, critical).",
    ),
]
FrameworkIds = Annotated[
    list[str] | None,
    typer.Option(
        "--framework",
        help="Show only these frameworks in report.html and controls.csv (repeatable or "
        "comma-separated ids, e.g. soc2,iso27001-2022,nist-800-53-r5,pci-dss-4.0,cis-aws-7.0); "
        "default: the provider-neutral frameworks and the CIS benchmarks of the scanned cloud.",
    ),
]
Store = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="POSTURE_STORE",
        help="Record the scan in this history store: an SQLite file path, or a URL "
        "(postgresql+psycopg://user@host/db).",
    ),
]
ExceptionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--exceptions",
        help="TOML file of accepted risks; matching FAIL findings become EXCEPTED.",
    ),
]
FailOnNew = Annotated[
    str | None,
    typer.Option(
        "--fail-on-new",
        help="Exit 1 when a FAIL at or above this severity is new since the previous "
        "recorded scan of the same scope (needs --store).",
    ),
]
SecurityHubOpt = Annotated[
    bool,
    typer.Option(
        "--security-hub",
        help="Import the AWS findings into AWS Security Hub (BatchImportFindings, the "
        "account's default product, the run's home region) and archive the ones this run no "
        "longer produces; credentials from the AWS environment (AWS_PROFILE, ...).",
    ),
]
NotifyOpt = Annotated[
    str | None,
    typer.Option(
        "--notify",
        metavar="URL",
        envvar="POSTURE_NOTIFY_URL",
        help="POST the FAILs new since the previous recorded scan as a Slack-compatible JSON "
        "message (text + blocks) to this webhook URL; nothing when none (needs --store).",
    ),
]
SnapshotOut = Annotated[
    Path | None, typer.Option(help="Also save the collected inventory to this file.")
]
SnapshotArg = Annotated[
    Path, typer.Argument(metavar="SNAPSHOT", help="A snapshot saved by `scan`.")
]
# the store of ``history``, ``diff`` and ``evidence`` (read, or recorded into by evidence)
HistoryStore = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="POSTURE_STORE",
        help="The history store: an SQLite file path or a URL (postgresql+psycopg://...).",
    ),
]


def say(text: str) -> None:
    """One plain line on stdout (never parsed as markup, never cropped)."""
    out.print(text, markup=False, soft_wrap=True)


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """The report and tracking options of ``scan`` and ``audit``, validated."""

    output_dir: Path
    formats: str
    fail_on: Severity | None = None
    check_ids: tuple[str, ...] = ()
    quiet: bool = False
    tracking: Tracking | None = None
    frameworks: tuple[str, ...] = ()  # --framework: the ids shown; () = by provider
    security_hub: bool = False  # --security-hub: import into AWS Security Hub
    notify: str | None = None  # --notify URL: post the new failures (a credential: never shown)
    # -c, --service, --severity, --exclude-check as given (check_ids: what they chose)
    selection: Selection = field(default_factory=Selection)

    @classmethod
    def parse(
        cls,
        output_dir: Path,
        formats: str,
        fail_on: str | None,
        check: list[str] | None,
        quiet: bool,
        store: str | None = None,
        exceptions: Path | None = None,
        fail_on_new: str | None = None,
        framework: list[str] | None = None,
        security_hub: bool = False,
        notify: str | None = None,
        severity: list[str] | None = None,
        service: list[str] | None = None,
        exclude_check: list[str] | None = None,
        verbose: bool = False,
        log_level: str | None = None,
    ) -> ReportOptions:
        """Validate before a long scan: the formats, ``--fail-on`` and the tracking options;
        an error here is a usage error (exit 2)."""
        from posture.reporters import parse_formats

        parse_formats(formats)  # fail on a bad --format before a long scan
        level = parse_level(quiet, verbose, log_level)
        configure(level, err)
        threshold = parse_fail_on(fail_on)
        selection = Selection.parse(check, service, severity, exclude_check)
        check_ids = select_ids(selection)
        tracking = Tracking.parse(store, exceptions, fail_on_new)
        warn_exceptions(tracking)
        return cls(output_dir, formats, threshold, check_ids, quiet, tracking,
                   parse_frameworks(framework), security_hub,
                   parse_notify(notify, tracking), selection)

    def frameworks_of(self, catalogue: Catalogue, provider: Provider) -> tuple[Framework, ...]:
        """The frameworks of a report on ``provider``: the provider-neutral ones, the CIS
        benchmarks of ``provider`` and any chosen with ``--framework`` (report.html and
        controls.csv then show only the chosen ones: ``Report.shown_frameworks``)."""
        ids = {f.id for f in select_frameworks(catalogue.frameworks, (provider,))}
        ids.update(self.frameworks)
        return tuple(f for f in catalogue.frameworks if f.id in ids)


def parse_notify(url: str | None, tracking: Tracking) -> str | None:
    """``--notify URL``: an http(s) URL, and a history store to find the new failures in."""
    if url is None or not url.strip():
        return None
    from posture.destinations.notify import check_url

    checked = check_url(url)
    if not tracking.store:
        raise ValueError("--notify needs a history store (--store or POSTURE_STORE) to tell "
                         "the new failures")
    return checked


def parse_frameworks(values: list[str] | None) -> tuple[str, ...]:
    """``--framework``: framework ids (repeatable, comma-separated), each checked (an unknown
    one is a usage error) and spelled as its framework file does."""
    ids = framework_ids(values)
    known = load_frameworks() if ids else ()
    return tuple(find_framework(known, i).id for i in ids)


def warn(text: str) -> None:
    """``warning: TEXT`` on stderr (stdout is for the report lines); none at ``--log-level
    error``."""
    if not shows(logging.WARNING):
        return
    err.print(f"warning: {text}", markup=False, soft_wrap=True)


def warn_exceptions(tracking: Tracking) -> None:
    """Before the run, warn of the entries of ``--exceptions`` that name no known check (they
    cover nothing: the findings stay FAIL) and of an allowed exception of everything."""
    source = tracking.exceptions
    if source is None:
        return
    from posture.history.exceptions import unknown_checks
    from posture.registry import load_catalogue

    for risk in unknown_checks(source.entries, load_catalogue().ids()):
        warn(f"{source.path}:{risk.line}: check {risk.check!r} names no check of this posture "
             "(see `posture checks list`): the exception covers nothing")
    for risk in source.entries:
        if risk.covers_everything:
            warn(f"{source.path}:{risk.line}: check {risk.check!r} on resource "
                 f"{risk.resource!r} excepts every finding (allow_all = true)")


def parse_fail_on(value: str | None) -> Severity | None:
    """``--fail-on``: a severity name, or none (``None`` or ``"none"``)."""
    if value is None or value.strip().lower() == "none":
        return None
    return Severity.parse(value)


@contextmanager
def progress(label: str, total: int | None, quiet: bool) -> Iterator[Callable[[str], None]]:
    """A transient progress bar on stderr on a terminal at ``--log-level info``; plain lines
    (:func:`posture.cli.logs.plain_progress`) elsewhere, nothing when quiet. Yields the
    callback that advances it by one step."""
    if quiet or not shows(logging.INFO):
        yield lambda _step: None
        return
    if not err.is_terminal or shows(logging.DEBUG):
        with plain_progress(label, total) as step:
            yield step
        return
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[dim]{task.fields[step]}"),
    ]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total, step="")

        def advance(step: str) -> None:
            bar.update(task, advance=1, step=step)

        yield advance


def write_snapshot(prepared: Prepared, path: Path) -> None:
    """Save the prepared inventory (``--snapshot-out``) and say where, with its hash."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(prepared.snapshot_text, encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot write snapshot: {exc.strerror or exc}") from None
    out.print(f"snapshot: {path} (sha256 {prepared.snapshot_sha256})", markup=False)


def prepare_and_save(inventory: Inventory, snapshot_out: Path | None) -> Prepared:
    """Prepare a collected inventory for the audit and save it when ``--snapshot-out`` asks."""
    prepared = prepare(inventory)
    if snapshot_out is not None:
        write_snapshot(prepared, snapshot_out)
    return prepared


_REPORT_PARAMS: tuple[tuple[str, Any, Any], ...] = (
    ("output_dir", OutputDir, Path("posture-report")),
    ("formats", Formats, "csv,json,html"),
    ("fail_on", FailOn, None),
    *SELECTION_PARAMS,  # -c, --severity, --service, --exclude-check, -q, -v, --log-level
    ("store", Store, None),
    ("exceptions", ExceptionsOpt, None),
    ("fail_on_new", FailOnNew, None),
    ("framework", FrameworkIds, None),
    ("security_hub", SecurityHubOpt, False),
    ("notify", NotifyOpt, None),
)


def report_command(func: Callable[..., None]) -> Callable[..., None]:
    """A command that audits and writes reports (``scan <cloud>``, ``audit``).

    The shared report options (``--output-dir`` to ``--framework``, :data:`_REPORT_PARAMS`)
    are appended to the command's own parameters, so every such command offers the same options
    in the same order, and the command receives them validated as ``options: ReportOptions``.
    """
    own = [
        p for p in inspect.signature(func, eval_str=True).parameters.values()
        if p.name != "options"
    ]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint)
        for name, hint, default in _REPORT_PARAMS
    ]

    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        values = {name: kwargs.pop(name) for name, _, _ in _REPORT_PARAMS}
        func(options=ReportOptions.parse(**values), **kwargs)

    signature = inspect.Signature([*own, *shared], return_annotation=None)
    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    return command
