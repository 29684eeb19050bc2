"""Reporters: CSV (RFC 4180, formula injection), JSON (stable shape), HTML (escaping, no
network, determinism), the format factory and the file writing."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from support.reports import (
    ACCOUNT,
    META,
    SHA,
    SOC2,
    XSS_CLOSE,
    XSS_IMG,
    XSS_SCRIPT,
    collection_error,
    depth_report,
    finding,
    hostile_report,
    report,
)

from posture.errors import ReportError
from posture.model import Principle, Severity, Status
from posture.registry import Framework
from posture.reporters import (
    FILENAMES,
    OutputFormat,
    Report,
    parse_formats,
    reporter_for,
    write_reports,
)
from posture.reporters.csv_reporter import CELL_LIMIT, HEADER, defuse
from posture.reporters.html_reporter import render_html, script_json
from posture.results import summarize, to_frame

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = bool(os.environ.get("POSTURE_UPDATE_GOLDEN"))


def render(fmt: OutputFormat, rep: Report | None = None) -> bytes:
    return reporter_for(fmt).render(rep if rep is not None else hostile_report())


def parse_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with POSTURE_UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} differs from {path} (POSTURE_UPDATE_GOLDEN=1)"


def golden_report() -> Report:
    return report(
        finding(1),
        finding(2, status=Status.PASS, severity=Severity.LOW, name="web, \"public\""),
        finding(3, status=Status.INCONCLUSIVE, severity=Severity.CRITICAL, message="-not seen",
                principles=(Principle.ENCRYPTION_AT_REST, Principle.SECRETS),
                controls={"SOC2": ("CC6.1",), "CIS-AWS-3.0": ("2.2.1",)}),
        errors=(collection_error(),),
    )


# --------------------------------------------------------------------------------------- CSV


def test_csv_round_trips_to_the_same_rows() -> None:
    rep = golden_report()
    rows = parse_csv(render(OutputFormat.CSV, rep))
    assert tuple(rows[0]) == HEADER
    expected = []
    for f in rep.findings:
        expected.append([
            f.check_id, f.title, f.status.value, f.severity.label, f.provider.value,
            f.resource_uid,
            f.resource_type, f.resource_name, f.account, f.region,
            ";".join(p.value for p in f.principles),
            "|".join(f"{fw}:{';'.join(ids)}" for fw, ids in sorted(f.controls.items())),
            defuse(f.message), f.remediation,
            json.dumps(f.evidence, sort_keys=True, separators=(",", ":")),
            "",  # depth: these findings carry none
        ])
    assert rows[1:] == expected
    cells = dict(zip(HEADER, rows[3], strict=True))
    assert cells["controls"] == "CIS-AWS-3.0:2.2.1|SOC2:CC6.1"
    assert cells["principles"] == "encryption-at-rest;secrets"
    assert cells["message"] == "'-not seen"
    # the provider column, after the severity as in findings.json
    assert HEADER[3:5] == ("severity", "provider") and {r[4] for r in rows[1:]} == {"aws"}


def test_csv_is_rfc4180_with_crlf_line_ends() -> None:
    data = render(OutputFormat.CSV, golden_report())
    assert data.count(b"\n") == data.count(b"\r\n") == 4  # header + 3 rows, no bare LF
    assert data.endswith(b"\r\n")
    assert b'"web, ""public"""' in data  # quoted, inner quotes doubled


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil","x")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "\n=1+1",
        "\u200b=1+1",
        "\u00a0@SUM(A1)",
        "\uff1d1+1",
    ],
)
def test_csv_defuses_formula_injection(name: str) -> None:
    rep = report(finding(1, name=name, message=name, remediation=name,
                         evidence={"tags": {"Owner": name}}))
    row = parse_csv(render(OutputFormat.CSV, rep))[1]
    cells = dict(zip(HEADER, row, strict=True))
    for column in ("resource_name", "message", "remediation"):
        assert cells[column] == "'" + name, column
    assert cells["evidence"].startswith("{")  # JSON is never a formula


@pytest.mark.parametrize("text", ["+1 open port", "-", "@admins", "=", "\t"])
def test_csv_defuses_message_and_tag_starting_with_a_trigger(text: str) -> None:
    rep = report(finding(1, message=text, check_id=text, title=text))
    row = parse_csv(render(OutputFormat.CSV, rep))[1]
    assert row[0] == row[1] == row[HEADER.index("message")] == "'" + text


