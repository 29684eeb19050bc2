"""The history store under concurrent use, locks and an unreachable server, on SQLite and on a
real PostgreSQL server: six recorders creating one new store at once all succeed (the schema is
created once, under a lock), a store held by another writer is named as busy, and
:func:`preflight` refuses a store that cannot be reached before anything is collected."""

from __future__ import annotations

import multiprocessing as mp
import socket
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import pg
from support.locks import exclusively_locked
from support.reports import META, finding

from posture.history.store import (
    SCHEMA_VERSION,
    StoreBusyError,
    StoreError,
    open_store,
    preflight,
)

WORKERS = 6


def _record(url: str, barrier: mp.synchronize.Barrier, results: mp.Queue) -> None:
    """One recorder: wait for the others, then open (create) the store and record a scan."""
    barrier.wait()
    try:
        with open_store(url) as store:
            store.record(META, (finding(1), finding(2)), None, "cat")
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def _race(url: str) -> list[str]:
    """:data:`WORKERS` processes open one new store and record into it at the same moment."""
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_record, args=(url, barrier, results)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return outcomes


def test_six_recorders_create_one_new_sqlite_store(tmp_path: Path) -> None:
    """Before: 14 of 30 recorders failed with "table posture_scans already exists"."""
    for n in range(5):
        url = str(tmp_path / f"h{n}.db")
        assert _race(url) == ["ok"] * WORKERS
        with open_store(url, create=False) as store:
            assert len(store.scans()) == WORKERS


def test_six_recorders_create_one_new_postgresql_store(pg_url: str) -> None:
    """Before: "duplicate key value violates unique constraint pg_type_typname_nsp_index"."""
    for _ in range(3):
        url = pg.fresh_database(pg_url, f"t_race_{uuid.uuid4().hex[:10]}")
        assert _race(url) == ["ok"] * WORKERS
        with open_store(url, create=False) as store:
            assert len(store.scans()) == WORKERS


def test_schema_version_is_recorded_once(store_url: str) -> None:
    for _ in range(2):
        with open_store(store_url):
            pass
    engine = sa.create_engine(store_url if "://" in store_url else f"sqlite:///{store_url}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT key, value FROM posture_store")).all()
    finally:
        engine.dispose()
    assert rows == [("schema", str(SCHEMA_VERSION))]


def test_a_store_newer_than_this_posture_is_refused(store_url: str) -> None:
    with open_store(store_url):
        pass
    engine = sa.create_engine(store_url if "://" in store_url else f"sqlite:///{store_url}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE posture_store SET value = '99' WHERE key = 'schema'"))
    finally:
        engine.dispose()
    for create in (True, False):
        with pytest.raises(StoreError, match="schema version 99"), open_store(store_url, create):
            pass


def test_a_locked_sqlite_store_is_named_busy(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with open_store(str(path)) as store:
        store.record(META, (finding(1),), None, "cat")
    url = f"sqlite:///{path}?timeout=0.5"
    with exclusively_locked(path):
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="database is locked") as caught, open_store(url):
            pass
        assert time.monotonic() - started < 10  # the wait is bounded by the timeout
        assert str(path) in str(caught.value) or "h.db" in str(caught.value)
        preflight(url)  # busy is not unreachable: the scan goes ahead
    with open_store(url) as store:
        assert len(store.scans()) == 1  # nothing was lost or half-written


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_preflight_refuses_what_cannot_be_recorded_into(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://posture@127.0.0.1:{_closed_port()}/posture"
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"127\.0\.0\.1") as caught:
        preflight(url)
    assert time.monotonic() - started < 30
    assert "connection refused" in str(caught.value).lower()
    with pytest.raises(StoreError, match="does not exist"):
        preflight(str(tmp_path / "missing" / "h.db"))
    with pytest.raises(StoreError, match="is a folder"):
        preflight(str(tmp_path))
    fresh = tmp_path / "new.db"
    preflight(str(fresh))  # a new store is created (schema and version) before the scan
    with open_store(str(fresh), create=False) as store:
        assert store.scans() == []


def test_preflight_refuses_a_read_only_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with open_store(str(path)):
        pass
    with pytest.raises(StoreError, match=r"readonly|read-only|read only"):
        preflight(f"sqlite:///file:{path}?mode=ro&uri=true")
