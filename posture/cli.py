"""The ``posture`` command line (typer)."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from posture import __version__
from posture.errors import (
    CatalogueError,
    CheckSelectionError,
    CollectorError,
    PostureError,
    ReportError,
    SnapshotError,
)
from posture.model import Finding, Inventory, Severity, Status
from posture.pipeline import ExitCode, Prepared, audit, exit_code, failures_by_severity
from posture.registry import load_catalogue
from posture.tracking import Tracking

HELP = """posture audits cloud infrastructure against security principles (defense in depth,
encryption at rest and in transit, least privilege, MFA, just-in-time access, auditability,
secrets handling, segregation) and writes SOC 2 evidence (CSV, JSON, HTML).

Exit codes: 0 clean · 1 a FAIL at or above --fail-on · 2 usage error · 3 cannot scan or read
the input (credentials, endpoint, region, snapshot) · 70 internal error.
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
scan_app = typer.Typer(
    help="Collect a cloud account, audit it and write reports.", no_args_is_help=True
)
checks_app = typer.Typer(help="Inspect the check catalogue.", no_args_is_help=True)
permissions_app = typer.Typer(
    help="Print the read-only permissions posture needs.", no_args_is_help=True
)
app.add_typer(scan_app, name="scan")
app.add_typer(checks_app, name="checks")
app.add_typer(permissions_app, name="permissions")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

_USAGE_ERRORS = (ReportError, CheckSelectionError, ValueError)
_INPUT_ERRORS = (SnapshotError, CollectorError, CatalogueError, PostureError)


