"""``-f junit``: well-formed JUnit XML, one suite per check and one case per (check, resource),
the outcome per status, attacker-controlled names escaped and round-tripping, determinism."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from xml.dom import minidom

from support import DEMO
from support.reports import (
    META,
    XSS_CLOSE,
    XSS_SCRIPT,
    finding,
    hostile_report,
    report,
)
from typer.testing import CliRunner

from posture.cli.main import app
from posture.model import Status
from posture.reporters import (
    FILENAMES,
    OUTPUTS_MARKER,
    OutputFormat,
    Report,
    reporter_for,
    write_reports,
)
from posture.reporters.junit_reporter import case_name, xml_text

HOSTILE = '<x & "y">'


def render(rep: Report) -> bytes:
    return reporter_for(OutputFormat.JUNIT).render(rep)


def parse(rep: Report) -> ET.Element:
    data = render(rep)
    minidom.parseString(data)  # a second, DOM parser agrees that it is well formed
    return ET.fromstring(data)


def one(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path)
    assert found is not None, path
    return found


def counts(element: ET.Element) -> tuple[str | None, ...]:
    return tuple(element.get(k) for k in ("tests", "failures", "errors", "skipped"))


def statuses_report() -> Report:
    volume = "aws.encryption.volume_encrypted"
    return report(
        finding(1, status=Status.FAIL),
        finding(2, status=Status.PASS),
        finding(3, status=Status.INCONCLUSIVE, message="not verified"),
        finding(4, status=Status.ERROR, message="check crashed: KeyError"),
        finding(5, status=Status.EXCEPTED, message="accepted risk: legacy VPN (until 2026-06-30)"),
        finding(6, status=Status.PASS, check_id=volume, title="Volumes are encrypted"),
    )


def test_one_suite_per_check_one_case_per_finding() -> None:
    root = parse(statuses_report())
    assert root.tag == "testsuites"
    assert root.get("name") == f"posture {META.scan_id}"
    assert counts(root) == ("6", "1", "1", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["aws.network.admin_ports_not_internet_reachable",
                                               "aws.encryption.volume_encrypted"]
    assert [counts(s) for s in suites] == [("5", "1", "1", "2"), ("1", "0", "0", "0")]
    assert [p.attrib for p in suites[1].iter("property")] == [
        {"name": "title", "value": "Volumes are encrypted"}]
    cases = suites[0].findall("testcase")
    assert [c.get("classname") for c in cases] == [suites[0].get("name")] * 5
    assert cases[0].get("name") == f"sg-0001 ({statuses_report().findings[0].resource_uid})"


def test_the_outcome_of_each_status() -> None:
    rep = statuses_report()
    cases = parse(rep).findall("testsuite/testcase")
    outcome = [[(child.tag, child.get("message"), child.get("type")) for child in case]
               for case in cases]
    assert outcome == [
        [("failure", "port 22 reachable from 0.0.0.0/0", "high")],
        [],  # PASS: a plain test case
        [("skipped", "INCONCLUSIVE: not verified", None)],
        [("error", "check crashed: KeyError", "high")],
        [("skipped", "EXCEPTED: accepted risk: legacy VPN (until 2026-06-30)", None)],
        [],
    ]
    body = cases[0].findtext("failure") or ""
    f = rep.findings[0]
    assert body.splitlines() == [
        f.message,
        f"Resource: {f.resource_uid} (AWS::EC2::SecurityGroup) in 123456789012/us-east-1",
        "Severity: high",
        "Controls: SOC2:CC6.1,CC6.6",
        f"Remediation: {f.remediation}",
        'Evidence: {"rule": {"cidr": "0.0.0.0/0", "port": 22}}',
    ]


def test_attacker_controlled_strings_round_trip() -> None:
    rep = report(finding(1, name=HOSTILE, message=HOSTILE, title=HOSTILE,
                         evidence={"tag": XSS_CLOSE}),
                 finding(2, name=HOSTILE, status=Status.INCONCLUSIVE, message=HOSTILE,
                         check_id=HOSTILE))
    data = render(rep)
    assert HOSTILE.encode() not in data and b"<x " not in data
    root = parse(rep)
    first, second = root.iter("testcase")
    assert first.get("name") == case_name(rep.findings[0])
    assert first.get("name", "").startswith(HOSTILE + " (")
    failure = one(first, "failure")
    assert failure.get("message") == HOSTILE
    assert XSS_CLOSE in (failure.text or "")
    assert one(root, "testsuite/properties/property").get("value") == HOSTILE
    assert second.get("classname") == HOSTILE
    assert root.findall("testsuite")[1].get("name") == HOSTILE
    assert one(second, "skipped").get("message") == f"INCONCLUSIVE: {HOSTILE}"


def test_line_breaks_and_tabs_in_attributes_round_trip() -> None:
    name = 'db, "prod"\nprimary\tline'
    case = next(parse(report(finding(1, name=name, message="a\nb"))).iter("testcase"))
    assert case.get("name", "").startswith(name)
    assert one(case, "failure").get("message") == "a\nb"


def test_characters_xml_cannot_carry_become_replacement_characters() -> None:
    name = "nul\x00bell\x07esc\x1b lone\ud800 \ufffe"
    case = next(parse(report(finding(1, name=name, message="\x0c"))).iter("testcase"))
    assert case.get("name", "").startswith("nul\ufffdbell\ufffdesc\ufffd lone\ufffd \ufffd")
    assert one(case, "failure").get("message") == "\ufffd"
    assert xml_text("tab\tok \u00e9\u6f22 \U0001f600") == "tab\tok \u00e9\u6f22 \U0001f600"


def test_deterministic_with_the_collection_time_in_utc() -> None:
    assert render(hostile_report()) == render(hostile_report())
    assert one(parse(hostile_report()), "testsuite").get("timestamp") == "2026-01-01T00:02:30"
    shifted = replace(META, finished_at="2026-01-01T02:02:30+02:00")
    suite = one(parse(report(finding(1), meta=shifted)), "testsuite")
    assert suite.get("timestamp") == "2026-01-01T00:02:30"
    assert suite.get("time") == "0"
    undated = parse(report(finding(1), meta=replace(META, started_at="?", finished_at="")))
    assert "timestamp" not in one(undated, "testsuite").attrib


def test_an_empty_report_is_an_empty_testsuites() -> None:
    data = render(report())
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(data)
    assert root.tag == "testsuites" and counts(root) == ("0", "0", "0", "0")
    assert list(root) == []


def test_hostile_report_has_no_markup_from_its_strings() -> None:
    root = parse(hostile_report())
    names = [c.get("name", "") for c in root.iter("testcase")]
    assert any(n.startswith(XSS_SCRIPT) for n in names)
    assert {e.tag for e in root.iter()} == {"testsuites", "testsuite", "properties", "property",
                                            "testcase", "failure", "error", "skipped"}


def test_write_reports_and_the_cli_write_findings_junit_xml(tmp_path: Path) -> None:
    assert FILENAMES[OutputFormat.JUNIT] == "findings.junit.xml"
    written = write_reports(report(finding(1)), tmp_path / "w", [OutputFormat.JUNIT])
    assert written == {OutputFormat.JUNIT: tmp_path / "w" / "findings.junit.xml"}
    result = CliRunner().invoke(app, ["audit", str(DEMO / "snapshot.json"), "-o",
                                      str(tmp_path / "cli"), "-f", "junit", "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()  # and the run's file list
                  if p.name != OUTPUTS_MARKER) == ["findings.junit.xml"]
    root = ET.parse(tmp_path / "cli" / "findings.junit.xml").getroot()
    assert int(root.get("tests", "0")) == len(list(root.iter("testcase"))) > 0
    assert int(root.get("failures", "0")) == len(list(root.iter("failure"))) > 0
