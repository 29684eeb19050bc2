"""Another process's hold on a history store, for the tests of what posture does meanwhile."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusively_locked(path: Path) -> Iterator[None]:
    """Another connection holds an exclusive lock on the SQLite file while the block runs:
    nobody else reads or writes it (rollback journal) until it ends."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
