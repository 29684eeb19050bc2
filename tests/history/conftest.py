"""Fixtures of the history tests: a throwaway PostgreSQL server, and a fresh store URL on SQLite
and on that server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import pg


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL server for the session (skips where none can be started here)."""
    with pg.server_or_skip() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty history store: a SQLite file, then a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "history.db")
    server: str = request.getfixturevalue("pg_url")
    return pg.fresh_database(server, f"t_{uuid.uuid4().hex[:12]}")
