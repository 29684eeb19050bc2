"""Encryption at rest of SQS queues and SNS topics.

Levels, weakest first: ``none``, ``SSE-SQS`` (SQS-managed keys; queues only), ``SSE-KMS`` (a KMS
key, AWS-managed ``alias/aws/sqs`` / ``alias/aws/sns`` included), ``SSE-KMS-CMK`` (a
customer-managed KMS key). Each check takes its required level as the ``minimum`` parameter.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks.aws_encryption import KMS_KEY, _customer_managed

from posture.engine import CheckContext, Result
from posture.kms import aws_managed_alias, key_index, resolve
from posture.model import Asset, Principle, Severity
from posture.registry import check

TOPIC = "AWS::SNS::Topic"
QUEUE = "AWS::SQS::Queue"
LEVELS = ("none", "SSE-SQS", "SSE-KMS", "SSE-KMS-CMK")


def _kms_level(ctx: CheckContext, asset: Asset, ref: str) -> str | None:
    """SSE-KMS or SSE-KMS-CMK for a key reference; None when the key cannot be classified."""
    if aws_managed_alias(ref):
        return "SSE-KMS"
    key = resolve(ctx.derived("aws.kms.key_index", key_index), asset.account, asset.region, ref)
    if key is None:
        return None
    return "SSE-KMS-CMK" if _customer_managed(key) else "SSE-KMS"


def _judge(ctx: CheckContext, asset: Asset, level: str | None, what: str) -> Result:
    minimum = str(ctx.param("minimum"))
    evidence = {"level": level, "minimum": minimum, "kms_key_id": asset.attr("kms_key_id")}
    if minimum not in LEVELS:
        return ctx.unknown(asset, f"parameter minimum={minimum!r} is not one of {LEVELS}")
    if level is None:
        return ctx.unknown(
            asset,
            f"{what} uses KMS key {asset.attr('kms_key_id')}, which is not in the inventory "
            "(customer-managed or not cannot be told)",
            **evidence,
        )
    if LEVELS.index(level) >= LEVELS.index(minimum):
        return ctx.passed(asset, f"{what} encryption at rest: {level} (required: {minimum})",
                          **evidence)
    if level == "none":
        return ctx.fail(asset, f"{what} is not encrypted at rest", **evidence)
    return ctx.fail(asset, f"{what} encryption is {level}, {minimum} is required", **evidence)


@check("aws.encryption.sqs_queue_encrypted", Severity.MEDIUM, (Principle.ENCRYPTION_AT_REST,),
       reads={QUEUE, f"{KMS_KEY}#listing", f"{KMS_KEY}#aliases"}, params={"minimum": "SSE-SQS"})
def sqs_queue_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """SQS queues are encrypted at rest

    Messages often carry personal data and credentials in transit between services. SQS encrypts
    new queues with SQS-managed keys by default only since 2022; older queues, and queues created
    with encryption off, keep messages in plaintext at rest. `minimum` is SSE-SQS (default),
    SSE-KMS or SSE-KMS-CMK.

    Remediation: Turn on server-side encryption: `aws sqs set-queue-attributes --queue-url <url>
    --attributes SqsManagedSseEnabled=true` (or KmsMasterKeyId=<key> for a KMS key).
    """
    for queue in ctx.inventory.of(QUEUE):
        encryption = queue.attr("encryption")
        if encryption is None:
            yield ctx.unknown(queue, "queue attributes unknown")
            continue
        level: str | None = str(encryption)
        if encryption == "SSE-KMS":
            level = _kms_level(ctx, queue, str(queue.attr("kms_key_id")))
        yield _judge(ctx, queue, level, "queue")


@check("aws.encryption.sns_topic_encrypted", Severity.MEDIUM, (Principle.ENCRYPTION_AT_REST,),
       reads={TOPIC, f"{KMS_KEY}#listing", f"{KMS_KEY}#aliases"}, params={"minimum": "SSE-KMS"})
def sns_topic_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """SNS topics are encrypted at rest with a KMS key

    SNS stores messages until they are delivered; without a KMS key they are not encrypted at rest.
    `minimum` is SSE-KMS (default: the AWS-managed aws/sns key is enough) or SSE-KMS-CMK.

    Remediation: Set a KMS key on the topic: `aws sns set-topic-attributes --topic-arn <arn>
    --attribute-name KmsMasterKeyId --attribute-value <key>` (publishers then need
    kms:GenerateDataKey and kms:Decrypt on it).
    """
    for topic in ctx.inventory.of(TOPIC):
        encrypted = topic.attr("encrypted")
        if encrypted is None:
            yield ctx.unknown(topic, "topic attributes unknown")
            continue
        level = _kms_level(ctx, topic, str(topic.attr("kms_key_id"))) if encrypted else "none"
        yield _judge(ctx, topic, level, "topic")
