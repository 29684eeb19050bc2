"""Fixtures for the whole suite: no real AWS account, and a real moto server on loopback.

Builders and helpers are plain functions in the ``support`` package (``from support.aws import
asset``); fixtures used by one folder alone live in that folder's ``conftest.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from support.aws import client, reset_moto
from support.collect import ALL_FLAGS, KEY_ARN, LOG_DELIVERY, TLS_ONLY

if TYPE_CHECKING:
    from posture.demo.gcp_fake import FakeGoogle


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch a real AWS account: fake keys, no shared config files."""
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server (HTTP, 127.0.0.1, random port) for the whole test session.

    Tests that use it must reset it (``moto_endpoint``) or use distinct resource names.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port  # type: ignore[attr-defined]
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """The moto server, reset to an empty account before the test."""
    return reset_moto(moto_server)


@pytest.fixture(scope="module")
def gcp_fake() -> Iterator[FakeGoogle]:
    """The loopback fake of the Google APIs (posture.demo.gcp_fake), one per test module (tests
    may change its routes)."""
    from posture.demo.gcp_fake import serving

    with serving() as running:
        yield running


@pytest.fixture
def s3_estate(moto_endpoint: str) -> str:
    """The reset moto server holding four buckets: ``log-bucket`` (log-delivery grants),
    ``plain-bucket`` (public-read ACL), ``secure-bucket`` (KMS, Block Public Access, TLS-only
    policy, versioning, logging, tags) in us-east-1 and ``eu-bucket`` (AES256) in eu-west-1."""
    east = client("s3", moto_endpoint)
    east.create_bucket(Bucket="log-bucket")
    east.put_bucket_acl(Bucket="log-bucket", GrantWrite=LOG_DELIVERY, GrantReadACP=LOG_DELIVERY)
    east.create_bucket(Bucket="plain-bucket")
    east.put_bucket_acl(Bucket="plain-bucket", ACL="public-read")
    east.create_bucket(Bucket="secure-bucket")
    east.put_bucket_encryption(Bucket="secure-bucket", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": KEY_ARN},
                   "BucketKeyEnabled": True}]})
    east.put_public_access_block(Bucket="secure-bucket",
                                 PublicAccessBlockConfiguration=ALL_FLAGS)
    east.put_bucket_policy(Bucket="secure-bucket", Policy=json.dumps(TLS_ONLY))
    east.put_bucket_versioning(Bucket="secure-bucket",
                               VersioningConfiguration={"Status": "Enabled"})
    east.put_bucket_logging(Bucket="secure-bucket", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "log-bucket", "TargetPrefix": "secure/"}})
    east.put_bucket_tagging(Bucket="secure-bucket",
                            Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    west = client("s3", moto_endpoint, region="eu-west-1")
    west.create_bucket(Bucket="eu-bucket",
                       CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    west.put_bucket_encryption(Bucket="eu-bucket", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    return moto_endpoint
