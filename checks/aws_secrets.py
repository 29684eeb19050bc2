"""Secrets: Secrets Manager secrets rotate, and have rotated recently."""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._aws import age_days, parse_time, scan_time

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check

SECRET = "AWS::SecretsManager::Secret"


@check(
    id="aws.secrets.secret_rotation_enabled",
    title="Secrets Manager secrets have automatic rotation",
    severity=Severity.MEDIUM,
    principles=(Principle.SECRETS,),
    reads={SECRET},
    remediation="Configure a rotation function and schedule for the secret.",
    rationale="A secret that never changes stays valid for as long as any copy of it exists.",
)
def secret_rotation_enabled(ctx: CheckContext) -> Iterator[Result]:
    for secret in ctx.inventory.of(SECRET):
        enabled = secret.attr("rotation_enabled")
        if enabled is None:
            yield ctx.unknown(secret, "rotation setting unknown")
        elif enabled:
            yield ctx.passed(secret, "automatic rotation is enabled",
                             rotation_days=secret.attr("rotation_days"))
        else:
            yield ctx.fail(secret, "automatic rotation is not enabled")


@check(
    id="aws.secrets.secret_recently_rotated",
    title="Secrets Manager secrets were rotated within the rotation period",
    severity=Severity.MEDIUM,
    principles=(Principle.SECRETS,),
    reads={SECRET},
    remediation=(
        "Rotate the secret now and make sure its rotation schedule runs (check the rotation "
        "function's logs if rotation is enabled but not happening)."
    ),
    rationale=(
        "Rotation that is configured but failing, or never configured, leaves a secret valid "
        "indefinitely. A secret never rotated is aged from its creation; ages are measured at "
        "the scan's finish time."
    ),
    params={"max_age_days": 90},
)
def secret_recently_rotated(ctx: CheckContext) -> Iterator[Result]:
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_age_days"))
    for secret in ctx.inventory.of(SECRET):
        rotated = parse_time(secret.attr("last_rotated_date"))
        since, basis = (rotated, "rotated") if rotated else (
            parse_time(secret.attr("created_date")), "created, never rotated,")
        if since is None:
            yield ctx.unknown(secret, "last rotation and creation dates unknown")
            continue
        age = age_days(since, now)
        evidence = {"age_days": age, "max_age_days": limit,
                    "last_rotated_date": secret.attr("last_rotated_date"),
                    "created_date": secret.attr("created_date")}
        if age > limit:
            yield ctx.fail(secret, f"{basis} {age} days ago (limit {limit})", **evidence)
        else:
            yield ctx.passed(secret, f"{basis} {age} days ago (limit {limit})", **evidence)
