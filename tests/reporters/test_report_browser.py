"""The HTML report opened in a real headless Chromium: it renders, its filter and sort script
runs under the page's Content-Security-Policy, and attacker-controlled names stay text."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from support.browser import Attrs, Dom, chromium, dumped, needs_chromium
from support.reports import XSS_CLOSE, XSS_IMG, XSS_SCRIPT, hostile_report

from posture.reporters import OutputFormat, write_reports

pytestmark = needs_chromium


def _count(attrs: Attrs) -> bool:
    return attrs.get("id") == "f-count"  # "Showing N of M findings"


def dump(profile: Path, url: str) -> Dom:
    """The DOM of ``url``, the findings count its text."""
    return dumped(profile, url, _count)


def rows(dom: Dom) -> list[Attrs]:
    """The findings table's rows."""
    return [r for r in dom.of("tr") if "data-i" in r]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    return write_reports(hostile_report(), out, [OutputFormat.HTML])[OutputFormat.HTML]


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "chromium-profile"


def test_report_renders_and_filter_script_runs(report_html: Path, profile: Path) -> None:
    text = chromium(profile, "--dump-dom", report_html.as_uri()).stdout
    dom = Dom(text, _count)
    assert dom.first("body").get("data-posture-ready") == "true"
    assert dom.first("form").get("hidden") is None  # the script revealed the filters
    assert dom.text == "Showing 5 of 5 findings"
    assert all(row.get("hidden") is None for row in rows(dom))
    # nothing attacker-controlled became an element or a handler
    assert not dom.of("img")
    scripts = [a.get("type") for a in dom.of("script")]
    assert scripts == ["application/json", None]
    assert not [a for _, a in dom.elements for key in a if key.startswith("on")]
    # the DOM serializer escapes text nodes again: the names are there, as text only
    for name in (XSS_SCRIPT, XSS_IMG, XSS_CLOSE):
        assert name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text
    assert "<script>alert" not in text and "<img src=x" not in text


def test_filter_from_the_address_hides_other_rows(report_html: Path, profile: Path) -> None:
    dom = dump(profile, report_html.as_uri() + "#status=FAIL&principle=defense-in-depth")
    assert dom.text == "Showing 1 of 5 findings"
    visible = [r for r in rows(dom) if r.get("hidden") is None]
    assert [(r["data-status"], r["data-severity"]) for r in visible] == [("FAIL", "high")]
    dom = dump(profile, report_html.as_uri() + "#q=" + "%3Cimg%20src%3Dx")
    assert dom.text == "Showing 1 of 5 findings"


def test_sort_from_the_address_reorders_rows(report_html: Path, profile: Path) -> None:
    dom = dump(profile, report_html.as_uri() + "#sort=-severity")
    severities = [r["data-severity"] for r in rows(dom)]
    assert severities == ["critical", "high", "medium", "low", "info"]
    header = [a for a in dom.of("th") if a.get("aria-sort") == "descending"]
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
    assert dom.text == f"Showing {shown} of 3 findings"


def test_sort_by_region_and_path_diagram(history_html: Path, profile: Path) -> None:
    dom = dump(profile, history_html.as_uri() + "#sort=region")
    assert [r["data-i"] for r in rows(dom)] == ["1", "2", "0"]  # eu-west-1 first
    assert [r.get("data-new") for r in rows(dom)] == [None, "1", None]
    # the failing finding's path, open under its row: laid out for the screen and for print
    assert len(dom.of("svg")) == 2
    assert len(dom.of("rect")) == 2 * 4  # one box per hop
    assert not dom.of("img")


@pytest.fixture(scope="module")
def depth_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from support.reports import depth_report

    out = tmp_path_factory.mktemp("depth-report")
    return write_reports(depth_report(), out, [OutputFormat.HTML])[OutputFormat.HTML]


def test_depth_table_renders_and_links_to_the_asset_findings(depth_html: Path,
                                                             profile: Path) -> None:
    dom = dump(profile, depth_html.as_uri())
    depth_rows = [a.get("data-depth") for a in dom.of("tr") if "data-depth" in a]
    assert depth_rows == ["0", "1", "2+", "2+", "undecided"]
    assert not dom.of("img")
    links = [a["href"] for a in dom.of("a") if (a.get("href") or "").startswith("#q=")]
    assert len(links) == 5
    # the second row's link (the depth-1 asset) shows that asset's two findings only
    dom = dump(profile, depth_html.as_uri() + str(links[1]))
    assert dom.text == "Showing 2 of 7 findings"


