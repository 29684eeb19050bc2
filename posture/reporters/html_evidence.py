"""A finding's evidence as tables for ``report.html``, not raw JSON.

Generic, for the evidence of any check: a mapping becomes key/value rows, a list of mappings
with plain values a table (one column per key, in the order first seen), a list of mappings
with nested values a numbered list of key/value tables (a table of tables is unreadable), a
list of plain values one line of comma-separated text, a plain value text. Deep or long
evidence is cut (:data:`MAX_DEPTH`, :data:`MAX_ROWS`) with a word saying so; ``findings.json``
holds all of it. The nodes hold plain strings only: the template renders them autoescaped,
since names, tags and rules in evidence are attacker-controlled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 6
MAX_ROWS = 40
MAX_COLUMNS = 12


def _scalar(value: Any) -> dict[str, Any]:
    if value is None:
        return {"t": "text", "v": "—", "none": True}
    if isinstance(value, bool):
        return {"t": "text", "v": "true" if value else "false", "none": False}
    return {"t": "text", "v": str(value), "none": False}


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list | tuple)


def _flat(value: Any) -> bool:
    """A value a table cell holds as one text: plain, or a list of plain values."""
    if isinstance(value, list | tuple):
        return all(_is_scalar(x) for x in value)
    return _is_scalar(value)


def _columns(items: list[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        for key in item:
            seen.setdefault(str(key), None)
    return list(seen)


def node(value: Any, depth: int = 0) -> dict[str, Any]:
    """The evidence ``value`` as a tree of nodes: ``{"t": "text" | "map" | "table" | "list" |
    "json", ...}``."""
    if _is_scalar(value):
        return _scalar(value)
    if depth >= MAX_DEPTH:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
        return {"t": "json", "v": text, "none": False}
    if isinstance(value, Mapping):
        if not value:
            return {"t": "text", "v": "(none)", "none": True}
        return {"t": "map", "rows": [{"k": str(k), "v": node(v, depth + 1)}
                                     for k, v in value.items()]}
    items = list(value)
    if not items:
        return {"t": "text", "v": "(none)", "none": True}
    if all(_is_scalar(x) for x in items):
        return {"t": "text", "v": ", ".join(_scalar(x)["v"] for x in items), "none": False}
    more = max(0, len(items) - MAX_ROWS)
    items = items[:MAX_ROWS]
    if all(isinstance(x, Mapping) and all(_flat(v) for v in x.values()) for x in items) and (
        len(_columns(items)) <= MAX_COLUMNS
    ):
        cols = _columns(items)
        rows = [[node(_get(x, c), depth + 1) if _has(x, c) else None for c in cols]
                for x in items]
        return {"t": "table", "cols": cols, "rows": rows, "more": more}
    return {"t": "list", "entries": [node(x, depth + 1) for x in items], "more": more}


def _has(item: Mapping[str, Any], column: str) -> bool:
    return any(str(k) == column for k in item)


def _get(item: Mapping[str, Any], column: str) -> Any:
    return next(v for k, v in item.items() if str(k) == column)


def evidence_view(evidence: Any) -> dict[str, Any] | None:
    """The evidence of a finding as nodes, or None when there is none to show."""
    if evidence in (None, {}, [], ""):
        return None
    return node(evidence)


__all__ = ["evidence_view", "node"]
