"""IAM collector against the moto server: users (console password, MFA, keys, groups, inline
policies), groups, roles (trust policy), managed policies, password policy and account summary,
and real AccessDenied answers from moto's IAM enforcement."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest
from support.aws import client, reset_moto
from support.collect import AUDITOR, by_uid, collected_denied, error_keys, scope

from posture.collectors.aws import iam, iam_account
from posture.collectors.aws.base import parse_policy
from posture.snapshot import jsonable

ACCT = "123456789012"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
S3_READ = f"arn:aws:iam::{ACCT}:policy/s3-read"
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
DENY_BILLING = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "aws-portal:*", "Resource": "*"}]}
OWN_KEYS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:*AccessKey*",
     "Resource": f"arn:aws:iam::{ACCT}:user/${{aws:username}}"}]}
S3_READ_V1 = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
S3_READ_V2 = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
                             "Resource": "*"}]}


@pytest.fixture
def aws_managed_policies(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto with the AWS-managed policies loaded (the server runs in this process)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    return reset_moto(moto_endpoint)


def _doc(policy: dict[str, Any]) -> str:
    return json.dumps(policy)


def _seed(endpoint: str, aws_managed: bool = True) -> None:
    c = client("iam", endpoint)
    c.create_policy(PolicyName="s3-read", PolicyDocument=_doc(S3_READ_V1))
    c.create_policy_version(PolicyArn=S3_READ, PolicyDocument=_doc(S3_READ_V2),
                            SetAsDefault=True)
    c.create_group(GroupName="admins")
    c.put_group_policy(GroupName="admins", PolicyName="deny-billing",
                       PolicyDocument=_doc(DENY_BILLING))
    c.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "platform"}])
    c.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    c.create_access_key(UserName="alice")
    c.add_user_to_group(GroupName="admins", UserName="alice")
    c.put_user_policy(UserName="alice", PolicyName="own-keys", PolicyDocument=_doc(OWN_KEYS))
    c.attach_user_policy(UserName="alice", PolicyArn=S3_READ)
    c.create_user(UserName="bob")
    device = c.create_virtual_mfa_device(VirtualMFADeviceName="bob")["VirtualMFADevice"]
    c.enable_mfa_device(UserName="bob", SerialNumber=device["SerialNumber"],
                        AuthenticationCode1="123456", AuthenticationCode2="654321")
    c.create_role(RoleName="app", AssumeRolePolicyDocument=_doc(TRUST_EC2),
                  PermissionsBoundary=S3_READ, Tags=[{"Key": "svc", "Value": "app"}])
    c.put_role_policy(RoleName="app", PolicyName="read-own", PolicyDocument=_doc(S3_READ_V1))
    c.attach_role_policy(RoleName="app", PolicyArn=S3_READ)
    if aws_managed:
        c.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
        c.attach_role_policy(RoleName="app", PolicyArn=READ_ONLY)


def _user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCT}:user/{name}"


def _listed(endpoint: str, name: str) -> dict[str, Any]:
    return {u["UserName"]: u for u in client("iam", endpoint).list_users()["Users"]}[name]


def test_users_groups_roles_and_managed_policies(aws_managed_policies: str) -> None:
    endpoint = aws_managed_policies
    _seed(endpoint)
    sc = scope(endpoint)
    assets = by_uid(iam.collect(sc))
    assert sc.errors == []

    alice = assets[_user_arn("alice")]
    key = client("iam", endpoint).list_access_keys(UserName="alice")["AccessKeyMetadata"][0]
    listed = _listed(endpoint, "alice")
    assert (alice.type, alice.region, alice.name, dict(alice.tags)) == (
        iam.USER, "global", "alice", {"team": "platform"})
    assert alice.attrs == {
        "arn": _user_arn("alice"),
        "user_name": "alice",
        "user_id": listed["UserId"],
        "create_date": jsonable(listed["CreateDate"]),
        "password_last_used": None,
        "has_console_password": True,
        "mfa_devices": [],
        "access_keys": [{"access_key_id": key["AccessKeyId"], "status": "Active",
                         "create_date": jsonable(key["CreateDate"]), "last_used_date": None,
                         "last_used_service": None}],
        "group_names": ["admins"],
        "attached_policy_arns": [S3_READ],
        "inline_policies": {"own-keys": OWN_KEYS},
        "permissions_boundary_arn": None,
    }
    bob = assets[_user_arn("bob")].attrs
    assert (bob["has_console_password"], bob["mfa_devices"], bob["access_keys"]) == (
        False, [f"arn:aws:iam::{ACCT}:mfa/bob"], [])

    group = assets[f"arn:aws:iam::{ACCT}:group/admins"]
    assert (group.type, group.name) == (iam.GROUP, "admins")
    assert group.attrs == {
        "arn": f"arn:aws:iam::{ACCT}:group/admins",
        "group_name": "admins",
        "attached_policy_arns": [ADMIN],
        "inline_policies": {"deny-billing": DENY_BILLING},
        "member_user_names": ["alice"],
    }

    role = assets[f"arn:aws:iam::{ACCT}:role/app"]
    assert (role.type, role.name, dict(role.tags)) == (iam.ROLE, "app", {"svc": "app"})
    assert role.attrs == {
        "arn": f"arn:aws:iam::{ACCT}:role/app",
        "role_name": "app",
        "path": "/",
        "trust_policy": TRUST_EC2,
        "attached_policy_arns": sorted([S3_READ, READ_ONLY]),
        "inline_policies": {"read-own": S3_READ_V1},
        "permissions_boundary_arn": S3_READ,
        "last_used_date": None,
        "max_session_duration": 3600,
        "service_linked": False,
    }

    policies = {uid: a for uid, a in assets.items() if a.type == iam_account.POLICY}
    assert sorted(policies) == sorted([ADMIN, READ_ONLY, S3_READ])  # unattached AWS ones left out
    s3_read = policies[S3_READ].attrs
    assert s3_read == {
        "arn": S3_READ,
        "policy_name": "s3-read",
        "aws_managed": False,
        "default_version_id": "v2",
        "document": S3_READ_V2,
        "attachment_count": 2,
    }
    admin = policies[ADMIN].attrs
    assert (admin["aws_managed"], admin["attachment_count"]) == (True, 1)
    assert admin["document"]["Statement"][0]["Action"] == "*"


def test_password_policy_absent_then_present_and_account_summary(moto_endpoint: str) -> None:
    uid = f"arn:aws:iam::{ACCT}:account-password-policy"
    absent = by_uid(iam.collect(scope(moto_endpoint)))[uid]
    assert absent.type == iam_account.PASSWORD_POLICY
    assert absent.attrs == {"present": False, **dict.fromkeys(
        ("minimum_password_length", "require_symbols", "require_numbers",
         "require_uppercase_characters", "require_lowercase_characters",
         "allow_users_to_change_password", "expire_passwords", "max_password_age",
         "password_reuse_prevention", "hard_expiry"))}

    client("iam", moto_endpoint).update_account_password_policy(
        MinimumPasswordLength=14, RequireSymbols=True, RequireNumbers=True,
        RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True, MaxPasswordAge=90, PasswordReusePrevention=24,
        HardExpiry=False)
    assets = by_uid(iam.collect(scope(moto_endpoint)))
    assert assets[uid].attrs == {
        "present": True, "minimum_password_length": 14, "require_symbols": True,
        "require_numbers": True, "require_uppercase_characters": True,
        "require_lowercase_characters": True, "allow_users_to_change_password": True,
        "expire_passwords": True, "max_password_age": 90, "password_reuse_prevention": 24,
        "hard_expiry": False,
    }
    summary = assets[f"arn:aws:iam::{ACCT}:account-summary"]
    assert summary.type == iam_account.ACCOUNT_SUMMARY
    assert (summary.attrs["summary"]["AccountMFAEnabled"], summary.attrs["summary"]["Users"]) == (
        0, 0)


def test_denied_calls_are_recorded_per_principal(moto_endpoint: str) -> None:
    _seed(moto_endpoint, aws_managed=False)
    assets, sc = collected_denied(iam, moto_endpoint, "iam:ListMFADevices", "iam:GetRole")

    role_arn = f"arn:aws:iam::{ACCT}:role/app"
    role_facets = ("AWS::IAM::Role#policies", "AWS::IAM::Role#last_used", "AWS::IAM::Role#tags")
    assert error_keys(sc.errors) == {
        *(("global", "iam", "ListMFADevices", "AccessDenied", ("AWS::IAM::User#mfa",),
           _user_arn(name)) for name in ("alice", "bob", AUDITOR)),
        ("global", "iam", "GetRole", "AccessDenied", role_facets, role_arn),
    }
    alice = assets[_user_arn("alice")].attrs
    assert alice["mfa_devices"] is None  # unknown, not "no MFA"
    assert (alice["has_console_password"], alice["group_names"]) == (True, ["admins"])
    role = assets[role_arn].attrs
    assert (role["permissions_boundary_arn"], role["last_used_date"]) == (None, None)
    assert (role["trust_policy"], role["inline_policies"]) == (TRUST_EC2, {"read-own": S3_READ_V1})
    assert dict(assets[role_arn].tags) == {}


def test_denied_user_listing_names_the_type(moto_endpoint: str) -> None:
    _seed(moto_endpoint, aws_managed=False)
    denied = ("iam:ListUsers", "iam:GetAccountPasswordPolicy")
    assets, sc = collected_denied(iam, moto_endpoint, *denied)

    policy_uid = f"arn:aws:iam::{ACCT}:account-password-policy"
    assert error_keys(sc.errors) == {
        ("global", "iam", "ListUsers", "AccessDenied", ("AWS::IAM::User",), None),
        ("global", "iam", "GetAccountPasswordPolicy", "AccessDenied",
         ("AWS::IAM::PasswordPolicy",), policy_uid),
    }
    assert not [a for a in assets.values() if a.type == iam.USER]
    assert assets[policy_uid].attrs["present"] is None  # unknown, not "no policy"
    assert f"arn:aws:iam::{ACCT}:role/app" in assets


def test_parse_policy_accepts_every_shape_aws_returns() -> None:
    assert parse_policy(None) is None
    assert parse_policy(TRUST_EC2) == TRUST_EC2
    assert parse_policy(json.dumps(TRUST_EC2)) == TRUST_EC2
    assert parse_policy(urllib.parse.quote(json.dumps(TRUST_EC2))) == TRUST_EC2  # IAM raw form
    assert parse_policy("not json") == {"Unparsed": "not json"}
