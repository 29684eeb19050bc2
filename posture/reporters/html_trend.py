"""The trend chart of ``report.html``: FAIL findings by severity over the recorded scans.

:func:`read_trend` reads the points from the history store (``--store``): the FAIL counts per
severity of the latest :data:`MAX_POINTS` scans of the report's scope, oldest first, the scan
being reported last (taken from the report's own findings when the store does not hold it yet).
A store that cannot be read gives no points: the chart is left out, the report is still written.
:func:`trend_chart` turns the points into the geometry of a line chart (no chart with fewer than
two scans); the template draws it as inline SVG. Same points, same picture.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from posture.errors import PostureError
from posture.model import Finding, ScanMeta, Severity, Status

if TYPE_CHECKING:
    from posture.history.tracking import Tracking
    from posture.pipeline import AuditRun

MAX_POINTS = 30
WIDTH = 720
HEIGHT = 230
LEFT = 44
RIGHT = 96
TOP = 12
BOTTOM = 40
MAX_X_LABELS = 6
ORDER = tuple(sorted(Severity, reverse=True))  # critical first


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One recorded scan: its record number, scan id, start time and FAILs per severity
    (in :data:`ORDER`)."""

    record: int | None  # None: the scan being reported, not (yet) in the store
    scan_id: str
    started_at: str
    fails: tuple[int, ...]


def fails_of(findings: Iterable[Finding]) -> tuple[int, ...]:
    counts = dict.fromkeys(ORDER, 0)
    for f in findings:
        if f.status == Status.FAIL:
            counts[f.severity] += 1
    return tuple(counts[s] for s in ORDER)


def read_trend(
    target: str | None, meta: ScanMeta, findings: Sequence[Finding], record: int | None = None
) -> tuple[TrendPoint, ...]:
    """The trend of the store at ``target`` for the scope of the reported scan (``record``, its
    record number when it was recorded; else the scope of ``meta``, the scan appended from
    ``findings``). Empty without a store or when it cannot be read."""
    if not target:
        return ()
    import sqlalchemy as sa

    from posture.history import store as st

    try:
        with st.open_store(target, create=False) as store:
            scope = store.get(str(record)).scope if record is not None else st.scope_of(meta)
            recs = [r for r in store.scans(scope) if record is None or r.id <= record]
            recs = recs[: MAX_POINTS - (record is None)][::-1]
            query = (
                sa.select(st.findings.c.scan, st.findings.c.severity, sa.func.count())
                .where(st.findings.c.scan.in_([r.id for r in recs]),
                       st.findings.c.status == Status.FAIL.value)
                .group_by(st.findings.c.scan, st.findings.c.severity)
            )
            with store.engine.connect() as conn:
                rows = conn.execute(query).all()
    except (PostureError, sa.exc.SQLAlchemyError):
        return ()
    counts = {(int(scan), int(sev)): int(n) for scan, sev, n in rows}
    points = [TrendPoint(r.id, r.scan_id, r.started_at,
                         tuple(counts.get((r.id, int(s)), 0) for s in ORDER)) for r in recs]
    if record is None:
        points.append(TrendPoint(None, meta.scan_id, meta.started_at, fails_of(findings)))
    return tuple(points)


def _ticks(top: int) -> list[int]:
    step = 1
    while top / step > 5:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return list(range(0, top + step, step)) if top else [0]


def trend_chart(points: Sequence[TrendPoint]) -> dict[str, Any] | None:
    """Lines (one per severity that ever failed), axes and labels; None under two points."""
    if len(points) < 2:
        return None
    ticks = _ticks(max(max(p.fails) for p in points))
    top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [LEFT + round(i * plot_w / (len(points) - 1)) for i in range(len(points))]

    def y(n: int) -> int:
        return TOP + plot_h - round(n * plot_h / top)

    lines: list[dict[str, Any]] = []
    for k, sev in enumerate(ORDER):
        values = [p.fails[k] for p in points]
        if not any(values):
            continue
        dots = [{"x": x, "y": y(v), "title": f"{_label(p)}: {v} {sev.label}"}
                for x, v, p in zip(xs, values, points, strict=True)]
        lines.append({"severity": sev.label, "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
                      "dots": dots, "last": values[-1],
                      "lx": WIDTH - RIGHT + 12, "ly": TOP + 14 + 16 * len(lines)})
    every = -(-len(points) // MAX_X_LABELS)  # ceiling: at most MAX_X_LABELS labels
    shown = [i for i in range(len(points)) if i % every == 0 or i == len(points) - 1]
    if len(shown) > 2 and xs[shown[-1]] - xs[shown[-2]] < plot_w // MAX_X_LABELS:
        shown.pop(-2)  # keep the latest scan's label, drop the one it would overlap
    labels = [{"x": xs[i], "text": points[i].started_at[:10] or points[i].scan_id[:10]}
              for i in shown]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": TOP + plot_h,
        "ticks": [{"y": y(t), "text": str(t)} for t in ticks],
        "labels": labels,
        "label_y": TOP + plot_h + 16,
        "lines": lines,
        "scans": len(points),
        "first": _label(points[0]),
        "last": _label(points[-1]),
        "totals": [sum(p.fails) for p in points],
    }


def _label(p: TrendPoint) -> str:
    when = p.started_at[:16].replace("T", " ") or p.scan_id
    return f"#{p.record} {when}" if p.record is not None else f"this scan {when}"




def trend_of(
    run: AuditRun, tracking: Tracking | None, formats: Iterable[str]
) -> tuple[TrendPoint, ...]:
    """The trend points of an audit run's report when it writes ``report.html`` and a store is
    given (``--store``); nothing otherwise."""
    store = tracking.store if tracking else None
    if not store or "html" not in {str(f) for f in formats}:
        return ()
    history = run.tracked.history
    return read_trend(store, run.prepared.inventory.meta, run.tracked.findings,
                      history.record_id if history else None)


__all__ = ["MAX_POINTS", "TrendPoint", "fails_of", "read_trend", "trend_chart", "trend_of"]
