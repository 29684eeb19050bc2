"""The options every organisation scan shares (``scan aws|gcp|azure``): where the tasks run and
whether an earlier evidence directory may be replaced. Plain annotations, no import of Dask."""

from __future__ import annotations

from typing import Annotated

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
ReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--replace-snapshots",
        help="Let --snapshot-out replace an earlier organisation scan in the same directory "
        "(its manifest and snapshots; anything else there is still refused).",
    ),
]
