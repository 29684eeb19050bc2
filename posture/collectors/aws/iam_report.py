"""The IAM credential report and the root user (global; attrs as in ``docs/aws-assets.md``).

``GenerateCredentialReport`` is asked until the report is ``COMPLETE`` (a bounded wait), then
``GetCredentialReport`` returns a CSV with one row per IAM user and one for ``<root_account>``:
password and access-key use, MFA. The report holds no secret and none is kept: the rows are
parsed into typed fields. ``ListVirtualMFADevices`` tells a virtual MFA device on root (its user
is the root ARN) from a hardware one; only the serial number and the user ARN are read from it
(the listing can carry a device's seed, which is never stored).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

from posture.collectors.aws.base import Payload, RegionScope
from posture.model import GLOBAL, Asset

REPORT = "AWS::IAM::CredentialReport"
ROOT = "AWS::IAM::RootUser"
ROOT_ROW = "<root_account>"
WAITS = (0.5, 1, 2, 3, 5, 5, 5, 5)  # seconds between GenerateCredentialReport polls (~27 s)

PERMISSIONS: tuple[str, ...] = (
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListVirtualMFADevices",
)

_NONE = {"", "N/A", "no_information", "not_supported"}


def collect(scope: RegionScope, sleep: Callable[[float], None] = time.sleep) -> list[Asset]:
    content = fetch_report(scope, sleep)
    devices = scope.paginate("iam", "ListVirtualMFADevices", "VirtualMFADevices",
                             (f"{ROOT}#mfa_type",), AssignmentStatus="Assigned")
    rows = None if content is None else parse_report(content)
    return [normalize_report(scope, rows), normalize_root(scope, rows, devices)]


def fetch_report(scope: RegionScope, sleep: Callable[[float], None]) -> str | None:
    """The report's CSV text, or ``None`` (failure recorded; a report that never completed is
    recorded as ``ReportNotComplete``)."""
    types = (REPORT, f"{ROOT}#report")
    for wait in (*WAITS, None):
        state = scope.call("iam", "GenerateCredentialReport", types)
        if state is None:
            return None
        if state.get("State") == "COMPLETE":
            break
        if wait is None:
            scope.record("iam", "GenerateCredentialReport", "ReportNotComplete",
                         f"credential report still {state.get('State')} after {sum(WAITS)} s",
                         types)
            return None
        sleep(wait)
    got = scope.call("iam", "GetCredentialReport", types)
    if got is None:
        return None
    content = got.get("Content") or b""
    return content.decode("utf-8") if isinstance(content, bytes) else str(content)


def _flag(value: str | None) -> bool | None:
    if value is None or value in _NONE:
        return None
    return value.strip().lower() == "true"


def _stamp(value: str | None) -> str | None:
    return None if value is None or value in _NONE else value


def parse_report(content: str) -> list[dict[str, Any]]:
    """The report's rows as typed fields (booleans, ISO timestamps or ``None``)."""
    out = []
    for row in csv.DictReader(io.StringIO(content)):
        keys = []
        for n in (1, 2):
            keys.append({
                "active": _flag(row.get(f"access_key_{n}_active")),
                "last_rotated": _stamp(row.get(f"access_key_{n}_last_rotated")),
                "last_used_date": _stamp(row.get(f"access_key_{n}_last_used_date")),
                "last_used_service": _stamp(row.get(f"access_key_{n}_last_used_service")),
            })
        out.append({
            "user": row.get("user"),
            "arn": row.get("arn"),
            "user_creation_time": _stamp(row.get("user_creation_time")),
            # root's password_enabled is "not_supported": root always has a password
            "password_enabled": _flag(row.get("password_enabled")),
            "password_last_used": _stamp(row.get("password_last_used")),
            "mfa_active": _flag(row.get("mfa_active")),
            "access_keys": keys,
        })
    return out


def normalize_report(scope: RegionScope, rows: list[dict[str, Any]] | None) -> Asset:
    uid = scope.arn("iam", "credential-report", region=GLOBAL)
    users = None if rows is None else [r for r in rows if r["user"] != ROOT_ROW]
    return scope.asset(uid, REPORT, "credential report", {"users": users},
                       raw={"rows": rows}, region=GLOBAL)


def root_mfa_type(row: dict[str, Any] | None, root_arn: str,
                  devices: list[Payload] | None) -> str | None:
    """``"none"``, ``"virtual"`` (a virtual device is assigned to root), ``"hardware"``
    (MFA active and no virtual device on root), or ``None`` when unknown."""
    if row is None or row.get("mfa_active") is None:
        return None
    if not row["mfa_active"]:
        return "none"
    if devices is None:
        return None
    on_root = [d for d in devices if str((d.get("User") or {}).get("Arn", "")) == root_arn]
    return "virtual" if on_root else "hardware"


def normalize_root(scope: RegionScope, rows: list[dict[str, Any]] | None,
                   devices: list[Payload] | None) -> Asset:
    uid = f"arn:{scope.partition}:iam::{scope.account}:root"
    row = None if rows is None else next((r for r in rows if r["user"] == ROOT_ROW), None)
    keys = None if row is None else row["access_keys"]
    virtual = None if devices is None else sorted(
        str(d.get("SerialNumber")) for d in devices
        if str((d.get("User") or {}).get("Arn", "")) == uid)
    attrs = {
        "arn": uid,
        "in_report": None if rows is None else row is not None,
        "password_last_used": None if row is None else row["password_last_used"],
        "mfa_active": None if row is None else row["mfa_active"],
        "mfa_type": root_mfa_type(row, uid, devices),
        "virtual_mfa_serials": virtual,
        "access_keys": keys,
    }
    raw = {"report_row": row, "virtual_mfa_serials": virtual}
    return scope.asset(uid, ROOT, "root", attrs, raw=raw, region=GLOBAL)
