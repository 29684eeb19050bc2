"""Encryption at rest: EBS volumes, snapshots and the regional default, S3 buckets, RDS storage,
clusters and snapshots, EFS, DynamoDB, Secrets Manager keys, KMS key rotation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.checks._shared import flag_result

from posture.engine import CheckContext, Result, Subject
from posture.kms import aws_managed_alias, key_index, resolve
from posture.model import Asset, Principle, Severity
from posture.registry import check

VOLUME = "AWS::EC2::Volume"
EBS_DEFAULT = "AWS::EC2::EbsEncryptionByDefault"
BUCKET = "AWS::S3::Bucket"
DB_INSTANCE = "AWS::RDS::DBInstance"
KMS_KEY = "AWS::KMS::Key"
EBS_SNAPSHOT = "AWS::EC2::Snapshot"
DB_CLUSTER = "AWS::RDS::DBCluster"
DB_SNAPSHOT = "AWS::RDS::DBSnapshot"
DB_CLUSTER_SNAPSHOT = "AWS::RDS::DBClusterSnapshot"
FILE_SYSTEM = "AWS::EFS::FileSystem"
TABLE = "AWS::DynamoDB::Table"
SECRET = "AWS::SecretsManager::Secret"
S3_SSE_LEVELS = ("SSE-S3", "SSE-KMS", "SSE-KMS-CMK")

_AT_REST = (Principle.ENCRYPTION_AT_REST,)


@check("aws.encryption.ebs_volume_encrypted", Severity.HIGH, _AT_REST, reads={VOLUME})
def ebs_volume_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """EBS volumes are encrypted

    Unencrypted volumes and their snapshots expose data to anyone who can copy them.

    Remediation: Create an encrypted snapshot copy of the volume and restore it as a new encrypted
    volume; turn on EBS encryption by default so new volumes are always encrypted.
    """
    for vol in ctx.inventory.of(VOLUME):
        yield _encrypted(ctx, vol, "encrypted", "volume", state=vol.attr("state"),
                         attached_instance_ids=vol.attr("attached_instance_ids"))


@check("aws.encryption.ebs_default_encryption_enabled", Severity.MEDIUM, _AT_REST,
       reads={EBS_DEFAULT})
def ebs_default_encryption_enabled(ctx: CheckContext) -> Iterator[Result]:
    """EBS encryption by default is enabled in every scanned region

    With the default on, no new volume or snapshot copy can be created unencrypted.

    Remediation: Enable EBS encryption by default in every region (EC2 console > Settings > EBS
    encryption, or `aws ec2 enable-ebs-encryption-by-default --region <r>`).
    """
    seen = set()
    for setting in ctx.inventory.of(EBS_DEFAULT):
        seen.add((setting.account, setting.region))
        yield flag_result(
            ctx, setting, setting.attr("enabled"), "EBS encryption-by-default setting unknown",
            "EBS encryption by default is enabled", "EBS encryption by default is disabled",
            passed_evidence={"kms_key_id": setting.attr("kms_key_id")},
        )
    meta = ctx.inventory.meta
    for acct in meta.accounts:
        for region in meta.regions:
            if (acct, region) not in seen:
                uid = f"arn:aws:ec2:{region}:{acct}:ebs-encryption-by-default"
                subject = Subject(uid, EBS_DEFAULT, "ebs-encryption-by-default", acct, region)
                yield ctx.unknown(subject, "EBS encryption-by-default setting was not collected")


@check("aws.encryption.s3_bucket_encrypted", Severity.MEDIUM, _AT_REST,
       reads={f"{BUCKET}#encryption"}, params={"minimum_sse": "SSE-S3"})
def s3_bucket_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """S3 buckets have default server-side encryption

    Since January 2023 S3 applies SSE-S3 to new objects by default, so a bucket without any
    encryption configuration is unusual and worth a look; an unknown configuration is never
    reported as compliant. `minimum_sse` sets the requirement: `SSE-S3` (any default encryption),
    `SSE-KMS` (a KMS key, AWS-managed aws/s3 allowed) or `SSE-KMS-CMK` (a customer-managed KMS key,
    whose key policy the organisation controls).

    Remediation: Configure default bucket encryption (SSE-KMS with a customer-managed key for
    sensitive data, at least SSE-S3).
    """
    minimum = str(ctx.param("minimum_sse")).upper()
    if minimum not in S3_SSE_LEVELS:
        raise ValueError(f"minimum_sse must be one of {', '.join(S3_SSE_LEVELS)}, not {minimum!r}")
    keys = ctx.derived("aws.kms.key_index", key_index)
    for bucket in ctx.inventory.of(BUCKET):
        rules = bucket.attr("encryption")
        if rules is None:
            yield ctx.unknown(bucket, "bucket encryption configuration unknown")
            continue
        levels = [_sse_level(keys, bucket, r) for r in rules if r.get("sse_algorithm")]
        if minimum != "SSE-KMS-CMK":  # any KMS key is enough: whose key it is does not matter
            levels = ["SSE-KMS" if lv == "unknown-key" else lv for lv in levels]
        if not levels:
            yield ctx.fail(bucket, "bucket has no default encryption configuration",
                           encryption=rules)
            continue
        level = max(levels, key=lambda lv: S3_SSE_LEVELS.index(lv) if lv in S3_SSE_LEVELS else -1)
        evidence = {"encryption": rules, "level": level, "minimum_sse": minimum}
        if level == "unknown-key":
            yield ctx.unknown(bucket, "SSE-KMS with a key not in the inventory (customer-managed "
                              "or not cannot be told)", **evidence)
        elif S3_SSE_LEVELS.index(level) >= S3_SSE_LEVELS.index(minimum):
            yield ctx.passed(bucket, f"default encryption: {level} (required: {minimum})",
                             **evidence)
        else:
            yield ctx.fail(bucket, f"default encryption is {level}, {minimum} is required",
                           **evidence)


def _sse_level(keys: dict[tuple[str, str, str], Asset], bucket: Asset, rule: Any) -> str:
    algorithm = str(rule.get("sse_algorithm"))
    if not algorithm.startswith("aws:kms"):
        return "SSE-S3"
    ref = rule.get("kms_master_key_id")
    if not ref or aws_managed_alias(ref):
        return "SSE-KMS"
    key = resolve(keys, bucket.account, bucket.region, ref)
    if key is None:
        return "unknown-key"
    return "SSE-KMS-CMK" if _customer_managed(key) else "SSE-KMS"


@check("aws.encryption.rds_storage_encrypted", Severity.HIGH, _AT_REST, reads={DB_INSTANCE})
def rds_storage_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """RDS database storage is encrypted

    Unencrypted database storage, snapshots and replicas expose the data at rest.

    Remediation: Encryption cannot be turned on in place: snapshot the instance, copy the snapshot
    with encryption (KMS key), restore from the encrypted copy and switch over.
    """
    for db in ctx.inventory.of(DB_INSTANCE):
        yield _encrypted(ctx, db, "storage_encrypted", "storage", engine=db.attr("engine"))


@check("aws.encryption.kms_key_rotation_enabled", Severity.MEDIUM, _AT_REST,
       reads={f"{KMS_KEY}#rotation"})
def kms_key_rotation_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Customer-managed symmetric KMS keys rotate automatically

    Rotation limits how much data one key version protects. Only enabled customer-managed symmetric
    encryption keys with KMS-generated material can rotate automatically; AWS-managed keys rotate
    on their own, and asymmetric, HMAC, imported-material, disabled and pending-deletion keys are
    skipped.

    Remediation: Enable automatic key rotation (`aws kms enable-key-rotation --key-id <id>`).
    """
    # AWS rotates AWS-managed keys itself (yearly); only customer keys are in scope
    for key in ctx.inventory.of(KMS_KEY):
        if (not _customer_managed(key) or key.attr("key_state") != "Enabled"
                or key.attr("key_spec") not in (None, "SYMMETRIC_DEFAULT")
                or key.attr("key_usage") not in (None, "ENCRYPT_DECRYPT")
                or key.attr("origin") not in (None, "AWS_KMS")):
            continue
        yield flag_result(
            ctx, key, key.attr("rotation_enabled"), "key rotation status unknown",
            "automatic key rotation is enabled", "automatic key rotation is disabled",
            failed_evidence={"aliases": key.attr("aliases")},
        )


