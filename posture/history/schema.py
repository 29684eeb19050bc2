"""The history store's tables, its schema version and the migrations that create them.

Guarantee: :func:`upgrade` brings a store to :data:`SCHEMA_VERSION` exactly once, however many
posture processes open one new store at the same moment. The caller runs it in one transaction
that holds the store's write lock first (:func:`posture.history.store.open_store`: SQLite
``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock on :data:`LOCK_KEY`), so the
second process waits, then finds the version the first one wrote and creates nothing. Every
``CREATE`` says ``IF NOT EXISTS`` too, so a table that is there is never an error.

The version lives in ``posture_store`` (``key = 'schema'``); a database without that table is
not a posture store. :data:`MIGRATIONS` ``[n - 1]`` takes a store from version ``n - 1`` to
``n``: a new version appends a function, never edits an old one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex, CreateTable

from posture.model import Status

SCHEMA_VERSION = 1
# pg_advisory_xact_lock key of schema changes: b"posture" as a positive bigint
LOCK_KEY = int.from_bytes(b"posture", "big")

metadata = sa.MetaData()

scans = sa.Table(
    "posture_scans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scan_id", sa.String(200), nullable=False, index=True),
    sa.Column("scope", sa.String(2000), nullable=False, index=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("accounts", sa.Text, nullable=False),  # JSON list
    sa.Column("regions", sa.Text, nullable=False),  # JSON list
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40), nullable=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("tool_version", sa.String(40), nullable=False),
    sa.Column("catalogue_version", sa.String(80), nullable=False),
    sa.Column("snapshot_sha256", sa.String(64)),
    *(sa.Column(f"n_{s.value.lower()}", sa.Integer, nullable=False) for s in Status),
)

findings = sa.Table(
    "posture_findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "scan",
        sa.Integer,
        sa.ForeignKey(scans.c.id, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("check_id", sa.String(200), nullable=False),
    sa.Column("resource_uid", sa.Text, nullable=False),
    sa.Column("resource_name", sa.Text, nullable=False),
    sa.Column("resource_type", sa.String(200), nullable=False),
    sa.Column("account", sa.String(200), nullable=False),
    sa.Column("region", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("severity", sa.Integer, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

info = sa.Table(
    "posture_store",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)


def _create_v1(conn: Connection) -> None:
    """Version 1: the three tables and their indexes."""
    for table in (info, scans, findings):
        conn.execute(CreateTable(table, if_not_exists=True))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            conn.execute(CreateIndex(index, if_not_exists=True))


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_create_v1,)


def lock(conn: Connection) -> None:
    """Serialize schema changes on PostgreSQL until the transaction ends (SQLite: the caller's
    ``BEGIN IMMEDIATE`` already holds the only write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))


def stored_version(conn: Connection) -> int | None:
    """The store's schema version; None when the database is not a posture store."""
    if not sa.inspect(conn).has_table(info.name):
        return None
    value = conn.execute(sa.select(info.c.value).where(info.c.key == "schema")).scalar()
    return int(value) if value is not None and str(value).isdigit() else 0


def upgrade(conn: Connection, have: int) -> None:
    """Run the migrations after version ``have`` and write the version. The write happens even
    when nothing was missing: it proves the store takes writes (a read-only file or replica, a
    role without the right fails here, before a scan)."""
    for migration in MIGRATIONS[have:]:
        migration(conn)
    value = str(SCHEMA_VERSION)
    written = conn.execute(sa.update(info).where(info.c.key == "schema").values(value=value))
    if written.rowcount == 0:
        conn.execute(sa.insert(info).values(key="schema", value=value))
