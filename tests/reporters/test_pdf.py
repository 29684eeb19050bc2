"""``-f pdf``: report.html printed by headless Chromium (the real one, /usr/bin/chromium), its
print layout short enough to read (the demo in fewer than 30 pages), the same bytes for the
same report, and a one-line error when no Chromium is installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import DEMO
from support.browser import CHROMIUM, needs_chromium
from support.reports import finding, report
from typer.testing import CliRunner

from posture.cli.main import app
from posture.errors import ReportError
from posture.reporters import OutputFormat, reporter_for
from posture.reporters.pdf_reporter import ENV, find_chromium

SNAPSHOT = str(DEMO / "snapshot.json")


def pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))


@pytest.fixture
def chromium_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, CHROMIUM)


@needs_chromium
def test_demo_prints_in_fewer_than_30_pages(tmp_path: Path, chromium_env: None) -> None:
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["audit", SNAPSHOT, "-o", str(out), "-q", "-f", "pdf,html"])
    assert result.exit_code in (0, 1), result.output  # 1: the demo has failures
    data = (out / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    # summaries first, the failing findings with their open path diagrams, PASS rows counted
    # but not listed, details collapsed: before, the demo printed to ~95 pages
    assert 5 <= pages(data) < 30
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="print-passing"' in html and "not printed here" in html


@needs_chromium
def test_the_same_report_prints_to_the_same_bytes(chromium_env: None) -> None:
    rep = report(finding(1), finding(2, evidence={"path": [{"kind": "internet", "id": "x"},
                                                          {"kind": "host", "id": "h"}]}))
    first = reporter_for(OutputFormat.PDF).render(rep)
    assert first == reporter_for(OutputFormat.PDF).render(rep)
    assert pages(first) >= 1
    assert b"(D:20260101000230" in first  # the scan's time, not the clock's


def test_no_chromium_is_a_one_line_error(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, str(tmp_path / "no-such-chromium"))
    assert find_chromium() is None
    with pytest.raises(ReportError, match="needs headless Chromium"):
        reporter_for(OutputFormat.PDF).render(report(finding(1)))
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["audit", SNAPSHOT, "-o", str(out), "-q",
                                      "-f", "html,pdf"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "needs headless Chromium" in lines[0], result.output
    assert not out.exists() or not any(out.iterdir())  # nothing half written