def handled(func: F) -> F:
    """Turn posture's errors into one line on stderr and a documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except _USAGE_ERRORS as exc:
            _die(str(exc), ExitCode.USAGE)
        except _INPUT_ERRORS as exc:
            _die(str(exc), ExitCode.INPUT)
        except KeyboardInterrupt:
            _die("interrupted", ExitCode.INPUT)
        except Exception as exc:
            if os.environ.get("POSTURE_DEBUG"):
                raise
            _die(
                f"internal error: {type(exc).__name__}: {exc} (set POSTURE_DEBUG=1 for details)",
                ExitCode.INTERNAL,
            )

    return wrapper  # type: ignore[return-value]


def _die(message: str, code: ExitCode) -> None:
    err.print(f"posture: error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(int(code))


OutputDir = Annotated[Path, typer.Option("--output-dir", "-o", help="Directory for the reports.")]
Formats = Annotated[
    str, typer.Option("--format", "-f", help="Comma-separated report formats: csv,json,html.")
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


def _parse_fail_on(value: str | None) -> Severity | None:
    if value is None or value.strip().lower() == "none":
        return None
    return Severity.parse(value)


@contextmanager
def _progress(label: str, total: int | None, quiet: bool) -> Iterator[Callable[[str], None]]:
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


def _audit_and_report(
    prepared: Prepared,
    output_dir: Path,
    formats: str,
    fail_on: str | None,
    check_ids: list[str] | None,
    quiet: bool,
    tracking: Tracking | None = None,
) -> ExitCode:
    from posture.reporters import Report, parse_formats, write_reports
    from posture.tracking import track

    chosen = parse_formats(formats)
    threshold = _parse_fail_on(fail_on)
    catalogue = load_catalogue()
    ids = tuple(check_ids or ())
    selected = catalogue.select(ids=ids, provider=prepared.inventory.meta.provider)
    with _progress("Running checks", len(selected), quiet) as step:
        findings = audit(prepared, catalogue, ids, progress=step)
    tracked = track(tracking or Tracking(), prepared.inventory, findings,
                    prepared.snapshot_sha256, catalogue.version())
    findings = tracked.findings
    report = Report(
        findings=findings,
        inventory_meta=prepared.inventory.meta,
        collection_errors=prepared.inventory.errors,
        snapshot_sha256=prepared.snapshot_sha256,
        frameworks=catalogue.frameworks,
        catalogue_version=catalogue.version(),
        exceptions=tracked.exceptions,
        history=tracked.history,
    )
    written = write_reports(report, output_dir, chosen)
    if not quiet:
        _print_summary(findings, prepared)
    for fmt, path in sorted(written.items()):
        out.print(f"{fmt.value:>5}: {path}", markup=False)
    from posture.cli_history import print_tracked

    print_tracked(tracked, tracking)
    return max(exit_code(findings, threshold), tracked.exit_code)


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


def _print_summary(findings: tuple[Finding, ...], prepared: Prepared) -> None:
    fails = [f for f in findings if f.status == Status.FAIL]
    fails.sort(key=lambda f: (-f.severity, f.check_id, f.resource_uid))
    table = Table(title=f"Failed checks ({len(fails)})", show_lines=False)
    # narrow terminals (and pipes, 80 columns) fold the long cells instead of starving a column
    table.add_column("severity", no_wrap=True)
    table.add_column("check", overflow="fold", min_width=14, ratio=2)
    table.add_column("resource", overflow="fold", min_width=10, max_width=40, ratio=2)
    table.add_column("region", overflow="fold", min_width=9)
    table.add_column("message", overflow="fold", min_width=20, ratio=4)
    for f in fails[:25]:
        # resource names are attacker-controlled: Text() cells are never parsed as markup
        cells = (
            f.severity.label,
            f.check_id,
            f.resource_name or f.resource_uid,
            f.region,
            f.message,
        )
        table.add_row(*(Text(c) for c in cells))
    if fails and out.is_terminal:
        out.print(table)
    elif fails:
        # logs (cron, CI, pipes): one plain line per finding, nothing folded or cropped
        out.print(f"Failed checks ({len(fails)})", markup=False)
        for f in fails[:25]:
            line = f"  {f.severity.label:<8}  {f.check_id}  {f.resource_name or f.resource_uid}"
            out.print(Text(f"{line}  [{f.region}]  {f.message}"), soft_wrap=True)
    if len(fails) > 25:
        out.print(f"... and {len(fails) - 25} more in the reports", markup=False)
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
        out.print(
            f"warning: {len(errors)} API call(s) failed during collection; the checks that "
            "needed their data are INCONCLUSIVE (see the report).",
            markup=False,
        )


@scan_app.command("aws")
@handled
def scan_aws(
    profile: Annotated[str | None, typer.Option(help="AWS profile from the shared config.")] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", "-r", help="Region to scan (repeatable; default: all enabled)."),
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="Send every AWS API call to this endpoint (emulators).")
    ] = None,
    snapshot_out: Annotated[
        Path | None, typer.Option(help="Also save the collected inventory to this file.")
    ] = None,
    output_dir: OutputDir = Path("posture-report"),
    formats: Formats = "csv,json,html",
    fail_on: FailOn = None,
    check: CheckIds = None,
    quiet: Quiet = False,
    store: Store = None,
    exceptions: ExceptionsOpt = None,
    fail_on_new: FailOnNew = None,
) -> None:
    """Collect an AWS account (read-only), audit it and write the reports."""
    from posture.collectors.aws.collector import AwsTarget, collect
    from posture.pipeline import prepare
    from posture.reporters import parse_formats

    parse_formats(formats)  # fail on a bad --format before a long scan
    _parse_fail_on(fail_on)
    tracking = Tracking.parse(store, exceptions, fail_on_new)
    target = AwsTarget(profile=profile, regions=tuple(region or ()), endpoint_url=endpoint_url)
    with _progress("Collecting AWS", None, quiet) as step:
        inventory = collect(target, progress=step)
    prepared = prepare(inventory)
    if snapshot_out is not None:
        _write_snapshot(prepared, snapshot_out)
    code = _audit_and_report(prepared, output_dir, formats, fail_on, check, quiet, tracking)
    raise typer.Exit(int(code))


def _write_snapshot(prepared: Prepared, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(prepared.snapshot_text, encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot write snapshot: {exc.strerror or exc}") from None
    out.print(f"snapshot: {path} (sha256 {prepared.snapshot_sha256})", markup=False)


@app.command("audit")
@handled
def audit_cmd(
    snapshot_file: Annotated[
        Path, typer.Argument(metavar="SNAPSHOT", help="A snapshot saved by `scan`.")
    ],
    output_dir: OutputDir = Path("posture-report"),
    formats: Formats = "csv,json,html",
    fail_on: FailOn = None,
    check: CheckIds = None,
    quiet: Quiet = False,
    store: Store = None,
    exceptions: ExceptionsOpt = None,
    fail_on_new: FailOnNew = None,
) -> None:
    """Audit a saved inventory snapshot offline (no cloud access)."""
    from posture.pipeline import load_prepared
    from posture.reporters import parse_formats

    parse_formats(formats)
    _parse_fail_on(fail_on)
    tracking = Tracking.parse(store, exceptions, fail_on_new)
    prepared = load_prepared(snapshot_file)
    code = _audit_and_report(prepared, output_dir, formats, fail_on, check, quiet, tracking)
    raise typer.Exit(int(code))


@checks_app.command("list")
@handled
def checks_list(
    provider: Annotated[str | None, typer.Option(help="aws, azure or gcp.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every check with its severity, principles and control mappings."""
    from posture.model import Provider

    catalogue = load_catalogue()
    chosen = catalogue.select(provider=Provider(provider) if provider else None)
    if as_json:
        rows = [
            {
                "id": c.spec.id,
                "title": c.spec.title,
                "severity": c.spec.severity.label,
                "principles": [p.value for p in c.spec.principles],
                "controls": {k: list(v) for k, v in c.controls.items()},
            }
            for c in chosen
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"{len(chosen)} checks")
    for col in ("id", "severity", "principles", "controls", "title"):
        table.add_column(col, overflow="fold")
    for c in chosen:
        controls = "; ".join(f"{fw} {', '.join(ids)}" for fw, ids in c.controls.items())
        table.add_row(
            c.spec.id,
            c.spec.severity.label,
            ", ".join(p.value for p in c.spec.principles),
            controls,
            c.spec.title,
        )
    out.print(table)