def _customer_managed(key: Asset) -> bool:
    """``alias/aws/*`` names are reserved for AWS-managed keys, whatever an emulator reports."""
    aliases = key.attr("aliases") or []
    return key.attr("key_manager") == "CUSTOMER" and not any(
        str(a).startswith("alias/aws/") for a in aliases
    )


def _encrypted(ctx: CheckContext, asset: Asset, attr: str, what: str, **extra: Any) -> Result:
    return flag_result(
        ctx, asset, asset.attr(attr), f"{what} encryption status unknown", f"{what} is encrypted",
        f"{what} is not encrypted", passed_evidence={"kms_key_id": asset.attr("kms_key_id")},
        failed_evidence=extra,
    )


@check("aws.encryption.ebs_snapshot_encrypted", Severity.HIGH, _AT_REST,
       reads={f"{EBS_SNAPSHOT}#listing"})
def ebs_snapshot_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """EBS snapshots are encrypted

    A snapshot is a full copy of a disk; unencrypted, it can be shared, copied to another account
    or made public without any key policy standing in the way.

    Remediation: Copy the snapshot with encryption (`aws ec2 copy-snapshot --encrypted --kms-key-id
    <key>`), delete the unencrypted original, and enable EBS encryption by default.
    """
    for snap in ctx.inventory.of(EBS_SNAPSHOT):
        yield _encrypted(ctx, snap, "encrypted", "snapshot", volume_id=snap.attr("volume_id"))


@check("aws.encryption.rds_cluster_storage_encrypted", Severity.HIGH, _AT_REST, reads={DB_CLUSTER})
def rds_cluster_storage_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """RDS (Aurora) cluster storage is encrypted

    Cluster storage holds the data, its backups and its snapshots.

    Remediation: Encryption cannot be turned on in place: snapshot the cluster, restore the
    snapshot into a new cluster with encryption (KMS key) and switch the application over.
    """
    for cluster in ctx.inventory.of(DB_CLUSTER):
        yield _encrypted(ctx, cluster, "storage_encrypted", "cluster storage",
                         engine=cluster.attr("engine"))


