"""``findings.json``: the machine-readable report.

Shape (keys sorted, indent 2, trailing newline; the same findings give the same bytes)::

    {"schema": "posture.findings", "schema_version": 1,
     "scan": {...manifest, snapshot_sha256...},
     "summary": {total, checks, resources, by_status, by_severity, by_principle, by_control},
     "collection_errors": [{provider, account, region, service, operation, code, message,
                            asset_types, resource_uid}, ...],
     "findings": [Finding.to_dict(), ...],          # in the order given (the engine's order)
     "exceptions": {file, sha256, evaluated_on, entries: [{check, resource, reason, owner,
                    expires, line, state: active|unused|expired, matched}]},  # --exceptions
     "history": {record, previous_record, previous_scan_id, new, resolved, still_open},
                                                    # a recorded scan (--store)
     "organization": {id, management_account_id,
                      accounts: [{id, name, ou, status, reason}, ...]}}
                                                    # an organisation run, whose findings
                                                    # also carry account_name and ou
"""

from __future__ import annotations

import json
from typing import Any

from posture.reporters.base import (
    OutputFormat,
    Report,
    account_columns,
    error_document,
    scan_document,
)
from posture.results import summarize
from posture.snapshot import jsonable

SCHEMA = "posture.findings"
SCHEMA_VERSION = 1


def document(report: Report) -> dict[str, Any]:
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "scan": scan_document(report),
        "summary": summarize(report.findings, report.frameworks),
        "collection_errors": [error_document(e) for e in report.collection_errors],
        "findings": [
            jsonable({**f.to_dict(), **account_columns(report, f.account)})
            for f in report.findings
        ],
    }
    # present only when asked for (--exceptions, --store), so a plain run's document is stable
    if report.exceptions is not None:
        doc["exceptions"] = report.exceptions.document()
    if report.history is not None:
        doc["history"] = report.history.document()
    if report.organization is not None:
        doc["organization"] = report.organization.document()
    return doc


class JsonReporter:
    format = OutputFormat.JSON
    filename = "findings.json"

    def render(self, report: Report) -> bytes:
        text = json.dumps(document(report), sort_keys=True, indent=2, ensure_ascii=False)
        # a lone surrogate (from a decoded API payload) becomes its JSON escape, \udXXX,
        # so the file is valid UTF-8 and reads back to the same string
        return (text + "\n").encode("utf-8", errors="backslashreplace")
