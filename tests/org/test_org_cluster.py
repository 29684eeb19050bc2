"""Organisation scans on Dask: a ``LocalCluster`` of two worker processes, and a real
``dask scheduler`` with two ``dask worker`` processes on 127.0.0.1, one of them killed while it
scans an account (the task is held at its ``AssumeRole`` by the fault proxy, so it is provably
running when the worker dies): the scheduler gives the task to the other worker and every
account completes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from org_estate import MANAGEMENT, Org
from org_proxy import Faults, proxy

from posture.collectors.aws.organizations import discover
from posture.org.executor import Cluster, Mode
from posture.org.plan import Access, OrgPlan, plan
from posture.org.run import OrgResult, scan_organization
from posture.org.task import AccountStatus

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}


def _plan(org: Org, endpoint: str) -> OrgPlan:
    found = discover(boto3.session.Session(), endpoint_url=org.endpoint)
    return plan(found, Access(regions=("us-east-1",), endpoint_url=endpoint))


def _verdicts(result: OrgResult) -> set[tuple[str, str, str, str]]:
    return {(f.account, f.check_id, f.resource_name, f.status.value) for f in result.findings}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the dask scheduler exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def in_process(org: Org) -> OrgResult:
    with pytest.MonkeyPatch.context() as mp:
        for k, v in AWS_ENV.items():
            mp.setenv(k, v)
        return scan_organization(_plan(org, org.endpoint), Cluster(Mode.IN_PROCESS))


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """``dask scheduler`` and two ``dask worker`` processes (no nanny: a killed worker stays
    dead) on loopback, with the test credentials in their environment."""
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, **AWS_ENV, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_port(port, procs[0])
        for _ in range(2):
            procs.append(subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1"],
                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, procs[1:]
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_local_cluster_of_two_workers_gives_the_in_process_verdicts(
    org: Org, in_process: OrgResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in AWS_ENV.items():
        monkeypatch.setenv(k, v)
    seen: list[str] = []
    result = scan_organization(_plan(org, org.endpoint), Cluster(Mode.LOCAL, workers=2),
                               on_account=lambda entry, *_: seen.append(entry.id))
    assert sorted(seen) == sorted({MANAGEMENT, *org.accounts.values()})
    assert {a.status for a in result.manifest.accounts} == {AccountStatus.SCANNED}
    assert _verdicts(result) == _verdicts(in_process)


def test_a_worker_killed_mid_scan_loses_no_account(
    org: Org, in_process: OrgResult, dask_cluster: tuple[str, list[subprocess.Popen[bytes]]],
    tmp_path: Path,
) -> None:
    from distributed import Client

    address, workers = dask_cluster
    victim_account = org.id_of("prod-web")
    faults = Faults(hold=victim_account)
    outcome: dict[str, OrgResult | BaseException] = {}
    with proxy(org.endpoint, faults) as endpoint:
        chosen = _plan(org, endpoint)

        def scan() -> None:
            try:
                outcome["result"] = scan_organization(
                    chosen, Cluster(Mode.SCHEDULER, address=address), out_dir=tmp_path / "snap")
            except BaseException as exc:  # reported below
                outcome["error"] = exc

        thread = threading.Thread(target=scan)
        thread.start()
        assert faults.held.wait(timeout=60), "the held account's task never started"
        with Client(address, timeout="30s") as client:
            processing = client.processing()
            pids = client.run(os.getpid)
        running = [w for w, keys in processing.items()
                   if any(victim_account in str(k) for k in keys)]
        assert len(running) == 1, processing
        pid = pids[running[0]]
        killed = next(p for p in workers if p.pid == pid)
        killed.kill()
        killed.wait(timeout=15)
        faults.release.set()
        thread.join(timeout=120)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert isinstance(result, OrgResult)
    assert {a.id: a.status for a in result.manifest.accounts} == {
        a: AccountStatus.SCANNED for a in (MANAGEMENT, *org.accounts.values())}
    assert faults.assumed.count(victim_account) >= 2  # held once, then retried elsewhere
    assert _verdicts(result) == _verdicts(in_process)
    assert (tmp_path / "snap" / f"{victim_account}.json").exists()