# measures, in the page, each path box's text against its box: a label or rule line running
# past the box's edge, or label lines that do not join to the hop's full label, is reported
MEASURE = """(function () {
  var bad = [], seen = 0;
  /* the print layout's diagrams too: shown here so that they are laid out and measured */
  Array.prototype.forEach.call(document.querySelectorAll(".print-only"), function (d) {
    d.style.display = "block";
  });
  Array.prototype.forEach.call(document.querySelectorAll("svg.path g.hop"), function (g) {
    var box = g.querySelector("rect").getBBox();
    var label = "";
    Array.prototype.forEach.call(g.querySelectorAll("text"), function (t) {
      var b = t.getBBox();
      seen += 1;
      if (b.width <= 0 || b.x < box.x || b.x + b.width > box.x + box.width - 2 ||
          b.y < box.y || b.y + b.height > box.y + box.height) {
        bad.push(t.textContent + " " + JSON.stringify([b.x, b.width, box.x, box.width]));
      }
      if (t.getAttribute("class") === "hop-label") { label += t.textContent; }
    });
    if (label.replace(/ /g, "") !== g.getAttribute("data-label").replace(/ /g, "")) {
      bad.push("cut: " + label);
    }
  });
  document.body.setAttribute("data-measured", JSON.stringify({seen: seen, bad: bad}));
}());"""

LONG_PATH = [
    {"kind": "internet", "id": "11.0.0.0"},
    {"kind": "internet-gateway", "id": "igw-204a2b88ed467e611"},
    {"kind": "security-group", "id": "sg-37aae067f52ac1449",
     "detail": "inbound: sg-37aae067f52ac1449 allow tcp/22 from 0.0.0.0/0",
     "rule": {"peer": "0.0.0.0/0", "peer_word": "from"}},
    {"kind": "interface", "id": "eni-5ae4af896721d8b11", "detail": "54.214.226.72"},
    {"kind": "asset", "id": "support-console-with-a-long-name", "detail": "AWS::EC2::Instance"},
    {"kind": "role", "id": "arn:aws:iam::123456789012:role/service-role/deploy-pipeline",
     "rule": "instance profile deploy-pipeline", "layer": "identity"},
    {"kind": "user", "id": "arn:aws:iam::123456789012:user/department/alice.wonderland",
     "rule": "sts:AssumeRole", "layer": "identity"},
    {"kind": "", "id": "administrator", "rule": "admin-policy", "layer": "identity"},
]


def _measured(page: Path, profile: Path) -> dict[str, object]:
    """The page with :data:`MEASURE` added (and allowed by its CSP hash), measured in Chromium."""
    import base64
    import hashlib
    import json

    html = page.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(MEASURE.encode()).digest()).decode()
    html = html.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    measured = page.with_name("measured.html")
    measured.write_text(html.replace("</body>", f"<script>{MEASURE}</script></body>"),
                        encoding="utf-8")
    dom = dumped(profile, measured.as_uri())
    result = json.loads(str(dom.first("body").get("data-measured")))
    assert isinstance(result, dict)
    return result


def test_path_labels_are_not_cut(tmp_path: Path, profile: Path) -> None:
    from support.reports import XSS_SCRIPT, finding, report

    hostile = [*LONG_PATH[:4], {"kind": "asset", "id": XSS_SCRIPT}, *LONG_PATH[5:]]
    rep = report(finding(1, evidence={"attack_path": LONG_PATH}),
                 finding(2, evidence={"paths": [{"hops": hostile}]}))
    page = write_reports(rep, tmp_path / "r", [OutputFormat.HTML])[OutputFormat.HTML]
    result = _measured(page, profile)
    assert result["bad"] == []
    assert result["seen"] >= 2 * len(LONG_PATH) * 2  # label and rule lines were measured
    html = page.read_text(encoding="utf-8")
    # the ARN keeps its user name; the internet end names its range
    assert "alice.wonderland" in html and 'data-label="internet 0.0.0.0/0"' in html
    png = tmp_path / "paths.png"
    chromium(profile, f"--screenshot={png}", "--window-size=1280,2400", page.as_uri())
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_demo_path_labels_are_not_cut(tmp_path: Path, profile: Path) -> None:
    from support import DEMO
    from typer.testing import CliRunner

    from posture.cli.main import app

    out = tmp_path / "demo"  # the demo audited through the command line, as a user would
    result = CliRunner().invoke(app, ["audit", str(DEMO / "snapshot.json"), "-o", str(out),
                                      "-q", "-f", "html"])
    assert result.exit_code in (0, 1), result.output
    measured = _measured(out / "report.html", profile)
    assert measured["bad"] == [] and int(str(measured["seen"])) > 100


def test_evidence_tables_and_open_path_rows(report_html: Path, profile: Path) -> None:
    text = chromium(profile, "--dump-dom", report_html.as_uri()).stdout
    dom = Dom(text)
    assert [a for a in dom.of("table") if a.get("class") == "ev ev-map"]
    assert [a.get("type") for a in dom.of("script")] == ["application/json", None]
    escaped = XSS_CLOSE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'<span class="ev-text">{escaped}</span>' in text  # a table cell, text only
    path_rows = [a for a in dom.of("tr") if "data-path-for" in a]
    assert [a["data-path-for"] for a in path_rows] == ["0"] and path_rows[0].get("hidden") is None
    dom = dump(profile, report_html.as_uri() + "#status=PASS")
    hidden = [a.get("hidden") for a in dom.of("tr") if "data-path-for" in a]
    assert hidden == [""]  # the path row hides with its finding
