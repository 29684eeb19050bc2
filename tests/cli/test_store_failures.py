"""A history store never costs a run its reports: six ``posture audit --store`` processes
creating one new store at once (SQLite and PostgreSQL) all write their reports and are all
recorded; a store locked by another connection keeps the reports and exits 5 naming it; a store
that cannot be reached stops a scan before anything is collected (exit 3)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import pg
from support.aws import asset, inventory
from support.locks import exclusively_locked

from posture import snapshot
from posture.history.store import open_store

CHECK = "aws.encryption.ebs_volume_encrypted"
WORKERS = 6


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    with pg.server_or_skip() as url:
        yield url


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    path = tmp_path / "snapshot.json"
    vol = "arn:aws:ec2:us-east-1:123456789012:volume/vol-a"
    snapshot.save(inventory(asset("AWS::EC2::Volume", vol, encrypted=False)), path)
    return path


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from posture.cli.main import main; main()", *args]


def _audits_at_once(snap: Path, store: str, out: Path) -> list[subprocess.CompletedProcess[str]]:
    """:data:`WORKERS` ``posture audit --store`` processes started together."""
    procs = [
        subprocess.Popen(
            _command("audit", str(snap), "-o", str(out / f"r{i}"), "-q", "-c", CHECK,
                     "-f", "json", "--store", store),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        )
        for i in range(WORKERS)
    ]
    done = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return done


def _check_all_recorded(done: list[subprocess.CompletedProcess[str]], store: str,
                        out: Path) -> None:
    for proc in done:
        assert proc.returncode == 0, proc.stderr
    for i in range(WORKERS):
        report = json.loads((out / f"r{i}" / "findings.json").read_text())
        assert report["history"]["record"] in range(1, WORKERS + 1)
    with open_store(store, create=False) as db:
        assert len(db.scans()) == WORKERS


def test_six_audits_create_one_new_sqlite_store(snap: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "history.db")
    _check_all_recorded(_audits_at_once(snap, store, tmp_path), store, tmp_path)


def test_six_audits_create_one_new_postgresql_store(snap: Path, tmp_path: Path,
                                                    pg_server: str) -> None:
    store = pg.fresh_database(pg_server, f"t_cli_{uuid.uuid4().hex[:10]}")
    _check_all_recorded(_audits_at_once(snap, store, tmp_path), store, tmp_path)


def test_a_locked_sqlite_store_keeps_the_reports(snap: Path, tmp_path: Path) -> None:
    """Another connection holds an exclusive lock for the whole run: the reports are written
    (without a history section), the scan is not recorded, the error names the store and says
    the reports were kept, and the exit code is 5."""
    path = tmp_path / "history.db"
    with open_store(str(path)):
        pass
    with exclusively_locked(path):
        proc = subprocess.run(
            _command("audit", str(snap), "-o", str(tmp_path / "r"), "-q", "-c", CHECK,
                     "-f", "json,csv", "--store", f"sqlite:///{path}?timeout=1"),
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("posture: error:")]
    assert len(errors) == 1, proc.stderr
    assert "database is locked" in errors[0] and str(path) in errors[0]
    assert "not recorded" in errors[0] and "reports" in errors[0]
    report = json.loads((tmp_path / "r" / "findings.json").read_text())
    assert "history" not in report and len(report["findings"]) == 1
    assert (tmp_path / "r" / "findings.csv").exists()
    assert "findings.json" in proc.stdout  # the files written are listed as usual
    with open_store(str(path), create=False) as db:
        assert db.scans() == []


class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self) -> None:
        type(self).hits += 1
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST

    def log_message(self, *_: object) -> None:
        pass


def test_an_unreachable_postgresql_store_stops_a_scan_before_collection(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    store = f"postgresql+psycopg://posture:secret@127.0.0.1:{closed}/posture"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_MAX_ATTEMPTS": "1"}
    try:
        proc = subprocess.run(
            _command("scan", "aws", "--endpoint-url", f"http://127.0.0.1:{server.server_port}",
                     "-r", "us-east-1", "-o", str(tmp_path / "r"), "-q",
                     "--snapshot-out", str(tmp_path / "snap.json"), "--store", store),
            capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
        )
    finally:
        server.shutdown()
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("posture: error: history store"), lines
    assert f"127.0.0.1:{closed}" in lines[0] and "secret" not in lines[0]
    assert "nothing was collected" in lines[0]
    assert _Counting.hits == 0  # not one AWS call
    assert not (tmp_path / "snap.json").exists() and not (tmp_path / "r").exists()


def test_the_pipeline_writes_the_reports_when_recording_fails(tmp_path: Path, snap: Path) -> None:
    """In process: a store locked from before the run to after it passes the check before the
    run (busy is not unreachable), then fails to record: the report step still runs, on
    findings without a history, and the exit code is HISTORY."""
    from posture.history.tracking import Tracking
    from posture.pipeline import ExitCode, load_prepared, run_audit
    from posture.registry import load_catalogue

    path = tmp_path / "history.db"
    with open_store(str(path)):
        pass
    with exclusively_locked(path):
        tracking = Tracking.parse(f"sqlite:///{path}?timeout=0.2")
        run, reported = run_audit(load_prepared(snap), load_catalogue(), lambda r: r.tracked,
                                  check_ids=(CHECK,), tracking=tracking)
    assert reported is run.tracked and reported.history is None
    assert reported.store_error and "database is locked" in reported.store_error
    assert reported.store_error.endswith("this scan was not recorded")
    assert [f.check_id for f in run.findings] == [CHECK]
    assert run.exit_code == ExitCode.HISTORY == 5
