"""Helpers for the collector tests: scopes on the moto server, and denied calls.

``denied_session`` makes moto enforce IAM (``/moto-api/reset-auth``) and returns a session of an
IAM user whose policy allows everything except the given actions, so the collector meets a real
``AccessDenied`` answer from the server. Use it for IAM, EC2, and S3 only where the API operation
and the IAM action share a name (``s3:GetBucketPolicy``, ``s3:GetBucketLocation``,
``s3:GetBucketAcl``): moto 5.2.6 authorises S3 requests as ``s3:<operation>``, so denying
``s3:GetEncryptionConfiguration`` (GetBucketEncryption) or ``s3:ListBucket`` (ListObjects) is
silently not enforced. For JSON-protocol services (KMS, Secrets Manager, CloudTrail) moto
answers a denial with an XML body that botocore cannot parse (the error code becomes ``403``), so
``refuse`` makes botocore's own event system answer one operation the way AWS does
(``AccessDeniedException``) on the client the collector uses.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from conftest import client

from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.model import GLOBAL, Asset, CollectionError

AUDITOR = "posture-auditor"


def factory(endpoint: str, session: boto3.session.Session | None = None) -> ClientFactory:
    return ClientFactory(session=session or boto3.session.Session(), endpoint_url=endpoint)


def scope(
    endpoint: str,
    region: str = GLOBAL,
    session: boto3.session.Session | None = None,
    account: str = "123456789012",
) -> RegionScope:
    return RegionScope(account=account, region=region, clients=factory(endpoint, session))


def by_uid(assets: Iterable[Asset]) -> dict[str, Asset]:
    out: dict[str, Asset] = {}
    for a in assets:
        assert a.uid not in out, f"duplicate asset {a.uid}"
        out[a.uid] = a
    return out


def error_keys(errors: Iterable[CollectionError]) -> set[tuple[object, ...]]:
    """(region, service, operation, code, asset_types, resource_uid) of each error."""
    return {(e.region, e.service, e.operation, e.code, e.asset_types, e.resource_uid)
            for e in errors}


def _set_auth(endpoint: str, initial_no_auth_count: str) -> None:
    req = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=initial_no_auth_count.encode(), method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(req, timeout=30):
        pass


@contextmanager
def denied_session(endpoint: str, *actions: str) -> Iterator[boto3.session.Session]:
    """A session allowed everything but ``actions``, while moto enforces IAM on every request.

    Creates the IAM user ``posture-auditor`` (it shows up in IAM inventories)."""
    iam = client("iam", endpoint)
    iam.create_user(UserName=AUDITOR)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": list(actions), "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName=AUDITOR, PolicyName="audit", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=AUDITOR)["AccessKey"]
    _set_auth(endpoint, "0")
    try:
        yield boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name="us-east-1",
        )
    finally:
        _set_auth(endpoint, "inf")


def refuse(
    clients: ClientFactory, service: str, region: str, operation: str,
    code: str = "AccessDeniedException",
) -> None:
    """Make ``operation`` on ``clients``' client answer like AWS when IAM denies the call."""
    api = clients.client(service, region)
    message = (f"User: arn:aws:iam::123456789012:user/{AUDITOR} is not authorized to perform: "
               f"{api.meta.service_model.signing_name}:{operation}")

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"Error": {"Code": code, "Message": message},
                  "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://denied.invalid/", 400, {}, None), parsed

    event = f"before-call.{api.meta.service_model.service_id.hyphenize()}.{operation}"
    api.meta.events.register(event, answer)