@check("aws.encryption.rds_snapshot_encrypted", Severity.HIGH, _AT_REST,
       reads={f"{DB_SNAPSHOT}#listing", f"{DB_CLUSTER_SNAPSHOT}#listing"})
def rds_snapshot_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """RDS DB and cluster snapshots are encrypted

    A snapshot can be restored by anyone it is shared with; encryption ties it to a key policy.

    Remediation: Copy the snapshot with a KMS key (`aws rds copy-db-snapshot --kms-key-id <key>`),
    delete the unencrypted copy, and encrypt the source database.
    """
    for snap in ctx.inventory.of(DB_SNAPSHOT, DB_CLUSTER_SNAPSHOT):
        yield _encrypted(ctx, snap, "encrypted", "snapshot", source_id=snap.attr("source_id"),
                         snapshot_type=snap.attr("snapshot_type"))


@check("aws.encryption.efs_encrypted", Severity.HIGH, _AT_REST, reads={FILE_SYSTEM})
def efs_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """EFS file systems are encrypted at rest

    File shares often hold exports, uploads and application state.

    Remediation: Encryption is chosen at creation: create an encrypted file system, copy the data
    (e.g. with AWS DataSync) and delete the unencrypted one.
    """
    for fs in ctx.inventory.of(FILE_SYSTEM):
        yield _encrypted(ctx, fs, "encrypted", "file system")


@check("aws.encryption.dynamodb_table_kms_key", Severity.LOW, _AT_REST,
       reads={TABLE, f"{KMS_KEY}#listing", f"{KMS_KEY}#aliases"},
       params={"minimum_key": "customer-managed"})
def dynamodb_table_kms_key(ctx: CheckContext) -> Iterator[Result]:
    """DynamoDB tables are encrypted with a KMS key (customer-managed if required)

    Every table is encrypted; with the default AWS-owned key, access to the data cannot be
    restricted or audited through a key policy and CloudTrail. `minimum_key` is `customer-managed`
    (default) or `aws-managed` (the aws/dynamodb key is enough).

    Remediation: Switch the table's encryption to a customer-managed KMS key (`aws dynamodb
    update-table --sse-specification Enabled=true,SSEType=KMS,KMSMasterKeyId=<key>`).
    """
    need_cmk = str(ctx.param("minimum_key")) == "customer-managed"
    keys = ctx.derived("aws.kms.key_index", key_index)
    for table in ctx.inventory.of(TABLE):
        sse_type, ref = table.attr("sse_type"), table.attr("kms_key_arn")
        evidence = {"sse_type": sse_type, "kms_key_arn": ref}
        if sse_type is None:
            yield ctx.unknown(table, "table encryption unknown", **evidence)
        elif sse_type != "KMS":
            yield ctx.fail(table, f"encrypted with an AWS-owned key ({sse_type})", **evidence)
        elif not need_cmk:
            yield ctx.passed(table, "encrypted with a KMS key", **evidence)
        else:
            yield _cmk_verdict(ctx, keys, table, ref, "table", evidence)


@check("aws.encryption.secretsmanager_secret_cmk", Severity.LOW, _AT_REST,
       reads={f"{SECRET}#listing", f"{KMS_KEY}#listing", f"{KMS_KEY}#aliases"})
def secretsmanager_secret_cmk(ctx: CheckContext) -> Iterator[Result]:
    """Secrets Manager secrets are encrypted with a customer-managed KMS key

    With the AWS-managed aws/secretsmanager key, anyone with secretsmanager:GetSecretValue in the
    account can read the secret; a customer-managed key adds a second, separately administered gate
    and works across accounts.

    Remediation: Re-encrypt the secret with a customer-managed key (`aws secretsmanager
    update-secret --kms-key-id <key>`) whose key policy limits who may decrypt it.
    """
    keys = ctx.derived("aws.kms.key_index", key_index)
    for secret in ctx.inventory.of(SECRET):
        ref = secret.attr("kms_key_id")
        evidence = {"kms_key_id": ref}
        if not ref or aws_managed_alias(ref):
            yield ctx.fail(secret, "encrypted with the AWS-managed aws/secretsmanager key",
                           **evidence)
        else:
            yield _cmk_verdict(ctx, keys, secret, ref, "secret", evidence)


def _cmk_verdict(ctx: CheckContext, keys: dict[tuple[str, str, str], Asset], asset: Asset,
                 ref: str | None, what: str, evidence: dict[str, Any]) -> Result:
    key = resolve(keys, asset.account, asset.region, ref)
    if key is None:
        return ctx.unknown(asset, f"{what} key {ref} is not in the inventory (customer-managed "
                           "or not cannot be told)", **evidence)
    if _customer_managed(key):
        return ctx.passed(asset, f"{what} encrypted with customer-managed key {key.name}",
                          **evidence)
    return ctx.fail(asset, f"{what} encrypted with AWS-managed key {key.name}", **evidence)
