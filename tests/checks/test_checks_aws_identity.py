"""aws.identity.*: SSO for people (the break-glass trap), root use and hardware MFA, MFA on
admin access, permissions through groups, session durations and standing admin assignments."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory
from support.checks import by_uid, only, run_one
from support.iam import ARN, allow, doc, group, managed, role, trust, user
from support.identity import (
    ROOT_ARN,
    assignment,
    oidc_provider,
    permission_set,
    root_user,
    saml_provider,
    sso_instance,
)

from posture.model import Asset, Status

SSO = "aws.identity.humans_sign_in_through_sso"
ROOT_UNUSED = "aws.identity.root_user_unused"
ROOT_HW = "aws.identity.root_hardware_mfa"
MFA = "aws.identity.admin_access_requires_mfa"
GROUPS = "aws.identity.permissions_through_groups_or_roles"
SESSION = "aws.identity.admin_session_duration_limited"
STANDING = "aws.identity.no_standing_admin_assignments"

ADMIN = allow("*")
MFA_TRUE = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def console(name: str, tags: dict[str, str] | None = None, **attrs: Any) -> Asset:
    u = user(name)
    return replace(u, tags=tags or {}, attrs={**u.attrs, "has_console_password": True, **attrs})


# --- people through SSO ------------------------------------------------------------------------


@pytest.mark.parametrize(("providers", "expected", "severity"), [
    ((sso_instance(),), Status.FAIL, "high"),
    ((saml_provider(),), Status.FAIL, "high"),
    ((oidc_provider("login.example.com/oauth2"),), Status.FAIL, "high"),
    ((oidc_provider("token.actions.githubusercontent.com"),), Status.FAIL, "medium"),
    ((), Status.FAIL, "medium"),
], ids=["identity-center", "saml", "workforce-oidc", "only-ci-oidc", "no-sso"])
def test_console_user_fails_named(providers: tuple[Asset, ...], expected: Status,
                                  severity: str) -> None:
    found = by_uid(run_one(SSO, inventory(console("alice"), *providers)))
    f = found[f"{ARN}:user/alice"]
    assert f.status == expected and f.severity.label == severity, f.message
    assert "alice" in f.message


def test_unread_sso_listing_does_not_claim_the_account_has_no_sso() -> None:
    """Identity Center could not be listed: the password user still FAILs (at the check's own
    severity), but the finding says SSO is unknown rather than absent."""
    gap = collection_error("sso", "ListInstances", ("AWS::SSO::Instance",))
    f = by_uid(run_one(SSO, inventory(console("alice"), errors=(gap,))))[f"{ARN}:user/alice"]
    assert f.status == Status.FAIL and f.severity.label == "high"
    assert "whether the account has SSO is unknown" in f.message
    assert "no SSO provider" not in f.message


def test_break_glass_user_documented_by_tag_passes_with_a_note() -> None:
    # the trap: a deliberate emergency user is not a person bypassing SSO
    glass = console("break-glass", tags={"posture:break-glass": "true"})
    f = only(run_one(SSO, inventory(glass, sso_instance())))
    assert f.status == Status.PASS and "break-glass" in f.message


def test_break_glass_tag_must_say_true_and_is_configurable() -> None:
    wrong = console("ops", tags={"posture:break-glass": "no"})
    assert only(run_one(SSO, inventory(wrong, sso_instance()))).status == Status.FAIL
    custom = console("ops", tags={"BreakGlass": "TRUE"})
    f = only(run_one(SSO, inventory(custom, sso_instance()), break_glass_tag="BreakGlass"))
    assert f.status == Status.PASS


def test_users_without_password_pass_and_unknown_is_inconclusive() -> None:
    blank = user("ci")
    unknown = replace(user("u"), attrs={**user("u").attrs, "has_console_password": None})
    found = by_uid(run_one(SSO, inventory(blank, unknown, sso_instance())))
    assert found[f"{ARN}:user/ci"].status == Status.PASS
    assert found[f"{ARN}:user/u"].status == Status.INCONCLUSIVE


def test_failed_identity_center_lookup_makes_a_pass_inconclusive() -> None:
    err = collection_error("sso-admin", "ListInstances", ("AWS::SSO::Instance",), region="global")
    findings = run_one(SSO, inventory(user("ci"), errors=(err,)))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}


# --- root -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("root", "expected"), [
    (root_user(password_last_used="2025-12-20T10:00:00+00:00"), Status.FAIL),
    (root_user(keys=[{"active": True, "last_used_date": "2025-12-31T00:00:00+00:00"}]),
     Status.FAIL),
    (root_user(password_last_used="2025-06-01T10:00:00+00:00"), Status.PASS),
    (root_user(), Status.PASS),
    (root_user(in_report=False), Status.INCONCLUSIVE),
    (root_user(in_report=None), Status.INCONCLUSIVE),
], ids=["password-recent", "key-recent", "password-old", "never", "no-row", "no-report"])
def test_root_user_unused(root: Asset, expected: Status) -> None:
    assert only(run_one(ROOT_UNUSED, inventory(root))).status == expected


def test_root_unused_window_is_configurable() -> None:
    root = root_user(password_last_used="2025-12-20T10:00:00+00:00")
    assert only(run_one(ROOT_UNUSED, inventory(root), unused_days=7)).status == Status.PASS


def summary(mfa: int) -> Asset:
    uid = f"{ARN}:account-summary"
    return asset("AWS::IAM::AccountSummary", uid, region="global",
                 summary={"AccountMFAEnabled": mfa})


@pytest.mark.parametrize(("assets", "expected"), [
    ((root_user(mfa_active=True, virtual=[]),), Status.PASS),
    ((root_user(mfa_active=True, virtual=[f"{ARN}:mfa/root-account-mfa-device"]),), Status.FAIL),
    ((root_user(mfa_active=False),), Status.FAIL),
    ((root_user(in_report=False, mfa_active=None), summary(1)), Status.PASS),
    ((root_user(in_report=False, mfa_active=None), summary(0)), Status.FAIL),
    ((root_user(in_report=False, mfa_active=None),), Status.INCONCLUSIVE),
    ((root_user(mfa_active=True, virtual=None),), Status.INCONCLUSIVE),
], ids=["hardware", "virtual", "none", "summary-hardware", "summary-none", "unknown",
        "type-unknown"])
def test_root_hardware_mfa(assets: tuple[Asset, ...], expected: Status) -> None:
    f = by_uid(run_one(ROOT_HW, inventory(*assets)))[ROOT_ARN]
    assert f.status == expected, f.message


def test_root_hardware_mfa_inconclusive_when_devices_not_listed() -> None:
    err = collection_error("iam", "ListVirtualMFADevices", ("AWS::IAM::RootUser#mfa_type",),
                           region="global")
    findings = run_one(ROOT_HW, inventory(root_user(), errors=(err,)))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}


# --- MFA on admin access -------------------------------------------------------------------------


ACCOUNT_ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def mfa_trust(principal: dict[str, Any], condition: dict[str, Any] | None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return doc(stmt)


SAML_TRUST = doc({"Effect": "Allow", "Principal": {"Federated": f"{ARN}:saml-provider/okta"},
                  "Action": "sts:AssumeRoleWithSAML"})
DENY_NO_MFA = {"Effect": "Deny", "Action": "*", "Resource": "*",
               "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}


@pytest.mark.parametrize(("trust_policy", "statements", "expected"), [
    (mfa_trust(ACCOUNT_ROOT, None), (ADMIN,), Status.FAIL),
    (mfa_trust({"AWS": f"{ARN}:user/alice"}, None), (ADMIN,), Status.FAIL),
    (mfa_trust(ACCOUNT_ROOT, MFA_TRUE), (ADMIN,), Status.PASS),
    (mfa_trust(ACCOUNT_ROOT, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}),
     (ADMIN,), Status.FAIL),
    (mfa_trust(ACCOUNT_ROOT, {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}),
     (ADMIN,), Status.PASS),
    (mfa_trust(ACCOUNT_ROOT, None), (ADMIN, DENY_NO_MFA), Status.PASS),
    (SAML_TRUST, (ADMIN,), Status.PASS),
    (trust({"Service": "ec2.amazonaws.com"}), (ADMIN,), Status.PASS),
], ids=["account-no-mfa", "user-no-mfa", "mfa", "ifexists-is-not-mfa", "mfa-age",
        "deny-without-mfa", "saml-only", "service"])
def test_admin_role_requires_mfa(trust_policy: dict[str, Any], statements: tuple[Any, ...],
                                 expected: Status) -> None:
    r = role("admin", trust_policy, *statements)
    f = only(run_one(MFA, inventory(r)))
    assert f.status == expected, f.message


def test_non_admin_roles_are_not_judged_and_unknown_trust_is_inconclusive() -> None:
    small = role("reader", mfa_trust(ACCOUNT_ROOT, None), allow("s3:GetObject"))
    assert run_one(MFA, inventory(small)) == []
    r = role("admin", mfa_trust(ACCOUNT_ROOT, None), ADMIN)
    blind = replace(r, attrs={**r.attrs, "trust_policy": None})
    assert only(run_one(MFA, inventory(blind))).status == Status.INCONCLUSIVE


def test_admin_permission_set_is_reached_through_sso() -> None:
    f = only(run_one(MFA, inventory(permission_set("Admin", doc(ADMIN)))))
    assert f.status == Status.PASS and "SSO" in f.message


# --- permissions through groups -----------------------------------------------------------------


def test_permissions_through_groups_or_roles() -> None:
    p = managed("reports", allow("s3:GetObject"))
    direct = user("dana", policies=(p.uid,))
    inline = user("eve", allow("s3:ListBucket"))
    member = user("frank", groups=("readers",))
    blind = replace(user("gil"), attrs={**user("gil").attrs, "inline_policies": None})
    found = by_uid(run_one(GROUPS, inventory(p, direct, inline, member, group("readers"), blind)))
    assert found[direct.uid].status == Status.FAIL and "reports" in found[direct.uid].message
    assert found[inline.uid].status == Status.FAIL and "(inline)" in found[inline.uid].message
    assert found[member.uid].status == Status.PASS
    assert found[blind.uid].status == Status.INCONCLUSIVE


# --- session durations ------------------------------------------------------------------------


@pytest.mark.parametrize(("inline", "seconds", "expected"), [
    (doc(ADMIN), 12 * 3600, Status.FAIL),
    (doc(ADMIN), 3600, Status.PASS),
    (doc(allow("s3:GetObject")), 12 * 3600, Status.PASS),
    (doc(ADMIN), None, Status.INCONCLUSIVE),
], ids=["admin-12h", "admin-1h", "reader-12h", "unknown"])
def test_permission_set_session_duration(inline: dict[str, Any], seconds: int | None,
                                         expected: Status) -> None:
    ps = permission_set("Set", inline, seconds=seconds)
    f = only(run_one(SESSION, inventory(ps)))
    assert f.status == expected, f.message


def test_session_limits_are_configurable_and_roles_judged_when_people_assume_them() -> None:
    ps = permission_set("Reader", doc(allow("s3:GetObject")), seconds=10 * 3600)
    assert only(run_one(SESSION, inventory(ps), max_hours=8)).status == Status.FAIL
    r = role("admin", mfa_trust(ACCOUNT_ROOT, MFA_TRUE), ADMIN)
    long = replace(r, attrs={**r.attrs, "max_session_duration": 43200})
    service = role("svc", trust({"Service": "ec2.amazonaws.com"}), ADMIN)
    found = by_uid(run_one(SESSION, inventory(long, service)))
    assert found[long.uid].status == Status.FAIL and "12 h" in found[long.uid].message
    assert service.uid not in found


def test_admin_set_with_an_unread_boundary_is_inconclusive_not_pass() -> None:
    ps = permission_set("Admin", doc(ADMIN), seconds=12 * 3600, boundary_present=None)
    assert only(run_one(SESSION, inventory(ps))).status == Status.INCONCLUSIVE


# --- standing admin assignments ----------------------------------------------------------------


def test_standing_admin_assignment_names_the_principals() -> None:
    ps = permission_set("AdministratorAccess", doc(ADMIN),
                        assignments=[assignment("platform-admins"),
                                     assignment("Carol Diaz", "USER")])
    f = only(run_one(STANDING, inventory(ps)))
    assert f.status == Status.FAIL
    assert "platform-admins" in f.message and "Carol Diaz" in f.message


def test_admin_through_customer_managed_policy_reference_uses_the_evaluator() -> None:
    p = managed("full", ADMIN)
    ps = permission_set("Ops", customer=("full",), assignments=[assignment("ops")])
    assert only(run_one(STANDING, inventory(p, ps))).status == Status.FAIL
    # the referenced policy not collected: the verdict is conditional, never a silent pass
    assert only(run_one(STANDING, inventory(ps))).status == Status.INCONCLUSIVE


@pytest.mark.parametrize(("ps", "expected"), [
    (permission_set("Admin", doc(ADMIN), assignments=[]), Status.PASS),
    (permission_set("Reader", doc(allow("s3:GetObject")), assignments=[assignment("all")]),
     Status.PASS),
    (replace(permission_set("Admin", doc(ADMIN)),
             attrs={**permission_set("Admin", doc(ADMIN)).attrs, "assignments": None}),
     Status.INCONCLUSIVE),
], ids=["admin-unassigned", "reader-assigned", "assignments-unknown"])
def test_standing_admin_pass_and_unknown(ps: Asset, expected: Status) -> None:
    assert only(run_one(STANDING, inventory(ps))).status == expected


def test_failed_assignment_listing_downgrades_a_pass() -> None:
    ps = permission_set("Admin", doc(ADMIN), assignments=[])
    err = collection_error("sso-admin", "ListAccountAssignments",
                           ("AWS::SSO::PermissionSet#assignments",), region="global",
                           resource_uid=ps.uid)
    assert only(run_one(STANDING, inventory(ps, errors=(err,)))).status == Status.INCONCLUSIVE
