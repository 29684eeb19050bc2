"""Storage account keys on Azure (azure.iam.storage_shared_key_access_disabled,
azure.iam.storage_account_keys_rotated): pass, fail and trap inventories, graded severities,
unknowns. Ages are measured from the test scans' finish time, 2026-01-01."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import RG, az, error, inventory
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

SA = "Microsoft.Storage/storageAccounts"
SHARED = "azure.iam.storage_shared_key_access_disabled"
ROTATED = "azure.iam.storage_account_keys_rotated"

OLD = "2025-01-01T00:00:00+00:00"  # 365 days before the scan
FRESH = "2025-12-01T00:00:00+00:00"  # 31 days
EXACTLY_90 = "2025-10-03T00:00:01+00:00"  # 90 days (to the second) before the scan


def account(
    name: str,
    shared: bool | None = True,
    key1: str | None = OLD,
    key2: str | None = OLD,
    policy: int | None = None,
    created: str | None = "2024-06-01T00:00:00+00:00",
    **over: Any,
) -> Any:
    attrs: dict[str, Any] = {
        "allow_shared_key_access": shared,
        "key_creation_time": {"key1": key1, "key2": key2},
        "key_expiration_days": policy,
        "creation_time": created,
    }
    attrs.update(over)
    return az(SA, f"{RG}/providers/microsoft.storage/storageaccounts/{name}", **attrs)


def test_shared_key_access() -> None:
    found = {f.resource_name: f for f in run_one(SHARED, inventory(
        account("off", shared=False),
        account("on", shared=True),
        account("unset", shared=None),
    ))}
    assert {n: f.status for n, f in found.items()} == {
        "off": Status.PASS, "on": Status.FAIL, "unset": Status.FAIL}
    assert found["unset"].message == "Shared Key authorisation is not set (accepted by default)"
    assert {f.severity for f in found.values()} == {Severity.MEDIUM}


@pytest.mark.parametrize(("subject", "status", "severity", "message"), [
    # trap: ancient keys on an account that accepts no Shared Key authorise nothing
    (account("off", shared=False, key1=None, key2=None, created=None), Status.PASS,
     Severity.HIGH, "Shared Key authorisation is disabled: the account keys authorise nothing"),
    (account("stale"), Status.FAIL, Severity.HIGH,
     "Shared Key is on and key1 (365 days), key2 (365 days) are older than 90 days, with no "
     "key expiration policy"),
    # null = Shared Key accepted; the reminder policy is there but the keys were never rotated
    (account("reminded", shared=None, policy=90), Status.FAIL, Severity.MEDIUM,
     "Shared Key is on and key1 (365 days), key2 (365 days) are older than 90 days, past a "
     "90-day key expiration policy"),
    (account("lax", key1=FRESH, key2="2025-06-15T00:00:00+00:00", policy=365), Status.FAIL,
     Severity.MEDIUM, "Shared Key is on and key2 (200 days) is older than 90 days, under a "
     "365-day key expiration policy"),
    # trap: one rotated key is not enough, the other still opens the account
    (account("half", key1=FRESH, policy=90), Status.FAIL, Severity.MEDIUM,
     "Shared Key is on and key2 (365 days) is older than 90 days, past a 90-day key "
     "expiration policy"),
    (account("fresh", key1=FRESH, key2=EXACTLY_90, policy=90), Status.PASS, Severity.HIGH,
     "account keys are at most 90 days old, key expiration policy 90 days"),
    (account("unreminded", key1=FRESH, key2=FRESH), Status.FAIL, Severity.LOW,
     "account keys are at most 90 days old but no key expiration policy prompts their rotation"),
    # no recorded creation time: never regenerated, as old as the account
    (account("never", key1=None, key2=None), Status.FAIL, Severity.HIGH,
     "Shared Key is on and key1 (579 days), key2 (579 days) are older than 90 days, with no key "
     "expiration policy"),
    (account("new", key1=None, key2=FRESH, policy=30, created="2025-12-20T00:00:00+00:00"),
     Status.PASS, Severity.HIGH, "account keys are at most 90 days old, key expiration policy 30 "
     "days"),
    (account("undated", key1=None, key2=FRESH, policy=90, created=None), Status.INCONCLUSIVE,
     Severity.HIGH, "creation time of an account key unknown"),
    (account("old-snapshot", key_creation_time=None), Status.INCONCLUSIVE, Severity.HIGH,
     "account key creation times unknown"),
])
def test_account_keys_rotated(
    subject: Any, status: Status, severity: Severity, message: str
) -> None:
    found = only(run_one(ROTATED, inventory(subject)))
    assert (found.status, found.severity, found.message) == (status, severity, message)


def test_account_keys_evidence_and_period() -> None:
    never = only(run_one(ROTATED, inventory(account("never", key1=None))))
    assert never.evidence["keys"] == {
        "key1": {"age_days": 579,
                 "measured_from": "account creation time (key never regenerated)"},
        "key2": {"age_days": 365, "measured_from": "key creation time"},
    }
    # a longer rotation period: year-old keys are within it, only the missing policy remains
    found = only(run_one(ROTATED, inventory(account("stale")), max_age_days=400))
    assert (found.status, found.severity) == (Status.FAIL, Severity.LOW)


def test_storage_listing_denied_is_inconclusive() -> None:
    gap = error("storage", "StorageAccounts_List", (SA,))
    for check_id in (SHARED, ROTATED):
        found = by_uid(run_one(check_id, inventory(errors=(gap,))))
        assert {f.status for f in found.values()} == {Status.INCONCLUSIVE}, check_id
