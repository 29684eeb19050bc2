"""aws.secrets.*: rotation configured, and rotated within the period (at scan time)."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory
from support.checks import only, run_one

from posture.model import Asset, Status

ROTATION = "aws.secrets.secret_rotation_enabled"
RECENT = "aws.secrets.secret_recently_rotated"
UID = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-AbCdEf"


def secret(**over: Any) -> Asset:
    attrs: dict[str, Any] = {
        "arn": UID, "secret_name": "db", "kms_key_id": None, "rotation_enabled": True,
        "rotation_days": 30, "last_rotated_date": "2025-12-15T00:00:00+00:00",
        "last_changed_date": "2025-12-15T00:00:00+00:00", "last_accessed_date": None,
        "created_date": "2024-01-01T00:00:00+00:00", "resource_policy": None
    }
    attrs.update(over)
    return asset("AWS::SecretsManager::Secret", UID, **attrs)


@pytest.mark.parametrize(("enabled", "expected"), [
    (True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE),
])
def test_secret_rotation_enabled(enabled: bool | None, expected: Status) -> None:
    assert only(run_one(ROTATION, inventory(secret(rotation_enabled=enabled)))).status == expected


def test_secret_listing_gap_is_inconclusive() -> None:
    gap = collection_error("secretsmanager", "ListSecrets", ("AWS::SecretsManager::Secret",))
    statuses = {f.status for f in run_one(ROTATION, inventory(secret(), errors=(gap,)))}
    assert statuses == {Status.INCONCLUSIVE}


# scan finished 2026-01-01T00:00:01Z
@pytest.mark.parametrize(("over", "params", "expected"), [
    ({}, {}, Status.PASS),
    ({"last_rotated_date": "2025-06-01T00:00:00Z"}, {}, Status.FAIL),
    ({"last_rotated_date": None, "created_date": "2025-12-01T00:00:00Z"}, {}, Status.PASS),
    ({"last_rotated_date": None, "created_date": "2024-01-01T00:00:00Z"}, {}, Status.FAIL),
    ({"rotation_enabled": True, "last_rotated_date": "2025-01-01T00:00:00Z"}, {}, Status.FAIL),
    ({}, {"max_age_days": 7}, Status.FAIL),
    ({"last_rotated_date": None, "created_date": None}, {}, Status.INCONCLUSIVE),
], ids=["recent", "stale", "new-never-rotated", "old-never-rotated",
        "rotation-enabled-but-failing", "custom-limit", "dates-unknown"])
def test_secret_recently_rotated(over: dict[str, Any], params: dict[str, Any],
                                 expected: Status) -> None:
    finding = only(run_one(RECENT, inventory(secret(**over)), **params))
    assert finding.status == expected, finding.message


def test_secret_age_is_measured_at_scan_time() -> None:
    finding = only(run_one(RECENT, inventory(secret())))
    assert finding.evidence["age_days"] == 17
