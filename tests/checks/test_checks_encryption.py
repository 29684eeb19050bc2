"""aws.encryption.*: EBS, EBS default, S3, RDS, KMS rotation."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, aws_arn, collection_error, inventory
from support.checks import by_uid, only, run_one

from posture.model import Status

VOL = aws_arn("ec2", "volume/vol-1")
EBS_DEFAULT = aws_arn("ec2", "ebs-encryption-by-default")
BUCKET = "arn:aws:s3:::logs"
DB = aws_arn("rds", "db:orders")
KEY = aws_arn("kms", "key/k-1")


@pytest.mark.parametrize(("encrypted", "expected"), [
    (True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE),
])
def test_ebs_volume_encrypted(encrypted: bool | None, expected: Status) -> None:
    vol = asset("AWS::EC2::Volume", VOL, volume_id="vol-1", encrypted=encrypted,
                kms_key_id=None, state="in-use", size_gib=8, attached_instance_ids=["i-1"])
    assert only(run_one("aws.encryption.ebs_volume_encrypted", inventory(vol))).status == expected


def test_ebs_volume_listing_gap_is_inconclusive() -> None:
    vol = asset("AWS::EC2::Volume", VOL, volume_id="vol-1", encrypted=True)
    gap = collection_error("ec2", "DescribeVolumes", ("AWS::EC2::Volume",))
    findings = run_one("aws.encryption.ebs_volume_encrypted", inventory(vol, errors=(gap,)))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}


@pytest.mark.parametrize(("enabled", "expected"), [
    (True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE),
])
def test_ebs_default_encryption(enabled: bool | None, expected: Status) -> None:
    setting = asset("AWS::EC2::EbsEncryptionByDefault", EBS_DEFAULT, enabled=enabled,
                    kms_key_id=None)
    finding = only(run_one("aws.encryption.ebs_default_encryption_enabled", inventory(setting)))
    assert finding.status == expected


def test_ebs_default_missing_for_a_scanned_region_is_inconclusive() -> None:
    setting = asset("AWS::EC2::EbsEncryptionByDefault", EBS_DEFAULT, enabled=True)
    inv = inventory(setting, regions=("us-east-1", "eu-west-1"))
    findings = by_uid(run_one("aws.encryption.ebs_default_encryption_enabled", inv))
    assert findings[EBS_DEFAULT].status == Status.PASS
    assert findings[f"arn:aws:ec2:eu-west-1:{ACCOUNT}:ebs-encryption-by-default"].status == (
        Status.INCONCLUSIVE)


SSE_S3 = [{"sse_algorithm": "AES256", "kms_master_key_id": None, "bucket_key_enabled": False}]
SSE_KMS = [{"sse_algorithm": "aws:kms", "kms_master_key_id": "k-1", "bucket_key_enabled": True}]


@pytest.mark.parametrize(("encryption", "expected"), [
    (SSE_S3, Status.PASS), (SSE_KMS, Status.PASS), ([], Status.FAIL),
    (None, Status.INCONCLUSIVE),
], ids=["sse-s3", "sse-kms", "none-configured", "unknown"])
def test_s3_bucket_encrypted(encryption: Any, expected: Status) -> None:
    bucket = asset("AWS::S3::Bucket", BUCKET, bucket_name="logs", encryption=encryption)
    assert only(run_one("aws.encryption.s3_bucket_encrypted", inventory(bucket))).status == (
        expected)


def _s3_verdict_after_gap(encryption: Any, operation: str, facet: str) -> Status:
    """The verdict on the bucket when ``operation`` failed for its ``facet``."""
    bucket = asset("AWS::S3::Bucket", BUCKET, bucket_name="logs", encryption=encryption)
    gap = collection_error("s3", operation, (f"AWS::S3::Bucket#{facet}",), resource_uid=BUCKET)
    finding = only(run_one("aws.encryption.s3_bucket_encrypted", inventory(bucket, errors=(gap,))))
    return finding.status


def test_s3_encryption_detail_failure_is_inconclusive_through_the_engine() -> None:
    assert _s3_verdict_after_gap(None, "GetBucketEncryption", "encryption") == Status.INCONCLUSIVE


def test_s3_other_facet_failure_does_not_touch_encryption() -> None:
    assert _s3_verdict_after_gap(SSE_S3, "GetBucketPolicy", "policy") == Status.PASS


@pytest.mark.parametrize(("encrypted", "expected"), [
    (True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE),
])
def test_rds_storage_encrypted(encrypted: bool | None, expected: Status) -> None:
    db = asset("AWS::RDS::DBInstance", DB, db_instance_id="orders", engine="postgres",
               storage_encrypted=encrypted, kms_key_id=None)
    assert only(run_one("aws.encryption.rds_storage_encrypted", inventory(db))).status == expected


def kms_key(**over: Any) -> Any:
    attrs: dict[str, Any] = {
        "arn": KEY, "key_id": "k-1", "key_manager": "CUSTOMER", "key_state": "Enabled",
        "key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS",
        "multi_region": False, "rotation_enabled": True, "policy": None, "aliases": [],
        "deletion_date": None
    }
    attrs.update(over)
    return asset("AWS::KMS::Key", KEY, **attrs)


@pytest.mark.parametrize(("over", "expected"), [
    ({}, Status.PASS),
    ({"rotation_enabled": False}, Status.FAIL),
    ({"rotation_enabled": None}, Status.INCONCLUSIVE),
    ({"key_manager": "AWS", "rotation_enabled": None}, None),
    ({"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY", "rotation_enabled": None}, None),
    ({"key_spec": "HMAC_256", "key_usage": "GENERATE_VERIFY_MAC", "rotation_enabled": None},
     None),
    ({"origin": "EXTERNAL", "rotation_enabled": None}, None),
    ({"key_state": "PendingDeletion", "rotation_enabled": False}, None),
    ({"key_state": "Disabled", "rotation_enabled": False}, None),
    ({"aliases": ["alias/aws/ebs"], "rotation_enabled": False}, None),
    ({"aliases": ["alias/awsome"], "rotation_enabled": False}, Status.FAIL),
], ids=["rotating", "not-rotating", "unknown", "aws-managed-skipped", "asymmetric-skipped",
        "hmac-skipped", "imported-skipped", "pending-deletion-skipped", "disabled-skipped",
        "reserved-aws-alias-skipped", "lookalike-alias-checked"])
def test_kms_key_rotation(over: dict[str, Any], expected: Status | None) -> None:
    findings = run_one("aws.encryption.kms_key_rotation_enabled", inventory(kms_key(**over)))
    if expected is None:
        assert findings == []
    else:
        assert only(findings).status == expected


def test_kms_rotation_detail_failure_is_inconclusive() -> None:
    gap = collection_error("kms", "GetKeyRotationStatus", ("AWS::KMS::Key#rotation",),
                           resource_uid=KEY)
    findings = run_one("aws.encryption.kms_key_rotation_enabled",
                       inventory(kms_key(), errors=(gap,)))
    assert only(findings).status == Status.INCONCLUSIVE