@pytest.mark.parametrize("text", ["web-1", "a=b", "x@y", "sg 1 - prod", "", "'quoted"])
def test_csv_leaves_ordinary_cells_alone(text: str) -> None:
    assert defuse(text) == text


def test_csv_no_parsed_cell_starts_a_formula() -> None:
    for row in parse_csv(render(OutputFormat.CSV))[1:]:
        for cell in row:
            first = cell.lstrip(" \t\r\n\u200b\u00a0")[:1]
            assert first not in set("=+-@\uff1d") or cell.startswith("'"), cell


def test_csv_commas_quotes_and_newlines_survive() -> None:
    name = 'db, "prod"\nprimary\r\nline3 \u00e9\u6f22'
    rep = report(finding(1, name=name, message="a,b;c\"d"))
    row = parse_csv(render(OutputFormat.CSV, rep))[1]
    assert row[HEADER.index("resource_name")] == name
    assert row[HEADER.index("message")] == 'a,b;c"d'


def test_csv_cuts_cells_longer_than_excel_allows() -> None:
    rep = report(finding(1, evidence={"blob": "x" * (CELL_LIMIT + 10)}))
    row = parse_csv(render(OutputFormat.CSV, rep))[1]
    evidence = row[HEADER.index("evidence")]
    assert len(evidence) <= CELL_LIMIT
    assert evidence.endswith("see findings.json]")


def test_csv_is_deterministic_and_golden() -> None:
    first = render(OutputFormat.CSV, golden_report())
    assert first == render(OutputFormat.CSV, golden_report())
    golden("findings.csv", first)


# -------------------------------------------------------------------------------------- JSON

FINDING_KEYS = {
    "check_id", "status", "severity", "resource_uid", "resource_type", "account", "region",
    "principles", "controls", "message", "evidence", "remediation",
}


def test_json_document_shape() -> None:
    data = render(OutputFormat.JSON, golden_report())
    doc = json.loads(data)
    assert list(doc) == ["collection_errors", "findings", "scan", "schema", "schema_version",
                         "summary"]
    assert doc["schema"] == "posture.findings"
    assert doc["schema_version"] == 1
    assert doc["scan"] == {
        "scan_id": META.scan_id, "provider": "aws", "tool_version": "0.1.0",
        "started_at": META.started_at, "finished_at": META.finished_at,
        "accounts": [ACCOUNT], "regions": ["eu-west-1", "us-east-1"], "endpoint_url": None,
        "notes": [], "snapshot_sha256": SHA,
    }
    assert doc["collection_errors"] == [{
        "provider": "aws", "account": ACCOUNT, "region": "us-east-1", "service": "ec2",
        "operation": "DescribeVolumes", "code": "AccessDenied", "message": "not allowed",
        "asset_types": ["AWS::EC2::Volume"], "resource_uid": None,
    }]
    for item in doc["findings"]:
        assert set(item) >= FINDING_KEYS
        assert set(item) == FINDING_KEYS | {"title", "provider", "resource_name"}
    first = doc["findings"][0]
    assert first["status"] == "FAIL" and first["severity"] == "high"
    assert first["principles"] == ["defense-in-depth"]
    assert first["controls"] == {"SOC2": ["CC6.1", "CC6.6"]}
    assert first["evidence"] == {"rule": {"cidr": "0.0.0.0/0", "port": 22}}


