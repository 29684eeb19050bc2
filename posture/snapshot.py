"""The versioned inventory snapshot: JSON on disk, :class:`Inventory` in memory.

Saving is deterministic (sorted keys, assets sorted by uid) so a snapshot can be hashed and
diffed. Loading validates the document and fails with a :class:`SnapshotError` that names the
file and the first problem found.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from posture.errors import SnapshotError
from posture.model import Asset, CollectionError, Inventory, Provider, ScanMeta

SCHEMA = "posture.inventory"
SCHEMA_VERSION = 1


def jsonable(value: Any) -> Any:
    """Turn an API payload into plain JSON values (datetimes as ISO 8601, bytes as text)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=_sort_token) if isinstance(value, set | frozenset) else items
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.astimezone(_dt.UTC).isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _sort_token(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def to_document(inventory: Inventory) -> dict[str, Any]:
    meta = inventory.meta
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "meta": meta.to_dict(),
        "assets": [
            {
                "uid": a.uid,
                "provider": a.provider.value,
                "type": a.type,
                "account": a.account,
                "region": a.region,
                "name": a.name,
                "tags": jsonable(a.tags),
                "attrs": jsonable(a.attrs),
                "raw": jsonable(a.raw),
            }
            for a in inventory.assets
        ],
        "errors": [
            {
                "provider": e.provider.value,
                "account": e.account,
                "region": e.region,
                "service": e.service,
                "operation": e.operation,
                "code": e.code,
                "message": e.message,
                "asset_types": list(e.asset_types),
                "resource_uid": e.resource_uid,
            }
            for e in inventory.errors
        ],
    }


def dumps(inventory: Inventory) -> str:
    return json.dumps(to_document(inventory), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def save(inventory: Inventory, path: Path) -> str:
    """Write the snapshot and return its SHA-256."""
    text = dumps(inventory).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot write snapshot: {exc.strerror or exc}") from None
    return hashlib.sha256(text).hexdigest()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> Inventory:
    """Read and validate a snapshot file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(f"{path}: snapshot file not found") from None
    except IsADirectoryError:
        raise SnapshotError(f"{path}: is a directory, not a snapshot file") from None
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot: {exc.strerror or exc}") from None
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SnapshotError(f"{path}: not a snapshot (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    try:
        return from_document(document)
    except _Invalid as exc:
        raise SnapshotError(f"{path}: {exc}") from None


class _Invalid(Exception):
    pass


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise _Invalid(f"{where} must be an object")
    if key not in obj:
        raise _Invalid(f"{where}.{key} is missing")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise _Invalid(f"{where}.{key} must be of type {name}, not {type(value).__name__}")
    return value


def _provider(value: str, where: str) -> Provider:
    try:
        return Provider(value)
    except ValueError:
        raise _Invalid(f"{where}: unknown provider {value!r}") from None


def _str_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Invalid(f"{where} must be an object of strings")
    return dict(value)


def from_document(document: Any) -> Inventory:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise _Invalid(f'not a posture inventory snapshot (expected "schema": "{SCHEMA}")')
    version = _get(document, "schema_version", int, "snapshot")
    if version != SCHEMA_VERSION:
        raise _Invalid(
            f"snapshot schema version {version} is not supported by this posture "
            f"(it reads version {SCHEMA_VERSION}); re-scan, or audit with a matching posture"
        )
    m = _get(document, "meta", dict, "snapshot")
    meta = ScanMeta(
        scan_id=_get(m, "scan_id", str, "meta"),
        provider=_provider(_get(m, "provider", str, "meta"), "meta.provider"),
        tool_version=_get(m, "tool_version", str, "meta"),
        started_at=_get(m, "started_at", str, "meta"),
        finished_at=_get(m, "finished_at", str, "meta"),
        accounts=tuple(_get(m, "accounts", list, "meta")),
        regions=tuple(_get(m, "regions", list, "meta")),
        endpoint_url=m.get("endpoint_url"),
        notes=tuple(m.get("notes") or ()),
    )
    assets = []
    for i, a in enumerate(_get(document, "assets", list, "snapshot")):
        where = f"assets[{i}]"
        assets.append(
            Asset(
                uid=_get(a, "uid", str, where),
                provider=_provider(_get(a, "provider", str, where), f"{where}.provider"),
                type=_get(a, "type", str, where),
                account=_get(a, "account", str, where),
                region=_get(a, "region", str, where),
                name=_get(a, "name", str, where),
                tags=_str_map(a.get("tags", {}), f"{where}.tags"),
                attrs=_get(a, "attrs", dict, where),
                raw=a.get("raw") or {},
            )
        )
    errors = []
    for i, e in enumerate(_get(document, "errors", list, "snapshot")):
        where = f"errors[{i}]"
        uid = e.get("resource_uid") if isinstance(e, dict) else None
        errors.append(
            CollectionError(
                provider=_provider(_get(e, "provider", str, where), f"{where}.provider"),
                account=_get(e, "account", str, where),
                region=_get(e, "region", str, where),
                service=_get(e, "service", str, where),
                operation=_get(e, "operation", str, where),
                code=_get(e, "code", str, where),
                message=_get(e, "message", str, where),
                asset_types=tuple(_get(e, "asset_types", list, where)),
                resource_uid=uid if isinstance(uid, str) else None,
            )
        )
    try:
        return Inventory(meta=meta, assets=tuple(assets), errors=tuple(errors))
    except ValueError as exc:
        raise _Invalid(str(exc)) from None
