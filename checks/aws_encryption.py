"""Encryption at rest: EBS volumes and the regional default, S3 buckets, RDS storage, KMS keys."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result, Subject
from posture.model import Asset, Principle, Severity
from posture.registry import check

VOLUME = "AWS::EC2::Volume"
EBS_DEFAULT = "AWS::EC2::EbsEncryptionByDefault"
BUCKET = "AWS::S3::Bucket"
DB_INSTANCE = "AWS::RDS::DBInstance"
KMS_KEY = "AWS::KMS::Key"

_AT_REST = (Principle.ENCRYPTION_AT_REST,)


@check(
    id="aws.encryption.ebs_volume_encrypted",
    title="EBS volumes are encrypted",
    severity=Severity.HIGH,
    principles=_AT_REST,
    reads={VOLUME},
    remediation=(
        "Create an encrypted snapshot copy of the volume and restore it as a new encrypted "
        "volume; turn on EBS encryption by default so new volumes are always encrypted."
    ),
    rationale="Unencrypted volumes and their snapshots expose data to anyone who can copy them.",
)
def ebs_volume_encrypted(ctx: CheckContext) -> Iterator[Result]:
    for vol in ctx.inventory.of(VOLUME):
        encrypted = vol.attr("encrypted")
        if encrypted is None:
            yield ctx.unknown(vol, "volume encryption status unknown")
        elif encrypted:
            yield ctx.passed(vol, "volume is encrypted", kms_key_id=vol.attr("kms_key_id"))
        else:
            yield ctx.fail(vol, "volume is not encrypted", state=vol.attr("state"),
                           attached_instance_ids=vol.attr("attached_instance_ids"))


@check(
    id="aws.encryption.ebs_default_encryption_enabled",
    title="EBS encryption by default is enabled in every scanned region",
    severity=Severity.MEDIUM,
    principles=_AT_REST,
    reads={EBS_DEFAULT},
    remediation=(
        "Enable EBS encryption by default in every region (EC2 console > Settings > EBS "
        "encryption, or `aws ec2 enable-ebs-encryption-by-default --region <r>`)."
    ),
    rationale="With the default on, no new volume or snapshot copy can be created unencrypted.",
)
def ebs_default_encryption_enabled(ctx: CheckContext) -> Iterator[Result]:
    seen = set()
    for setting in ctx.inventory.of(EBS_DEFAULT):
        seen.add((setting.account, setting.region))
        enabled = setting.attr("enabled")
        if enabled is None:
            yield ctx.unknown(setting, "EBS encryption-by-default setting unknown")
        elif enabled:
            yield ctx.passed(setting, "EBS encryption by default is enabled",
                             kms_key_id=setting.attr("kms_key_id"))
        else:
            yield ctx.fail(setting, "EBS encryption by default is disabled")
    meta = ctx.inventory.meta
    for acct in meta.accounts:
        for region in meta.regions:
            if (acct, region) not in seen:
                uid = f"arn:aws:ec2:{region}:{acct}:ebs-encryption-by-default"
                subject = Subject(uid, EBS_DEFAULT, "ebs-encryption-by-default", acct, region)
                yield ctx.unknown(subject, "EBS encryption-by-default setting was not collected")


@check(
    id="aws.encryption.s3_bucket_encrypted",
    title="S3 buckets have default server-side encryption",
    severity=Severity.MEDIUM,
    principles=_AT_REST,
    reads={f"{BUCKET}#encryption"},
    remediation=(
        "Configure default bucket encryption (SSE-KMS with a customer-managed key for sensitive "
        "data, at least SSE-S3)."
    ),
    rationale=(
        "Since January 2023 S3 applies SSE-S3 to new objects by default, so a bucket without "
        "any encryption configuration is unusual and worth a look; an unknown configuration is "
        "never reported as compliant."
    ),
)
def s3_bucket_encrypted(ctx: CheckContext) -> Iterator[Result]:
    for bucket in ctx.inventory.of(BUCKET):
        rules = bucket.attr("encryption")
        if rules is None:
            yield ctx.unknown(bucket, "bucket encryption configuration unknown")
            continue
        algorithms = sorted({str(r.get("sse_algorithm")) for r in rules if r.get("sse_algorithm")})
        if algorithms:
            yield ctx.passed(bucket, f"default encryption: {', '.join(algorithms)}",
                             encryption=rules)
        else:
            yield ctx.fail(bucket, "bucket has no default encryption configuration",
                           encryption=rules)


@check(
    id="aws.encryption.rds_storage_encrypted",
    title="RDS database storage is encrypted",
    severity=Severity.HIGH,
    principles=_AT_REST,
    reads={DB_INSTANCE},
    remediation=(
        "Encryption cannot be turned on in place: snapshot the instance, copy the snapshot with "
        "encryption (KMS key), restore from the encrypted copy and switch over."
    ),
    rationale="Unencrypted database storage, snapshots and replicas expose the data at rest.",
)
def rds_storage_encrypted(ctx: CheckContext) -> Iterator[Result]:
    for db in ctx.inventory.of(DB_INSTANCE):
        encrypted = db.attr("storage_encrypted")
        if encrypted is None:
            yield ctx.unknown(db, "storage encryption status unknown")
        elif encrypted:
            yield ctx.passed(db, "storage is encrypted", kms_key_id=db.attr("kms_key_id"))
        else:
            yield ctx.fail(db, "storage is not encrypted", engine=db.attr("engine"))


@check(
    id="aws.encryption.kms_key_rotation_enabled",
    title="Customer-managed symmetric KMS keys rotate automatically",
    severity=Severity.MEDIUM,
    principles=_AT_REST,
    reads={f"{KMS_KEY}#rotation"},
    remediation="Enable automatic key rotation (`aws kms enable-key-rotation --key-id <id>`).",
    rationale=(
        "Rotation limits how much data one key version protects. Only enabled customer-managed "
        "symmetric encryption keys with KMS-generated material can rotate automatically; "
        "AWS-managed keys rotate on their own, and asymmetric, HMAC, imported-material, "
        "disabled and pending-deletion keys are skipped."
    ),
)
def kms_key_rotation_enabled(ctx: CheckContext) -> Iterator[Result]:
    # AWS rotates AWS-managed keys itself (yearly); only customer keys are in scope
    for key in ctx.inventory.of(KMS_KEY):
        if (not _customer_managed(key) or key.attr("key_state") != "Enabled"
                or key.attr("key_spec") not in (None, "SYMMETRIC_DEFAULT")
                or key.attr("key_usage") not in (None, "ENCRYPT_DECRYPT")
                or key.attr("origin") not in (None, "AWS_KMS")):
            continue
        rotation = key.attr("rotation_enabled")
        if rotation is None:
            yield ctx.unknown(key, "key rotation status unknown")
        elif rotation:
            yield ctx.passed(key, "automatic key rotation is enabled")
        else:
            yield ctx.fail(key, "automatic key rotation is disabled", aliases=key.attr("aliases"))


def _customer_managed(key: Asset) -> bool:
    """``alias/aws/*`` names are reserved for AWS-managed keys, whatever an emulator reports."""
    aliases = key.attr("aliases") or []
    return key.attr("key_manager") == "CUSTOMER" and not any(
        str(a).startswith("alias/aws/") for a in aliases
    )
