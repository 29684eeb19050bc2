"""The ``posture`` command line (typer): the app, every command in one table, and the mapping of
posture's errors to one line on stderr and a documented exit code.

The command modules define plain functions and know nothing of the app; :func:`build` adds
them here, each wrapped by :func:`handled`. ``main()`` is the console-script entry point.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

from posture import __version__
from posture.cli import (
    audit,
    checks,
    demo,
    evidence,
    graph,
    history,
    permissions,
    scan_aws,
    scan_azure,
    scan_gcp,
    scan_github,
)
from posture.cli.options import err, out
from posture.errors import (
    CatalogueError,
    CheckSelectionError,
    CollectorError,
    PostureError,
    ReportError,
    SnapshotError,
)
from posture.pipeline import ExitCode

HELP = """posture audits cloud infrastructure against security principles (defense in depth,
encryption at rest and in transit, least privilege, MFA, just-in-time access, auditability,
secrets handling, segregation, patching, secure code, change control) and writes SOC 2 evidence
(CSV, JSON, HTML, OCSF, JUnit).

Exit codes: 0 clean · 1 a FAIL at or above --fail-on · 2 usage error · 3 cannot scan or read
the input (credentials, endpoint, region, snapshot) · 4 an organisation scan with an
account not (fully) scanned · 5 reports written, the history store could not record the
scan · 70 internal error.
"""

F = TypeVar("F", bound=Callable[..., Any])

USAGE_ERRORS = (ReportError, CheckSelectionError, ValueError)
INPUT_ERRORS = (SnapshotError, CollectorError, CatalogueError, PostureError)

# (group, name, function): the whole command line; a group of None is a top-level command.
# Help lists the top-level commands in this order, then the groups in the order of GROUPS.
COMMANDS: tuple[tuple[str | None, str, Callable[..., Any]], ...] = (
    (None, "audit", audit.audit),
    (None, "demo", demo.demo),
    (None, "history", history.history),
    (None, "diff", history.diff_cmd),
    (None, "evidence", evidence.evidence),
    (None, "graph", graph.graph),
    ("scan", "aws", scan_aws.scan_aws),
    ("scan", "gcp", scan_gcp.scan_gcp),
    ("scan", "azure", scan_azure.scan_azure),
    ("scan", "github", scan_github.scan_github),
    ("checks", "list", checks.checks_list),
    ("permissions", "aws", permissions.permissions_aws),
    ("permissions", "gcp", permissions.permissions_gcp),
    ("permissions", "azure", permissions.permissions_azure),
    ("permissions", "github", permissions.permissions_github),
)
GROUPS = {
    "scan": "Collect a cloud account, audit it and write reports.",
    "checks": "Inspect the check catalogue.",
    "permissions": "Print the read-only permissions posture needs.",
}


def handled(func: F) -> F:
    """Turn posture's errors into one line on stderr and a documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except USAGE_ERRORS as exc:
            die(str(exc), ExitCode.USAGE)
        except INPUT_ERRORS as exc:
            die(str(exc), ExitCode.INPUT)
        except KeyboardInterrupt:
            die("interrupted", ExitCode.INPUT)
        except Exception as exc:
            if os.environ.get("POSTURE_DEBUG"):
                raise
            die(
                f"internal error: {type(exc).__name__}: {exc} (set POSTURE_DEBUG=1 for details)",
                ExitCode.INTERNAL,
            )

    return wrapper  # type: ignore[return-value]


def die(message: str, code: ExitCode) -> NoReturn:
    """``posture: error: MESSAGE`` on stderr, exit ``code``."""
    _error_line(message)
    raise typer.Exit(int(code))


def _error_line(message: str) -> None:
    err.print(f"posture: error: {message}", markup=False, soft_wrap=True)


class _Posture(TyperGroup):
    """The root command. A usage error click finds (unknown option or command, missing
    argument, bad value) is one line on stderr like every other error, naming the help to
    read, instead of typer's usage box; its exit code stays 2."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, *,
        standalone_mode: bool = True, **kwargs: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **kwargs)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **kwargs)
        except typer.Abort:
            _error_line("aborted")
            sys.exit(1)
        except Exception as exc:
            if not _is_usage_error(exc):
                raise
            if type(exc).__name__ != "NoArgsIsHelpError":  # else typer has printed the help
                _error_line(_usage_message(exc))
            sys.exit(getattr(exc, "exit_code", ExitCode.USAGE))
        sys.exit(code if isinstance(code, int) else 0)


def _is_usage_error(exc: Exception) -> bool:
    """click's ``ClickException`` (recent typer vendors its own click: matched by shape,
    an int ``exit_code`` and ``format_message()``)."""
    return isinstance(getattr(exc, "exit_code", None), int) and hasattr(exc, "format_message")


def _usage_message(exc: Any) -> str:
    """click's message on one line, and the ``--help`` of the command it concerns."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return message
    names: list[str] = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return f"{message} (see `{' '.join(['posture', *reversed(names)])} --help`)"


def _version(value: bool) -> None:
    if value:
        out.print(f"posture {__version__}", markup=False)
        raise typer.Exit()


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    pass


def build() -> typer.Typer:
    """The app with every command of :data:`COMMANDS`."""
    root = typer.Typer(
        cls=_Posture,
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    root.callback()(_root)
    groups = {name: typer.Typer(help=text, no_args_is_help=True) for name, text in GROUPS.items()}
    for name, group in groups.items():
        root.add_typer(group, name=name)
    for group_name, name, func in COMMANDS:
        target = root if group_name is None else groups[group_name]
        target.command(name)(handled(func))
    return root


app = build()


def main() -> None:
    app(prog_name="posture")


if __name__ == "__main__":
    main()
