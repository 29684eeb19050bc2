"""S3 collector against the moto server: buckets in two regions, the account public access block,
and a real AccessDenied on one per-bucket call."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import client
from support.collect import (
    ALL_FLAGS,
    ALL_USERS,
    KEY_ARN,
    TLS_ONLY,
    by_uid,
    client_factory,
    collected_denied,
    error_keys,
    scope,
)

from posture.collectors.aws import s3
from posture.model import GLOBAL
from posture.snapshot import jsonable


def _created(endpoint: str) -> dict[str, Any]:
    buckets = client("s3", endpoint).list_buckets()["Buckets"]
    return {b["Name"]: jsonable(b["CreationDate"]) for b in buckets}


def _owner_grant() -> dict[str, Any]:
    return {"grantee_type": "CanonicalUser", "permission": "FULL_CONTROL"}


@pytest.mark.usefixtures("s3_estate")
def test_buckets_are_normalized_in_their_own_region(moto_endpoint: str) -> None:
    sc = scope(moto_endpoint)
    assets = by_uid(s3.collect(sc))
    created = _created(moto_endpoint)

    assert sc.errors == []
    secure = assets["arn:aws:s3:::secure-bucket"]
    assert (secure.type, secure.region, secure.name) == (s3.BUCKET, "us-east-1", "secure-bucket")
    assert dict(secure.tags) == {"env": "prod"}
    owner = [g for g in secure.attrs["acl_grants"] if g["grantee_type"] == "CanonicalUser"]
    assert [{k: g[k] for k in ("grantee_type", "permission")} for g in owner] == [_owner_grant()]
    assert {k: v for k, v in secure.attrs.items() if k != "acl_grants"} == {
        "bucket_name": "secure-bucket",
        "creation_date": created["secure-bucket"],
        "encryption": [{"sse_algorithm": "aws:kms", "kms_master_key_id": KEY_ARN,
                        "bucket_key_enabled": True}],
        "public_access_block": ALL_FLAGS,
        "policy": TLS_ONLY,
        "policy_present": True,
        "versioning": "Enabled",
        "mfa_delete": "Disabled",
        "logging_enabled": True,
        "logging_target": "log-bucket",
    }

    plain = assets["arn:aws:s3:::plain-bucket"]
    assert {k: v for k, v in plain.attrs.items() if k != "acl_grants"} == {
        "bucket_name": "plain-bucket",
        "creation_date": created["plain-bucket"],
        "encryption": [],
        "public_access_block": {},
        "policy": None,
        "policy_present": False,
        "versioning": "Disabled",
        "mfa_delete": "Disabled",
        "logging_enabled": False,
        "logging_target": None,
    }
    assert {"grantee_type": "Group", "grantee": ALL_USERS, "permission": "READ"} in (
        plain.attrs["acl_grants"])
    assert dict(plain.tags) == {}

    eu = assets["arn:aws:s3:::eu-bucket"]
    assert eu.region == "eu-west-1"
    assert eu.attrs["encryption"] == [
        {"sse_algorithm": "AES256", "kms_master_key_id": None, "bucket_key_enabled": False}]


def test_account_public_access_block_absent_then_present(moto_endpoint: str) -> None:
    uid = "arn:aws:s3:::account/123456789012/public-access-block"
    absent = by_uid(s3.collect(scope(moto_endpoint)))[uid]
    assert (absent.type, absent.region) == (s3.ACCOUNT_PUBLIC_ACCESS_BLOCK, GLOBAL)
    assert absent.attrs == {"public_access_block": {}}

    control = client_factory(moto_endpoint).client("s3control", "us-east-1")
    control.put_public_access_block(
        AccountId="123456789012",
        PublicAccessBlockConfiguration={**ALL_FLAGS, "RestrictPublicBuckets": False},
    )
    present = by_uid(s3.collect(scope(moto_endpoint)))[uid]
    assert present.attrs == {
        "public_access_block": {**ALL_FLAGS, "RestrictPublicBuckets": False}}


@pytest.mark.usefixtures("s3_estate")
def test_denied_bucket_policy_is_recorded_per_bucket_and_region(moto_endpoint: str) -> None:
    assets, sc = collected_denied(s3, moto_endpoint, "s3:GetBucketPolicy")

    facet = ("AWS::S3::Bucket#policy",)
    assert error_keys(sc.errors) == {
        (region, "s3", "GetBucketPolicy", "AccessDenied", facet, f"arn:aws:s3:::{name}")
        for name, region in (("log-bucket", "us-east-1"), ("plain-bucket", "us-east-1"),
                             ("secure-bucket", "us-east-1"), ("eu-bucket", "eu-west-1"))
    }
    secure = assets["arn:aws:s3:::secure-bucket"].attrs
    assert (secure["policy"], secure["policy_present"]) == (None, None)
    assert secure["public_access_block"] == ALL_FLAGS  # the rest is still collected
    assert secure["encryption"][0]["sse_algorithm"] == "aws:kms"
    assert assets["arn:aws:s3:::eu-bucket"].region == "eu-west-1"


@pytest.mark.usefixtures("s3_estate")
def test_denied_location_keeps_the_bucket_with_an_unknown_region(moto_endpoint: str) -> None:
    assets, sc = collected_denied(s3, moto_endpoint, "s3:GetBucketLocation")

    assert {(e.region, e.operation, e.code, e.asset_types) for e in sc.errors} == {
        (GLOBAL, "GetBucketLocation", "AccessDenied", ("AWS::S3::Bucket#location",))}
    assert {e.resource_uid for e in sc.errors} == {
        f"arn:aws:s3:::{n}" for n in ("eu-bucket", "log-bucket", "plain-bucket", "secure-bucket")}
    eu = assets["arn:aws:s3:::eu-bucket"]
    assert eu.region == GLOBAL  # unknown, and said so by the error
    assert eu.attrs["encryption"][0]["sse_algorithm"] == "AES256"  # details still collected


def test_bucket_region_from_location_constraint() -> None:
    assert s3.bucket_region({"LocationConstraint": None}, {}) == "us-east-1"
    assert s3.bucket_region({"LocationConstraint": ""}, {}) == "us-east-1"
    assert s3.bucket_region({"LocationConstraint": "EU"}, {}) == "eu-west-1"
    assert s3.bucket_region({"LocationConstraint": "ap-south-1"}, {}) == "ap-south-1"
    assert s3.bucket_region(None, {"BucketRegion": "eu-central-1"}) == "eu-central-1"
    assert s3.bucket_region(None, {}) is None


def test_unknown_details_stay_unknown() -> None:
    assert s3.normalize_encryption(None) is None
    assert s3.normalize_public_access_block(None) is None
    assert s3.normalize_grants(None) is None
    assert s3.normalize_public_access_block({"__error_code__": "NoSuch"}) == {}
