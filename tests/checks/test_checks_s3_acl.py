"""aws.data.s3_bucket_acl_not_public: buckets and ACLs collected from a real moto server (the
log-delivery grant is the trap), Block Public Access neutralising public ACLs, and unknowns;
aws.data.s3_account_block_public_access_enabled: the account-level guard rail on its own."""

from __future__ import annotations

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory
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


# --- aws.data.s3_account_block_public_access_enabled ------------------------------------------

ACCOUNT_CHECK = "aws.data.s3_account_block_public_access_enabled"
PAB_UID = f"arn:aws:s3:::account/{ACCOUNT}/public-access-block"


@pytest.mark.parametrize(("flags", "expected", "message"), [
    (ALL_FLAGS, Status.PASS, "all four account-level Block Public Access settings are on"),
    ({}, Status.FAIL, "no account-level Block Public Access configuration: all four settings "
     "are off"),
    ({**ALL_FLAGS, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}, Status.FAIL,
     "account-level Block Public Access is off for BlockPublicPolicy, RestrictPublicBuckets"),
    # trap: blocking public ACLs and policies but not ignoring the existing public ACLs
    ({**ALL_FLAGS, "IgnorePublicAcls": False}, Status.FAIL,
     "account-level Block Public Access is off for IgnorePublicAcls"),
    (None, Status.INCONCLUSIVE, "account-level Block Public Access settings unknown"),
])
def test_account_block_public_access(flags: object, expected: Status, message: str) -> None:
    found = only(run_one(ACCOUNT_CHECK, inventory(_pab(flags))))
    assert (found.status, found.message) == (expected, message)


def test_account_block_public_access_is_not_the_buckets() -> None:
    # trap: every bucket blocks public access on its own, the account does not
    bucket = _bucket("locked", [], ALL_FLAGS)
    found = by_uid(run_one(ACCOUNT_CHECK, inventory(bucket, _pab({}))))
    assert set(found) == {PAB_UID}
    assert found[PAB_UID].status == Status.FAIL
    assert found[PAB_UID].evidence["settings_off"] == list(s3.PUBLIC_ACCESS_FLAGS)


def test_account_block_public_access_denied_or_not_collected() -> None:
    gap = collection_error("s3control", "GetPublicAccessBlock",
                           ("AWS::S3::AccountPublicAccessBlock",), region="", resource_uid=PAB_UID)
    found = only(run_one(ACCOUNT_CHECK, inventory(_pab(None), errors=(gap,))))
    assert found.status == Status.INCONCLUSIVE
    # an inventory without the setting (S3 not collected) is unknown, never a pass
    missing = only(run_one(ACCOUNT_CHECK, inventory()))
    assert (missing.resource_uid, missing.status) == (PAB_UID, Status.INCONCLUSIVE)
    assert missing.message == "account-level Block Public Access settings were not collected"


def test_account_block_public_access_collected_from_moto(moto_endpoint: str) -> None:
    """NoSuchPublicAccessBlockConfiguration from the real API is a FAIL, not an error."""
    collecting = scope(moto_endpoint)
    absent = only(run_one(ACCOUNT_CHECK, inventory(*s3.collect(collecting))))
    assert (absent.status, absent.resource_uid) == (Status.FAIL, PAB_UID)
    assert collecting.errors == []
    client_factory(moto_endpoint).client("s3control", "us-east-1").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_FLAGS)
    inv = inventory(*s3.collect(scope(moto_endpoint)))
    assert only(run_one(ACCOUNT_CHECK, inv)).status == Status.PASS
