"""Identity: credential hygiene — password policy strength, unused access keys, inactive users
that still hold credentials. Ages are measured at the scan's finish time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

USER = "AWS::IAM::User"
PASSWORD_POLICY = "AWS::IAM::PasswordPolicy"


@check(
    "aws.iam.password_policy_strong", Severity.MEDIUM, (Principle.MFA, Principle.LEAST_PRIVILEGE),
    reads={PASSWORD_POLICY},
    params={"min_length": 14, "reuse_prevention": 24},
)
def password_policy_strong(ctx: CheckContext) -> Iterator[Result]:
    """The account password policy requires long, non-reused passwords

    Short or recycled passwords fall to guessing and credential stuffing; CIS requires a minimum
    length of 14 and remembering the last 24 passwords.

    Remediation: Set an account password policy with a minimum length of 14 and reuse prevention of
    24 (`aws iam update-account-password-policy`).
    """
    min_length, reuse = int(ctx.param("min_length")), int(ctx.param("reuse_prevention"))
    for policy in ctx.inventory.of(PASSWORD_POLICY):
        present = policy.attr("present")
        if present is None:
            yield ctx.unknown(policy, "password policy unknown")
            continue
        if not present:
            yield ctx.fail(policy, "the account has no password policy (AWS defaults apply)")
            continue
        weak = []
        if (policy.attr("minimum_password_length") or 0) < min_length:
            weak.append(f"minimum length {policy.attr('minimum_password_length')} < {min_length}")
        if (policy.attr("password_reuse_prevention") or 0) < reuse:
            weak.append(f"reuse prevention {policy.attr('password_reuse_prevention')} < {reuse}")
        facts = {
            k: policy.attr(k) for k in ("minimum_password_length", "password_reuse_prevention")
        }
        if weak:
            yield ctx.fail(policy, "weak password policy: " + "; ".join(weak), **facts)
        else:
            yield ctx.passed(policy, "password policy meets length and reuse requirements", **facts)


def _last_use(key: dict[str, Any]) -> dt.datetime | None:
    return parse_time(key.get("last_used_date"))


@check("aws.iam.access_keys_in_use", Severity.MEDIUM, (Principle.JUST_IN_TIME,),
       reads={f"{USER}#access_keys"}, params={"max_unused_days": 90, "grace_days": 7})
def access_keys_in_use(ctx: CheckContext) -> Iterator[Result]:
    """Active IAM access keys have been used recently

    An active key that was never used, or not for months, is a standing credential nobody needs and
    nobody watches. A key younger than the grace period may not be deployed yet.

    Remediation: Deactivate and delete access keys that are not used.
    """
    now = scan_time(ctx.inventory)
    limit, grace = int(ctx.param("max_unused_days")), int(ctx.param("grace_days"))
    for user in ctx.inventory.of(USER):
        keys = user.attr("access_keys")
        if keys is None:
            yield ctx.unknown(user, "access keys unknown")
            continue
        idle = []
        for key in (k for k in keys if k.get("status") == "Active"):
            used, created = _last_use(key), parse_time(key.get("create_date"))
            if used is None and created is not None and age_days(created, now) > grace:
                idle.append(
                    {
                        "access_key_id": key.get("access_key_id"),
                        "last_used_date": None,
                        "age_days": age_days(created, now),
                    }
                )
            elif used is not None and age_days(used, now) > limit:
                idle.append(
                    {
                        "access_key_id": key.get("access_key_id"),
                        "last_used_date": key.get("last_used_date"),
                        "unused_days": age_days(used, now),
                    }
                )
        if idle:
            yield ctx.fail(
                user,
                f"{len(idle)} active access key(s) never used or unused for more than {limit} days",
                idle_keys=idle,
                max_unused_days=limit,
            )
        else:
            yield ctx.passed(user, "active access keys are in use")


def _last_activity(user: Asset) -> dt.datetime | None:
    stamps = [parse_time(user.attr("password_last_used"))]
    stamps += [_last_use(k) for k in user.attr("access_keys") or ()]
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


@check("aws.iam.inactive_users_have_no_credentials", Severity.MEDIUM, (Principle.JUST_IN_TIME,),
       reads={f"{USER}#access_keys", f"{USER}#login_profile"}, params={"max_inactive_days": 90})
def inactive_users_have_no_credentials(ctx: CheckContext) -> Iterator[Result]:
    """IAM users inactive for the period hold no password or active access key

    A dormant user's credentials are a door nobody watches: leavers, test users and forgotten
    integrations. A user created within the period is not yet inactive.

    Remediation: Remove the console password and deactivate the access keys of users who no longer
    sign in; delete the users that are gone.
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_inactive_days"))
    for user in ctx.inventory.of(USER):
        console, keys = user.attr("has_console_password"), user.attr("access_keys")
        if console is None or keys is None:
            yield ctx.unknown(user, "console password or access keys unknown")
            continue
        active = [k.get("access_key_id") for k in keys if k.get("status") == "Active"]
        if not console and not active:
            yield ctx.passed(user, "user holds no password or active access key")
            continue
        last = _last_activity(user) or parse_time(user.attr("create_date"))
        if last is None:
            yield ctx.unknown(user, "last activity unknown")
        elif age_days(last, now) > limit:
            yield ctx.fail(
                user,
                f"no activity for {age_days(last, now)} days but holds credentials",
                console_password=console,
                active_access_keys=active,
                last_activity=last.isoformat(),
            )
        else:
            yield ctx.passed(user, f"active within {limit} days", last_activity=last.isoformat())
