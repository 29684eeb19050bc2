"""The options every organisation scan shares (``scan aws|gcp|azure``): where the tasks run and
whether an earlier evidence directory may be replaced. Plain annotations, no import of Dask."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="Local Dask worker processes (default: the machine's cores; 0: scan the accounts "
        "(projects, subscriptions) one after the other in this process).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler",
                 help="Run on this existing Dask scheduler (tcp://HOST:8786) instead."),
]


def snapshot_out(org_flags: str, unit: str) -> Any:
    """The ``--snapshot-out`` option of a scan whose organisation flags are ``org_flags`` and
    whose task covers one ``unit`` (account, project, subscription)."""
    return typer.Option(
        help=f"Also save the collected inventory to this file; with {org_flags}, a new "
        f"directory: one snapshot per {unit} and manifest.json (re-audit it with "
        "`posture audit DIR`)."
    )


ReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--replace-snapshots",
        help="Let --snapshot-out replace an earlier organisation scan in the same directory "
        "(its manifest and snapshots; anything else there is still refused).",
    ),
]


def refuse_organization_options(
    scope: str,
    workers: int | None,
    scheduler: str | None,
    replace: bool,
    others: Mapping[str, object] | None = None,
) -> None:
    """A single scan given options of an organisation scan: a ValueError naming them, ``others``
    (option name -> value, ``None`` when not given) first (``--workers, --scheduler only apply
    with --organization``)."""
    given = {**(others or {}), "--workers": workers, "--scheduler": scheduler,
             "--replace-snapshots": replace or None}
    if used := [name for name, value in given.items() if value is not None]:
        raise ValueError(f"{', '.join(used)} only apply with {scope}")
