"""Auditability: a multi-region CloudTrail records every management event, logs are validated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check

TRAIL = "AWS::CloudTrail::Trail"


def _shortfalls(trail: Asset) -> tuple[list[str], list[str]]:
    """What keeps a trail from covering the account: (known shortfalls, unknown facts)."""
    missing, unknown = [], []
    wanted: tuple[tuple[str, Any, str], ...] = (
        ("is_multi_region", True, "not multi-region"),
        ("is_logging", True, "not logging"),
        ("management_events", "All", "does not record all (read and write) management events"),
    )
    for attr, value, text in wanted:
        actual = trail.attr(attr)
        if actual is None:
            unknown.append(attr)
        elif actual != value:
            missing.append(text)
    return missing, unknown


@check(
    id="aws.audit.multi_region_trail_logging",
    title="A multi-region CloudTrail trail is logging all management events",
    severity=Severity.HIGH,
    principles=(Principle.AUDITABLE,),
    reads={TRAIL, f"{TRAIL}#status", f"{TRAIL}#selectors"},
    remediation=(
        "Create (or fix) a multi-region trail with logging on and management events set to "
        "read and write (an organization trail covers every member account)."
    ),
    rationale=(
        "Without an all-region trail recording reads and writes, API activity in unused regions "
        "and reconnaissance calls leave no record for investigation."
    ),
)
def multi_region_trail_logging(ctx: CheckContext) -> Iterator[Result]:
    trails = ctx.inventory.of(TRAIL)
    for acct in ctx.inventory.meta.accounts:
        subject = ctx.account(acct)
        mine = [t for t in trails if t.account == acct]
        verdicts = {t.uid: _shortfalls(t) for t in mine}
        good = sorted(uid for uid, verdict in verdicts.items() if verdict == ([], []))
        if good:
            yield ctx.passed(subject, "multi-region trail logs all management events",
                             trails=good)
            continue
        evidence = {uid: {"shortfalls": m, "unknown": u} for uid, (m, u) in verdicts.items()}
        gaps = [e.describe() for e in ctx.inventory.errors_affecting(ctx.spec.reads)
                if e.account in (acct, "*")]
        if any(u and not m for m, u in verdicts.values()) or gaps:
            yield ctx.unknown(subject, "no trail is known to cover all regions and management "
                              "events; some trail data was not collected",
                              trails=evidence, collection_errors=gaps)
        elif mine:
            yield ctx.fail(subject, "no trail is multi-region, logging and recording all "
                           "management events", trails=evidence)
        else:
            yield ctx.fail(subject, "no CloudTrail trail exists")


@check(
    id="aws.audit.trail_log_validation_enabled",
    title="CloudTrail log file validation is enabled",
    severity=Severity.MEDIUM,
    principles=(Principle.AUDITABLE,),
    reads={f"{TRAIL}#listing"},
    remediation="Enable log file validation on the trail (`--enable-log-file-validation`).",
    rationale="Digest files prove that delivered log files were not modified or deleted.",
)
def trail_log_validation_enabled(ctx: CheckContext) -> Iterator[Result]:
    for trail in ctx.inventory.of(TRAIL):
        enabled = trail.attr("log_file_validation")
        if enabled is None:
            yield ctx.unknown(trail, "log file validation setting unknown")
        elif enabled:
            yield ctx.passed(trail, "log file validation is enabled")
        else:
            yield ctx.fail(trail, "log file validation is disabled",
                           s3_bucket_name=trail.attr("s3_bucket_name"))
