"""The versioned inventory snapshot: JSON on disk, :class:`Inventory` in memory.

Saving is deterministic (sorted keys, assets sorted by uid) so a snapshot can be hashed and
diffed. Loading validates the document and fails with a :class:`SnapshotError` that names the
file and the path of the first problem found (``assets[12].attrs.ingress``). Every asset's
attributes are checked against their contract (:mod:`posture.contracts`): a structural misfit is
such a problem; any other misfit makes that attribute unknown and records an
``InvalidSnapshotData`` gap against the asset, so its checks say INCONCLUSIVE. Nesting deeper than
:data:`MAX_DEPTH`, integers too long for Python to read and non-finite numbers are refused (the
contracts bound the integers the checks read to 64 bits).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from posture import contracts
from posture.errors import SnapshotError
from posture.model import Asset, CollectionError, Inventory, Provider, ScanMeta

SCHEMA = "posture.inventory"
SCHEMA_VERSION = 1
MAX_DEPTH = 64
"""Deepest nesting of an asset's ``attrs``, ``raw`` or ``tags`` (real payloads stay under 10)."""


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
        document = json.loads(data.decode("utf-8"), parse_float=_float, parse_constant=_constant)
    except UnicodeDecodeError:
        raise SnapshotError(f"{path}: not a snapshot (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except _Invalid as exc:
        raise SnapshotError(f"{path}: {exc}") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise SnapshotError(
            f"{path}: not a snapshot (an integer of more than {sys.get_int_max_str_digits()} "
            "digits: a number too long to read)"
        ) from None
    except RecursionError:
        raise SnapshotError(
            f"{path}: not a snapshot (JSON nested too deeply; at most {MAX_DEPTH} levels)"
        ) from None
    try:
        return from_document(document)
    except _Invalid as exc:
        raise SnapshotError(f"{path}: {exc}") from None


class _Invalid(SnapshotError):
    """A document that is not a valid snapshot (without the file name: :func:`load` adds it)."""


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Invalid(f"number out of range: {text[:24]}")
    return value


def _constant(text: str) -> float:
    raise _Invalid(f"{text} is not a JSON number")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` deep (level by level: no
    recursion, one visit per container)."""
    level = [value]
    for _ in range(limit):
        deeper: list[Any] = []
        add = deeper.append
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    add(child)
        if not deeper:
            return False
        level = deeper
    return True


def _check_depth(assets: list[Any]) -> None:
    """Refuse an asset nested deeper than :data:`MAX_DEPTH`, naming it (one pass over all
    assets; the slow search for the culprit only when there is one)."""
    if not _deeper_than(assets, MAX_DEPTH + 2):  # the list, the asset, then its fields
        return
    for i, a in enumerate(assets):
        for key in ("attrs", "raw", "tags"):
            value = a.get(key) if isinstance(a, dict) else None
            if isinstance(value, dict | list) and _deeper_than(value, MAX_DEPTH):
                raise _Invalid(f"assets[{i}].{key} is nested deeper than {MAX_DEPTH} levels")


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


def _strs(obj: Any, key: str, where: str) -> tuple[str, ...]:
    items = _get(obj, key, list, where)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            kind = "null" if item is None else type(item).__name__
            raise _Invalid(f"{where}.{key}[{i}] must be of type str, not {kind}")
    return tuple(items)


def _optional(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise _Invalid(f"{where}.{key} must be of type {kind.__name__} or null, "
                       f"not {type(value).__name__}")
    return value


def _asset(a: Any, where: str, gaps: list[CollectionError]) -> Asset:
    attrs = _get(a, "attrs", dict, where)
    raw = _optional(a, "raw", dict, where)
    asset = Asset(
        uid=_get(a, "uid", str, where),
        provider=_provider(_get(a, "provider", str, where), f"{where}.provider"),
        type=_get(a, "type", str, where),
        account=_get(a, "account", str, where),
        region=_get(a, "region", str, where),
        name=_get(a, "name", str, where),
        tags=_str_map(a.get("tags", {}), f"{where}.tags"),
        attrs=attrs,
        raw=raw or {},
    )
    found = contracts.misfits(asset.type, attrs)
    for m in found:
        if m.structural:
            raise _Invalid(f"{where}.{m.message} ({asset.uid})")
    if not found:
        return asset
    asset, errors = contracts.contain(asset, found, "ValidateSnapshot")
    gaps.extend(errors)
    return asset


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
        accounts=_strs(m, "accounts", "meta"),
        regions=_strs(m, "regions", "meta"),
        endpoint_url=_optional(m, "endpoint_url", str, "meta"),
        notes=_strs(m, "notes", "meta") if m.get("notes") is not None else (),
    )
    assets = []
    gaps: list[CollectionError] = []
    listed = _get(document, "assets", list, "snapshot")
    _check_depth(listed)
    for i, a in enumerate(listed):
        assets.append(_asset(a, f"assets[{i}]", gaps))
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
                asset_types=_strs(e, "asset_types", where),
                resource_uid=uid if isinstance(uid, str) else None,
            )
        )
    try:
        return Inventory(meta=meta, assets=tuple(assets), errors=(*errors, *gaps))
    except ValueError as exc:
        raise _Invalid(str(exc)) from None
