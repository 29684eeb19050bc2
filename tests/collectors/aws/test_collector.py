"""The AWS collector orchestrator against the moto server: account, regions, assets from several
service modules, a denied call recorded while the rest is collected, and the errors that stop a
scan before it starts (unknown region, unreachable endpoint, no credentials)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from support.aws import client
from support.collect import denied_session

from posture.collectors.aws import collector
from posture.collectors.aws.base import parallel_map
from posture.collectors.aws.collector import AwsTarget
from posture.errors import CollectorError

REGIONS = ("us-east-1", "eu-west-1")
MY_SERVICES = {"s3", "s3control", "kms", "secretsmanager", "iam", "cloudtrail"}


def _seed(endpoint: str) -> None:
    client("s3", endpoint).create_bucket(Bucket="trail-logs")
    client("s3", endpoint, region="eu-west-1").create_bucket(
        Bucket="eu-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    client("kms", endpoint, region="eu-west-1").create_key(Description="eu key")
    client("secretsmanager", endpoint).create_secret(Name="db", SecretString="x")
    trails = client("cloudtrail", endpoint)
    trails.create_trail(Name="org", S3BucketName="trail-logs", IsMultiRegionTrail=True)
    trails.start_logging(Name="org")
    iam = client("iam", endpoint)
    iam.create_user(UserName="alice")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument='{"Version": "2012-10-17", '
                    '"Statement": []}')


def test_collects_account_regions_and_services(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    inv = collector.collect(AwsTarget(regions=REGIONS, endpoint_url=moto_endpoint))

    assert inv.meta.accounts == ("123456789012",)
    assert inv.meta.regions == ("eu-west-1", "us-east-1")
    assert inv.meta.endpoint_url == moto_endpoint
    assert [e.describe() for e in inv.errors if e.service in MY_SERVICES] == []
    assert [e.describe() for e in inv.errors if e.operation == "collect"] == []  # no module crash
    where = {(a.type, a.name, a.region) for a in inv.assets}
    assert {
        ("AWS::S3::Bucket", "trail-logs", "us-east-1"),
        ("AWS::S3::Bucket", "eu-data", "eu-west-1"),
        ("AWS::SecretsManager::Secret", "db", "us-east-1"),
        ("AWS::CloudTrail::Trail", "org", "us-east-1"),
        ("AWS::IAM::User", "alice", "global"),
        ("AWS::IAM::Role", "app", "global"),
        ("AWS::IAM::PasswordPolicy", "account password policy", "global"),
        ("AWS::S3::AccountPublicAccessBlock", "account public access block", "global"),
    } <= where
    assert len(inv.of("AWS::CloudTrail::Trail")) == 1  # multi-region trail: once
    assert [k.region for k in inv.of("AWS::KMS::Key")] == ["eu-west-1"]


def test_a_denied_call_is_recorded_and_the_rest_collected(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    with denied_session(moto_endpoint, "iam:ListRoles") as session:
        inv = collector.collect(AwsTarget(regions=REGIONS, endpoint_url=moto_endpoint),
                                session=session)

    denied = [e for e in inv.errors if e.service in MY_SERVICES]
    assert [(e.region, e.operation, e.code, e.asset_types, e.resource_uid) for e in denied] == [
        ("global", "ListRoles", "AccessDenied", ("AWS::IAM::Role",), None)]
    assert inv.of("AWS::IAM::Role") == ()
    assert {a.name for a in inv.of("AWS::IAM::User")} == {"alice", "posture-auditor"}
    assert len(inv.of("AWS::S3::Bucket")) == 2


def _assert_one_line(exc: pytest.ExceptionInfo[CollectorError], *words: str) -> None:
    message = str(exc.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_unknown_region(moto_endpoint: str) -> None:
    with pytest.raises(CollectorError) as exc:
        collector.collect(AwsTarget(regions=("us-east-1", "mars-north-1"),
                                    endpoint_url=moto_endpoint))
    _assert_one_line(exc, "unknown AWS region", "mars-north-1")


def test_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    with pytest.raises(CollectorError) as exc:
        collector.collect(AwsTarget(regions=("us-east-1",), endpoint_url=f"http://127.0.0.1:{port}"))
    _assert_one_line(exc, "cannot reach", str(port))


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CollectorError) as exc:
        collector.collect(AwsTarget(regions=("us-east-1",), endpoint_url="http://127.0.0.1:9"))
    _assert_one_line(exc, "no AWS credentials")


def test_permissions_are_read_only_iam_actions() -> None:
    actions = collector.all_permissions()
    assert all(re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", a) for a in actions), actions
    # GenerateCredentialReport only asks IAM to build the report (access level Read in IAM);
    # API Gateway's IAM actions are the HTTP verbs of its management API (apigateway:GET reads)
    read_verbs = ("Get", "List", "Describe", "Search", "BatchGet", "GenerateCredentialReport",
                  "GET")
    assert all(a.split(":")[1].startswith(read_verbs) for a in actions), actions
    for action in ("s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock",
                   "s3:GetAccountPublicAccessBlock", "s3:ListAllMyBuckets",
                   "iam:GetAccountPasswordPolicy", "iam:GetAccessKeyLastUsed",
                   "kms:GetKeyRotationStatus", "secretsmanager:GetResourcePolicy",
                   "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"):
        assert action in actions


def test_parallel_map_keeps_input_order() -> None:
    assert parallel_map(lambda x: x * x, range(50), workers=4) == [x * x for x in range(50)]
    assert parallel_map(str, []) == []
