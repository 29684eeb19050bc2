"""``findings.ocsf.json``: the findings as OCSF events, for Security Lake, SIEMs and Security Hub.

One JSON array, as Prowler's ``json-ocsf`` writes (keys sorted, indent 2, trailing newline), one
event per finding, in the engine's order; ``jq -c '.[]'`` turns it into JSON Lines (one event a
line, for a log shipper). Every event is an OCSF **Compliance Finding**
(class 2003, category 2 Findings) of OCSF :data:`OCSF_VERSION` with the ``cloud`` profile: a
posture finding is the result of evaluating one resource against a check mapped to framework
controls (SOC 2, CIS), which is what that class describes ("results of evaluations performed
against resources, to check compliance with ... Industry Frameworks or Security Standards");
Detection Finding (2004), which Prowler emits, is for alerts of detection engines, where a PASS
has no meaning. 1.6 is the OCSF version AWS Security Hub reads. PASS is Resolved as in Security
Hub's ASFF, which sets a PASSED control finding's workflow to RESOLVED.

Mapping (posture → OCSF):

=================  ========================================================================
status             ``compliance.status_id``: PASS 1 Pass · FAIL and EXCEPTED 3 Fail ·
                   INCONCLUSIVE 2 Warning (no result: missing information) · ERROR 0 Unknown;
                   ``status_id`` (the finding's workflow): PASS 4 Resolved · EXCEPTED
                   3 Suppressed (an accepted risk) · FAIL, INCONCLUSIVE, ERROR 1 New;
                   ``status_code`` and ``compliance.status_code``: the posture status
severity           ``severity_id``: info 1 Informational · low 2 · medium 3 · high 4 ·
                   critical 5 (the check's severity, whatever the status)
resource           ``resources[0]``: ``uid``, ``name``, ``type`` (the provider's type name),
                   ``region``, role Affected; ``cloud``: ``provider`` (AWS, Azure, GCP,
                   GitHub), ``region``, ``account`` (uid, type; name and ``org`` in an
                   organisation run), ``project_uid`` on GCP
check              ``finding_info``: ``uid`` (:func:`finding_uid`), ``title``, ``types`` (the
                   principles), ``analytic`` (the check id, a rule); ``compliance``:
                   ``control`` (the check id), ``standards`` (framework ids),
                   ``requirements`` (``FRAMEWORK:CONTROL``); ``remediation.desc``;
                   ``metadata.event_code`` (the check id)
message            ``message`` and ``status_detail``
evidence           ``unmapped.evidence`` (already scrubbed of secret values), with
                   ``unmapped.principles`` and ``unmapped.snapshot_sha256``
time               ``time``: the snapshot's collection time (``finished_at``, else
                   ``started_at``) in epoch milliseconds, never the wall clock, so the same
                   snapshot gives the same bytes; ``metadata.correlation_uid``: the scan id
=================  ========================================================================
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from posture.errors import ReportError
from posture.model import Finding, Provider, Severity, Status
from posture.reporters.base import OutputFormat, Report, collected_at
from posture.snapshot import jsonable

OCSF_VERSION = "1.6.0"
PROFILES = ("cloud",)
CLASS_UID = 2003  # Compliance Finding
CATEGORY_UID = 2  # Findings
ACTIVITY_ID = 1  # Create: each scan states the finding as it is now

# posture status → ((compliance.status_id, compliance.status), (status_id, status)): whether
# the resource complies, and where the finding stands in a workflow
STATUS: dict[Status, tuple[tuple[int, str], tuple[int, str]]] = {
    Status.PASS: ((1, "Pass"), (4, "Resolved")),
    Status.FAIL: ((3, "Fail"), (1, "New")),
    Status.EXCEPTED: ((3, "Fail"), (3, "Suppressed")),  # an accepted risk
    Status.INCONCLUSIVE: ((2, "Warning"), (1, "New")),  # no result: missing information
    Status.ERROR: ((0, "Unknown"), (1, "New")),
}
SEVERITY: dict[Severity, tuple[int, str]] = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
# provider → (cloud.provider, account.type_id, account.type)
CLOUD: dict[Provider, tuple[str, int, str]] = {
    Provider.AWS: ("AWS", 10, "AWS Account"),
    Provider.AZURE: ("Azure", 13, "Azure Subscription"),
    Provider.GCP: ("GCP", 11, "GCP Project"),
    Provider.GITHUB: ("GitHub", 99, "GitHub Organization"),
}


def finding_uid(check_id: str, resource_uid: str, account: str, repeat: int = 0) -> str:
    """The stable id of a finding across scans: a hash of check id, resource uid and account
    (``repeat`` > 0 only for a second finding of the same check on the same resource)."""
    key: list[Any] = [check_id, resource_uid, account]
    if repeat:
        key.append(repeat)
    digest = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8", "replace"))
    return f"posture-{digest.hexdigest()}"


def collection_time(report: Report) -> dt.datetime:
    """When the snapshot was collected (:func:`~posture.reporters.base.collected_at`); an
    event's ``time`` is required, so a snapshot without one is a :class:`ReportError`."""
    stamp = collected_at(report)
    if stamp is None:
        meta = report.inventory_meta
        raise ReportError(f"cannot write OCSF events: scan {meta.scan_id} has no valid "
                          f"collection time (finished_at {meta.finished_at!r})")
    return stamp


