"""The trend chart of report.html: FAILs by severity of the scans recorded in a real SQLite
history store, read for the report's scope, drawn only from two scans on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from support.reports import META, finding, report

from posture.history.store import open_store
from posture.model import Finding, ScanMeta, Severity, Status
from posture.reporters.html_reporter import render_html
from posture.reporters.html_trend import (
    MAX_POINTS,
    ORDER,
    TrendPoint,
    fails_of,
    read_trend,
    trend_chart,
)


def fails(*severities: Severity) -> list[Finding]:
    return [finding(n, severity=s) for n, s in enumerate(severities)]


SCANS = [
    fails(Severity.CRITICAL, Severity.HIGH, Severity.HIGH),
    [*fails(Severity.HIGH, Severity.LOW), finding(9, status=Status.PASS)],
    fails(Severity.LOW),
]


def record(store_path: Path, scans: list[list[Finding]], meta: ScanMeta = META) -> None:
    with open_store(str(store_path)) as store:
        for n, found in enumerate(scans):
            m = replace(meta, scan_id=f"scan-{n}",
                        started_at=f"2026-01-0{n + 1}T00:00:00+00:00")
            store.record(m, found, None, "v1", recorded_at="2026-01-01T00:00:00+00:00")


def counts(point: TrendPoint) -> dict[str, int]:
    return {s.label: n for s, n in zip(ORDER, point.fails, strict=True) if n}


def test_three_recorded_scans_give_three_points_oldest_first(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    record(db, SCANS)
    other = replace(META, accounts=("999999999999",))
    record(db, [fails(Severity.CRITICAL)], other)  # another scope: not in this trend
    points = read_trend(str(db), META, SCANS[2], record=3)
    assert [p.record for p in points] == [1, 2, 3]
    assert [p.scan_id for p in points] == ["scan-0", "scan-1", "scan-2"]
    assert [counts(p) for p in points] == [{"critical": 1, "high": 2}, {"high": 1, "low": 1},
                                           {"low": 1}]


def test_a_scan_not_yet_recorded_is_appended_from_its_findings(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    record(db, SCANS[:2])
    points = read_trend(str(db), META, SCANS[2])
    assert [p.record for p in points] == [1, 2, None]
    assert counts(points[-1]) == {"low": 1} and points[-1].scan_id == META.scan_id


def test_no_store_or_an_unreadable_one_gives_no_points(tmp_path: Path) -> None:
    assert read_trend(None, META, SCANS[0]) == ()
    missing = tmp_path / "typo.db"
    assert read_trend(str(missing), META, SCANS[0]) == ()
    assert not missing.exists()  # reading never creates a store
    (tmp_path / "junk.db").write_text("not a database")
    assert read_trend(str(tmp_path / "junk.db"), META, SCANS[0]) == ()


def test_chart_geometry_lines_only_for_severities_that_failed(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    record(db, SCANS)
    chart = trend_chart(read_trend(str(db), META, SCANS[2], record=3))
    assert chart is not None and chart["scans"] == 3 and chart["totals"] == [3, 2, 1]
    assert [line["severity"] for line in chart["lines"]] == ["critical", "high", "low"]
    high = chart["lines"][1]
    assert [d["y"] for d in high["dots"]] == sorted(d["y"] for d in high["dots"])  # 2, 1, 0
    assert high["dots"][0]["y"] == chart["top"]  # the highest count touches the top tick
    assert [t["text"] for t in chart["ticks"]] == ["0", "1", "2"]
    xs = [d["x"] for d in high["dots"]]
    assert xs[0] == chart["left"] and xs[-1] == chart["right"] and xs == sorted(xs)
    assert [label["text"] for label in chart["labels"]] == ["2026-01-01", "2026-01-02",
                                                           "2026-01-03"]


def test_no_chart_under_two_scans_and_labels_capped() -> None:
    one = TrendPoint(1, "s", "2026-01-01T00:00:00+00:00", fails_of(SCANS[0]))
    assert trend_chart(()) is None and trend_chart((one,)) is None
    many = [replace(one, record=n, fails=(0, n, 0, 0, 0)) for n in range(MAX_POINTS)]
    chart = trend_chart(many)
    assert chart is not None and len(chart["labels"]) <= 7
    assert chart["labels"][-1]["x"] == chart["right"]  # the latest scan is always labelled
    assert chart == trend_chart(list(many))  # same points, same picture


def test_the_page_draws_the_chart_only_with_a_trend(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    record(db, SCANS)
    plain = report(*SCANS[2])
    assert 'id="trend"' not in render_html(plain)
    html = render_html(replace(plain, trend=read_trend(str(db), META, SCANS[2], record=3)))
    start = html.index('<section id="trend">')
    part = html[start: html.index("</section>", start)]
    assert part.count("<polyline") == 3 and part.count("<circle") == 9
    assert "Totals: 3 → 2 → 1" in part and "http" not in part
    single = replace(plain, trend=read_trend(str(db), META, SCANS[0], record=1))
    assert 'id="trend"' not in render_html(single)
