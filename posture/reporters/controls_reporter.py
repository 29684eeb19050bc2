"""``controls.csv``: one row per framework control, for an auditor's control matrix.

Columns are :data:`HEADER`: the framework and control ids, the control's title, its verdict
(:func:`posture.results.control_verdict`), the number of findings per status that map to it,
and the ids of the checks that produce its evidence (``;``-joined; the framework's mapping for
the scanned provider plus any check whose findings name the control). Every control of the
report's frameworks is listed, passing and unevidenced ones too. Same CSV dialect as
``findings.csv`` (RFC 4180, UTF-8 BOM, formula injection defused).

The frameworks listed are the report's (by default the provider-neutral ones and the CIS
benchmarks of the scanned cloud, :func:`posture.registry.select_frameworks`), or those chosen
with ``--framework`` (:func:`shown_frameworks`); a finding's mappings to other frameworks are
left out here and in ``report.html`` (:func:`shown_findings`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from posture.model import Finding, Status
from posture.registry import Framework
from posture.reporters.base import OutputFormat, Report
from posture.reporters.csv_reporter import defuse, write_csv
from posture.results import control_verdict, summarize

HEADER: tuple[str, ...] = (
    "framework",
    "control",
    "title",
    "verdict",
    "pass",
    "fail",
    "inconclusive",
    "error",
    "excepted",
    "checks",
)


def checks_by_control(report: Report) -> dict[tuple[str, str], tuple[str, ...]]:
    """(framework, control) → the check ids behind it, sorted."""
    found: dict[tuple[str, str], set[str]] = {}
    provider = report.inventory_meta.provider.value + "."
    for fw in shown_frameworks(report):
        for control, ids in fw.checks_by_control.items():
            mine = {i for i in ids if i.startswith(provider)}
            found.setdefault((fw.id, control), set()).update(mine)
    for f in report.findings:
        for fw_id, controls in f.controls.items():
            for control in controls:
                found.setdefault((fw_id, control), set()).add(f.check_id)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def shown_frameworks(report: Report) -> tuple[Framework, ...]:
    """The frameworks report.html and controls.csv show: the report's, cut to those chosen
    with ``--framework`` (``Report.shown_frameworks``) when any were."""
    chosen = set(report.shown_frameworks)
    return tuple(f for f in report.frameworks if not chosen or f.id in chosen)


def shown_findings(report: Report) -> tuple[Finding, ...]:
    """The findings with their control mappings cut to the shown frameworks (every mapping is
    kept when the report names no framework)."""
    shown = {fw.id for fw in shown_frameworks(report)}
    if not shown:
        return report.findings
    return tuple(
        f if shown.issuperset(f.controls)
        else replace(f, controls={k: v for k, v in f.controls.items() if k in shown})
        for f in report.findings
    )


def control_rows(report: Report) -> list[dict[str, Any]]:
    summary = summarize(shown_findings(report), shown_frameworks(report))
    behind = checks_by_control(report)
    rows = []
    for fw_id, controls in summary["by_control"].items():
        for control, entry in controls.items():
            counts = entry["counts"]
            rows.append(
                {
                    "framework": fw_id,
                    "control": control,
                    "title": entry["title"],
                    "verdict": control_verdict(counts),
                    **{s.value.lower(): counts[s.value] for s in Status},
                    "checks": behind.get((fw_id, control), ()),
                }
            )
    return rows


class ControlsReporter:
    format = OutputFormat.CONTROLS
    filename = "controls.csv"

    def render(self, report: Report) -> bytes:
        body = [
            [defuse(str(row[col])) if col != "checks" else ";".join(row[col]) for col in HEADER]
            for row in control_rows(report)
        ]
        return write_csv(HEADER, body)
