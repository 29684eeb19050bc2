"""aws.data.s3_bucket_acl_not_public: buckets and ACLs collected from a real moto server (the
log-delivery grant is the trap), Block Public Access neutralising public ACLs, and unknowns."""

from __future__ import annotations

import pytest
from support.aws import ACCOUNT, asset, inventory
from support.checks import by_uid, only, run_one
from support.collect import ALL_FLAGS, client_factory, scope

from posture.collectors.aws import s3
from posture.model import Status

CHECK = "aws.data.s3_bucket_acl_not_public"


@pytest.mark.usefixtures("s3_estate")
def test_public_read_acl_fails_and_log_delivery_grant_does_not(moto_endpoint: str) -> None:
    inv = inventory(*s3.collect(scope(moto_endpoint)), regions=("us-east-1", "eu-west-1"))
    found = {f.resource_name: f for f in run_one(CHECK, inv)}
    assert found["plain-bucket"].status == Status.FAIL
    assert found["plain-bucket"].message == "bucket ACL grants READ to everyone"
    assert found["log-bucket"].status == Status.PASS  # S3 log delivery is not the public
    assert found["secure-bucket"].status == found["eu-bucket"].status == Status.PASS


@pytest.mark.usefixtures("s3_estate")
def test_account_ignore_public_acls_neutralises_it(moto_endpoint: str) -> None:
    client_factory(moto_endpoint).client("s3control", "us-east-1").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_FLAGS)
    inv = inventory(*s3.collect(scope(moto_endpoint)), regions=("us-east-1", "eu-west-1"))
    found = {f.resource_name: f for f in run_one(CHECK, inv)}
    assert found["plain-bucket"].status == Status.PASS
    assert "IgnorePublicAcls" in found["plain-bucket"].message


AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def _bucket(name: str, grants: object, pab: object) -> object:
    return asset("AWS::S3::Bucket", f"arn:aws:s3:::{name}", acl_grants=grants,
                 public_access_block=pab)


def _pab(flags: object) -> object:
    uid = f"arn:aws:s3:::account/{ACCOUNT}/public-access-block"
    return asset("AWS::S3::AccountPublicAccessBlock", uid, region="global",
                 public_access_block=flags)


def test_authenticated_users_and_unknowns() -> None:
    write = [{"grantee_type": "Group", "grantee": AUTH_USERS, "permission": "WRITE_ACP"}]
    found = by_uid(run_one(CHECK, inventory(
        _bucket("any-account", write, {}),
        _bucket("acl-unknown", None, {}),
        _bucket("pab-unknown", write, None),
        _pab({}),
    )))
    assert found["arn:aws:s3:::any-account"].status == Status.FAIL
    assert "WRITE_ACP to every AWS account" in found["arn:aws:s3:::any-account"].message
    assert found["arn:aws:s3:::acl-unknown"].status == Status.INCONCLUSIVE
    assert found["arn:aws:s3:::pab-unknown"].status == Status.INCONCLUSIVE
    # the bucket's own IgnorePublicAcls decides even when the account's setting is unknown
    ignored = _bucket("ignored", write, {"IgnorePublicAcls": True})
    assert only(run_one(CHECK, inventory(ignored))).status == Status.PASS
