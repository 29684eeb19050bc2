"""aws.iam.*: admin policies, public role trust, console MFA, root, access key age."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory
from support.cases import named
from support.checks import by_uid, only, run_one

from posture.model import Asset, Status

ADMIN = "aws.iam.no_full_admin_customer_policies"
TRUST = "aws.iam.role_trust_not_public"
CONSOLE_MFA = "aws.iam.console_users_have_mfa"
ROOT_MFA = "aws.iam.root_mfa_enabled"
ROOT_KEYS = "aws.iam.root_has_no_access_keys"
KEYS = "aws.iam.access_keys_rotated"

POLICY_UID = f"arn:aws:iam::{ACCOUNT}:policy/p"
USER_UID = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE_UID = f"arn:aws:iam::{ACCOUNT}:role/r"
SUMMARY_UID = f"arn:aws:iam::{ACCOUNT}:account-summary"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any = None, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", **extra}
    if action is not None:
        stmt["Action"] = action
    if resource is not None:
        stmt["Resource"] = resource
    return stmt


def policy(document: Any, attachments: int = 1, aws_managed: bool = False) -> Asset:
    return asset("AWS::IAM::Policy", POLICY_UID, arn=POLICY_UID, policy_name="p",
                 aws_managed=aws_managed, default_version_id="v1", document=document,
                 attachment_count=attachments)


ADMIN_CASES = [
    ("action-star", doc(allow("*")), Status.FAIL),
    ("action-star-star", doc(allow(["s3:GetObject", "*:*"])), Status.FAIL),
    ("single-statement-dict", {"Statement": allow("*")}, Status.FAIL),
    ("notaction-on-star", doc(allow(None, "*", NotAction=["iam:*"])), Status.FAIL),
    ("notresource-everything-but-one", doc(allow("*", None, NotResource="arn:aws:s3:::x")),
     Status.FAIL),
    ("star-with-mfa-condition",
     doc(allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})), Status.FAIL),
    ("star-on-one-bucket", doc(allow("*", "arn:aws:s3:::b/*")), Status.PASS),
    ("service-wildcard", doc(allow("s3:*")), Status.PASS),
    ("deny-star", doc({"Effect": "Deny", "Action": "*", "Resource": "*"}), Status.PASS),
    ("notaction-star-allows-nothing", doc(allow(None, "*", NotAction="*")), Status.PASS),
    ("document-unknown", None, Status.INCONCLUSIVE),
]


@pytest.mark.parametrize(("document", "expected"), named(ADMIN_CASES))
def test_admin_managed_policy(document: Any, expected: Status) -> None:
    finding = only(run_one(ADMIN, inventory(policy(document))))
    assert finding.status == expected, finding.message
    if expected == Status.FAIL:
        assert finding.evidence["admin_statements"][0]["statement"]["Effect"] == "Allow"


def test_unattached_admin_policy_passes_with_evidence() -> None:
    finding = only(run_one(ADMIN, inventory(policy(doc(allow("*")), attachments=0))))
    assert finding.status == Status.PASS
    assert "not attached" in finding.message and finding.evidence["admin_statements"]


def test_aws_managed_policies_are_not_judged() -> None:
    assert run_one(ADMIN, inventory(policy(doc(allow("*")), aws_managed=True))) == []


def user(**over: Any) -> Asset:
    attrs: dict[str, Any] = {
        "arn": USER_UID, "user_name": "alice", "has_console_password": True,
        "mfa_devices": ["arn:aws:iam::1:mfa/alice"], "access_keys": [],
        "inline_policies": {}, "attached_policy_arns": [], "password_last_used": None
    }
    attrs.update(over)
    return asset("AWS::IAM::User", USER_UID, region="global", **attrs)


def role(trust: Any = None, **over: Any) -> Asset:
    attrs: dict[str, Any] = {
        "arn": ROLE_UID, "role_name": "r", "path": "/", "trust_policy": trust,
        "inline_policies": {}, "attached_policy_arns": [], "service_linked": False
    }
    attrs.update(over)
    return asset("AWS::IAM::Role", ROLE_UID, region="global", **attrs)


@pytest.mark.parametrize(("principal", "inline", "expected"), [
    (user, {"ok": doc(allow("s3:GetObject"))}, Status.PASS),
    (user, {"god": doc(allow("*"))}, Status.FAIL),
    (role, {"power": doc(allow(None, "*", NotAction=["iam:*", "organizations:*"]))}, Status.FAIL),
    (user, None, Status.INCONCLUSIVE),
], ids=["user-narrow", "user-inline-admin", "role-inline-notaction", "user-policies-unknown"])
def test_admin_inline_policies(principal: Any, inline: Any, expected: Status) -> None:
    subject = principal(inline_policies=inline, trust_policy=doc())
    finding = only(run_one(ADMIN, inventory(subject)))
    assert finding.status == expected
    if expected == Status.FAIL:
        assert finding.evidence["admin_statements"][0]["policy"] in inline


def test_admin_inline_policy_gap_is_inconclusive() -> None:
    gap = collection_error("iam", "ListUserPolicies", ("AWS::IAM::User#policies",), region="",
                           resource_uid=USER_UID)
    finding = only(run_one(ADMIN, inventory(user(), errors=(gap,))))
    assert finding.status == Status.INCONCLUSIVE


def assume(principal: Any, action: Any = "sts:AssumeRole", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


TRUST_CASES = [
    ("named-account", doc(assume({"AWS": "arn:aws:iam::111122223333:root"})), Status.PASS),
    ("service", doc(assume({"Service": "ec2.amazonaws.com"})), Status.PASS),
    ("star", doc(assume("*")), Status.FAIL),
    ("aws-star", doc(assume({"AWS": "*"})), Status.FAIL),
    ("aws-star-in-list", doc(assume({"AWS": ["arn:aws:iam::111122223333:root", "*"]})),
     Status.FAIL),
    ("sts-wildcard-action", doc(assume({"AWS": "*"}, "sts:*")), Status.FAIL),
    ("web-identity-star", doc(assume("*", "sts:AssumeRoleWithWebIdentity")), Status.FAIL),
    ("not-principal", doc({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
                           "Action": "sts:AssumeRole"}), Status.FAIL),
    ("star-with-org-condition",
     doc(assume("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})),
     Status.PASS),
    ("star-with-org-condition-ifexists",
     doc(assume("*", Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}})),
     Status.INCONCLUSIVE),
    ("star-with-negated-condition",
     doc(assume("*", Condition={"StringNotEquals": {"aws:PrincipalAccount": "444455556666"}})),
     Status.INCONCLUSIVE),
    ("star-with-wildcard-value",
     doc(assume("*", Condition={"StringLike": {"aws:PrincipalArn": "*"}})), Status.INCONCLUSIVE),
    ("star-with-external-id-only",
     doc(assume("*", Condition={"StringEquals": {"sts:ExternalId": "x"}})), Status.INCONCLUSIVE),
    ("star-tag-session-only", doc(assume("*", "sts:TagSession")), Status.PASS),
    ("deny-star", doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}),
     Status.PASS),
    ("trust-unknown", None, Status.INCONCLUSIVE),
]


@pytest.mark.parametrize(("trust", "expected"), named(TRUST_CASES))
def test_role_trust(trust: Any, expected: Status) -> None:
    finding = only(run_one(TRUST, inventory(role(trust))))
    assert finding.status == expected, finding.message


def test_role_policy_detail_failure_does_not_touch_trust_verdict() -> None:
    gap = collection_error("iam", "ListRolePolicies", ("AWS::IAM::Role#policies",), region="",
                           resource_uid=ROLE_UID)
    inv = inventory(role(doc(assume({"Service": "ec2.amazonaws.com"}))), errors=(gap,))
    assert only(run_one(TRUST, inv)).status == Status.PASS


def test_role_listing_failure_makes_trust_inconclusive() -> None:
    gap = collection_error("iam", "ListRoles", ("AWS::IAM::Role",), region="")
    inv = inventory(role(doc(assume({"Service": "ec2.amazonaws.com"}))), errors=(gap,))
    assert by_uid(run_one(TRUST, inv))[ROLE_UID].status == Status.INCONCLUSIVE


@pytest.mark.parametrize(("console", "devices", "expected"), [
    (True, ["arn:aws:iam::1:mfa/alice"], Status.PASS),
    (True, [], Status.FAIL),
    (False, [], Status.PASS),
    (None, [], Status.INCONCLUSIVE),
    (True, None, Status.INCONCLUSIVE),
], ids=["console-with-mfa", "console-without-mfa", "no-console-no-mfa", "console-unknown",
        "mfa-unknown"])
def test_console_users_have_mfa(console: bool | None, devices: Any, expected: Status) -> None:
    finding = only(run_one(CONSOLE_MFA, inventory(user(has_console_password=console,
                                                       mfa_devices=devices))))
    assert finding.status == expected


def summary(**values: int) -> Asset:
    return asset("AWS::IAM::AccountSummary", SUMMARY_UID, region="global", summary=values)


@pytest.mark.parametrize(("check_id", "values", "expected"), [
    (ROOT_MFA, {"AccountMFAEnabled": 1}, Status.PASS),
    (ROOT_MFA, {"AccountMFAEnabled": 0}, Status.FAIL),
    (ROOT_MFA, {}, Status.INCONCLUSIVE),
    (ROOT_KEYS, {"AccountAccessKeysPresent": 0}, Status.PASS),
    (ROOT_KEYS, {"AccountAccessKeysPresent": 1}, Status.FAIL),
    (ROOT_KEYS, {}, Status.INCONCLUSIVE),
])
def test_root_account_summary(check_id: str, values: dict[str, int], expected: Status) -> None:
    finding = only(run_one(check_id, inventory(summary(**values))))
    assert finding.status == expected
    assert finding.resource_uid == SUMMARY_UID


@pytest.mark.parametrize("check_id", [ROOT_MFA, ROOT_KEYS])
def test_root_summary_not_collected_is_inconclusive_for_the_account(check_id: str) -> None:
    finding = only(run_one(check_id, inventory()))
    assert finding.status == Status.INCONCLUSIVE
    assert finding.resource_uid == ACCOUNT


# the scan finished at support.model.FINISHED (2026-01-01T00:00:01Z); ages count from there
def key(created: str | None, status: str = "Active") -> dict[str, Any]:
    return {"access_key_id": "AKIA1", "status": status, "create_date": created,
            "last_used_date": None, "last_used_service": None}


@pytest.mark.parametrize(("keys", "params", "expected"), [
    ([], {}, Status.PASS),
    ([key("2025-12-01T00:00:00+00:00")], {}, Status.PASS),
    ([key("2025-10-03T00:00:02+00:00")], {}, Status.PASS),  # 89 days old
    ([key("2025-09-01T00:00:00+00:00")], {}, Status.FAIL),
    ([key("2025-09-01T00:00:00Z", status="Inactive")], {}, Status.PASS),
    ([key("2025-12-01T00:00:00+00:00")], {"max_age_days": 14}, Status.FAIL),
    ([key(None)], {}, Status.INCONCLUSIVE),
    (None, {}, Status.INCONCLUSIVE),
], ids=["no-keys", "young", "89-days", "old", "old-but-inactive", "custom-limit", "undated",
        "keys-unknown"])
def test_access_keys_rotated(keys: Any, params: dict[str, Any], expected: Status) -> None:
    finding = only(run_one(KEYS, inventory(user(access_keys=keys)), **params))
    assert finding.status == expected, finding.message


def test_access_key_age_uses_scan_time() -> None:
    finding = only(run_one(KEYS, inventory(user(access_keys=[key("2025-09-01T00:00:00Z")]))))
    assert finding.evidence["stale_keys"][0]["age_days"] == 122
