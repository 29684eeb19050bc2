"""Where the account tasks run: in this process, on a ``LocalCluster``, or on a running Dask
scheduler.

- **in-process** (``--workers 0``, and any run of one account): the tasks one after the
  other in this process; no cluster is started.
- **local** (the default): ``distributed.LocalCluster`` with ``N`` single-threaded worker
  processes, ``N`` = ``--workers`` or the machine's cores (never more than the accounts). A
  task is I/O-bound but its checks are CPU-bound and hold the GIL, so one thread per process;
  each task still reads its account with the collector's own thread pool.
- **scheduler** (``--scheduler tcp://HOST:8786``): an existing cluster (``dask scheduler`` and
  ``dask worker`` on hosts with posture installed and their own AWS credentials).

One task per account. Splitting an account further (account by region, account by service)
was measured (``bench/org_scale.py --split region``, docs/organisations.md): the checks need
the whole account (IAM is global, reachability spans regions), so the pieces must be joined
again before the audit, and on moto the global services dominate an account's time; per
account balanced as well or better at every size measured, and keeps the coordinator free of
snapshots. Tasks are consumed with ``as_completed`` in completion order; each result is
handed to ``on_outcome`` and released at once, so the coordinator holds one snapshot at a time.

Failure: a task whose function raises is retried ``retries`` times (``Client.submit``); a task
lost with its worker is rescheduled by the scheduler on another worker (up to
``distributed.scheduler.allowed-failures`` times); a task that still fails becomes a
``failed`` outcome with the reason, built here, and the other accounts go on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from posture.errors import CollectorError
from posture.org.plan import AccountTask
from posture.org.task import AccountOutcome, failed_outcome, scan_account

OnOutcome = Callable[[AccountOutcome], None]


class Mode(StrEnum):
    IN_PROCESS = "in-process"
    LOCAL = "local"
    SCHEDULER = "scheduler"


@dataclass(frozen=True, slots=True)
class Cluster:
    """Where to run: the mode, the number of local workers, the scheduler's address."""

    mode: Mode = Mode.IN_PROCESS
    workers: int = 0
    address: str | None = None
    retries: int = 2  # of a task that raised (a lost worker is the scheduler's business)

    @classmethod
    def choose(cls, workers: int | None, scheduler: str | None, accounts: int) -> Cluster:
        """``--scheduler`` wins; ``--workers 0`` or a single account run in this process;
        otherwise a local cluster of ``--workers`` (default: the cores) processes."""
        if workers is not None and workers < 0:
            raise ValueError("--workers must be 0 (in this process) or more")
        if scheduler:
            return cls(Mode.SCHEDULER, address=scheduler)
        if workers == 0 or accounts <= 1:
            return cls(Mode.IN_PROCESS)
        return cls(Mode.LOCAL, workers=min(workers or default_workers(), accounts))

    def describe(self) -> str:
        if self.mode is Mode.SCHEDULER:
            return f"on the Dask scheduler {self.address}"
        if self.mode is Mode.LOCAL:
            return f"on a local Dask cluster of {self.workers} worker process(es)"
        return "in this process"


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def execute(
    tasks: Sequence[AccountTask],
    check_ids: tuple[str, ...],
    cluster: Cluster,
    on_outcome: OnOutcome,
) -> None:
    """Run every task and hand each outcome to ``on_outcome`` as it arrives (any order)."""
    if cluster.mode is Mode.IN_PROCESS:
        for task in tasks:
            on_outcome(_guarded(task, check_ids))
        return
    with _client(cluster) as client:
        run_on(client, tasks, check_ids, on_outcome, retries=cluster.retries)


def run_on(
    client: Any,
    tasks: Sequence[AccountTask],
    check_ids: tuple[str, ...],
    on_outcome: OnOutcome,
    *,
    retries: int = 2,
) -> None:
    """Submit one task per account to ``client`` (a ``distributed.Client``) and consume them
    as they complete."""
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    pending = {
        client.submit(scan_account, task, check_ids, key=f"posture-{task.key}-{run}",
                      pure=False, retries=retries): task
        for task in tasks
    }
    for future in as_completed(list(pending)):
        task = pending.pop(future)
        try:
            outcome = future.result()
        except Exception as exc:  # a lost or crashed task: the account is reported, not lost
            outcome = failed_outcome(task, f"task failed on the cluster: {_reason(exc)}",
                                     check_ids, lost=True)
        future.release()
        on_outcome(outcome)


def _guarded(task: AccountTask, check_ids: tuple[str, ...]) -> AccountOutcome:
    try:
        return scan_account(task, check_ids)
    except Exception as exc:
        if os.environ.get("POSTURE_DEBUG"):
            raise
        return failed_outcome(task, f"scan failed: {_reason(exc)}", check_ids, lost=True)


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).strip()
    return f"{name}: {text}" if text else name


@contextlib.contextmanager
def _client(cluster: Cluster) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if cluster.mode is Mode.SCHEDULER:
        try:
            client = Client(cluster.address, timeout="15s")
        except (OSError, TimeoutError) as exc:
            raise CollectorError(
                f"cannot reach the Dask scheduler at {cluster.address}: {_reason(exc)}"
            ) from None
        with client:
            yield client
        return
    with LocalCluster(
        n_workers=cluster.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local, Client(local) as client:
        yield client
