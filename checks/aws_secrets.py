"""Secrets: Secrets Manager secrets rotate and are in use; no plaintext secrets in instance user
data, Lambda environments or ECS task definitions.

Plaintext secrets are found by the collector (detect-secrets); the inventory holds only the
detector's verdicts (type, variable or line, keyed fingerprint), so a finding can name the secret
without ever containing it.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import PLAINTEXT_RATIONALE, flag_result, plaintext_secrets

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

SECRET = "AWS::SecretsManager::Secret"
INSTANCE = "AWS::EC2::Instance"
FUNCTION = "AWS::Lambda::Function"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"


@check("aws.secrets.secret_rotation_enabled", Severity.MEDIUM, (Principle.SECRETS,), reads={SECRET})
def secret_rotation_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Secrets Manager secrets have automatic rotation

    A secret that never changes stays valid for as long as any copy of it exists.

    Remediation: Configure a rotation function and schedule for the secret.
    """
    for secret in ctx.inventory.of(SECRET):
        yield flag_result(
            ctx, secret, secret.attr("rotation_enabled"), "rotation setting unknown",
            "automatic rotation is enabled", "automatic rotation is not enabled",
            passed_evidence={"rotation_days": secret.attr("rotation_days")},
        )


@check("aws.secrets.secret_recently_rotated", Severity.MEDIUM, (Principle.SECRETS,), reads={SECRET},
       params={"max_age_days": 90})
def secret_recently_rotated(ctx: CheckContext) -> Iterator[Result]:
    """Secrets Manager secrets were rotated within the rotation period

    Rotation that is configured but failing, or never configured, leaves a secret valid
    indefinitely. A secret never rotated is aged from its creation; ages are measured at the scan's
    finish time.

    Remediation: Rotate the secret now and make sure its rotation schedule runs (check the rotation
    function's logs if rotation is enabled but not happening).
    """
    yield from _aged(ctx, "max_age_days", "last_rotated_date", "rotated",
                     "created, never rotated,", "last rotation")


@check("aws.secrets.secret_recently_accessed", Severity.LOW,
       (Principle.SECRETS, Principle.JUST_IN_TIME), reads={SECRET}, params={"max_unused_days": 90})
def secret_recently_accessed(ctx: CheckContext) -> Iterator[Result]:
    """Secrets Manager secrets are in use

    A secret that has not been retrieved for months is usually a forgotten credential that still
    works. Secrets Manager records the last access date (to the day); a secret never accessed is
    aged from its creation. Ages are measured at the scan's finish time.

    Remediation: Delete secrets nobody reads any more (after checking with their owner), or
    document why a rarely used secret must stay; unused credentials are standing access.
    """
    yield from _aged(ctx, "max_unused_days", "last_accessed_date", "last accessed",
                     "never accessed; created", "last access")


def _aged(
    ctx: CheckContext, limit_param: str, date_attr: str, seen: str, never: str, what: str
) -> Iterator[Result]:
    """Secrets aged from ``date_attr`` (or from their creation when it is empty) against the
    check's ``limit_param`` days, at the scan's finish time."""
    now, limit = scan_time(ctx.inventory), int(ctx.param(limit_param))
    for secret in ctx.inventory.of(SECRET):
        last = parse_time(secret.attr(date_attr))
        since, basis = (last, seen) if last else (parse_time(secret.attr("created_date")), never)
        if since is None:
            yield ctx.unknown(secret, f"{what} and creation dates unknown")
            continue
        age = age_days(since, now)
        evidence = {"age_days": age, limit_param: limit, date_attr: secret.attr(date_attr),
                    "created_date": secret.attr("created_date")}
        if age > limit:
            yield ctx.fail(secret, f"{basis} {age} days ago (limit {limit})", **evidence)
        else:
            yield ctx.passed(secret, f"{basis} {age} days ago (limit {limit})", **evidence)


@check(
    "aws.secrets.instance_user_data_no_plaintext_secrets", Severity.HIGH, (Principle.SECRETS,),
    reads={f"{INSTANCE}#user_data"},
    rationale=PLAINTEXT_RATIONALE + " User data is readable with ec2:DescribeInstanceAttribute "
    "and from inside the instance through the metadata service.",
)
def instance_user_data_no_plaintext_secrets(ctx: CheckContext) -> Iterator[Result]:
    """EC2 instance user data holds no plaintext secrets

    Remediation: Remove the secret from the user data (stop the instance and edit it, or relaunch
    from a clean launch template), rotate the exposed credential, and have the instance fetch
    secrets at boot from Secrets Manager or Parameter Store with its instance role.
    """
    for instance in ctx.inventory.of(INSTANCE):
        if instance.attr("state") == "terminated":
            continue
        yield plaintext_secrets(ctx, instance, "user_data_secrets", "user data")


@check(
    "aws.secrets.lambda_env_no_plaintext_secrets", Severity.HIGH, (Principle.SECRETS,),
    reads={FUNCTION},
    rationale=PLAINTEXT_RATIONALE + " Environment variables are returned in clear text by "
    "lambda:GetFunctionConfiguration and ListFunctions.",
)
def lambda_env_no_plaintext_secrets(ctx: CheckContext) -> Iterator[Result]:
    """Lambda function environment variables hold no plaintext secrets

    Remediation: Move the value to Secrets Manager (or an encrypted Parameter Store parameter),
    read it at run time with the function's role, and rotate the exposed credential.
    """
    for function in ctx.inventory.of(FUNCTION):
        yield plaintext_secrets(ctx, function, "environment_secrets", "environment variables")


@check(
    "aws.secrets.ecs_task_definition_no_plaintext_secrets", Severity.HIGH, (Principle.SECRETS,),
    reads={TASK_DEFINITION},
    rationale=PLAINTEXT_RATIONALE + " Every revision of a task definition stays readable with "
    "ecs:DescribeTaskDefinition; only ACTIVE revisions are audited.",
)
def ecs_task_definition_no_plaintext_secrets(ctx: CheckContext) -> Iterator[Result]:
    """ECS task definitions pass no plaintext secrets in container environments

    Remediation: Pass the value through the container definition's `secrets` (valueFrom a Secrets
    Manager secret or a Parameter Store parameter), register a new revision, deregister the old
    ones and rotate the exposed credential.
    """
    for task in ctx.inventory.of(TASK_DEFINITION):
        yield plaintext_secrets(ctx, task, "environment_secrets", "container environment")
