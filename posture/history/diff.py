"""What changed between two scans: new, resolved and still-open failures, changed severities.

A finding is "the same" in two scans when its fingerprint (check id + resource uid) is. Only
FAIL counts as open: a failure that became EXCEPTED, PASS, INCONCLUSIVE, or disappeared is
resolved (its current status is given, so an auditor sees *how* it was resolved).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from posture.model import Finding, Severity, Status


def fingerprint(check_id: str, resource_uid: str) -> str:
    """What identifies "the same finding" across scans."""
    return f"{check_id}\x1f{resource_uid}"


@dataclass(frozen=True, slots=True)
class StoredFinding:
    fingerprint: str
    check_id: str
    resource_uid: str
    resource_name: str
    resource_type: str
    account: str
    region: str
    status: Status
    severity: Severity
    message: str

    @classmethod
    def of(cls, f: Finding) -> StoredFinding:
        return cls(
            fingerprint(f.check_id, f.resource_uid),
            f.check_id,
            f.resource_uid,
            f.resource_name,
            f.resource_type,
            f.account,
            f.region,
            f.status,
            f.severity,
            f.message,
        )

    def document(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "resource_uid": self.resource_uid,
            "resource_name": self.resource_name,
            "resource_type": self.resource_type,
            "account": self.account,
            "region": self.region,
            "status": self.status.value,
            "severity": self.severity.label,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Change:
    before: StoredFinding | None
    after: StoredFinding | None

    @property
    def current(self) -> StoredFinding:
        found = self.after or self.before
        assert found is not None
        return found

    def document(self) -> dict[str, Any]:
        doc = self.current.document()
        doc["status_before"] = self.before.status.value if self.before else None
        doc["status_after"] = self.after.status.value if self.after else None
        doc["severity_before"] = self.before.severity.label if self.before else None
        doc["severity_after"] = self.after.severity.label if self.after else None
        return doc


@dataclass(frozen=True, slots=True)
class ScanDiff:
    new: tuple[Change, ...]
    resolved: tuple[Change, ...]
    still_open: tuple[Change, ...]
    severity_changed: tuple[Change, ...]

    def new_at_or_above(self, threshold: Severity) -> tuple[Change, ...]:
        return tuple(c for c in self.new if c.current.severity >= threshold)

    def document(self) -> dict[str, Any]:
        return {
            "new": [c.document() for c in self.new],
            "resolved": [c.document() for c in self.resolved],
            "still_open": [c.document() for c in self.still_open],
            "severity_changed": [c.document() for c in self.severity_changed],
        }


def _by_fingerprint(rows: Iterable[StoredFinding]) -> dict[str, StoredFinding]:
    """One row per fingerprint: a FAIL wins, then the most severe."""
    rank = {
        Status.FAIL: 0,
        Status.ERROR: 1,
        Status.INCONCLUSIVE: 2,
        Status.EXCEPTED: 3,
        Status.PASS: 4,
    }
    out: dict[str, StoredFinding] = {}
    for r in rows:
        have = out.get(r.fingerprint)
        if have is None or (rank[r.status], -r.severity) < (rank[have.status], -have.severity):
            out[r.fingerprint] = r
    return out


def _order(c: Change) -> tuple[int, str, str]:
    return (-int(c.current.severity), c.current.check_id, c.current.resource_uid)


def diff(
    before: Iterable[StoredFinding],
    after: Iterable[StoredFinding],
    accounts: Collection[str] | None = None,
) -> ScanDiff:
    """What changed from ``before`` to ``after``. With ``accounts``, only findings of those
    accounts are compared: an organisation run compares the accounts it scanned fully, so an
    account excluded this time, or one whose role could not be assumed, has no failure
    "resolved" (it was not looked at) and none "new"."""
    if accounts is not None:
        keep = set(accounts)
        before = [r for r in before if r.account in keep]
        after = [r for r in after if r.account in keep]
    old = _by_fingerprint(before)
    now = _by_fingerprint(after)
    new, resolved, still, changed = [], [], [], []
    for fp in sorted(set(old) | set(now)):
        a, b = old.get(fp), now.get(fp)
        was = a is not None and a.status == Status.FAIL
        is_ = b is not None and b.status == Status.FAIL
        change = Change(a, b)
        if is_ and not was:
            new.append(change)
        elif was and not is_:
            resolved.append(change)
        elif was and is_:
            still.append(change)
            if a is not None and b is not None and a.severity != b.severity:
                changed.append(change)
    return ScanDiff(
        tuple(sorted(new, key=_order)),
        tuple(sorted(resolved, key=_order)),
        tuple(sorted(still, key=_order)),
        tuple(sorted(changed, key=_order)),
    )


@dataclass(frozen=True, slots=True)
class HistoryContext:
    """What the report of a recorded scan says about the scan before it (same scope)."""

    record_id: int
    previous_id: int | None
    previous_scan_id: str | None
    new: frozenset[str]  # fingerprints of failures new since the previous scan
    resolved: int
    still_open: int

    @classmethod
    def of(cls, record_id: int, previous: Any, changes: ScanDiff | None) -> HistoryContext:
        if previous is None or changes is None:
            return cls(record_id, None, None, frozenset(), 0, 0)
        return cls(
            record_id,
            previous.id,
            previous.scan_id,
            frozenset(c.current.fingerprint for c in changes.new),
            len(changes.resolved),
            len(changes.still_open),
        )

    def document(self) -> dict[str, Any]:
        return {
            "record": self.record_id,
            "previous_record": self.previous_id,
            "previous_scan_id": self.previous_scan_id,
            "new": len(self.new),
            "resolved": self.resolved,
            "still_open": self.still_open,
        }