def _epoch_ms(stamp: dt.datetime) -> int:
    return (stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)


def _cloud(f: Finding, report: Report) -> dict[str, Any]:
    provider, type_id, type_name = CLOUD[f.provider]
    account: dict[str, Any] = {"uid": f.account, "type_id": type_id, "type": type_name}
    cloud: dict[str, Any] = {"provider": provider, "region": f.region, "account": account}
    if f.provider is Provider.GCP:
        cloud["project_uid"] = f.account
    org = report.organization
    view = org.account(f.account) if org is not None else None
    if org is not None:
        cloud["org"] = {"uid": org.id, **({"ou_name": view.ou} if view and view.ou else {})}
    if view is not None and view.name:
        account["name"] = view.name
    return cloud


def _compliance(f: Finding) -> dict[str, Any]:
    status_id, status = STATUS[f.status][0]
    doc: dict[str, Any] = {"control": f.check_id, "status_id": status_id, "status": status,
                           "status_code": f.status.value}
    frameworks = sorted(f.controls)
    if frameworks:
        doc["standards"] = frameworks
        doc["requirements"] = [f"{fw}:{c}" for fw in frameworks for c in f.controls[fw]]
    return doc


def _resource(f: Finding) -> dict[str, Any]:
    resource = {"uid": f.resource_uid, "type": f.resource_type, "region": f.region,
                "role_id": 3, "role": "Affected"}
    if f.resource_name:
        resource["name"] = f.resource_name
    return resource


def event(f: Finding, report: Report, uid: str, when: dt.datetime) -> dict[str, Any]:
    """The OCSF Compliance Finding of one finding, observed at ``when``."""
    severity_id, severity = SEVERITY[f.severity]
    status_id, status = STATUS[f.status][1]
    meta = report.inventory_meta
    offset = when.utcoffset() or dt.timedelta(0)
    doc: dict[str, Any] = {
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": ACTIVITY_ID,
        "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_ID,
        "type_name": "Compliance Finding: Create",
        "time": _epoch_ms(when),
        "timezone_offset": int(offset.total_seconds() // 60),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "status_code": f.status.value,
        "status_detail": f.message,
        "message": f.message,
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": list(PROFILES),
            "product": {"name": "posture", "vendor_name": "posture", "uid": "posture",
                        "version": meta.tool_version},
            "event_code": f.check_id,
            "correlation_uid": meta.scan_id,
        },
        "finding_info": {
            "uid": uid,
            "title": f.title,
            "types": [p.value for p in f.principles],
            "analytic": {"uid": f.check_id, "name": f.check_id, "type_id": 1, "type": "Rule"},
        },
        "compliance": _compliance(f),
        "cloud": _cloud(f, report),
        "resources": [_resource(f)],
        "unmapped": {"evidence": jsonable(f.evidence),
                     "principles": [p.value for p in f.principles]},
    }
    if f.remediation:
        doc["remediation"] = {"desc": f.remediation}
    if report.snapshot_sha256:
        doc["unmapped"]["snapshot_sha256"] = report.snapshot_sha256
    return doc


def events(report: Report) -> list[dict[str, Any]]:
    """One event per finding, in the report's order."""
    if not report.findings:
        return []
    when = collection_time(report)
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for f in report.findings:
        key = (f.check_id, f.resource_uid, f.account)
        out.append(event(f, report, finding_uid(*key, repeat=seen[key]), when))
        seen[key] += 1
    return out


def dumps(items: Iterable[dict[str, Any]]) -> bytes:
    text = json.dumps(list(items), sort_keys=True, indent=2, ensure_ascii=False)
    # a lone surrogate becomes its JSON escape, as in findings.json
    return (text + "\n").encode("utf-8", errors="backslashreplace")


class OcsfReporter:
    format = OutputFormat.OCSF
    filename = "findings.ocsf.json"

    def render(self, report: Report) -> bytes:
        return dumps(events(report))
