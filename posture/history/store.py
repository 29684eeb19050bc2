"""Scan history: every recorded scan and its findings, in SQLite or PostgreSQL.

One code path (SQLAlchemy Core) for both: a plain path (``posture.db``) is an SQLite file, a
URL (``postgresql+psycopg://user@host/db``, or any ``sqlite:///`` URL) is used as given. The
schema is created on first use by a command that records (``create=True``); a command that only
reads (``history``, ``diff``) never creates a file or a table: a store that is not there is an
error naming it. An SQLite file in a folder that does not exist is an error naming both.

* ``scans``: one row per recorded scan — its scope (provider + accounts + regions), the scan
  manifest, the snapshot hash, the catalogue version and the status counts.
* ``findings``: one row per finding of a scan, keyed for diffs by its fingerprint
  (``check_id`` + ``resource_uid``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from posture.errors import PostureError
from posture.history.diff import StoredFinding, fingerprint
from posture.model import Finding, ScanMeta, Severity, Status

__all__ = ["Store", "StoreError", "StoredFinding", "fingerprint", "open_store"]

SCHEMA_VERSION = 1

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


class StoreError(PostureError):
    """The history store cannot be opened, read or written, or a scan is not in it."""


def scope_of(meta: ScanMeta) -> str:
    """provider + accounts + regions, order-independent: scans of one scope are comparable."""
    return json.dumps(
        [meta.provider.value, sorted(meta.accounts), sorted(meta.regions)], separators=(",", ":")
    )


def organization_scope(provider: str, organization_id: str) -> str:
    """The scope of an organisation run: its organisation, whatever accounts (or regions) one
    run selected or reached, so two runs of one organisation are always compared (account by
    account: see :func:`posture.history.diff.diff`)."""
    return json.dumps([provider, "organization", organization_id], separators=(",", ":"))


def url_for(target: str) -> str:
    """A store option → an SQLAlchemy URL (a plain path is an SQLite file)."""
    if "://" in target:
        return target
    return "sqlite:///" + str(Path(target).expanduser().resolve())


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None: another database, in memory, or not a URL)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def _check_file(file: Path, name: str, create: bool) -> None:
    """Refuse an SQLite file that cannot be a store before SQLite creates or misreads it."""
    if file.is_dir():
        raise StoreError(f"{name}: is a folder, not a history store file")
    if not file.parent.is_dir():
        raise StoreError(f"{name}: the folder {file.parent} does not exist")
    if not create and not file.exists():
        raise StoreError(
            f"{name}: no history store there (a typo? a store is created by the first "
            "`scan` or `audit --store` recorded into it)"
        )


@dataclass(frozen=True, slots=True)
class ScanRecord:
    id: int
    scan_id: str
    scope: str
    provider: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    started_at: str
    finished_at: str
    recorded_at: str
    tool_version: str
    catalogue_version: str
    snapshot_sha256: str | None
    counts: dict[str, int]

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scan_id": self.scan_id,
            "provider": self.provider,
            "accounts": list(self.accounts),
            "regions": list(self.regions),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "recorded_at": self.recorded_at,
            "tool_version": self.tool_version,
            "catalogue_version": self.catalogue_version,
            "snapshot_sha256": self.snapshot_sha256,
            "counts": self.counts,
        }


def _record(row: Any) -> ScanRecord:
    m = row._mapping
    return ScanRecord(
        id=int(m["id"]),
        scan_id=m["scan_id"],
        scope=m["scope"],
        provider=m["provider"],
        accounts=tuple(json.loads(m["accounts"])),
        regions=tuple(json.loads(m["regions"])),
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        recorded_at=m["recorded_at"],
        tool_version=m["tool_version"],
        catalogue_version=m["catalogue_version"],
        snapshot_sha256=m["snapshot_sha256"],
        counts={s.value: int(m[f"n_{s.value.lower()}"]) for s in Status},
    )


class Store:
    """An open history store. Use :func:`open_store` (a context manager)."""

    def __init__(self, engine: Engine, name: str = "") -> None:
        self.engine = engine
        self.name = name  # the store as given (a URL without its password), for messages

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            where = f"history store {self.name}" if self.name else "history store"
            raise StoreError(f"{where}: {_brief(exc)}") from None

    def migrate(self, create: bool = True) -> None:
        """Create the schema if missing (``create``), or refuse a database without it."""
        with self._tx() as conn:
            if not create and not sa.inspect(conn).has_table(info.name):
                raise StoreError(f"{self.name}: not a posture history store (nothing recorded)")
            metadata.create_all(conn)
            have = conn.execute(sa.select(info.c.value).where(info.c.key == "schema")).scalar()
            if have is None:
                conn.execute(sa.insert(info).values(key="schema", value=str(SCHEMA_VERSION)))
            elif have != str(SCHEMA_VERSION):
                raise StoreError(
                    f"history store has schema version {have}; this posture writes {SCHEMA_VERSION}"
                )

    def record(
        self,
        meta: ScanMeta,
        found: Iterable[Finding],
        snapshot_sha256: str | None,
        catalogue_version: str,
        recorded_at: str | None = None,
        scope: str | None = None,
    ) -> ScanRecord:
        """Store one scan and its findings; returns its record (with the new id). ``scope``
        names what later scans are compared with (default :func:`scope_of` the metadata; an
        organisation run passes its organisation, :func:`organization_scope`)."""
        rows = [StoredFinding.of(f) for f in found]
        counts = {s.value: 0 for s in Status}
        for r in rows:
            counts[r.status.value] += 1
        values: dict[str, Any] = {
            "scan_id": meta.scan_id,
            "scope": scope or scope_of(meta),
            "provider": meta.provider.value,
            "accounts": json.dumps(list(meta.accounts)),
            "regions": json.dumps(list(meta.regions)),
            "started_at": meta.started_at,
            "finished_at": meta.finished_at,
            "recorded_at": recorded_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tool_version": meta.tool_version,
            "catalogue_version": catalogue_version,
            "snapshot_sha256": snapshot_sha256,
            **{f"n_{k.lower()}": v for k, v in counts.items()},
        }
        with self._tx() as conn:
            new_id = conn.execute(sa.insert(scans).values(**values).returning(scans.c.id))
            scan_pk = int(new_id.scalar_one())
            if rows:
                conn.execute(
                    sa.insert(findings),
                    [
                        {
                            "scan": scan_pk,
                            "fingerprint": r.fingerprint,
                            "check_id": r.check_id,
                            "resource_uid": r.resource_uid,
                            "resource_name": r.resource_name,
                            "resource_type": r.resource_type,
                            "account": r.account,
                            "region": r.region,
                            "status": r.status.value,
                            "severity": int(r.severity),
                            "message": r.message,
                        }
                        for r in rows
                    ],
                )
        return self.get(str(scan_pk))

    def scans(self, scope: str | None = None, limit: int | None = None) -> list[ScanRecord]:
        """Recorded scans, newest first (optionally of one scope)."""
        query = sa.select(scans).order_by(scans.c.id.desc())
        if scope is not None:
            query = query.where(scans.c.scope == scope)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            return [_record(r) for r in conn.execute(query)]

    def get(self, ref: str) -> ScanRecord:
        """A scan by its record number (``history`` shows it) or by its scan id (the newest
        record of that scan id)."""
        query = sa.select(scans)
        if ref.isdigit():
            query = query.where(scans.c.id == int(ref))
        else:
            query = query.where(scans.c.scan_id == ref).order_by(scans.c.id.desc()).limit(1)
        with self._tx() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise StoreError(f"no scan {ref!r} in the history store (see `posture history`)")
        return _record(row)

    def previous(self, record: ScanRecord) -> ScanRecord | None:
        """The scan of the same scope recorded just before ``record``."""
        query = (
            sa.select(scans)
            .where(scans.c.scope == record.scope, scans.c.id < record.id)
            .order_by(scans.c.id.desc())
            .limit(1)
        )
        with self._tx() as conn:
            row = conn.execute(query).first()
        return _record(row) if row is not None else None

    def findings(self, record: ScanRecord) -> list[StoredFinding]:
        query = (
            sa.select(findings)
            .where(findings.c.scan == record.id)
            .order_by(findings.c.fingerprint, findings.c.id)
        )
        with self._tx() as conn:
            return [
                StoredFinding(
                    r.fingerprint,
                    r.check_id,
                    r.resource_uid,
                    r.resource_name,
                    r.resource_type,
                    r.account,
                    r.region,
                    Status(r.status),
                    Severity(r.severity),
                    r.message,
                )
                for r in conn.execute(query)
            ]


def _brief(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextmanager
def open_store(target: str, create: bool = True) -> Iterator[Store]:
    """Open the store at a path or URL; create it on first use only when ``create`` (the
    commands that record), else a store that is not there is a :class:`StoreError`."""
    url = url_for(target)
    name = target if "://" not in target else _safe(url)
    file = _sqlite_file(url)
    if file is not None:
        _check_file(file, name, create)
    try:
        engine = sa.create_engine(url)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"history store {_safe(url)}: driver {exc.name!r} missing "
            "(PostgreSQL: pip install 'posture[postgres]')"
        ) from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
        raise StoreError(f"history store {_safe(url)}: {_brief(exc)}") from None
    try:
        store = Store(engine, name)
        store.migrate(create)
        yield store
    finally:
        engine.dispose()


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
