"""aws.iam.* checks built on the evaluator: admin policies neutralised by a deny or a boundary,
cross-account trust, public resource policies, password policy, unused keys, inactive users,
admin users holding access keys."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, inventory
from support.checks import by_uid, only, run_one

from posture.model import Asset, Status

ARN = f"arn:aws:iam::{ACCOUNT}"
ADMIN_ARN = f"{ARN}:policy/admin"
BOUNDARY_ARN = f"{ARN}:policy/boundary"
STAR = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def managed(arn: str, document: Any, attachments: int = 1) -> Asset:
    return asset(
        "AWS::IAM::Policy",
        arn,
        region="global",
        arn=arn,
        policy_name=arn.split("/")[-1],
        aws_managed=False,
        default_version_id="v1",
        document=document,
        attachment_count=attachments,
    )


def user(name: str = "alice", **over: Any) -> Asset:
    attrs: dict[str, Any] = {
        "arn": f"{ARN}:user/{name}",
        "user_name": name,
        "has_console_password": False,
        "mfa_devices": [],
        "access_keys": [],
        "inline_policies": {},
        "attached_policy_arns": [],
        "group_names": [],
        "permissions_boundary_arn": None,
        "password_last_used": None,
        "create_date": "2025-01-01T00:00:00+00:00",
    }
    attrs.update(over)
    return asset("AWS::IAM::User", f"{ARN}:user/{name}", region="global", **attrs)


def role(name: str, trust: Any, **over: Any) -> Asset:
    attrs: dict[str, Any] = {
        "arn": f"{ARN}:role/{name}",
        "role_name": name,
        "path": "/",
        "trust_policy": trust,
        "inline_policies": {},
        "attached_policy_arns": [],
        "permissions_boundary_arn": None,
        "service_linked": False,
    }
    attrs.update(over)
    return asset("AWS::IAM::Role", f"{ARN}:role/{name}", region="global", **attrs)


ADMIN = "aws.iam.no_full_admin_customer_policies"


@pytest.mark.parametrize(
    ("holder", "extra", "expected"),
    [
        (user(attached_policy_arns=[ADMIN_ARN]), [], Status.FAIL),
        (
            user(
                attached_policy_arns=[ADMIN_ARN],
                inline_policies={
                    "deny": {
                        "Statement": [{"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}]
                    }
                },
            ),
            [],
            Status.PASS,
        ),
        (
            role(
                "capped",
                {},
                attached_policy_arns=[ADMIN_ARN],
                permissions_boundary_arn=BOUNDARY_ARN,
            ),
            [
                managed(
                    BOUNDARY_ARN,
                    {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
                    attachments=0,
                )
            ],
            Status.PASS,
        ),
    ],
    ids=["held", "neutralised-by-deny", "neutralised-by-boundary"],
)
def test_admin_policy_neutralised(holder: Asset, extra: list[Asset], expected: Status) -> None:
    findings = by_uid(run_one(ADMIN, inventory(managed(ADMIN_ARN, STAR), holder, *extra)))
    finding = findings[ADMIN_ARN]
    assert finding.status == expected, finding.message
    if expected == Status.PASS:
        assert finding.evidence["neutralised"][0]["principal"] == holder.uid


CROSS = "aws.iam.cross_account_trust_restricted"


def trust(principal: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}
        ]
    }


@pytest.mark.parametrize(
    ("policy", "params", "expected"),
    [
        (trust({"AWS": "arn:aws:iam::111122223333:root"}), {}, Status.FAIL),
        (trust({"AWS": "111122223333"}), {}, Status.FAIL),
        (
            trust(
                {"AWS": "arn:aws:iam::111122223333:root"},
                Condition={"StringEquals": {"sts:ExternalId": "abc"}},
            ),
            {},
            Status.PASS,
        ),
        (
            trust(
                {"AWS": "arn:aws:iam::111122223333:role/x"},
                Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
            ),
            {},
            Status.PASS,
        ),
        (
            trust(
                {"AWS": "arn:aws:iam::111122223333:root"},
                Condition={"StringEqualsIfExists": {"sts:ExternalId": "abc"}},
            ),
            {},
            Status.FAIL,
        ),
        (
            trust({"AWS": "arn:aws:iam::111122223333:root"}),
            {"trusted_accounts": ("111122223333",)},
            Status.PASS,
        ),
        (trust({"AWS": f"{ARN}:root"}), {}, Status.PASS),
        (trust({"Service": "ec2.amazonaws.com"}), {}, Status.PASS),
        (None, {}, Status.INCONCLUSIVE),
    ],
    ids=[
        "foreign-root",
        "foreign-id",
        "external-id",
        "org",
        "external-id-ifexists",
        "trusted-account",
        "same-account",
        "service",
        "unknown",
    ],
)
def test_cross_account_trust(policy: Any, params: dict[str, Any], expected: Status) -> None:
    finding = only(run_one(CROSS, inventory(role("r", policy)), **params))
    assert finding.status == expected, finding.message


PUBLIC = "aws.iam.resource_policies_not_public"
BUCKET = "arn:aws:s3:::b"


def bucket(
    policy: Any,
    present: bool | None = True,
    block: dict[str, bool] | None = None,
) -> Asset:
    return asset(
        "AWS::S3::Bucket",
        BUCKET,
        bucket_name="b",
        policy=policy,
        policy_present=present,
        public_access_block=block or {},
    )


def get_object(principal: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:GetObject",
                "Resource": f"{BUCKET}/*",
                **extra,
            }
        ]
    }


def key_open_to_any_account(action: str, **extra: Any) -> Asset:
    """A KMS key whose policy allows ``action`` to every AWS principal (``extra``: a condition)."""
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": action, "Resource": "*"}
    return asset(
        "AWS::KMS::Key",
        "arn:aws:kms:us-east-1:1:key/k",
        policy={"Statement": [{**statement, **extra}]},
    )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (bucket(get_object("*")), Status.FAIL),
        (bucket(get_object({"AWS": "arn:aws:iam::111122223333:root"})), Status.PASS),
        (
            bucket(get_object("*", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})),
            Status.PASS,
        ),
        (
            bucket(get_object("*", Condition={"StringEquals": {"s3:ExistingObjectTag/a": "b"}})),
            Status.INCONCLUSIVE,
        ),
        (bucket(get_object("*"), block={"RestrictPublicBuckets": True}), Status.PASS),
        (bucket(None, present=False), Status.PASS),
        (bucket(None, present=None), Status.INCONCLUSIVE),
        (key_open_to_any_account("kms:*"), Status.FAIL),
        (
            key_open_to_any_account(
                "kms:Decrypt", Condition={"StringEquals": {"kms:CallerAccount": ACCOUNT}}
            ),
            Status.PASS,
        ),
        (
            asset(
                "AWS::SecretsManager::Secret",
                "arn:aws:secretsmanager:us-east-1:1:secret:s",
                resource_policy={
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": "*",
                        }
                    ]
                },
                resource_policy_present=True,
            ),
            Status.FAIL,
        ),
    ],
    ids=[
        "bucket-public",
        "bucket-named",
        "bucket-vpce",
        "bucket-undecidable",
        "bucket-blocked",
        "bucket-no-policy",
        "bucket-unknown",
        "kms-public",
        "kms-caller-account",
        "secret-public",
    ],
)
def test_resource_policies_not_public(subject: Asset, expected: Status) -> None:
    finding = only(run_one(PUBLIC, inventory(subject)))
    assert finding.status == expected, finding.message
    if expected == Status.FAIL:
        assert finding.evidence["public_grants"][0]["access_levels"]


PASSWORD = "aws.iam.password_policy_strong"


def password_policy(**attrs: Any) -> Asset:
    return asset(
        "AWS::IAM::PasswordPolicy", f"{ARN}:account-password-policy", region="global", **attrs
    )


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        (
            {"present": True, "minimum_password_length": 14, "password_reuse_prevention": 24},
            Status.PASS,
        ),
        (
            {"present": True, "minimum_password_length": 8, "password_reuse_prevention": 24},
            Status.FAIL,
        ),
        (
            {"present": True, "minimum_password_length": 16, "password_reuse_prevention": None},
            Status.FAIL,
        ),
        ({"present": False}, Status.FAIL),
        ({"present": None}, Status.INCONCLUSIVE),
    ],
    ids=["strong", "short", "no-reuse-prevention", "absent", "unknown"],
)
def test_password_policy_strong(attrs: dict[str, Any], expected: Status) -> None:
    assert only(run_one(PASSWORD, inventory(password_policy(**attrs)))).status == expected


# the scan finished 2026-01-01T00:00:01Z (support.model.FINISHED)
def key(created: str, used: str | None, status: str = "Active") -> dict[str, Any]:
    return {
        "access_key_id": "AKIA1",
        "status": status,
        "create_date": created,
        "last_used_date": used,
        "last_used_service": "s3" if used else None,
    }


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([key("2025-06-01T00:00:00Z", "2025-12-20T00:00:00Z")], Status.PASS),
        ([key("2025-06-01T00:00:00Z", None)], Status.FAIL),
        ([key("2025-12-30T00:00:00Z", None)], Status.PASS),  # within the grace period
        ([key("2025-01-01T00:00:00Z", "2025-08-01T00:00:00Z")], Status.FAIL),
        ([key("2025-01-01T00:00:00Z", None, status="Inactive")], Status.PASS),
        (None, Status.INCONCLUSIVE),
    ],
    ids=["recent", "never-used", "new-unused", "stale", "inactive", "unknown"],
)
def test_access_keys_in_use(keys: Any, expected: Status) -> None:
    finding = only(run_one("aws.iam.access_keys_in_use", inventory(user(access_keys=keys))))
    assert finding.status == expected, finding.message


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"has_console_password": True, "password_last_used": "2025-12-01T00:00:00Z"}, Status.PASS),
        ({"has_console_password": True, "password_last_used": "2025-03-01T00:00:00Z"}, Status.FAIL),
        ({"has_console_password": True}, Status.FAIL),  # never signed in, created a year ago
        ({"access_keys": [key("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z")]}, Status.FAIL),
        ({"access_keys": [key("2025-01-01T00:00:00Z", "2025-12-31T00:00:00Z")]}, Status.PASS),
        ({"has_console_password": True, "create_date": "2025-12-15T00:00:00Z"}, Status.PASS),
        ({}, Status.PASS),
        ({"access_keys": None}, Status.INCONCLUSIVE),
    ],
    ids=[
        "recent-login",
        "old-login",
        "never-login",
        "stale-key",
        "recent-key",
        "new-user",
        "no-credentials",
        "unknown",
    ],
)
def test_inactive_users_have_no_credentials(over: dict[str, Any], expected: Status) -> None:
    finding = only(run_one("aws.iam.inactive_users_have_no_credentials", inventory(user(**over))))
    assert finding.status == expected, finding.message


@pytest.mark.parametrize(
    ("keys", "attached", "expected"),
    [
        ([key("2025-12-01T00:00:00Z", None)], [ADMIN_ARN], Status.FAIL),
        ([key("2025-12-01T00:00:00Z", None, status="Inactive")], [ADMIN_ARN], Status.PASS),
        ([key("2025-12-01T00:00:00Z", None)], [], Status.PASS),
        (None, [ADMIN_ARN], Status.INCONCLUSIVE),
    ],
    ids=["admin-with-key", "admin-inactive-key", "key-not-admin", "keys-unknown"],
)
def test_admin_users_have_no_access_keys(
    keys: Any,
    attached: list[str],
    expected: Status,
) -> None:
    inv = inventory(managed(ADMIN_ARN, STAR), user(access_keys=keys, attached_policy_arns=attached))
    finding = by_uid(run_one("aws.iam.admin_users_have_no_access_keys", inv))[f"{ARN}:user/alice"]
    assert finding.status == expected, finding.message
    if expected == Status.FAIL:
        assert finding.evidence["path"] == "alice -[admin-policy]-> ADMIN"


def test_users_not_admin_equivalent_names_the_path() -> None:
    inv = inventory(managed(ADMIN_ARN, STAR), user(attached_policy_arns=[ADMIN_ARN]), user("bob"))
    findings = by_uid(run_one("aws.iam.users_not_admin_equivalent", inv))
    assert findings[f"{ARN}:user/alice"].status == Status.FAIL
    assert findings[f"{ARN}:user/bob"].status == Status.PASS
    steps = findings[f"{ARN}:user/alice"].evidence["steps"]
    assert steps[0]["grants"][0]["allowed_by"][0]["policy"] == ADMIN_ARN
