"""``findings.junit.xml``: the findings as JUnit XML, so CI systems show failures natively.

The common JUnit dialect that Jenkins, GitLab, GitHub Actions reporters and Azure Pipelines
read::

    <testsuites name="posture SCAN_ID" tests failures errors skipped time="0">
      <testsuite name=CHECK_ID tests failures errors skipped time="0" timestamp=COLLECTED>
        <properties><property name="title" value=CHECK_TITLE/></properties>
        <testcase classname=CHECK_ID name="RESOURCE_NAME (RESOURCE_UID)" time="0">
          <failure message=MESSAGE type=SEVERITY>details</failure>   FAIL
          <error message=MESSAGE type=SEVERITY>details</error>       ERROR
          <skipped message="INCONCLUSIVE: MESSAGE"/>                 INCONCLUSIVE, EXCEPTED
        </testcase>                                                  PASS: nothing inside

One test suite per check, in the order the checks first appear among the findings (the
engine's order), one test case per (check, resource) finding in the report's order. ``time`` is
0 (checks are not timed one by one) and ``timestamp`` is the snapshot's collection time, so the
same snapshot gives the same bytes. Every string is escaped by :mod:`xml.etree.ElementTree`;
characters XML 1.0 cannot carry at all (control characters, lone surrogates) become U+FFFD.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from posture.model import Finding, Status
from posture.reporters.base import OutputFormat, Report, collected_at

# characters outside XML 1.0's Char production (tab, LF and CR are allowed)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_OUTCOME: dict[Status, str] = {
    Status.FAIL: "failure",
    Status.ERROR: "error",
    Status.INCONCLUSIVE: "skipped",
    Status.EXCEPTED: "skipped",
}


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot represent replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def case_name(f: Finding) -> str:
    """``name (uid)``, or the uid alone when the resource has no other name."""
    if f.resource_name and f.resource_name != f.resource_uid:
        return f"{f.resource_name} ({f.resource_uid})"
    return f.resource_uid


def details(f: Finding) -> str:
    """The body of a failure or error: what, where, why it matters and what to do."""
    controls = "; ".join(f"{fw}:{','.join(ids)}" for fw, ids in sorted(f.controls.items()))
    lines = [
        f.message,
        f"Resource: {f.resource_uid} ({f.resource_type}) in {f.account}/{f.region}",
        f"Severity: {f.severity.label}",
    ]
    if controls:
        lines.append(f"Controls: {controls}")
    if f.remediation:
        lines.append(f"Remediation: {f.remediation}")
    if f.evidence:
        evidence = json.dumps(f.evidence, sort_keys=True, ensure_ascii=False, default=str)
        lines.append(f"Evidence: {evidence}")
    return "\n".join(lines)


def _element(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})


def _testcase(suite: ET.Element, f: Finding) -> None:
    case = _element(suite, "testcase", classname=f.check_id, name=case_name(f), time="0")
    outcome = _OUTCOME.get(f.status)
    if outcome == "skipped":
        _element(case, outcome, message=f"{f.status.value}: {f.message}")
    elif outcome is not None:
        _element(case, outcome, message=f.message, type=f.severity.label).text = xml_text(
            details(f))


def _counts(findings: Sequence[Finding]) -> dict[str, str]:
    def count(*statuses: Status) -> str:
        return str(sum(f.status in statuses for f in findings))

    return {"tests": str(len(findings)), "failures": count(Status.FAIL),
            "errors": count(Status.ERROR), "skipped": count(Status.INCONCLUSIVE,
                                                           Status.EXCEPTED), "time": "0"}


def _timestamp(report: Report) -> str:
    """The collection time as JUnit writes it: ISO 8601 in UTC, without a zone ("" unknown)."""
    stamp = collected_at(report)
    return "" if stamp is None else stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def render_junit(report: Report) -> bytes:
    by_check: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_check.setdefault(f.check_id, []).append(f)
    root = ET.Element("testsuites", {"name": xml_text(f"posture {report.inventory_meta.scan_id}"),
                                     **_counts(report.findings)})
    timestamp = _timestamp(report)
    for check_id, findings in by_check.items():
        attrs = {"name": check_id, **_counts(findings)}
        if timestamp:
            attrs["timestamp"] = timestamp
        suite = _element(root, "testsuite", **attrs)
        _element(_element(suite, "properties"), "property", name="title",
                 value=findings[0].title)
        for f in findings:
            _testcase(suite, f)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


class JunitReporter:
    format = OutputFormat.JUNIT
    filename = "findings.junit.xml"

    def render(self, report: Report) -> bytes:
        return render_junit(report)
