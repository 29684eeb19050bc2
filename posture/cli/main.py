"""The ``posture`` command line (typer): the app, every command in one table, and the mapping of
posture's errors to one line on stderr and a documented exit code.

The command modules define plain functions and know nothing of the app; :func:`build` adds
them here, each wrapped by :func:`handled`. ``main()`` is the console-script entry point.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer

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
secrets handling, segregation) and writes SOC 2 evidence (CSV, JSON, HTML).

Exit codes: 0 clean · 1 a FAIL at or above --fail-on · 2 usage error · 3 cannot scan or read
the input (credentials, endpoint, region, snapshot) · 4 an organisation scan with an
account not (fully) scanned · 70 internal error.
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
    err.print(f"posture: error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(int(code))


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
