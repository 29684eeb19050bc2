"""What a run says on stderr while it works: ``--quiet``, ``--verbose`` and ``--log-level``,
the same on ``audit``, every ``scan``, ``demo`` and ``evidence``.

Progress is a log record of ``posture.progress`` at INFO. On a terminal it is a transient
progress bar; anywhere else (cron, CI, a pipe) it is one plain line per step on stderr
(``info: collecting AWS: ec2 us-east-1``), worded the same on every run, no colours or cursor
movement. The levels:

* ``--log-level info`` (the default): progress, warnings and errors;
* ``--verbose`` / ``-v`` (``--log-level debug``): also each check as it runs and posture's
  debug records (retries of throttled API calls), each naming its logger;
* ``--quiet`` / ``-q`` (``--log-level warning``): no progress and no summary table;
  warnings and errors only. ``--log-level error`` drops posture's logged warnings too.

``posture: error: ...`` lines and the exit code are not affected by any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

LOG = logging.getLogger("posture.progress")
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary table: "
                                     "warnings and errors only (--log-level warning).")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Also each check as it runs "
                                       "and posture's debug lines (--log-level debug).")]
LogLevel = Annotated[
    str | None,
    typer.Option("--log-level", metavar="LEVEL", help="What is written to stderr while it "
                 "runs: debug, info (default: progress), warning or error."),
]


def parse_level(quiet: bool, verbose: bool, log_level: str | None) -> int:
    """The level of ``--quiet`` or ``--verbose`` (not both); ``--log-level`` wins over
    either (``-q --log-level error``: no summary table, and errors only)."""
    if quiet and verbose:
        raise ValueError("--quiet and --verbose contradict each other: give one")
    if log_level is not None:
        name = log_level.strip().lower()
        if name not in LEVELS:
            raise ValueError(f"unknown --log-level {log_level!r} (expected one of: "
                             f"{', '.join(LEVELS)})")
        return LEVELS[name]
    return logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO


class _Lines(logging.Handler):
    """Records of ``posture.*`` as plain lines on posture's stderr console: ``LEVEL: text``
    (with the logger's name below INFO); never parsed as markup."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # pragma: no cover - a malformed record is not worth a crash
            self.handleError(record)
            return
        where = f"{record.name}: " if record.levelno < logging.INFO else ""
        self.console.print(f"{record.levelname.lower()}: {where}{text}", markup=False,
                           highlight=False, soft_wrap=True)


def configure(level: int, console: Console) -> None:
    """Send posture's log records at ``level`` and above to ``console`` (stderr; once per
    process, a later command replaces the level). Below WARNING the ``posture`` logger is opened
    to ``level``; otherwise it is left to inherit, so an embedding application keeps its own."""
    logger = logging.getLogger("posture")
    handler = next((h for h in logger.handlers if isinstance(h, _Lines)), None)
    if handler is None:
        handler = _Lines(console)
        logger.addHandler(handler)
    handler.console = console
    handler.setLevel(level)
    logger.setLevel(level if level < logging.WARNING else logging.NOTSET)


def shows(level: int) -> bool:
    """Whether a record of ``posture.progress`` at ``level`` would be written."""
    handler = next((h for h in logging.getLogger("posture").handlers
                    if isinstance(h, _Lines)), None)
    return LOG.isEnabledFor(level) and (handler is None or level >= handler.level)


@contextmanager
def plain_progress(label: str, total: int | None) -> Iterator[Callable[[str], None]]:
    """Progress as log lines: an open-ended phase (collection, ``total`` None) logs each step
    at INFO; a counted phase (the checks) logs its start and end at INFO and each step at
    DEBUG."""
    if total is None:
        yield lambda step: LOG.info("%s: %s", label.lower(), step)
        return
    LOG.info("%s (%d)", label.lower(), total)
    yield lambda step: LOG.debug("%s: %s", label.lower(), step)
    LOG.info("%s: done", label.lower())
