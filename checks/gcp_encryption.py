"""Encryption at rest on GCP: KMS key rotation and customer-managed keys on buckets."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.gcp import BUCKET, CRYPTO_KEY, label_matches
from posture.model import Principle, Severity
from posture.registry import check

_DAY = 86400


@check("gcp.encryption.kms_key_rotation_enabled", Severity.MEDIUM, (Principle.ENCRYPTION_AT_REST,),
       reads={f"{CRYPTO_KEY}#listing"}, params={"max_rotation_days": 90})
def kms_key_rotation_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Cloud KMS symmetric keys rotate at least every 90 days

    Rotation limits the data protected by one key version. Only ENCRYPT_DECRYPT keys rotate
    automatically; asymmetric and MAC keys are not applicable. Keys whose primary version is
    destroyed or scheduled for destruction are skipped.

    Remediation: Set a rotation period of 90 days or less: `gcloud kms keys update KEY --keyring
    RING --location LOC --rotation-period 90d --next-rotation-time ...`.
    """
    limit = int(ctx.param("max_rotation_days"))
    for key in ctx.inventory.of(CRYPTO_KEY):
        if key.attr("purpose") != "ENCRYPT_DECRYPT":
            continue
        if key.attr("primary_state") in ("DESTROYED", "DESTROY_SCHEDULED"):
            continue
        seconds = key.attr("rotation_period_seconds")
        if seconds is None:
            yield ctx.fail(key, "automatic rotation is not configured", rotation_period=None)
        elif seconds > limit * _DAY:
            yield ctx.fail(
                key,
                f"rotates every {seconds // _DAY} days (> {limit})",
                rotation_period_days=seconds // _DAY,
            )
        else:
            yield ctx.passed(
                key, f"rotates every {seconds // _DAY} days", rotation_period_days=seconds // _DAY
            )


@check(
    "gcp.encryption.bucket_cmek_encrypted", Severity.MEDIUM, (Principle.ENCRYPTION_AT_REST,),
    reads={f"{BUCKET}#listing"},
    params={
        "required_for_labels": (
            "data=confidential",
            "data=restricted",
            "data-classification=confidential",
            "data-classification=restricted",
            "cmek=required",
        )
    },
)
def bucket_cmek_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """Cloud Storage buckets that require it are encrypted with a customer-managed key

    Google encrypts all data at rest; a customer-managed key adds control over rotation, revocation
    and access logging. Which buckets need one is policy: by default buckets labelled as
    confidential or restricted data; an empty selector list means every bucket.

    Remediation: Set a default Cloud KMS key on the bucket (`gcloud storage buckets update gs://B
    --default-encryption-key=projects/.../cryptoKeys/K`) and rewrite existing objects.
    """
    selectors = tuple(ctx.param("required_for_labels"))
    for bucket in ctx.inventory.of(BUCKET):
        key = bucket.attr("default_kms_key")
        why = label_matches(bucket.tags, selectors) if selectors else "all buckets"
        if key:
            yield ctx.passed(bucket, "default customer-managed key set", kms_key=key)
        elif why is None:
            yield ctx.passed(
                bucket,
                "no customer-managed key required (no matching label)",
                required_for_labels=list(selectors),
            )
        else:
            yield ctx.fail(bucket, f"no customer-managed key, required by {why}", required_by=why)
