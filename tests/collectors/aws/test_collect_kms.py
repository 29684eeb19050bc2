"""KMS collector against the moto server: rotation on/off/not applicable, keys pending deletion,
aliases and tags, and a real AccessDenied on GetKeyPolicy."""

from __future__ import annotations

from typing import Any

from support.aws import client
from support.collect import by_uid, error_keys, scope
from support.faults import refusals, refused_scope

from posture.collectors.aws import kms
from posture.snapshot import jsonable

ROOT_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [{
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*",
        "Resource": "*",
    }],
}


def _seed(endpoint: str) -> dict[str, dict[str, Any]]:
    c = client("kms", endpoint)
    keys = {
        "rotated": c.create_key(Tags=[{"TagKey": "env", "TagValue": "prod"}])["KeyMetadata"],
        "unrotated": c.create_key()["KeyMetadata"],
        "signing": c.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"],
        "imported": c.create_key(Origin="EXTERNAL")["KeyMetadata"],
        "doomed": c.create_key()["KeyMetadata"],
    }
    c.enable_key_rotation(KeyId=keys["rotated"]["KeyId"])
    c.create_alias(AliasName="alias/app", TargetKeyId=keys["rotated"]["KeyId"])
    c.create_alias(AliasName="alias/app-old", TargetKeyId=keys["rotated"]["KeyId"])
    c.schedule_key_deletion(KeyId=keys["doomed"]["KeyId"], PendingWindowInDays=7)
    return keys


def test_keys_rotation_policy_aliases(moto_endpoint: str) -> None:
    keys = _seed(moto_endpoint)
    sc = scope(moto_endpoint, region="us-east-1")
    assets = by_uid(kms.collect(sc))

    assert sc.errors == []
    assert set(assets) == {k["Arn"] for k in keys.values()}
    rotated = assets[keys["rotated"]["Arn"]]
    assert (rotated.type, rotated.region, rotated.name) == (kms.KEY, "us-east-1", "alias/app")
    assert dict(rotated.tags) == {"env": "prod"}
    assert rotated.attrs == {
        "arn": keys["rotated"]["Arn"],
        "key_id": keys["rotated"]["KeyId"],
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "key_spec": "SYMMETRIC_DEFAULT",
        "key_usage": None,  # moto leaves KeyUsage out for symmetric keys
        "origin": "AWS_KMS",
        "multi_region": None,
        "rotation_enabled": True,
        "policy": ROOT_POLICY,
        "aliases": ["alias/app", "alias/app-old"],
        "deletion_date": None,
    }
    summary = {
        name: {k: assets[keys[name]["Arn"]].attrs[k]
               for k in ("rotation_enabled", "key_state", "key_spec", "aliases", "origin")}
        for name in keys
    }
    assert summary == {
        "rotated": {"rotation_enabled": True, "key_state": "Enabled",
                    "key_spec": "SYMMETRIC_DEFAULT", "aliases": ["alias/app", "alias/app-old"],
                    "origin": "AWS_KMS"},
        "unrotated": {"rotation_enabled": False, "key_state": "Enabled",
                      "key_spec": "SYMMETRIC_DEFAULT", "aliases": [], "origin": "AWS_KMS"},
        "signing": {"rotation_enabled": None, "key_state": "Enabled", "key_spec": "RSA_2048",
                    "aliases": [], "origin": "AWS_KMS"},
        "imported": {"rotation_enabled": None, "key_state": "Enabled",
                     "key_spec": "SYMMETRIC_DEFAULT", "aliases": [], "origin": "EXTERNAL"},
        "doomed": {"rotation_enabled": False, "key_state": "PendingDeletion",
                   "key_spec": "SYMMETRIC_DEFAULT", "aliases": [], "origin": "AWS_KMS"},
    }
    doomed = client("kms", moto_endpoint).describe_key(KeyId=keys["doomed"]["KeyId"])
    assert assets[keys["doomed"]["Arn"]].attrs["deletion_date"] == jsonable(
        doomed["KeyMetadata"]["DeletionDate"])


def test_other_region_is_separate(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    west = client("kms", moto_endpoint, region="eu-west-1").create_key()["KeyMetadata"]
    sc = scope(moto_endpoint, region="eu-west-1")
    assets = kms.collect(sc)
    assert [(a.uid, a.region) for a in assets] == [(west["Arn"], "eu-west-1")]


def test_denied_key_policy_keeps_the_rest(moto_endpoint: str) -> None:
    keys = _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "kms", "GetKeyPolicy")
    assets = by_uid(kms.collect(sc))

    assert error_keys(sc.errors) == refusals(
        "kms", "GetKeyPolicy", ("AWS::KMS::Key#policy",), [k["Arn"] for k in keys.values()])
    assert all("not authorized to perform: kms:GetKeyPolicy" in e.message for e in sc.errors)
    rotated = assets[keys["rotated"]["Arn"]].attrs
    assert rotated["policy"] is None
    assert rotated["rotation_enabled"] is True
    assert rotated["aliases"] == ["alias/app", "alias/app-old"]


def test_denied_listing_is_recorded_against_the_type(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "kms", "ListKeys")
    assert kms.collect(sc) == []
    assert error_keys(sc.errors) == refusals("kms", "ListKeys", ("AWS::KMS::Key",))


def test_rotation_applies_only_to_rotatable_keys() -> None:
    base = {"KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT",
            "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS"}
    assert kms.rotation_applies(base)
    assert not kms.rotation_applies({**base, "KeyManager": "AWS"})
    hmac = {**base, "KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}
    assert not kms.rotation_applies(hmac)
    assert not kms.rotation_applies({**base, "Origin": "AWS_CLOUDHSM"})
    assert kms.rotation_enabled(None) is None
    assert kms.rotation_enabled({"__error_code__": "KMSInvalidStateException"}) is None
