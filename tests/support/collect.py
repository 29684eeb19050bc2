"""Helpers for the AWS collector tests: client factories and scopes on the moto server (or on
no server, for the pure normalizers), collecting one service module, and denied calls.

``denied_session`` makes moto enforce IAM (``/moto-api/reset-auth``) and returns a session of an
IAM user whose policy allows everything except the given actions, so the collector meets a real
``AccessDenied`` answer from the server. Use it for IAM, EC2, and S3 only where the API operation
and the IAM action share a name (``s3:GetBucketPolicy``, ``s3:GetBucketLocation``,
``s3:GetBucketAcl``): moto 5.2.6 authorises S3 requests as ``s3:<operation>``, so denying
``s3:GetEncryptionConfiguration`` (GetBucketEncryption) or ``s3:ListBucket`` (ListObjects) is
silently not enforced. For JSON-protocol services (KMS, Secrets Manager, CloudTrail) moto
answers a denial with an XML body that botocore cannot parse (the error code becomes ``403``), so
``support.faults.refuse`` makes botocore's own event system answer one operation the way AWS does
(``AccessDeniedException``) on the client the collector uses.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from posture.collectors.aws import s3
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.model import GLOBAL, Asset, CollectionError

from .aws import ACCOUNT, client

AUDITOR = "posture-auditor"


def client_factory(
    endpoint: str | None = None, session: boto3.session.Session | None = None
) -> ClientFactory:
    """Clients on the moto server at ``endpoint`` (no endpoint: clients that are never called)."""
    return ClientFactory(session=session or boto3.session.Session(), endpoint_url=endpoint)


def scope(
    endpoint: str | None = None,
    region: str = GLOBAL,
    session: boto3.session.Session | None = None,
    account: str = ACCOUNT,
) -> RegionScope:
    return RegionScope(account=account, region=region, clients=client_factory(endpoint, session))


def collected(
    module: Any, clients: ClientFactory, region: str = "us-east-1"
) -> tuple[dict[str, Asset], RegionScope]:
    """The assets ``module`` collects in ``region`` by uid (no uid twice), and its scope."""
    sc = RegionScope(account=ACCOUNT, region=region, clients=clients)
    return by_uid(module.collect(sc)), sc


def collected_denied(
    module: Any, endpoint: str, *actions: str
) -> tuple[dict[str, Asset], RegionScope]:
    """The assets ``module`` collects (global scope) by uid, and its scope, as an auditor denied
    ``actions`` (:func:`denied_session`) on the moto server at ``endpoint``."""
    with denied_session(endpoint, *actions) as session:
        sc = scope(endpoint, session=session)
        return by_uid(module.collect(sc)), sc


def vpc_with_subnets(ec2: Any) -> tuple[str, list[str]]:
    """A VPC 10.0.0.0/16 with subnets 10.0.1.0/24 (us-east-1a) and 10.0.2.0/24 (us-east-1b)."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    return vpc, subnets


def security_group(ec2: Any, vpc: str, name: str) -> str:
    """The id of a new security group ``name`` (described by its name) in ``vpc``."""
    return str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"])


def network_with_group(ec2: Any, group: str) -> dict[str, Any]:
    """:func:`vpc_with_subnets` and a security group ``group`` in it: ``{"vpc": id, "subnets":
    [ids], "sg": id}``."""
    vpc, subnets = vpc_with_subnets(ec2)
    return {"vpc": vpc, "subnets": subnets, "sg": security_group(ec2, vpc, group)}


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


# -- the S3 estate of the ``s3_estate`` fixture (conftest.py) ----------------------------------

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_DELIVERY = 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"'
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::secure-bucket", "arn:aws:s3:::secure-bucket/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }],
}
ALL_FLAGS = dict.fromkeys(s3.PUBLIC_ACCESS_FLAGS, True)
"""Block Public Access with every flag set."""
