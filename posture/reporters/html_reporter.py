"""``report.html``: one self-contained page for people (engineers, auditors).

Safety, since resource names, tags and messages come from the audited cloud and are
attacker-controlled:

* jinja2 renders with autoescape on; nothing from a finding is marked safe.
* The findings the filter script needs are embedded once, in a
  ``<script type="application/json">`` block whose JSON has ``<``, ``>`` and ``&`` (and the
  JavaScript line separators) as ``\\uXXXX`` escapes, so no value can close the block.
* The script only shows, hides and reorders server-rendered rows; it never uses innerHTML.
* A Content-Security-Policy allows exactly the page's own inline style and script (by
  SHA-256 hash) and no network access at all: no fonts, images, scripts or fetches load.

The same report renders to the same bytes (no clock, no randomness).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from posture import __version__
from posture.history.diff import fingerprint
from posture.model import CollectionError, Finding, Status
from posture.reporters.base import OutputFormat, Report, error_document, scan_document, utf8
from posture.reporters.code_reporter import code_section
from posture.reporters.controls_reporter import (
    checks_by_control,
    shown_findings,
    shown_frameworks,
)
from posture.reporters.html_depth import depth_table
from posture.reporters.html_evidence import evidence_view
from posture.reporters.html_paths import PRINT_PER_ROW, diagrams, one_sentence
from posture.reporters.html_topology import topology_section
from posture.reporters.html_trend import trend_chart
from posture.reporters.identity_reporter import identity_section
from posture.results import (
    PRINCIPLES,
    SEVERITIES,
    STATUSES,
    affected_checks,
    control_verdict,
    qualified_controls,
    summarize,
)

TEMPLATE = "report.html.j2"
_STATUS_RANK = {
    Status.FAIL: 0, Status.ERROR: 1, Status.INCONCLUSIVE: 2, Status.EXCEPTED: 3, Status.PASS: 4,
}
_FRAMEWORK_HEADINGS = {"SOC2": "SOC 2 controls"}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("posture.reporters", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    return resources.files("posture.reporters").joinpath("templates", name).read_text("utf-8")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (and parses to ``value``).

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026`` so neither
    ``</script>`` nor ``<!--`` can occur; output is ASCII (lone surrogates stay escapes).
    """
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _display_order(findings: tuple[Finding, ...]) -> list[int]:
    """FAIL first, then ERROR, INCONCLUSIVE, PASS; most severe first; then the given order."""
    return sorted(
        range(len(findings)),
        key=lambda i: (_STATUS_RANK[findings[i].status], -findings[i].severity, i),
    )


def _row(i: int, f: Finding, new: frozenset[str], names: dict[str, str]) -> dict[str, Any]:
    def rename(text: str) -> str:
        return named(text, names)

    paths = diagrams(f.evidence, rename)
    opened = bool(paths) and f.status in (Status.FAIL, Status.EXCEPTED)
    message = one_sentence(f.message) if paths else f.message
    shown_name = named(f.resource_name, names)
    region, zone = region_of(f.region)
    return {
        "new": fingerprint(f.check_id, f.resource_uid) in new,
        "paths": paths,
        # the path drawn open, full width, under the row: a failing exposure or attack path
        "open_paths": opened,
        # the same paths laid out narrower, for a portrait page (shown only when printed)
        "print_paths": diagrams(f.evidence, rename, PRINT_PER_ROW) if opened else [],
        "i": i,
        "check_id": f.check_id,
        # the id's words, each with the ``.`` or ``_`` after it: the line breaks only there
        "check_parts": re.findall(r"[^._]+[._]?|[._]", f.check_id),
        "title": f.title,
        "status": f.status.value,
        "severity": f.severity.label,
        "resource_uid": f.resource_uid,
        "resource_type": f.resource_type,
        "resource_name": shown_name,
        "resource_name_id": f.resource_name if shown_name != f.resource_name else "",
        "account": f.account,
        "region": region,
        "zone": zone,
        "message": message,
        "full_message": f.message if message != f.message else "",
        "remediation": f.remediation,
        "principles": [p.value for p in f.principles],
        "controls": qualified_controls(f.controls),
        "evidence": evidence_view(f.evidence),
    }


_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-[a-z]$")


def display_names(report: Report) -> dict[str, str]:
    """Entra object id -> display name, from the snapshot's identities (Azure): the names the
    findings table shows for the object ids a finding names."""
    if report.identity is None or report.inventory_meta.provider != "azure":
        return {}
    names = {}
    for ident in report.identity.identities:
        object_id = _GUID.findall(ident.id)
        if object_id and ident.name and object_id[-1] not in ident.name:
            names[object_id[-1].lower()] = ident.name
    return names


def named(text: str, names: dict[str, str]) -> str:
    """``text`` with each object id whose display name is known replaced by that name."""
    if not names:
        return text
    return _GUID.sub(lambda m: names.get(m.group(0).lower(), m.group(0)), text)


def region_of(where: str) -> tuple[str, str]:
    """(region, zone) of a finding's location: a GCP zone (``us-central1-a``) is in its region
    (``us-central1``), so the region column and filter list regions only."""
    zone = _GCP_ZONE.match(where)
    return (zone.group(1), where) if zone else (where, "")


