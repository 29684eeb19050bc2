"""Storage account keys on Azure: Shared Key authorisation off, and where it is on, the two
account keys regenerated within the rotation period under a key expiration policy.

Two checks, not one: turning Shared Key off and rotating the keys are different remedies with
different owners, and an account that must keep Shared Key for a legacy client (an accepted risk
of the first check) must still have its keys rotated; one check would hide stale keys behind
that exception. Where Shared Key is off the keys cannot authorise anything, so their age passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
KEYS = ("key1", "key2")


@check("azure.iam.storage_shared_key_access_disabled", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads={STORAGE_ACCOUNT})
def storage_shared_key_access_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Storage accounts do not accept Shared Key (account key) authorisation

    An account key is a standing bearer secret with full access to every blob, file, queue and
    table, and it signs account and service SAS tokens: it bypasses Entra ID (no conditional
    access, no data-plane RBAC), requests made with it name no identity in the logs, and every
    holder of listKeys (Contributor included) can read it. With Shared Key off only Entra ID
    authorises requests. MEDIUM: a hardening control on its own; keys that are also stale are
    reported up to HIGH by azure.iam.storage_account_keys_rotated. An account that never set the
    property (null) accepts Shared Key.

    Remediation: Move the account's clients to Microsoft Entra ID (data-plane RBAC roles, managed
    identities, user delegation SAS), confirm in the account's metrics that no Shared Key requests
    remain, then set allowSharedKeyAccess to false (`az storage account update -n <account> -g
    <group> --allow-shared-key-access false`).
    """
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        value = account.attr("allow_shared_key_access")
        if value is False:
            yield ctx.passed(account, "Shared Key authorisation is disabled")
        else:
            state = "not set (accepted by default)" if value is None else "allowed"
            yield ctx.fail(account, f"Shared Key authorisation is {state}",
                           allow_shared_key_access=value,
                           key_expiration_days=account.attr("key_expiration_days"))


def _key_ages(account: Asset, now: dt.datetime) -> dict[str, dict[str, object]] | None:
    """Per key: its age in days and what it is measured from (the key's creation time, or the
    account's when Azure recorded none: the key was never regenerated since), ``age`` None when
    neither is known; ``None`` when the key creation times were not collected at all."""
    created = account.attr("key_creation_time")
    if not isinstance(created, dict):
        return None
    since_account = parse_time(account.attr("creation_time"))
    ages: dict[str, dict[str, object]] = {}
    for key in KEYS:
        stamp = parse_time(created.get(key))
        basis = "key creation time"
        if stamp is None and since_account is not None:
            stamp, basis = since_account, "account creation time (key never regenerated)"
        ages[key] = {"age_days": None if stamp is None else age_days(stamp, now),
                     "measured_from": basis if stamp is not None else None}
    return ages


@check("azure.iam.storage_account_keys_rotated", Severity.HIGH,
       (Principle.JUST_IN_TIME, Principle.SECRETS), reads={STORAGE_ACCOUNT},
       params={"max_age_days": 90})
def storage_account_keys_rotated(ctx: CheckContext) -> Iterator[Result]:
    """Storage account keys are rotated under a key expiration policy where Shared Key is on

    An account key that is never regenerated stays valid for everyone who ever copied it (old
    laptops, pipelines, leaked connection strings), with full data access. Graded by impact: Shared
    Key on, a key older than `max_age_days` and no key expiration policy (nothing will ever prompt
    a rotation) is HIGH; a stale key despite an expiration policy is MEDIUM (the policy only
    reminds, it does not rotate or revoke); fresh keys without an expiration policy are LOW (CIS
    key rotation reminders). A key Azure recorded no creation time for was never regenerated since
    it began recording, and is as old as the account. Shared Key off passes: the keys authorise
    nothing. Ages are measured at the scan's finish time.

    Remediation: Regenerate both account keys after moving their users to the other key (`az
    storage account keys renew --key key1|key2`), keep keys in Key Vault, and set a key expiration
    policy (`az storage account update --key-exp-days 90`); better, disable Shared Key and use
    Microsoft Entra ID.
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_age_days"))
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        if account.attr("allow_shared_key_access") is False:
            yield ctx.passed(account, "Shared Key authorisation is disabled: the account keys "
                             "authorise nothing")
            continue
        ages = _key_ages(account, now)
        if ages is None:
            yield ctx.unknown(account, "account key creation times unknown")
            continue
        policy = account.attr("key_expiration_days")
        stale = {k: a["age_days"] for k, a in ages.items()
                 if isinstance(a["age_days"], int) and a["age_days"] > limit}
        evidence = {"keys": ages, "key_expiration_days": policy, "max_age_days": limit,
                    "allow_shared_key_access": account.attr("allow_shared_key_access")}
        if stale:
            old = ", ".join(f"{k} ({d} days)" for k, d in stale.items())
            old += f" {'is' if len(stale) == 1 else 'are'} older than {limit} days"
            if policy is None:
                yield ctx.fail(account, f"Shared Key is on and {old}, with no key expiration "
                               "policy", **evidence)
            else:
                past = "past" if max(stale.values()) > policy else "under"
                yield ctx.fail_at(Severity.MEDIUM, account, f"Shared Key is on and {old}, "
                                  f"{past} a {policy}-day key expiration policy", **evidence)
        elif any(a["age_days"] is None for a in ages.values()):
            yield ctx.unknown(account, "creation time of an account key unknown", **evidence)
        elif policy is None:
            yield ctx.fail_at(Severity.LOW, account, f"account keys are at most {limit} days old "
                              "but no key expiration policy prompts their rotation", **evidence)
        else:
            yield ctx.passed(account, f"account keys are at most {limit} days old, key "
                             f"expiration policy {policy} days", **evidence)
