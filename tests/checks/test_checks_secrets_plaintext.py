"""aws.secrets.*: plaintext secrets in user data, Lambda and ECS environments; unused secrets.

The inventories are hand-built: they hold only the detector's verdicts (as the collector stores
them), which is the contract these checks read.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, aws_arn, collection_error, inventory
from support.checks import only, run_one

from posture.model import Asset, Status

INSTANCE = aws_arn("ec2", "instance/i-1")
FUNCTION = aws_arn("lambda", "function:api")
TASK = aws_arn("ecs", "task-definition/web:3")
SECRET = aws_arn("secretsmanager", "secret:db-AbCdEf")
HIT = {"type": "Secret Keyword", "key": None, "line": 2, "fingerprint": "a54d082c"}


def verdicts(hit: dict[str, Any]) -> Any:
    """The three cases of a plaintext check: no secret found, ``hit`` found, text not read."""
    return pytest.mark.parametrize(
        ("hits", "expected"),
        [
            ([], Status.PASS),
            ([hit], Status.FAIL),
            (None, Status.INCONCLUSIVE),
        ],
    )


def assert_verdict(check_id: str, subject: Asset, expected: Status, named: str) -> None:
    """``check_id`` judges ``subject`` as ``expected``, a FAIL naming the secret as ``named``."""
    finding = only(run_one(check_id, inventory(subject)))
    assert finding.status == expected
    if expected == Status.FAIL:
        assert named in finding.message


@verdicts(HIT)
def test_instance_user_data(hits: Any, expected: Status) -> None:
    inst = asset(
        "AWS::EC2::Instance",
        INSTANCE,
        instance_id="i-1",
        state="running",
        user_data_present=hits is not None,
        user_data_secrets=hits,
    )
    assert_verdict("aws.secrets.instance_user_data_no_plaintext_secrets", inst, expected,
                   "Secret Keyword (line 2, fingerprint a54d082c)")


def test_terminated_instances_are_skipped_and_denied_reads_are_inconclusive() -> None:
    gone = asset("AWS::EC2::Instance", INSTANCE, state="terminated", user_data_secrets=None)
    assert run_one("aws.secrets.instance_user_data_no_plaintext_secrets", inventory(gone)) == []
    inst = asset("AWS::EC2::Instance", INSTANCE, state="running", user_data_secrets=None)
    gap = collection_error(
        "ec2", "DescribeInstanceAttribute", ("AWS::EC2::Instance#user_data",), resource_uid=INSTANCE
    )
    finding = only(
        run_one(
            "aws.secrets.instance_user_data_no_plaintext_secrets", inventory(inst, errors=(gap,))
        )
    )
    assert finding.status == Status.INCONCLUSIVE


@verdicts({**HIT, "key": "DB_PASSWORD", "line": None})
def test_lambda_environment(hits: Any, expected: Status) -> None:
    fn = asset("AWS::Lambda::Function", FUNCTION, function_name="api", environment_secrets=hits)
    assert_verdict("aws.secrets.lambda_env_no_plaintext_secrets", fn, expected,
                   "variable DB_PASSWORD")


def test_lambda_listing_gap_is_inconclusive() -> None:
    fn = asset("AWS::Lambda::Function", FUNCTION, environment_secrets=[])
    gap = collection_error("lambda", "ListFunctions", ("AWS::Lambda::Function",))
    findings = run_one("aws.secrets.lambda_env_no_plaintext_secrets", inventory(fn, errors=(gap,)))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}


@verdicts({**HIT, "key": "API_KEY", "line": None, "container": "web"})
def test_ecs_task_definition(hits: Any, expected: Status) -> None:
    task = asset("AWS::ECS::TaskDefinition", TASK, family="web", environment_secrets=hits)
    assert_verdict("aws.secrets.ecs_task_definition_no_plaintext_secrets", task, expected,
                   "container web, variable API_KEY")


@pytest.mark.parametrize(
    ("accessed", "created", "expected"),
    [
        ("2025-12-20T00:00:00+00:00", "2024-01-01T00:00:00+00:00", Status.PASS),
        ("2025-06-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00", Status.FAIL),
        (None, "2025-12-30T00:00:00+00:00", Status.PASS),  # new, never used yet
        (None, "2024-01-01T00:00:00+00:00", Status.FAIL),  # never used since creation
        (None, None, Status.INCONCLUSIVE),
    ],
    ids=["recent", "stale", "new-unused", "old-unused", "unknown"],
)
def test_secret_recently_accessed(
    accessed: str | None, created: str | None, expected: Status
) -> None:
    secret = asset(
        "AWS::SecretsManager::Secret", SECRET, last_accessed_date=accessed, created_date=created
    )
    finding = only(run_one("aws.secrets.secret_recently_accessed", inventory(secret)))
    assert finding.status == expected


def test_secret_recently_accessed_limit_is_a_parameter() -> None:
    secret = asset(
        "AWS::SecretsManager::Secret",
        SECRET,
        last_accessed_date="2025-11-01T00:00:00+00:00",
        created_date=None,
    )
    inv = inventory(secret)
    assert only(run_one("aws.secrets.secret_recently_accessed", inv)).status == Status.PASS
    strict = run_one("aws.secrets.secret_recently_accessed", inv, max_unused_days=30)
    assert only(strict).status == Status.FAIL
