"""Connections to the history store whose waits are bounded and whose transactions say
whether they write (:func:`make_engine`), and what a failure means (:func:`is_busy`).

On SQLite posture begins its own transactions (the driver would begin one only at the first
write): a transaction run with the execution option :data:`WRITE` begins ``BEGIN IMMEDIATE``,
taking the database's only write lock at once, so two writers queue (up to the busy timeout)
instead of one failing when it upgrades a read lock.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

CONNECT_TIMEOUT = 10  # seconds to reach a PostgreSQL server
WRITE = "posture_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def is_busy(exc: sa.exc.SQLAlchemyError) -> bool:
    """Another connection's lock outlasted the wait (SQLite ``SQLITE_BUSY``/``LOCKED``,
    PostgreSQL ``lock_not_available``: ``lock_timeout``)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) == "55P03":
        return True
    return orig.__class__.__module__ == "sqlite3" and any(
        word in str(orig) for word in ("database is locked", "database table is locked", "busy")
    )


def make_engine(url: str, wait: float) -> Engine:
    """An engine whose waits are bounded: SQLite waits ``wait`` seconds for a lock, PostgreSQL
    ``CONNECT_TIMEOUT`` to connect and ``wait`` for a lock (``lock_timeout``), unless the URL
    says otherwise (``?timeout=``, ``?connect_timeout=``, ``?options=``). On SQLite posture
    begins its own transactions (the driver's would start only at the first write)."""
    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    args: dict[str, Any] = {}
    if backend == "sqlite" and "timeout" not in parsed.query:
        args["timeout"] = wait
    if backend == "postgresql":
        if "connect_timeout" not in parsed.query:
            args["connect_timeout"] = CONNECT_TIMEOUT
        if "options" not in parsed.query:
            args["options"] = f"-c lock_timeout={int(wait * 1000)}"
    engine = sa.create_engine(url, connect_args=args)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _driver_never_begins)
        sa.event.listen(engine, "begin", _begin)
    return engine


def _driver_never_begins(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE)
                         else "BEGIN")
