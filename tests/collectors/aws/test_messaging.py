"""SQS queues and SNS topics: collected from a real moto server, then judged by the encryption
checks and the public-policy check (including the traps: SNS's default topic policy and an SQS
policy pinned to one SNS topic are not public)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.aws import ACCOUNT, client, inventory
from support.checks import by_uid, run_one
from support.collect import scope as region_scope
from support.faults import deny

from posture.collectors.aws import messaging
from posture.collectors.aws.base import RegionScope
from posture.collectors.aws.collector import REGIONAL_MODULES, all_permissions
from posture.collectors.aws.kms import collect as collect_kms
from posture.model import Asset, Status

R = "sa-east-1"
SQS_CHECK = "aws.encryption.sqs_queue_encrypted"
SNS_CHECK = "aws.encryption.sns_topic_encrypted"
PUBLIC = "aws.iam.resource_policies_not_public"


def _policy(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def estate(moto_endpoint: str) -> dict[str, str]:
    sqs, sns, kms = (client(s, moto_endpoint, R) for s in ("sqs", "sns", "kms"))
    cmk = kms.create_key(Description="queues")["KeyMetadata"]["Arn"]
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})
    open_topic = sns.create_topic(Name="open-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=open_topic, AttributeName="Policy", AttributeValue=_policy(
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": open_topic}))

    def queue(name: str, **attrs: str) -> str:
        return str(sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])

    queue("legacy", SqsManagedSseEnabled="false")
    queue("managed", SqsManagedSseEnabled="true")
    queue("cmk", KmsMasterKeyId=cmk)
    arn = f"arn:aws:sqs:{R}:{ACCOUNT}"
    queue("fanout", Policy=_policy({
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": f"{arn}:fanout"}))
    queue("from-topic", Policy=_policy({
        "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage",
        "Resource": f"{arn}:from-topic", "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}))
    queue("world", Policy=_policy({
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sqs:SendMessage",
                                                                "sqs:ReceiveMessage"],
        "Resource": f"{arn}:world"}))
    return {"arn": arn, "topic": topic, "open_topic": open_topic}


def _collect(endpoint: str) -> tuple[list[Asset], RegionScope]:
    scope = region_scope(endpoint, R)
    return messaging.collect(scope) + collect_kms(scope), scope


def test_collects_queue_and_topic_encryption_and_policies(
    moto_endpoint: str, estate: dict[str, str]
) -> None:
    assets, scope = _collect(moto_endpoint)
    assert scope.errors == []
    queues = {a.name: a.attrs for a in assets if a.type == messaging.QUEUE}
    assert {n: q["encryption"] for n, q in queues.items()} == {
        "legacy": "none", "managed": "SSE-SQS", "cmk": "SSE-KMS", "fanout": "SSE-SQS",
        "from-topic": "SSE-SQS", "world": "SSE-SQS"}
    assert queues["world"]["policy_present"] is True and queues["legacy"]["policy"] is None
    assert queues["legacy"]["arn"] == f"{estate['arn']}:legacy"
    topics = {a.name: a.attrs for a in assets if a.type == messaging.TOPIC}
    assert (topics["orders"]["encrypted"], topics["alerts"]["kms_key_id"]) == (
        False, "alias/aws/sns")


def test_queue_encryption_levels(moto_endpoint: str, estate: dict[str, str]) -> None:
    assets, _ = _collect(moto_endpoint)
    inv = inventory(*assets, regions=(R,))
    got = {f.resource_name: f.status for f in run_one(SQS_CHECK, inv)}
    assert got["legacy"] == Status.FAIL
    assert got["managed"] == got["cmk"] == Status.PASS
    strict = {f.resource_name: f.status for f in run_one(SQS_CHECK, inv, minimum="SSE-KMS-CMK")}
    assert (strict["managed"], strict["cmk"]) == (Status.FAIL, Status.PASS)


def test_topic_encryption(moto_endpoint: str, estate: dict[str, str]) -> None:
    assets, _ = _collect(moto_endpoint)
    got = {f.resource_name: f for f in run_one(SNS_CHECK, inventory(*assets, regions=(R,)))}
    assert got["orders"].status == Status.FAIL and "not encrypted" in got["orders"].message
    assert got["alerts"].status == Status.PASS


def test_public_policies_and_their_traps(moto_endpoint: str, estate: dict[str, str]) -> None:
    assets, _ = _collect(moto_endpoint)
    got = by_uid(run_one(PUBLIC, inventory(*assets, regions=(R,))))
    arn = estate["arn"]
    assert got[f"{arn}:world"].status == Status.FAIL
    assert got[estate["open_topic"]].status == Status.FAIL
    # SNS's default policy (Principal AWS:* pinned by AWS:SourceOwner) is not public
    assert got[estate["topic"]].status == Status.PASS
    # a queue that only one topic may send to (Principal * + aws:SourceArn) is not public
    assert got[f"{arn}:from-topic"].status == Status.PASS
    assert got[f"{arn}:fanout"].status == Status.PASS
    assert got[f"{arn}:legacy"].status == Status.PASS


def test_denied_attributes_are_inconclusive(moto_endpoint: str, estate: dict[str, str]) -> None:
    scope = region_scope(moto_endpoint, R)
    factory = scope.clients
    deny(factory, "sqs", "GetQueueAttributes", region=R)
    deny(factory, "sns", "GetTopicAttributes", region=R)
    assets = messaging.collect(scope)
    assert {e.operation for e in scope.errors} == {"GetQueueAttributes", "GetTopicAttributes"}
    assert all(e.resource_uid for e in scope.errors)
    inv = inventory(*assets, errors=tuple(scope.errors), regions=(R,))
    for check_id in (SQS_CHECK, SNS_CHECK, PUBLIC):
        statuses = {f.status for f in run_one(check_id, inv)}
        assert statuses == {Status.INCONCLUSIVE}, (check_id, statuses)


def test_registered_with_the_collector() -> None:
    assert "messaging" in REGIONAL_MODULES
    assert {"sqs:GetQueueAttributes", "sns:GetTopicAttributes"} <= set(all_permissions())