@permissions_app.command("aws")
@handled
def permissions_aws() -> None:
    """Print the scanner's own least-privilege, read-only IAM policy (JSON)."""
    from posture.collectors.aws.collector import policy_document

    sys.stdout.write(json.dumps(policy_document(), indent=2) + "\n")


@app.command("demo")
@handled
def demo_cmd(
    cloud: Annotated[
        str,
        typer.Argument(
            help="aws (default: moto), azure (loopback fake of ARM) or gcp (loopback fake of "
            "the Google APIs)."
        ),
    ] = "aws",
    output_dir: OutputDir = Path("posture-demo"),
    formats: Formats = "csv,json,html",
    snapshot_out: Annotated[
        Path | None, typer.Option(help="Also save the demo inventory to this file.")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Build a demo estate on an embedded emulator or fake (AWS by default), scan it and report."""
    if cloud == "gcp":
        from posture.cli_gcp import demo_gcp

        return demo_gcp(output_dir, formats, snapshot_out, quiet)
    if cloud == "azure":
        from posture.cli_azure import demo_azure

        return demo_azure(output_dir, formats, snapshot_out, quiet)
    if cloud != "aws":
        raise ValueError(f"unknown demo cloud {cloud!r}: choose aws, azure or gcp")
    try:
        from posture import demo
    except ImportError as exc:
        raise CollectorError(
            f"the demo needs the emulator: pip install 'posture[demo]' ({exc.name} missing)"
        ) from None
    from posture.reporters import parse_formats

    parse_formats(formats)
    with demo.running_emulator() as endpoint:
        out.print(f"emulator: moto on {endpoint}; building the demo account ...", markup=False)
        demo.build_account(endpoint)
        with _progress("Collecting AWS (demo)", None, quiet) as step:
            inventory = demo.scan(endpoint, progress=step)
    report_demo(inventory, output_dir, formats, snapshot_out, quiet)


def report_demo(
    inventory: Inventory, output_dir: Path, formats: str, snapshot_out: Path | None, quiet: bool
) -> None:
    """The tail every demo shares: prepare, optionally save the snapshot, audit and report."""
    from posture.pipeline import prepare

    prepared = prepare(inventory)
    if snapshot_out is not None:
        _write_snapshot(prepared, snapshot_out)
    _audit_and_report(prepared, output_dir, formats, None, None, quiet)
    out.print(f"Open the HTML report: {(output_dir / 'report.html').resolve()}", markup=False)


def _version(value: bool) -> None:
    if value:
        out.print(f"posture {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    pass


def main() -> None:
    app(prog_name="posture")


# commands kept in their own modules (history, diff, evidence)
from posture import cli_evidence, cli_history  # noqa: E402

cli_history.register(app)
cli_evidence.register(app)

from posture import cli_gcp  # noqa: E402

cli_gcp.register()

from posture import cli_azure  # noqa: E402

cli_azure.register()

from posture import cli_graph  # noqa: E402

cli_graph.register(app)


if __name__ == "__main__":
    main()
