"""aws.encryption.* (snapshots, clusters, EFS, DynamoDB, Secrets Manager keys, S3 SSE level),
aws.kms.* and aws.data.*: pass / fail / inconclusive on hand-built inventories (the attrs as the
collectors store them; moto-backed collection is tested in test_collect_dataprotect.py)."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, aws_arn, collection_error, inventory
from support.checks import by_uid, only, run_one

from posture.model import Status

R = "us-east-1"
KEY_ARN = aws_arn("kms", "key/k-1")
AWS_KEY_ARN = aws_arn("kms", "key/k-aws")
SNAP = aws_arn("ec2", "snapshot/snap-1")
DB_SNAP = aws_arn("rds", "snapshot:manual-1")
CLUSTER = aws_arn("rds", "cluster:ledger")
FS = aws_arn("elasticfilesystem", "file-system/fs-1")
TABLE = aws_arn("dynamodb", "table/orders")
SECRET = aws_arn("secretsmanager", "secret:db-AbCdEf")
BUCKET = "arn:aws:s3:::data"
VOLUME = aws_arn("ec2", "volume/vol-1")


def key(uid: str = KEY_ARN, **over: Any) -> Any:
    attrs: dict[str, Any] = {
        "arn": uid,
        "key_id": uid.rsplit("/", 1)[-1],
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "policy": None,
        "aliases": ["alias/orders"],
        "deletion_date": None,
    }
    attrs.update(over)
    return asset("AWS::KMS::Key", uid, **attrs)


AWS_KEY = key(AWS_KEY_ARN, key_manager="AWS", aliases=["alias/aws/dynamodb"])
TRISTATE = [(True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE)]


@pytest.mark.parametrize(("encrypted", "expected"), TRISTATE)
def test_ebs_snapshot_encrypted(encrypted: bool | None, expected: Status) -> None:
    snap = asset("AWS::EC2::Snapshot", SNAP, encrypted=encrypted, volume_id="vol-1")
    assert only(run_one("aws.encryption.ebs_snapshot_encrypted", inventory(snap))).status == (
        expected
    )


def test_snapshot_permission_failure_does_not_touch_encryption() -> None:
    snap = asset("AWS::EC2::Snapshot", SNAP, encrypted=True, public=None)
    gap = collection_error(
        "ec2", "DescribeSnapshotAttribute", ("AWS::EC2::Snapshot#permissions",), resource_uid=SNAP
    )
    inv = inventory(snap, errors=(gap,))
    assert only(run_one("aws.encryption.ebs_snapshot_encrypted", inv)).status == Status.PASS
    assert only(run_one("aws.data.ebs_snapshot_not_public", inv)).status == Status.INCONCLUSIVE


@pytest.mark.parametrize(("encrypted", "expected"), TRISTATE)
def test_rds_cluster_and_snapshots_encrypted(encrypted: bool | None, expected: Status) -> None:
    cluster = asset(
        "AWS::RDS::DBCluster", CLUSTER, storage_encrypted=encrypted, engine="aurora-mysql"
    )
    assert (
        only(run_one("aws.encryption.rds_cluster_storage_encrypted", inventory(cluster))).status
        == expected
    )
    snaps = (
        asset("AWS::RDS::DBSnapshot", DB_SNAP, encrypted=encrypted),
        asset("AWS::RDS::DBClusterSnapshot", CLUSTER + "-snap", encrypted=encrypted),
    )
    found = run_one("aws.encryption.rds_snapshot_encrypted", inventory(*snaps))
    assert [f.status for f in found] == [expected, expected]


@pytest.mark.parametrize(("encrypted", "expected"), TRISTATE)
def test_efs_encrypted(encrypted: bool | None, expected: Status) -> None:
    fs = asset("AWS::EFS::FileSystem", FS, encrypted=encrypted)
    assert only(run_one("aws.encryption.efs_encrypted", inventory(fs))).status == expected


@pytest.mark.parametrize(
    ("sse_type", "ref", "minimum", "expected"),
    [
        ("KMS", KEY_ARN, "customer-managed", Status.PASS),
        ("KMS", AWS_KEY_ARN, "customer-managed", Status.FAIL),
        ("KMS", AWS_KEY_ARN, "aws-managed", Status.PASS),
        ("AWS_OWNED", None, "aws-managed", Status.FAIL),
        ("KMS", f"arn:aws:kms:{R}:999999999999:key/other", "customer-managed", Status.INCONCLUSIVE),
        (None, None, "customer-managed", Status.INCONCLUSIVE),
    ],
    ids=["cmk", "aws-managed", "aws-managed-allowed", "aws-owned", "foreign-key", "unknown"],
)
def test_dynamodb_table_kms_key(
    sse_type: str | None, ref: str | None, minimum: str, expected: Status
) -> None:
    table = asset("AWS::DynamoDB::Table", TABLE, sse_type=sse_type, kms_key_arn=ref)
    found = run_one(
        "aws.encryption.dynamodb_table_kms_key",
        inventory(table, key(), AWS_KEY),
        minimum_key=minimum,
    )
    assert only(found).status == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("alias/orders", Status.PASS),
        (KEY_ARN, Status.PASS),
        (None, Status.FAIL),
        ("alias/aws/secretsmanager", Status.FAIL),
        ("alias/missing", Status.INCONCLUSIVE),
    ],
)
def test_secretsmanager_secret_cmk(ref: str | None, expected: Status) -> None:
    secret = asset("AWS::SecretsManager::Secret", SECRET, kms_key_id=ref)
    found = run_one("aws.encryption.secretsmanager_secret_cmk", inventory(secret, key()))
    assert only(found).status == expected


SSE_S3 = [{"sse_algorithm": "AES256", "kms_master_key_id": None, "bucket_key_enabled": False}]


def _kms(ref: str | None) -> list[dict[str, Any]]:
    return [{"sse_algorithm": "aws:kms", "kms_master_key_id": ref, "bucket_key_enabled": True}]


@pytest.mark.parametrize(
    ("encryption", "minimum", "expected"),
    [
        (SSE_S3, "SSE-S3", Status.PASS),
        (SSE_S3, "SSE-KMS", Status.FAIL),
        (_kms(None), "SSE-KMS", Status.PASS),
        (_kms(None), "SSE-KMS-CMK", Status.FAIL),
        (_kms(KEY_ARN), "SSE-KMS-CMK", Status.PASS),
        (_kms("arn:aws:kms:us-east-1:999999999999:key/x"), "SSE-KMS", Status.PASS),
        (_kms("arn:aws:kms:us-east-1:999999999999:key/x"), "SSE-KMS-CMK", Status.INCONCLUSIVE),
    ],
    ids=[
        "s3-ok",
        "s3-below-kms",
        "aws-kms-ok",
        "aws-kms-below-cmk",
        "cmk",
        "foreign-kms",
        "foreign-cmk-unknown",
    ],
)
def test_s3_sse_level_is_configurable(encryption: Any, minimum: str, expected: Status) -> None:
    bucket = asset("AWS::S3::Bucket", BUCKET, region=R, bucket_name="data", encryption=encryption)
    found = run_one(
        "aws.encryption.s3_bucket_encrypted", inventory(bucket, key()), minimum_sse=minimum
    )
    assert only(found).status == expected


def test_pending_deletion_key_still_referenced() -> None:
    doomed = key(key_state="PendingDeletion", deletion_date="2026-01-08T00:00:00+00:00")
    spare = key(
        aws_arn("kms", "key/k-2"), key_state="PendingDeletion", aliases=["alias/spare"]
    )
    vol = asset("AWS::EC2::Volume", VOLUME, kms_key_id=KEY_ARN)
    bucket = asset("AWS::S3::Bucket", BUCKET, encryption=_kms("alias/orders"))
    found = by_uid(
        run_one("aws.kms.pending_deletion_key_unreferenced", inventory(doomed, spare, vol, bucket))
    )
    assert found[KEY_ARN].status == Status.FAIL
    assert found[KEY_ARN].evidence["referenced_by"] == [VOLUME, BUCKET]
    assert found[spare.uid].status == Status.PASS
    gap = collection_error("ec2", "DescribeVolumes", ("AWS::EC2::Volume",))
    unverified = by_uid(
        run_one("aws.kms.pending_deletion_key_unreferenced", inventory(spare, errors=(gap,)))
    )
    assert unverified[spare.uid].status == Status.INCONCLUSIVE


OPEN = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
CONFINED = {**OPEN, "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}}
ODD = {**OPEN, "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
ACCOUNT_ROOT = {**OPEN, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([ACCOUNT_ROOT], Status.PASS),
        ([ACCOUNT_ROOT, OPEN], Status.FAIL),
        ([{**OPEN, "Principal": "*"}], Status.FAIL),
        ([CONFINED], Status.PASS),
        ([ODD], Status.INCONCLUSIVE),
        (None, Status.INCONCLUSIVE),
    ],
    ids=["account", "world", "star", "confined", "undecidable-condition", "unknown"],
)
def test_key_policy_not_public(statements: Any, expected: Status) -> None:
    policy = None if statements is None else {"Version": "2012-10-17", "Statement": statements}
    found = run_one("aws.kms.key_policy_not_public", inventory(key(policy=policy)))
    assert only(found).status == expected


@pytest.mark.parametrize(
    ("public", "expected"), [(None, Status.INCONCLUSIVE), (True, Status.FAIL), (False, Status.PASS)]
)
def test_snapshots_not_public(public: bool | None, expected: Status) -> None:
    ebs = asset("AWS::EC2::Snapshot", SNAP, public=public, shared_with_accounts=[])
    assert only(run_one("aws.data.ebs_snapshot_not_public", inventory(ebs))).status == expected
    rds = asset("AWS::RDS::DBSnapshot", DB_SNAP, public=public, shared_with_accounts=[])
    assert only(run_one("aws.data.rds_snapshot_not_public", inventory(rds))).status == expected
