"""Identity, just in time: administrator sessions are short and administrator access is not
standing (IAM Identity Center permission sets and their assignments, IAM roles)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.checks._shared import identity
from posture.checks.aws_identity import PERMISSION_SET, ROLE, admin_state

from posture.engine import CheckContext, Result
from posture.iam.aws import IDENTITY_READS
from posture.iam.human_access import Path, role_human_access
from posture.model import Asset, Principle, Severity
from posture.registry import check

PS_READS = {f"{PERMISSION_SET}#policies", f"{PERMISSION_SET}#boundary"}


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g} h"


@check("aws.identity.admin_session_duration_limited", Severity.MEDIUM, (Principle.JUST_IN_TIME,),
       reads=IDENTITY_READS | PS_READS | {PERMISSION_SET},
       params={"admin_max_hours": 1, "max_hours": 12})
def admin_session_duration_limited(ctx: CheckContext) -> Iterator[Result]:
    """Administrator sessions are short-lived

    A session outlives the reason it was opened: a 12-hour administrator session left in a
    browser or a terminal is standing admin for the rest of the day. Admin-equivalent permission
    sets (their session duration) and admin-equivalent roles people can assume (their maximum
    session duration) may last at most `admin_max_hours`; every permission set and human-assumable
    role at most `max_hours`. Roles only services or workloads assume are not judged.

    Remediation: Lower the permission set's session duration (`aws sso-admin
    update-permission-set --session-duration PT1H`) or the role's maximum session duration
    (`aws iam update-role --max-session-duration 3600`).
    """
    graph = identity(ctx)
    admin_max = int(ctx.param("admin_max_hours")) * 3600
    any_max = int(ctx.param("max_hours")) * 3600
    subjects: list[tuple[Asset, Any, str]] = [
        (ps, ps.attr("session_seconds"), "session duration")
        for ps in ctx.inventory.of(PERMISSION_SET)
    ]
    for role in ctx.inventory.of(ROLE):
        access = role_human_access(role.attr("trust_policy"), graph.principal(role.uid))
        if not role.attr("service_linked") and access.path != Path.NONE:
            subjects.append((role, role.attr("max_session_duration"), "maximum session duration"))
    for asset, seconds, what in subjects:
        state, evidence = admin_state(graph, asset)
        if seconds is None:
            yield ctx.unknown(asset, f"{what} unknown", **evidence)
            continue
        limit = admin_max if state == "admin" else any_max
        facts = {**evidence, "session_seconds": seconds, "limit_seconds": limit}
        kind = {"admin": "admin-equivalent ", "maybe": "possibly admin-equivalent "}[state] \
            if state != "no" else ""
        if int(seconds) > limit:
            yield ctx.fail(asset, f"{kind}{what} {_hours(int(seconds))} exceeds "
                           f"{_hours(limit)}", **facts)
        elif state == "maybe" and int(seconds) > admin_max:
            yield ctx.unknown(asset, f"{kind}{what} {_hours(int(seconds))} would exceed "
                              f"{_hours(admin_max)} if it is administrator", **facts)
        else:
            yield ctx.passed(asset, f"{kind}{what} {_hours(int(seconds))} within "
                             f"{_hours(limit)}", **facts)


def _who(rows: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{r.get('principal_type', '').lower()} {r.get('principal_name') or r.get('principal_id')}"
        f" in {r.get('account_id')}" for r in rows)


@check("aws.identity.no_standing_admin_assignments", Severity.HIGH,
       (Principle.JUST_IN_TIME, Principle.LEAST_PRIVILEGE),
       reads=IDENTITY_READS | PS_READS | {f"{PERMISSION_SET}#assignments"})
def no_standing_admin_assignments(ctx: CheckContext) -> Iterator[Result]:
    """Nobody holds a standing assignment of an administrator permission set

    An account assignment in IAM Identity Center has no end: the users and group members it names
    can open an administrator session at any time, for months. Administrator access should be
    granted just in time (a temporary assignment made by an approval workflow and removed after
    use) and otherwise held by nobody. Admin-equivalence is the IAM evaluator's verdict on the
    set's managed, customer-managed and inline policies under its permissions boundary; the
    finding names the users and groups by display name.

    Remediation: Remove the permanent assignments of the administrator permission set and grant it
    through a just-in-time workflow (e.g. AWS's TEAM solution or the identity provider's
    privileged access management) for a bounded time.
    """
    graph = identity(ctx)
    for ps in ctx.inventory.of(PERMISSION_SET):
        state, evidence = admin_state(graph, ps)
        rows = ps.attr("assignments")
        if state == "no":
            yield ctx.passed(ps, "permission set is not admin-equivalent", **evidence)
            continue
        if rows is None:
            yield ctx.unknown(ps, "assignments unknown", **evidence)
            continue
        facts = {**evidence, "assignments": rows}
        if not rows:
            yield ctx.passed(ps, "admin permission set is assigned to nobody", **facts)
        elif state == "maybe":
            yield ctx.unknown(ps, f"possibly admin-equivalent permission set assigned "
                              f"permanently to {_who(rows)}", **facts)
        else:
            yield ctx.fail(ps, f"standing admin: admin-equivalent permission set {ps.name} "
                           f"assigned permanently to {_who(rows)}", **facts)
