"""Small helpers shared by the AWS checks: scan time, ages, IAM policy documents.

Everything here is pure. Times are always measured against the scan's ``finished_at``
(never the wall clock), so re-auditing a snapshot gives the same findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from posture.model import Inventory


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp (``Z`` or offset; naive means UTC) as an aware datetime."""
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, str) and value:
        try:
            stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def scan_time(inventory: Inventory) -> dt.datetime:
    """When the scan finished: the reference time for every age computed by a check."""
    stamp = parse_time(inventory.meta.finished_at) or parse_time(inventory.meta.started_at)
    if stamp is None:
        raise ValueError(f"scan {inventory.meta.scan_id} has no valid finished_at timestamp")
    return stamp


def age_days(then: dt.datetime, now: dt.datetime) -> int:
    """Whole days from ``then`` to ``now`` (negative if ``then`` is after the scan)."""
    return (now - then).days


def as_list(value: Any) -> list[Any]:
    """IAM policy fields may be a scalar or a list."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of a parsed policy document (``Statement`` may be one dict or a list)."""
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]