def _record(i: int, pos: int, f: Finding, new: frozenset[str]) -> dict[str, Any]:
    """What the filter script knows of a finding (plain strings and numbers)."""
    controls = qualified_controls(f.controls)
    is_new = fingerprint(f.check_id, f.resource_uid) in new
    return {
        "controls": list(controls),
        "control_key": controls[0] if controls else "\uffff",
        "new": is_new,
        "new_rank": 0 if is_new else 1,
        "i": i,
        "pos": pos,
        "status": f.status.value,
        "status_rank": _STATUS_RANK[f.status],
        "severity": f.severity.label,
        "severity_rank": int(f.severity),
        "principles": [p.value for p in f.principles],
        "check_id": f.check_id,
        "title": f.title,
        "resource_name": f.resource_name,
        "resource_uid": f.resource_uid,
        "resource_type": f.resource_type,
        "account": f.account,
        "region": region_of(f.region)[0],
        "message": f.message,
    }


def _frameworks(report: Report, summary: dict[str, Any]) -> list[dict[str, Any]]:
    names = {fw.id: fw.name for fw in report.frameworks}
    behind = checks_by_control(report)
    sections = []
    by_control = summary["by_control"]
    # SOC 2 first: it is what the auditor reading this page asks about
    for fw_id in sorted(by_control, key=lambda k: k != "SOC2"):
        controls = by_control[fw_id]
        sections.append(
            {
                "id": fw_id,
                "name": names.get(fw_id, ""),
                "heading": _FRAMEWORK_HEADINGS.get(fw_id, f"{fw_id} controls"),
                "controls": [
                    {
                        "id": control,
                        "title": entry["title"],
                        "counts": entry["counts"],
                        "verdict": control_verdict(entry["counts"]),
                        "checks": behind.get((fw_id, control), ()),
                    }
                    for control, entry in controls.items()
                ],
            }
        )
    return sections


def _places(regions: tuple[str, ...]) -> dict[str, list[str]]:
    """The scan's regions and, apart, its zones (GCP): the manifest does not mix them."""
    split = [region_of(r) for r in regions]
    return {"regions": sorted({r for r, _ in split}), "zones": sorted({z for _, z in split if z})}


def _errors(errors: tuple[CollectionError, ...], findings: tuple[Finding, ...]) -> list[Any]:
    return [
        {**error_document(e), "checks": affected_checks(e, findings)} for e in errors
    ]


def _accounts(report: Report) -> list[dict[str, Any]] | None:
    """The per-account table of an organisation run: who, where, how completely read, and its
    FAIL findings by severity (``None`` for a single-account report)."""
    if report.organization is None:
        return None
    fails: dict[str, dict[str, int]] = {
        a.id: {sev: 0 for sev in SEVERITIES} for a in report.organization.accounts
    }
    for f in report.findings:
        if f.status == Status.FAIL and f.account in fails:
            fails[f.account][f.severity.label] += 1
    return [{**a.document(), "fails": fails[a.id], "total": sum(fails[a.id].values())}
            for a in report.organization.accounts]


def context(report: Report) -> dict[str, Any]:
    findings = shown_findings(report)  # controls of the shown frameworks only
    summary = summarize(findings, shown_frameworks(report))
    order = _display_order(findings)
    css = _asset("report.css")
    js = _asset("report.js")
    csp = (
        "default-src 'none'; "
        f"style-src {_hash(css)}; script-src {_hash(js)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    new = report.history.new if report.history else frozenset()
    names = display_names(report)
    data = {"findings": [_record(i, pos, findings[i], new) for pos, i in enumerate(order)]}
    present = {p.value for f in findings for p in f.principles}
    controls = sorted({c for f in findings for c in qualified_controls(f.controls)},
                      key=_natural_control)
    return {
        "catalogue_version": report.catalogue_version,
        "exceptions": report.exceptions.document() if report.exceptions else None,
        "history": report.history.document() if report.history else None,
        "filter_options": {
            "control": controls,
            "account": sorted({f.account for f in findings}),
            "region": sorted({region_of(f.region)[0] for f in findings}),
            "type": sorted({f.resource_type for f in findings}),
        },
        "csp": Markup(csp),  # ours: fixed text and base64 hashes
        "css": Markup(css),
        "js": Markup(js),
        "data": Markup(script_json(data)),
        "generator_version": __version__,
        "scan": scan_document(report),
        "summary": summary,
        "frameworks": _frameworks(report, summary),
        "errors": _errors(report.collection_errors, findings),
        "depth": depth_table(findings),
        "places": _places(report.inventory_meta.regions),
        "topology": topology_section(report.topology, findings),
        "trend": trend_chart(report.trend),
        "identity": identity_section(report.identity),
        "code": code_section(report.repositories, findings),
        "rows": [_row(i, findings[i], new, names) for i in order],
        "passing": sum(f.status == Status.PASS for f in findings),
        "statuses": STATUSES,
        "severities": SEVERITIES,
        "principles": [p for p in PRINCIPLES if p in present] or list(PRINCIPLES),
        "organization": _accounts(report),
        "account_labels": {a.id: f"{a.id} {a.name}" for a in report.organization.accounts}
        if report.organization else {},
    }


def _natural_control(qualified: str) -> tuple[Any, ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", qualified))


def render_html(report: Report) -> str:
    return _environment().get_template(TEMPLATE).render(context(report))


class HtmlReporter:
    format = OutputFormat.HTML
    filename = "report.html"

    def render(self, report: Report) -> bytes:
        return utf8(render_html(report))

