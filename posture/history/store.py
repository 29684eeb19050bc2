"""Scan history: every recorded scan and its findings, in SQLite or PostgreSQL.

One code path (SQLAlchemy Core) for both: a plain path (``posture.db``) is an SQLite file, a
URL (``postgresql+psycopg://user@host/db``, or any ``sqlite:///`` URL) is used as given. The
schema is created on first use by a command that records (``create=True``); a command that only
reads (``history``, ``diff``) never creates a file or a table: a store that is not there is an
error naming it. An SQLite file in a folder that does not exist is an error naming both.

Many posture processes may share one store, and open a new one at the same moment: the schema
is created once, under a lock (:mod:`.schema`); a writer takes the write lock when its
transaction begins, so writers queue. Every wait is bounded (:func:`open_store`): a store locked
longer than that is a :class:`StoreBusyError`, one that cannot be reached a :class:`StoreError`
(:func:`preflight` finds the latter before a scan).

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
from posture.history import schema
from posture.history.connection import WRITE, is_busy, make_engine
from posture.history.diff import StoredFinding, fingerprint
from posture.history.schema import SCHEMA_VERSION, findings, info, metadata, scans
from posture.model import Finding, ScanMeta, Severity, Status

__all__ = [
    "SCHEMA_VERSION", "Store", "StoreBusyError", "StoreError", "StoredFinding", "findings",
    "fingerprint", "info", "metadata", "open_store", "preflight", "scans",
]

WAIT = 30.0  # seconds a store operation waits for another writer's lock (SQLite, PostgreSQL)
PREFLIGHT_WAIT = 5.0  # ... and the check before a scan, which lets a busy store pass


class StoreError(PostureError):
    """The history store cannot be opened, read or written, or a scan is not in it."""


class StoreBusyError(StoreError):
    """Another connection held the store's lock longer than posture waits (``database is
    locked``, PostgreSQL ``lock_timeout``): the store is there, but could not be used now."""


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
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    if database.startswith("file:"):  # an SQLite URI (``?uri=true``): its path
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database).expanduser()


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
    def _tx(self, write: bool = False) -> Iterator[Connection]:
        """One transaction; ``write``: one that writes, which on SQLite takes the write lock
        when it begins (``BEGIN IMMEDIATE``), so that two writers queue instead of failing."""
        try:
            with self.engine.connect() as conn:
                if write:
                    conn.execution_options(**{WRITE: True})
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise _failure(self.name, exc) from None

    def migrate(self, create: bool = True) -> None:
        """Create or upgrade the schema under the store's lock (``create``: :mod:`.schema`
        says why many processes may do this at once), or refuse a database without it."""
        with self._tx(write=create) as conn:
            if create:
                schema.lock(conn)
            have = schema.stored_version(conn)
            if have is None and not create:
                raise StoreError(f"{self.name}: not a posture history store (nothing recorded)")
            if have is not None and have > SCHEMA_VERSION:
                raise StoreError(f"history store {self.name} has schema version {have}; this "
                                 f"posture writes {SCHEMA_VERSION} (upgrade posture)")
            if create:
                schema.upgrade(conn, have or 0)
            elif have != SCHEMA_VERSION:
                raise StoreError(f"history store {self.name} has schema version {have}; this "
                                 f"posture reads {SCHEMA_VERSION} (record a scan to upgrade it)")

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
        with self._tx(write=True) as conn:
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


def _failure(name: str, exc: sa.exc.SQLAlchemyError) -> StoreError:
    where = f"history store {name}" if name else "history store"
    kind = StoreBusyError if is_busy(exc) else StoreError
    return kind(f"{where}: {_brief(exc)}")


@contextmanager
def open_store(target: str, create: bool = True, *, wait: float = WAIT) -> Iterator[Store]:
    """Open the store at a path or URL; create (or upgrade) its schema only when ``create``
    (the commands that record), else a store that is not there is a :class:`StoreError`. A
    lock held by another connection is waited for ``wait`` seconds, then a
    :class:`StoreBusyError`."""
    url = url_for(target)
    name = target if "://" not in target else _safe(url)
    file = _sqlite_file(url)
    if file is not None:
        _check_file(file, name, create)
    try:
        engine = make_engine(url, wait)
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


def preflight(target: str) -> None:
    """Before a scan collects anything: the store at ``target`` can be reached, is (or now
    becomes, schema and version) a posture store this posture writes, and takes a write, or a
    :class:`StoreError` says why not. A store another writer holds locked longer than
    :data:`PREFLIGHT_WAIT` passes: it is there and in use, and the scan is recorded after the
    audit (or its reports are kept and the run says it was not recorded)."""
    try:
        with open_store(target, create=True, wait=PREFLIGHT_WAIT):
            pass
    except StoreBusyError:
        return


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
