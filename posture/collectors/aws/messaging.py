"""SNS topics and SQS queues of one region: encryption at rest and access policy (attrs as in
``docs/aws-assets.md``). Messages are never read.

SQS encrypts new queues with SQS-managed keys (SSE-SQS) by default since late 2022, but queues
created before, or with it turned off, are plaintext at rest; SNS topics are encrypted only with
a KMS key (``KmsMasterKeyId``).
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy
from posture.model import Asset

TOPIC = "AWS::SNS::Topic"
QUEUE = "AWS::SQS::Queue"

PERMISSIONS: tuple[str, ...] = (
    "sns:ListTopics", "sns:GetTopicAttributes", "sqs:ListQueues", "sqs:GetQueueAttributes",
)


def collect(scope: RegionScope) -> list[Asset]:
    return collect_topics(scope) + collect_queues(scope)


def collect_topics(scope: RegionScope) -> list[Asset]:
    topics = scope.paginate("sns", "ListTopics", "Topics", (TOPIC,))
    arns = sorted(str(t["TopicArn"]) for t in topics or [] if t.get("TopicArn"))

    def attributes(arn: str) -> Payload | None:
        resp = scope.call("sns", "GetTopicAttributes", (f"{TOPIC}#attributes",), arn,
                          TopicArn=arn)
        return None if resp is None else dict(resp.get("Attributes") or {})

    found = parallel_map(attributes, arns)
    return [normalize_topic(scope, arn, a) for arn, a in zip(arns, found, strict=True)]


def normalize_topic(scope: RegionScope, arn: str, attributes: Payload | None) -> Asset:
    """``attributes`` is the GetTopicAttributes answer, ``None`` if that call failed."""
    known = attributes is not None
    attrs = attributes or {}
    key = attrs.get("KmsMasterKeyId") or None
    attrs_out = {
        "arn": arn,
        "topic_name": arn.rsplit(":", 1)[-1],
        "kms_key_id": key,
        "encrypted": (key is not None) if known else None,
        "policy": parse_policy(attrs.get("Policy")) if known else None,
        "policy_present": bool(attrs.get("Policy")) if known else None,
    }
    return scope.asset(arn, TOPIC, arn.rsplit(":", 1)[-1], attrs_out, raw=attrs)


def queue_arn(scope: RegionScope, url: str) -> str:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` -> the queue's ARN."""
    parts = url.rstrip("/").rsplit("/", 2)
    account = parts[-2] if len(parts) == 3 and parts[-2].isdigit() else scope.account
    return f"arn:{scope.partition}:sqs:{scope.region}:{account}:{parts[-1]}"


def collect_queues(scope: RegionScope) -> list[Asset]:
    urls = scope.paginate("sqs", "ListQueues", "QueueUrls", (QUEUE,))
    ordered = sorted(str(u) for u in urls or [])

    def attributes(url: str) -> Payload | None:
        resp = scope.call("sqs", "GetQueueAttributes", (f"{QUEUE}#attributes",),
                          queue_arn(scope, url), QueueUrl=url, AttributeNames=["All"])
        return None if resp is None else dict(resp.get("Attributes") or {})

    found = parallel_map(attributes, ordered)
    return [normalize_queue(scope, url, a) for url, a in zip(ordered, found, strict=True)]


def normalize_queue(scope: RegionScope, url: str, attributes: Payload | None) -> Asset:
    """``attributes`` is the GetQueueAttributes answer, ``None`` if that call failed."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    known = attributes is not None
    attrs = attributes or {}
    arn = str(attrs.get("QueueArn") or queue_arn(scope, url))
    key = attrs.get("KmsMasterKeyId") or None
    managed = str(attrs.get("SqsManagedSseEnabled", "")).lower() == "true"
    encryption = "SSE-KMS" if key else ("SSE-SQS" if managed else "none")
    attrs_out = {
        "arn": arn,
        "queue_url": url,
        "queue_name": name,
        "kms_key_id": key,
        "sqs_managed_sse": managed if known else None,
        "encryption": encryption if known else None,
        "policy": parse_policy(attrs.get("Policy")) if known else None,
        "policy_present": bool(attrs.get("Policy")) if known else None,
    }
    return scope.asset(arn, QUEUE, name, attrs_out, raw=attrs)
