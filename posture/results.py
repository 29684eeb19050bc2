"""Findings as a table (pandas), and the summary counts every reporter shows.

:func:`to_frame` gives one row per finding — one per (check, resource) as the engine emits
them — in the order given. :func:`summarize` counts that table by status, severity, principle and
framework control. Every count table lists every category (zeros included) in a fixed order, so
the summary of the same findings is always the same document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from posture.model import ALL, CollectionError, Finding, Principle, Severity, Status
from posture.registry import Framework

STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
SEVERITIES: tuple[str, ...] = tuple(s.label for s in sorted(Severity, reverse=True))
PRINCIPLES: tuple[str, ...] = tuple(p.value for p in Principle)

COLUMNS: tuple[str, ...] = (
    "check_id",
    "title",
    "status",
    "severity",
    "provider",
    "resource_uid",
    "resource_type",
    "resource_name",
    "account",
    "region",
    "principles",
    "controls",
    "message",
    "remediation",
    "evidence",
)
"""Columns of :func:`to_frame`. ``principles`` holds a tuple of principle names, ``controls`` a
tuple of ``"FRAMEWORK:CONTROL"`` strings, ``evidence`` the finding's evidence mapping."""

StatusCounts = dict[str, int]


def qualified_controls(controls: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """``{"SOC2": ("CC6.1", "CC6.6")}`` → ``("SOC2:CC6.1", "SOC2:CC6.6")`` (frameworks sorted)."""
    return tuple(f"{fw}:{c}" for fw in sorted(controls) for c in controls[fw])


def to_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding, in the order given, with the columns in :data:`COLUMNS`.

    ``status`` and ``severity`` are ordered categoricals (``severity`` from info to critical),
    so sorting and grouping follow the enums, not the alphabet.
    """
    rows = [
        {
            "check_id": f.check_id,
            "title": f.title,
            "status": f.status.value,
            "severity": f.severity.label,
            "provider": f.provider.value,
            "resource_uid": f.resource_uid,
            "resource_type": f.resource_type,
            "resource_name": f.resource_name,
            "account": f.account,
            "region": f.region,
            "principles": tuple(p.value for p in f.principles),
            "controls": qualified_controls(f.controls),
            "message": f.message,
            "remediation": f.remediation,
            "evidence": f.evidence,
        }
        for f in findings
    ]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["status"] = pd.Categorical(frame["status"], categories=list(STATUSES))
    frame["severity"] = pd.Categorical(
        frame["severity"], categories=list(reversed(SEVERITIES)), ordered=True
    )
    return frame


def _zero() -> StatusCounts:
    return {s: 0 for s in STATUSES}


def _matrix(frame: pd.DataFrame, by: str, keys: Iterable[str]) -> dict[str, StatusCounts]:
    """Status counts per value of column ``by``; every key in ``keys`` is present, then any
    other value found in the frame (sorted)."""
    out: dict[str, StatusCounts] = {k: _zero() for k in keys}
    if frame.empty:
        return out
    sizes = frame.groupby([by, "status"], observed=True).size()
    extra: dict[str, StatusCounts] = {}
    for (key, status), n in sizes.items():
        target = out if key in out else extra
        target.setdefault(str(key), _zero())[str(status)] += int(n)
    out.update(sorted(extra.items()))
    return out


def counts_by_status(frame: pd.DataFrame) -> StatusCounts:
    counts = _zero()
    for status, n in frame["status"].value_counts(sort=False).items():
        counts[str(status)] += int(n)
    return counts


def counts_by_severity(frame: pd.DataFrame) -> dict[str, StatusCounts]:
    """Severity (critical first) → status counts."""
    return _matrix(frame.astype({"severity": str}), "severity", SEVERITIES)


def counts_by_principle(frame: pd.DataFrame) -> dict[str, StatusCounts]:
    """Principle → status counts; a finding serving two principles counts for both."""
    exploded = frame[["principles", "status"]].explode("principles").dropna(subset=["principles"])
    return _matrix(exploded, "principles", PRINCIPLES)


def _natural(control: str) -> tuple[tuple[int, Any], ...]:
    return tuple(
        (0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", control) if p
    )


def counts_by_control(
    frame: pd.DataFrame, frameworks: Iterable[Framework] = ()
) -> dict[str, dict[str, StatusCounts]]:
    """Framework id → control id → status counts.

    Every control of the given frameworks is listed (zeros mean no check produced evidence for
    it); controls named by findings but absent from ``frameworks`` are listed too.
    """
    exploded = frame[["controls", "status"]].explode("controls").dropna(subset=["controls"])
    tables: dict[str, dict[str, StatusCounts]] = {
        fw.id: {c: _zero() for c in fw.controls} for fw in frameworks
    }
    extra: dict[str, dict[str, StatusCounts]] = {}
    for qualified, counts in _matrix(exploded, "controls", ()).items():
        fw_id, _, control = qualified.partition(":")
        (tables if fw_id in tables else extra).setdefault(fw_id, {})[control] = counts
    tables.update(sorted(extra.items()))
    return {
        fw_id: {c: table[c] for c in sorted(table, key=_natural)}
        for fw_id, table in tables.items()
    }


def control_verdict(counts: Mapping[str, int]) -> str:
    """One word for a control: FAIL if anything failed; INCONCLUSIVE if anything could not be
    decided; EXCEPTED if failures exist but all are accepted risks; PASS if everything passed;
    NO EVIDENCE if no finding maps to it."""
    if counts.get(Status.FAIL.value):
        return Status.FAIL.value
    if counts.get(Status.ERROR.value) or counts.get(Status.INCONCLUSIVE.value):
        return Status.INCONCLUSIVE.value
    if counts.get(Status.EXCEPTED.value):
        return Status.EXCEPTED.value
    if counts.get(Status.PASS.value):
        return Status.PASS.value
    return "NO EVIDENCE"


def summarize(
    findings: Iterable[Finding], frameworks: Iterable[Framework] = ()
) -> dict[str, Any]:
    """The summary block of the JSON and HTML reports (plain JSON values, fixed key order)."""
    frame = to_frame(findings)
    frameworks = tuple(frameworks)
    titles = {fw.id: fw.controls for fw in frameworks}
    by_control = {
        fw_id: {
            control: {"title": titles.get(fw_id, {}).get(control, ""), "counts": counts}
            for control, counts in table.items()
        }
        for fw_id, table in counts_by_control(frame, frameworks).items()
    }
    return {
        "total": len(frame),
        "checks": int(frame["check_id"].nunique()),
        "resources": int(frame["resource_uid"].nunique()),
        "by_status": counts_by_status(frame),
        "by_severity": counts_by_severity(frame),
        "by_principle": counts_by_principle(frame),
        "by_control": by_control,
    }


def affected_checks(error: CollectionError, findings: Iterable[Finding]) -> tuple[str, ...]:
    """Ids of the checks left INCONCLUSIVE by ``error`` (as recorded in the findings' evidence
    by the engine), sorted."""
    wanted = (error.service, error.operation, error.region, error.code)
    hit: set[str] = set()
    for f in findings:
        if f.status != Status.INCONCLUSIVE or error.account not in (ALL, f.account):
            continue
        recorded = f.evidence.get("collection_errors") if isinstance(f.evidence, Mapping) else None
        if not isinstance(recorded, list):
            continue
        for entry in recorded:
            if isinstance(entry, Mapping) and wanted == (
                entry.get("service"), entry.get("operation"), entry.get("region"),
                entry.get("code"),
            ):
                hit.add(f.check_id)
                break
    return tuple(sorted(hit))
