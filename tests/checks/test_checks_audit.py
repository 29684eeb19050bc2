"""aws.audit.*: multi-region CloudTrail coverage and log file validation."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory
from support.cases import named
from support.checks import by_uid, only, run_one

from posture.model import Asset, Status

MULTI = "aws.audit.multi_region_trail_logging"
VALIDATION = "aws.audit.trail_log_validation_enabled"


def trail(name: str = "main", **over: Any) -> Asset:
    uid = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}"
    attrs: dict[str, Any] = {
        "arn": uid, "trail_name": name, "home_region": "us-east-1", "is_multi_region": True,
        "is_organization_trail": False, "log_file_validation": True, "kms_key_id": None,
        "s3_bucket_name": "trail-logs", "is_logging": True, "management_events": "All"
    }
    attrs.update(over)
    return asset("AWS::CloudTrail::Trail", uid, **attrs)


MULTI_CASES = [
    ("good-trail", (trail(),), Status.PASS),
    ("no-trail", (), Status.FAIL),
    ("single-region", (trail(is_multi_region=False),), Status.FAIL),
    ("stopped", (trail(is_logging=False),), Status.FAIL),
    ("write-only", (trail(management_events="WriteOnly"),), Status.FAIL),
    ("no-management-events", (trail(management_events="None"),), Status.FAIL),
    ("one-good-one-bad", (trail("a", is_logging=False), trail("b")), Status.PASS),
    ("halves-do-not-add-up",
     (trail("a", is_multi_region=False), trail("b", management_events="ReadOnly")), Status.FAIL),
    ("logging-unknown", (trail(is_logging=None),), Status.INCONCLUSIVE),
    ("selectors-unknown-but-already-single-region",
     (trail(is_multi_region=False, management_events=None),), Status.FAIL),
]


@pytest.mark.parametrize(("trails", "expected"), named(MULTI_CASES))
def test_multi_region_trail(trails: tuple[Asset, ...], expected: Status) -> None:
    finding = only(run_one(MULTI, inventory(*trails)))
    assert finding.status == expected, finding.message
    assert finding.resource_uid == ACCOUNT


def test_trail_listing_gap_turns_fail_into_inconclusive() -> None:
    gap = collection_error("cloudtrail", "DescribeTrails", ("AWS::CloudTrail::Trail",),
                           region="eu-west-1")
    findings = by_uid(run_one(MULTI, inventory(errors=(gap,))))
    assert findings[ACCOUNT].status == Status.INCONCLUSIVE


def test_trail_status_detail_failure_is_inconclusive() -> None:
    t = trail(is_logging=None)
    gap = collection_error("cloudtrail", "GetTrailStatus", ("AWS::CloudTrail::Trail#status",),
                           resource_uid=t.uid)
    findings = by_uid(run_one(MULTI, inventory(t, errors=(gap,))))
    assert findings[ACCOUNT].status == Status.INCONCLUSIVE


@pytest.mark.parametrize(("enabled", "expected"), [
    (True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE),
])
def test_log_file_validation(enabled: bool | None, expected: Status) -> None:
    assert only(run_one(VALIDATION, inventory(trail(log_file_validation=enabled)))).status == (
        expected)


def test_log_validation_ignores_status_detail_failures() -> None:
    t = trail(is_logging=None)
    gap = collection_error("cloudtrail", "GetTrailStatus", ("AWS::CloudTrail::Trail#status",),
                           resource_uid=t.uid)
    assert only(run_one(VALIDATION, inventory(t, errors=(gap,)))).status == Status.PASS
