"""The HTML report opened in a real headless Chromium: it renders, its filter and sort script
runs under the page's Content-Security-Policy, and attacker-controlled names stay text."""

from __future__ import annotations

import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.reports import XSS_CLOSE, XSS_IMG, XSS_SCRIPT, hostile_report

from posture.reporters import OutputFormat, write_reports

CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 30

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"{CHROMIUM} not installed (CI installs Debian's chromium; apt-get install chromium)",
)


def chromium(
    profile: Path, *args: str, console_ok: bool = False
) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--no-first-run",
        "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within {TIMEOUT}s: {' '.join(command)}")
    assert done.returncode == 0, done.stderr[-3000:]
    # console messages (script errors, CSP violations) are logged as ":CONSOLE" lines
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console_ok or not console, "\n".join(console)
    return done


class Dom(HTMLParser):
    """Elements of a dumped DOM: (tag, attributes), plus the text of the count element."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.count_text = ""
        self._in_count = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_count = dict(attrs).get("id") == "f-count"

    def handle_data(self, data: str) -> None:
        if self._in_count:
            self.count_text += data

    def handle_endtag(self, tag: str) -> None:
        self._in_count = False

    def first(self, tag: str) -> dict[str, str | None]:
        return next(a for t, a in self.elements if t == tag)

    def rows(self) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == "tr" and "data-i" in a]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    return write_reports(hostile_report(), out, [OutputFormat.HTML])[OutputFormat.HTML]


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "chromium-profile"


def dump(profile: Path, url: str) -> Dom:
    return Dom(chromium(profile, "--dump-dom", url).stdout)


def test_report_renders_and_filter_script_runs(report_html: Path, profile: Path) -> None:
    text = chromium(profile, "--dump-dom", report_html.as_uri()).stdout
    dom = Dom(text)
    assert dom.first("body").get("data-posture-ready") == "true"
    assert dom.first("form").get("hidden") is None  # the script revealed the filters
    assert dom.count_text == "Showing 5 of 5 findings"
    assert all(row.get("hidden") is None for row in dom.rows())
    # nothing attacker-controlled became an element or a handler
    assert not [a for t, a in dom.elements if t == "img"]
    scripts = [a.get("type") for t, a in dom.elements if t == "script"]
    assert scripts == ["application/json", None]
    assert not [a for _, a in dom.elements for key in a if key.startswith("on")]
    # the DOM serializer escapes text nodes again: the names are there, as text only
    for name in (XSS_SCRIPT, XSS_IMG, XSS_CLOSE):
        assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text
    assert "<script>alert" not in text and "<img src=x" not in text


def test_filter_from_the_address_hides_other_rows(report_html: Path, profile: Path) -> None:
    dom = dump(profile, report_html.as_uri() + "#status=FAIL&principle=defense-in-depth")
    assert dom.count_text == "Showing 1 of 5 findings"
    visible = [r for r in dom.rows() if r.get("hidden") is None]
    assert [(r["data-status"], r["data-severity"]) for r in visible] == [("FAIL", "high")]
    dom = dump(profile, report_html.as_uri() + "#q=" + "%3Cimg%20src%3Dx")
    assert dom.count_text == "Showing 1 of 5 findings"


def test_sort_from_the_address_reorders_rows(report_html: Path, profile: Path) -> None:
    dom = dump(profile, report_html.as_uri() + "#sort=-severity")
    severities = [r["data-severity"] for r in dom.rows()]
    assert severities == ["critical", "high", "medium", "low", "info"]
    header = [a for t, a in dom.elements if t == "th" and a.get("aria-sort") == "descending"]
    assert len(header) == 1


def test_csp_blocks_an_injected_inline_script(report_html: Path, profile: Path,
                                              tmp_path: Path) -> None:
    # defense in depth: even markup that escaped the template could not run a script
    tampered = tmp_path / "tampered.html"
    html = report_html.read_text(encoding="utf-8")
    injected = '<script>document.body.setAttribute("data-pwned", "1")</script>'
    tampered.write_text(html.replace("</body>", injected + "</body>"), encoding="utf-8")
    done = chromium(profile, "--dump-dom", tampered.as_uri(), console_ok=True)
    dom = Dom(done.stdout)
    assert dom.first("body").get("data-posture-ready") == "true"
    assert dom.first("body").get("data-pwned") is None
    assert "Content Security Policy" in done.stderr  # refused, and said so


def test_screenshot(report_html: Path, profile: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    chromium(profile, f"--screenshot={png}", "--window-size=1280,1800", report_html.as_uri())
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 1800)
    assert len(data) > 20_000  # a rendered page, not a blank image


@pytest.fixture(scope="module")
def history_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Findings in two regions and two resource types, one of them new since the last scan."""
    from dataclasses import replace

    from support.reports import HOSTILE_PATH, finding, report

    from posture.history.diff import HistoryContext, fingerprint

    bucket = replace(finding(3, region="eu-west-1"), resource_type="AWS::S3::Bucket",
                     controls={"SOC2": ("CC6.7",)})
    rows = (finding(1, evidence={"path": HOSTILE_PATH}), finding(2, region="eu-west-1"), bucket)
    new = frozenset({fingerprint(bucket.check_id, bucket.resource_uid)})
    rep = replace(report(*rows), history=HistoryContext(7, 6, "scan-prev", new, 1, 2),
                  catalogue_version="0.1.0+c3.abc")
    out = tmp_path_factory.mktemp("history-report")
    return write_reports(rep, out, [OutputFormat.HTML])[OutputFormat.HTML]


@pytest.mark.parametrize(
    ("fragment", "shown"),
    [
        ("#control=SOC2%3ACC6.6&region=eu-west-1", 1),
        ("#type=AWS%3A%3AS3%3A%3ABucket&account=123456789012", 1),
        ("#new=1", 1),
    ],
)
def test_filters_by_control_account_region_type_and_new(
    history_html: Path, profile: Path, fragment: str, shown: int
) -> None:
    dom = dump(profile, history_html.as_uri() + fragment)
    assert dom.count_text == f"Showing {shown} of 3 findings"


def test_sort_by_region_and_path_diagram(history_html: Path, profile: Path) -> None:
    dom = dump(profile, history_html.as_uri() + "#sort=region")
    assert [r["data-i"] for r in dom.rows()] == ["1", "2", "0"]  # eu-west-1 first
    assert [r.get("data-new") for r in dom.rows()] == [None, "1", None]
    assert len([a for t, a in dom.elements if t == "svg"]) == 1
    assert len([a for t, a in dom.elements if t == "rect"]) == 4  # one box per hop
    assert not [a for t, a in dom.elements if t == "img"]


@pytest.fixture(scope="module")
def depth_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.reports import depth_report

    out = tmp_path_factory.mktemp("depth-report")
    return write_reports(depth_report(), out, [OutputFormat.HTML])[OutputFormat.HTML]


def test_depth_table_renders_and_links_to_the_asset_findings(depth_html: Path,
                                                             profile: Path) -> None:
    dom = dump(profile, depth_html.as_uri())
    depth_rows = [a.get("data-depth") for t, a in dom.elements if t == "tr" and "data-depth" in a]
    assert depth_rows == ["0", "1", "2+", "2+", "undecided"]
    assert not [a for t, a in dom.elements if t == "img"]
    links = [a["href"] for t, a in dom.elements
             if t == "a" and (a.get("href") or "").startswith("#q=")]
    assert len(links) == 5
    # the second row's link (the depth-1 asset) shows that asset's two findings only
    dom = dump(profile, depth_html.as_uri() + str(links[1]))
    assert dom.count_text == "Showing 2 of 7 findings"
