"""Which frameworks report.html and controls.csv show: by default the provider-neutral ones and
the CIS benchmarks of the scanned cloud (an AWS report lists no Azure or GCP control); with
``--framework`` (``Report.shown_frameworks``) only the chosen ones, the finding rows included.
findings.json keeps every framework of the report, so it does not depend on ``--framework``."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from support.reports import finding, report

from posture.model import Provider
from posture.registry import find_framework, load_frameworks, select_frameworks
from posture.reporters import OutputFormat, Report, reporter_for
from posture.reporters.controls_reporter import shown_findings, shown_frameworks

MAPPED = {
    "SOC2": ("CC6.6",),
    "CIS-AWS-3.0": ("5.2",),
    "CIS-AWS-7.0": ("6.3",),
    "ISO27001-2022": ("A.8.20",),
    "NIST-800-53-R5": ("AC-17", "SC-7"),
    "PCI-DSS-4.0": ("1.3.1", "1.4.2"),
}


def _aws_report(*shown: str) -> Report:
    frameworks = select_frameworks(load_frameworks(), (Provider.AWS,))
    base = replace(report(finding(1, controls=dict(MAPPED))), frameworks=frameworks)
    return replace(base, shown_frameworks=shown)


def _controls(rep: Report) -> list[list[str]]:
    data = reporter_for(OutputFormat.CONTROLS).render(rep).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data, newline="")))[1:]


def _html(rep: Report) -> str:
    return reporter_for(OutputFormat.HTML).render(rep).decode("utf-8")


def test_an_aws_report_lists_no_azure_or_gcp_control() -> None:
    rows = _controls(_aws_report())
    assert {r[0] for r in rows} == set(MAPPED)
    assert not [r for r in rows if r[0].startswith(("CIS-AZURE", "CIS-GCP"))]
    # every control of the shown frameworks is listed, with the verdict of the finding
    iso = {r[1]: r[3] for r in rows if r[0] == "ISO27001-2022"}
    assert iso["A.8.20"] == "FAIL" and set(iso.values()) == {"FAIL", "NO EVIDENCE"}
    assert len(iso) == len(find_framework(load_frameworks(), "ISO27001-2022").controls)
    html = _html(_aws_report())
    assert 'id="framework-CIS-AWS-7.0"' in html and "CIS-AZURE" not in html


def test_chosen_frameworks_alone_appear_in_controls_csv_and_report_html() -> None:
    rep = _aws_report("SOC2", "PCI-DSS-4.0")
    assert [f.id for f in shown_frameworks(rep)] == ["PCI-DSS-4.0", "SOC2"]
    assert {r[0] for r in _controls(rep)} == {"PCI-DSS-4.0", "SOC2"}
    html = _html(rep)
    sections = [s.split('"')[0] for s in html.split('id="framework-')[1:]]
    assert sections == ["SOC2", "PCI-DSS-4.0"]  # SOC 2 first
    # the finding's own mappings are cut to the chosen frameworks too (row and filter list)
    for other in ("ISO27001-2022", "NIST-800-53-R5", "CIS-AWS-3.0", "CIS-AWS-7.0"):
        assert other not in html, other
    assert "PCI-DSS-4.0:1.3.1" in html
    assert shown_findings(rep)[0].controls == {"SOC2": ("CC6.6",),
                                               "PCI-DSS-4.0": ("1.3.1", "1.4.2")}


def test_findings_json_does_not_depend_on_the_chosen_frameworks() -> None:
    plain = reporter_for(OutputFormat.JSON).render(_aws_report())
    chosen = reporter_for(OutputFormat.JSON).render(_aws_report("SOC2"))
    assert plain == chosen
    by_control = json.loads(plain)["summary"]["by_control"]
    assert by_control["ISO27001-2022"]["A.8.20"]["title"] == "Networks security"
    assert "CIS-AZURE-6.0" not in by_control


def test_a_report_without_frameworks_shows_every_mapping() -> None:
    rep = report(finding(1, controls=dict(MAPPED)))
    rep = replace(rep, frameworks=())
    assert shown_findings(rep) == rep.findings
    assert {r[0] for r in _controls(rep)} == set(MAPPED)