def test_json_sorted_keys_indent_2_trailing_newline() -> None:
    text = render(OutputFormat.JSON, golden_report()).decode("utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    again = json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert text == again


def test_json_keeps_the_given_order_of_findings() -> None:
    given = (finding(3), finding(1), finding(2))
    doc = json.loads(render(OutputFormat.JSON, report(*given)))
    assert [f["resource_uid"] for f in doc["findings"]] == [f.resource_uid for f in given]


def test_json_summary_counts() -> None:
    summary = json.loads(render(OutputFormat.JSON, golden_report()))["summary"]
    assert summary["total"] == 3 and summary["resources"] == 3 and summary["checks"] == 1
    assert summary["by_status"] == {"PASS": 1, "FAIL": 1, "INCONCLUSIVE": 1, "ERROR": 0,
                                    "EXCEPTED": 0}
    assert summary["by_severity"]["critical"] == {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 1,
                                                  "ERROR": 0, "EXCEPTED": 0}
    assert summary["by_severity"]["info"] == {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 0,
                                              "ERROR": 0, "EXCEPTED": 0}
    assert set(summary["by_principle"]) == {p.value for p in Principle}
    assert summary["by_principle"]["defense-in-depth"]["FAIL"] == 1
    assert summary["by_principle"]["secrets"]["INCONCLUSIVE"] == 1
    soc2 = summary["by_control"]["SOC2"]
    assert list(soc2) == ["CC6.1", "CC6.6", "CC6.7", "CC7.2"]
    assert soc2["CC6.1"] == {"title": "Logical access security",
                             "counts": {"PASS": 1, "FAIL": 1, "INCONCLUSIVE": 1, "ERROR": 0,
                                        "EXCEPTED": 0}}
    assert soc2["CC6.6"]["counts"] == {"PASS": 1, "FAIL": 1, "INCONCLUSIVE": 0, "ERROR": 0,
                                       "EXCEPTED": 0}
    assert soc2["CC7.2"]["counts"] == {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 0, "ERROR": 0,
                                       "EXCEPTED": 0}
    # a framework the catalogue does not list still shows up
    assert summary["by_control"]["CIS-AWS-3.0"]["2.2.1"]["counts"]["INCONCLUSIVE"] == 1


def test_json_is_deterministic_and_golden() -> None:
    first = render(OutputFormat.JSON, golden_report())
    assert first == render(OutputFormat.JSON, golden_report())
    golden("findings.json", first)


def test_lone_surrogates_do_not_break_any_format() -> None:
    rep = report(finding(1, name="bad\ud800name", evidence={"k": "\udcff"}))
    doc = json.loads(render(OutputFormat.JSON, rep).decode("utf-8"))
    assert doc["findings"][0]["resource_name"] == "bad\ud800name"
    assert doc["findings"][0]["evidence"] == {"k": "\udcff"}
    render(OutputFormat.CSV, rep).decode("utf-8")
    render(OutputFormat.HTML, rep).decode("utf-8")


# -------------------------------------------------------------------------------------- HTML


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        control = dict(attrs).get("data-control")
        if tag == "tr" and control:
            self._row = control
            self.rows[control] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row and data.strip():
            self.rows[self._row].append(data.strip())


def parse_html(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


DATA_BLOCK = re.compile(
    r'<script type="application/json" id="posture-data">(.*?)</script>', re.DOTALL
)


def test_html_escapes_attacker_controlled_strings() -> None:
    html = render(OutputFormat.HTML).decode("utf-8")
    lowered = html.lower()
    assert "<script>alert" not in lowered
    assert "<img src=x" not in lowered
    assert "<!--" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    tags = parse_html(html).tags
    assert not [t for t, _ in tags if t == "img"]
    assert [a.get("type") for t, a in tags if t == "script"] == ["application/json", None]
    assert not [a for _, a in tags for k in a if k.startswith("on")]  # no event handlers


def test_html_data_block_cannot_close_the_script_tag() -> None:
    html = render(OutputFormat.HTML).decode("utf-8")
    blocks = DATA_BLOCK.findall(html)
    assert len(blocks) == 1
    block = blocks[0]
    assert not set(block) & set("<>&")
    names = [f["resource_name"] for f in json.loads(block)["findings"]]
    assert set(names) >= {XSS_SCRIPT, XSS_IMG, XSS_CLOSE}
    assert html.count("</script>") == 2  # the data block and the filter script


def test_script_json_escapes_markup_characters() -> None:
    text = script_json({"a": "</script><!--&\u2028"})
    assert text == '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028"}'
    assert json.loads(text) == {"a": "</script><!--&\u2028"}


def test_html_loads_nothing_from_the_network() -> None:
    html = render(OutputFormat.HTML).decode("utf-8")
    for tag, attrs in parse_html(html).tags:
        for key in ("src", "href", "action", "srcset", "poster", "data", "formaction"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("#", "data:")), (tag, key, value)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "url(" not in html and "@import" not in html
    metas = [a for t, a in parse_html(html).tags if t == "meta" and a.get("http-equiv")]
    assert [a["http-equiv"] for a in metas] == ["Content-Security-Policy"]
    assert "default-src 'none'" in str(metas[0]["content"])


def test_html_csp_hashes_match_the_inline_style_and_script() -> None:
    html = render(OutputFormat.HTML).decode("utf-8")
    csp = re.search(r'content="(default-src[^"]+)"', html)
    assert csp
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL)
    script = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    assert style and script
    for body in (style.group(1), script.group(1)):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp.group(1)
    assert "unsafe-inline" not in csp.group(1)


def test_html_script_never_builds_html_from_strings() -> None:
    js = resources.files("posture.reporters").joinpath("templates", "report.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "srcdoc"):
        assert sink not in js, sink
    template = resources.files("posture.reporters").joinpath(
        "templates", "report.html.j2").read_text()
    assert "|safe" not in template.replace(" ", "")
    assert "autoescape false" not in template


def test_html_manifest_summary_and_warning() -> None:
    html = render(OutputFormat.HTML).decode("utf-8")
    for text in (META.scan_id, ACCOUNT, "eu-west-1, us-east-1", META.started_at,
                 META.finished_at, "posture 0.1.0", SHA):
        assert text in html, text
    assert "1 API call failed; affected checks are INCONCLUSIVE." in html
    assert 'id="collection-warning"' in html
    assert "aws.network.admin_ports_not_internet_reachable" in html  # affected checks column
    two = report(finding(1), errors=(collection_error(), collection_error("ListKeys")))
    assert "2 API calls failed; affected checks are INCONCLUSIVE." in render(
        OutputFormat.HTML, two).decode()
    clean = render(OutputFormat.HTML, report(finding(1))).decode()
    assert "collection-warning" not in clean and "failed; affected checks" not in clean
    assert "Every API call succeeded" in clean


def test_html_soc2_section_counts_per_control() -> None:
    html = render(OutputFormat.HTML).decode("utf-8")
    assert "SOC 2 controls" in html
    rows = parse_html(html).rows
    #          control, title, verdict, PASS, FAIL, INCONCLUSIVE, ERROR, EXCEPTED, checks
    assert rows["CC6.1"] == ["CC6.1", "Logical access security", "FAIL", "1", "2", "1", "1",
                             "0", "2 checks", "aws.encryption.volume_encrypted",
                             "aws.network.admin_ports_not_internet_reachable", "show findings"]
    assert rows["CC6.6"][:8] == ["CC6.6", "Threats from outside system boundaries", "FAIL",
                                 "1", "1", "1", "1", "0"]
    assert rows["CC7.2"][2:] == ["NO EVIDENCE", "0", "0", "0", "0", "0", "—"]


def test_html_lists_soc2_first_then_other_frameworks() -> None:
    cis = Framework(id="CIS-AWS-3.0", name="CIS AWS", controls={"5.2": "No admin ports"},
                    checks_by_control={})
    rep = replace(report(finding(1)), frameworks=(cis, SOC2))
    html = render(OutputFormat.HTML, rep).decode("utf-8")
    assert html.index("SOC 2 controls") < html.index("CIS-AWS-3.0 controls")
    assert "No admin ports" in html


def test_html_findings_table_has_evidence_and_remediation() -> None:
    html = render(OutputFormat.HTML).decode("utf-8")
    assert html.count("<tr data-i=") == 5
    assert html.count("<details>") == 5
    assert "Remove internet ingress on admin ports; use a bastion." in html
    assert "<tr><th>cidr</th><td><span class=\"ev-text\">0.0.0.0/0</span></td></tr>" in html
    # FAIL rows come first, most severe first
    order = re.findall(r'<tr data-i="(\d+)" data-status="(\w+)" data-severity="(\w+)"', html)
    assert [s for _, s, _ in order] == ["FAIL", "FAIL", "ERROR", "INCONCLUSIVE", "PASS"]
    assert [sev for _, _, sev in order][:2] == ["high", "medium"]


def test_html_empty_report() -> None:
    html = render(OutputFormat.HTML, report()).decode("utf-8")
    assert "No findings." in html
    assert json.loads(DATA_BLOCK.findall(html)[0]) == {"findings": []}


def test_csv_depth_column() -> None:
    rows = parse_csv(render(OutputFormat.CSV, depth_report()))
    assert rows[0][-1] == "depth"
    assert [r[-1] for r in rows[1:]] == ["0", "1", "2", ">=3", "undecided", "", ""]


def test_html_depth_table_one_row_per_asset_lowest_first() -> None:
    html = render(OutputFormat.HTML, depth_report()).decode("utf-8")
    section = html[html.index('<section id="defense-depth">'):]
    section = section[: section.index("</section>")]
    depths = re.findall(r'<tr data-depth="([^"]+)">', section)
    assert depths == ["0", "1", "2+", "2+", "undecided"]
    assert "exposed: reachable from the internet today" in section
    assert "network-acl inbound acl-1: rule 50 deny tcp/22 from 0.0.0.0/0" in section
    assert "One change exposes it:</b> insert an inbound allow for tcp/22" in section
    assert "≥ 3" in section
    assert "&lt;img src=x onerror=alert(1)&gt;" in section and "<img" not in section
    assert XSS_CLOSE not in section
    counts = re.findall(r'<tr data-type="([^"]+)">(.*?)</tr>', section)
    assert [t for t, _ in counts] == ["AWS::EC2::SecurityGroup"]
    assert re.findall(r">(\d+)</td>", counts[0][1]) == ["1", "1", "2", "1"]
    assert 'href="#q=arn%3Aaws%3Aec2' in section


def test_html_without_depth_findings_has_no_depth_section() -> None:
    assert b'id="defense-depth"' not in render(OutputFormat.HTML)


def test_html_is_deterministic() -> None:
    assert render(OutputFormat.HTML) == render(OutputFormat.HTML)
    assert render_html(hostile_report()).startswith("<!DOCTYPE html>")


# ----------------------------------------------------------------------------------- results


def test_to_frame_one_row_per_finding() -> None:
    rep = golden_report()
    frame = to_frame(rep.findings)
    assert len(frame) == 3
    assert list(frame["status"]) == ["FAIL", "PASS", "INCONCLUSIVE"]
    assert frame["severity"].cat.ordered
    assert frame["severity"].max() == "critical"
    assert frame.loc[2, "controls"] == ("CIS-AWS-3.0:2.2.1", "SOC2:CC6.1")
    empty = to_frame(())
    assert len(empty) == 0 and list(empty.columns) == list(frame.columns)
    assert summarize(())["by_status"] == {"PASS": 0, "FAIL": 0, "INCONCLUSIVE": 0, "ERROR": 0,
                                          "EXCEPTED": 0}


# ----------------------------------------------------------------------- formats and writing


def test_parse_formats() -> None:
    assert parse_formats("csv,json") == (OutputFormat.CSV, OutputFormat.JSON)
    assert parse_formats(" HTML , csv,html,") == (OutputFormat.HTML, OutputFormat.CSV)


@pytest.mark.parametrize("text", ["csv,xlsx", "xml", "", " , "])
def test_parse_formats_rejects_unknown_or_empty(text: str) -> None:
    with pytest.raises(ReportError, match="csv, json, html"):
        parse_formats(text)


def test_unknown_format_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="'xlsx'"):
        reporter_for("xlsx")
    with pytest.raises(ReportError):
        write_reports(report(finding(1)), tmp_path, ["csv", "xlsx"])
    assert list(tmp_path.iterdir()) == []


def test_write_reports_writes_every_format(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    written = write_reports(report(finding(1)), out, parse_formats(",".join(OutputFormat)))
    assert written == {fmt: out / FILENAMES[fmt] for fmt in OutputFormat}
    assert sorted(p.name for p in out.iterdir()) == sorted(FILENAMES.values())
    assert {"controls.csv", "findings.csv", "findings.json", "report.html"} <= set(
        FILENAMES.values())
    again = write_reports(report(finding(1)), out, [OutputFormat.JSON])
    assert again[OutputFormat.JSON].read_bytes() == written[OutputFormat.JSON].read_bytes()


def test_output_path_that_is_a_file_is_a_report_error(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("not a directory")
    with pytest.raises(ReportError, match="not a directory"):
        write_reports(report(finding(1)), target, [OutputFormat.CSV])
    with pytest.raises(ReportError, match="cannot create"):
        write_reports(report(finding(1)), target / "sub", [OutputFormat.CSV])


def test_report_file_that_cannot_be_replaced_is_a_report_error(tmp_path: Path) -> None:
    (tmp_path / "findings.csv").mkdir()
    with pytest.raises(ReportError, match="cannot write report"):
        write_reports(report(finding(1)), tmp_path, [OutputFormat.CSV])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.csv"]  # no temp file left
