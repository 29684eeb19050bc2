"""What the commands share: the consoles, the typer options every report-writing command takes
(one definition each, so their names and help texts cannot drift between ``scan aws``,
``scan azure``, ``scan gcp`` and ``audit``), the progress bar and snapshot writing."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

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
    str, typer.Option("--format", "-f",
                      help="Comma-separated report formats: csv,json,html,controls,ocsf,junit.")
]
FailOn = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Exit 1 when a FAIL at or above this severity exists "
        "(info, low, medium, high, critical).",
    ),
]
CheckIds = Annotated[
    list[str] | None, typer.Option("--check", "-c", help="Run only this check id (repeatable).")
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
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary table.")]
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
    ) -> ReportOptions:
        """Validate before a long scan: the formats, ``--fail-on`` and the tracking options;
        an error here is a usage error (exit 2)."""
        from posture.reporters import parse_formats

        parse_formats(formats)  # fail on a bad --format before a long scan
        threshold = parse_fail_on(fail_on)
        tracking = Tracking.parse(store, exceptions, fail_on_new)
        warn_exceptions(tracking)
        return cls(output_dir, formats, threshold, tuple(check or ()), quiet, tracking,
                   parse_frameworks(framework))

    def frameworks_of(self, catalogue: Catalogue, provider: Provider) -> tuple[Framework, ...]:
        """The frameworks of a report on ``provider``: the provider-neutral ones, the CIS
        benchmarks of ``provider`` and any chosen with ``--framework`` (report.html and
        controls.csv then show only the chosen ones: ``Report.shown_frameworks``)."""
        ids = {f.id for f in select_frameworks(catalogue.frameworks, (provider,))}
        ids.update(self.frameworks)
        return tuple(f for f in catalogue.frameworks if f.id in ids)


def parse_frameworks(values: list[str] | None) -> tuple[str, ...]:
    """``--framework``: framework ids (repeatable, comma-separated), each checked (an unknown
    one is a usage error) and spelled as its framework file does."""
    ids = framework_ids(values)
    known = load_frameworks() if ids else ()
    return tuple(find_framework(known, i).id for i in ids)


def warn(text: str) -> None:
    """``warning: TEXT`` on stderr (stdout is for the report lines)."""
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
    """A transient progress bar on stderr (none when quiet or not a terminal); yields the
    callback that advances it by one step."""
    if quiet or not err.is_terminal:
        yield lambda _step: None
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
    ("check", CheckIds, None),
    ("quiet", Quiet, False),
    ("store", Store, None),
    ("exceptions", ExceptionsOpt, None),
    ("fail_on_new", FailOnNew, None),
    ("framework", FrameworkIds, None),
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
        values = [kwargs.pop(name) for name, _, _ in _REPORT_PARAMS]
        func(options=ReportOptions.parse(*values), **kwargs)

    signature = inspect.Signature([*own, *shared], return_annotation=None)
    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    return command
