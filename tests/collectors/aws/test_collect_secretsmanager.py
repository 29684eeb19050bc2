"""Secrets Manager collector against the moto server, and a denied GetResourcePolicy."""

from __future__ import annotations

import json
from typing import Any

from support.aws import client
from support.collect import by_uid, error_keys, scope
from support.faults import refusals, refused_scope

from posture.collectors.aws import secretsmanager
from posture.snapshot import jsonable

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CROSS_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
    }],
}


def _seed(endpoint: str) -> dict[str, str]:
    c = client("secretsmanager", endpoint)
    plain = c.create_secret(Name="db/password", SecretString="s3cret",
                            Tags=[{"Key": "team", "Value": "data"}])["ARN"]
    shared = c.create_secret(Name="shared", SecretString="x", KmsKeyId=KEY_ARN)["ARN"]
    c.put_resource_policy(SecretId=shared, ResourcePolicy=json.dumps(CROSS_ACCOUNT))
    return {"plain": plain, "shared": shared}


def _dates(endpoint: str, arn: str) -> dict[str, Any]:
    listed = {s["ARN"]: s for s in client("secretsmanager", endpoint).list_secrets()["SecretList"]}
    return {"last_changed_date": jsonable(listed[arn]["LastChangedDate"]),
            "created_date": jsonable(listed[arn]["CreatedDate"])}


def test_secrets_with_and_without_policy(moto_endpoint: str) -> None:
    arns = _seed(moto_endpoint)
    sc = scope(moto_endpoint, region="us-east-1")
    assets = by_uid(secretsmanager.collect(sc))

    assert sc.errors == []
    assert set(assets) == set(arns.values())
    plain = assets[arns["plain"]]
    assert (plain.type, plain.region, plain.name) == (
        secretsmanager.SECRET, "us-east-1", "db/password")
    assert dict(plain.tags) == {"team": "data"}
    assert plain.attrs == {
        "arn": arns["plain"],
        "secret_name": "db/password",
        "kms_key_id": None,
        "rotation_enabled": False,
        "rotation_days": None,
        "last_rotated_date": None,
        "last_accessed_date": None,
        **_dates(moto_endpoint, arns["plain"]),
        "resource_policy": None,
        "resource_policy_present": False,
    }
    shared = assets[arns["shared"]].attrs
    assert (shared["kms_key_id"], shared["resource_policy"], shared["resource_policy_present"]) == (
        KEY_ARN, CROSS_ACCOUNT, True)
    assert "s3cret" not in json.dumps(dict(plain.raw))


def test_denied_resource_policy_is_unknown_not_absent(moto_endpoint: str) -> None:
    arns = _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "secretsmanager", "GetResourcePolicy")
    assets = by_uid(secretsmanager.collect(sc))

    assert error_keys(sc.errors) == refusals(
        "secretsmanager", "GetResourcePolicy", ("AWS::SecretsManager::Secret#resource_policy",),
        arns.values())
    shared = assets[arns["shared"]].attrs
    assert (shared["resource_policy"], shared["resource_policy_present"]) == (None, None)
    assert shared["kms_key_id"] == KEY_ARN


def test_rotation_fields_from_a_listing_entry() -> None:
    """moto cannot rotate without a real Lambda, so the rotation shape is checked on a payload
    as ListSecrets returns it."""
    entry = {
        "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rotated-AbCdEf",
        "Name": "rotated",
        "RotationEnabled": True,
        "RotationLambdaARN": "arn:aws:lambda:us-east-1:123456789012:function:rotate",
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "LastRotatedDate": "2026-01-02T03:04:05+00:00",
    }
    sc = scope("http://127.0.0.1:9", region="us-east-1")
    asset = secretsmanager.normalize_secret(sc, entry, {"ARN": entry["ARN"]})
    assert {k: asset.attrs[k] for k in ("rotation_enabled", "rotation_days", "last_rotated_date",
                                        "resource_policy_present")} == {
        "rotation_enabled": True, "rotation_days": 30,
        "last_rotated_date": "2026-01-02T03:04:05+00:00", "resource_policy_present": False}
