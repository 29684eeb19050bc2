"""Member accounts judged in organisation context: SCP-fenced administrators (and the traps:
the management account, FullAWSAccess, an undecidable SCP condition, guardrails), cross-account
trust and resource policies inside vs outside the organisation, organisation trail coverage and
the SCP that protects the audit trail. Standalone snapshots behave as before."""

from __future__ import annotations

from typing import Any

from support.aws import ACCOUNT, asset, inventory
from support.checks import by_uid, only, run_one
from support.iam import ARN, allow, deny, doc, role, service, trust, user
from support.org import (
    MANAGEMENT,
    ORG_ID,
    OUTSIDER,
    ROOT,
    SANDBOX,
    SIBLING,
    context,
    full_access,
    member,
    org_trail,
    organization,
    scp,
)

from posture.model import Severity, Status

USERS_ADMIN = "aws.iam.users_not_admin_equivalent"
ESCALATION = "aws.iam.no_privilege_escalation_paths"
MANAGEMENT_CHECK = "aws.iam.no_unrestricted_permissions_management"
FENCED = "aws.organization.no_admin_policies_behind_scp_fence"
CROSS = "aws.iam.cross_account_trust_restricted"
PUBLIC_TRUST = "aws.iam.role_trust_not_public"
RESOURCES = "aws.organization.resource_policies_within_organization"
TRAIL = "aws.audit.multi_region_trail_logging"
GUARD = "aws.organization.audit_trail_protected_by_scp"

ADMIN = f"{ARN}:user/admin"
DENY_IAM = scp("DenyIAM", deny(["iam:*", "organizations:*"]), targets=(SANDBOX,))
ALLOW_LIST = scp("SandboxAllowList", allow(["ec2:*", "s3:*", "sts:*"]), targets=(SANDBOX,))
ROOT_AND_ACCOUNT = full_access((ROOT, ACCOUNT))
ACCOUNT_UID = f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{ACCOUNT}"


def admin_in(*scps: Any, management: bool = False, **org: Any) -> Any:
    return inventory(user("admin", allow("*")), *context(*scps, management=management, **org))


# --- administrators and SCPs ---------------------------------------------------------------


def test_sandbox_admin_fenced_by_deny_scp_is_not_admin() -> None:
    inv = admin_in(full_access(), DENY_IAM)
    finding = only(run_one(USERS_ADMIN, inv))
    assert finding.status == Status.PASS and "fence" in finding.message
    assert any("DenyIAM" in r for r in finding.evidence["service_control_policies"])
    note = only(run_one(FENCED, inv))
    assert note.status == Status.FAIL and note.severity == Severity.LOW
    assert "SCP DenyIAM" in note.message and "OU Sandbox" in note.message
    assert only(run_one(ESCALATION, inv)).status == Status.PASS


def test_same_admin_in_management_account_is_admin() -> None:
    inv = admin_in(full_access(), DENY_IAM, management=True)
    assert only(run_one(USERS_ADMIN, inv)).status == Status.FAIL
    assert only(run_one(FENCED, inv)).status == Status.PASS


def test_allow_list_without_iam_fences_but_full_access_does_not() -> None:
    fenced = admin_in(ROOT_AND_ACCOUNT, ALLOW_LIST)
    assert only(run_one(USERS_ADMIN, fenced)).status == Status.PASS
    note = only(run_one(FENCED, fenced))
    assert note.status == Status.FAIL and "SandboxAllowList" in note.message
    free = admin_in(full_access())
    assert only(run_one(USERS_ADMIN, free)).status == Status.FAIL
    assert only(run_one(FENCED, free)).status == Status.PASS


def test_undecidable_scp_condition_is_conditional_not_fenced() -> None:
    vpn = scp("IamFromVpn", deny("iam:*", Condition={
        "NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}), targets=(SANDBOX,))
    inv = admin_in(full_access(), vpn)
    assert only(run_one(USERS_ADMIN, inv)).status == Status.INCONCLUSIVE
    assert only(run_one(FENCED, inv)).status == Status.PASS


def test_guardrail_scp_leaves_the_administrator_reported() -> None:
    guard = scp("Guardrails", deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"]),
                targets=(ROOT,))
    inv = admin_in(full_access(), guard)
    finding = only(run_one(USERS_ADMIN, inv))
    assert finding.status == Status.FAIL
    assert "guardrails" in str(finding.evidence["steps"])


def test_unreadable_scps_fence_nothing() -> None:
    inv = admin_in(DENY_IAM, scps_known=False)
    assert only(run_one(USERS_ADMIN, inv)).status == Status.FAIL
    assert only(run_one(FENCED, inv)).status == Status.INCONCLUSIVE


def test_escalation_to_a_fenced_role_is_no_path() -> None:
    assets = [
        user("dev", allow(["iam:PassRole", "ec2:RunInstances"])),
        role("ec2-admin", service("ec2.amazonaws.com"), allow("*")),
    ]
    free = inventory(*assets, *context(full_access()))
    assert by_uid(run_one(ESCALATION, free))[f"{ARN}:user/dev"].status == Status.FAIL
    fenced = inventory(*assets, *context(full_access(), DENY_IAM))
    assert by_uid(run_one(ESCALATION, fenced))[f"{ARN}:user/dev"].status == Status.PASS


def test_permissions_management_denied_by_scp() -> None:
    assets = [user("ops", allow("iam:AttachRolePolicy")),
              role("app", service("lambda.amazonaws.com"))]
    free = inventory(*assets, *context(full_access()))
    assert by_uid(run_one(MANAGEMENT_CHECK, free))[f"{ARN}:user/ops"].status == Status.FAIL
    fenced = inventory(*assets, *context(full_access(), DENY_IAM))
    assert by_uid(run_one(MANAGEMENT_CHECK, fenced))[f"{ARN}:user/ops"].status == Status.PASS


def test_service_linked_role_is_outside_the_fence() -> None:
    linked = asset("AWS::IAM::Role", f"{ARN}:role/aws-service-role/AWSServiceRoleForX",
                   region="global", role_name="AWSServiceRoleForX",
                   path="/aws-service-role/x.amazonaws.com/",
                   trust_policy=service("x.amazonaws.com"), inline_policies={"p": doc(allow("*"))},
                   attached_policy_arns=[], service_linked=True, permissions_boundary_arn=None)
    inv = inventory(linked, *context(full_access(), DENY_IAM))
    assert run_one(FENCED, inv) == []  # not fenced, and not judged as a principal of the account


def test_standalone_account_has_no_organisation_findings() -> None:
    inv = inventory(user("admin", allow("*")))
    assert only(run_one(USERS_ADMIN, inv)).status == Status.FAIL
    for check_id in (FENCED, RESOURCES, GUARD):
        assert run_one(check_id, inv) == []


# --- cross-account trust and resource policies ----------------------------------------------

ORG_PIN = {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}


def test_role_trust_inside_vs_outside_the_organisation() -> None:
    roles = [
        role("from-sibling", trust({"AWS": f"arn:aws:iam::{SIBLING}:root"})),
        role("from-outsider", trust({"AWS": f"arn:aws:iam::{OUTSIDER}:root"})),
        role("org-wide", doc({"Effect": "Allow", "Principal": {"AWS": "*"},
                              "Action": "sts:AssumeRole", "Condition": ORG_PIN})),
        role("other-org", doc({"Effect": "Allow", "Principal": {"AWS": "*"},
                               "Action": "sts:AssumeRole",
                               "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-other"}}})),
        role("vendor", doc({"Effect": "Allow", "Principal": {"AWS": OUTSIDER},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": "x1"}}})),
    ]
    found = by_uid(run_one(CROSS, inventory(*roles, *context())))
    sibling = found[f"{ARN}:role/from-sibling"]
    assert sibling.status == Status.PASS and "prod-1" in sibling.message
    outsider = found[f"{ARN}:role/from-outsider"]
    assert outsider.status == Status.FAIL and OUTSIDER in outsider.message
    assert found[f"{ARN}:role/org-wide"].status == Status.PASS
    assert found[f"{ARN}:role/other-org"].status == Status.FAIL
    assert found[f"{ARN}:role/vendor"].status == Status.PASS
    # the wildcard pinned to the organisation is not public either
    assert by_uid(run_one(PUBLIC_TRUST, inventory(*roles)))[
        f"{ARN}:role/org-wide"].status == Status.PASS


def test_standalone_account_judges_every_other_account_external() -> None:
    r = role("from-sibling", trust({"AWS": f"arn:aws:iam::{SIBLING}:root"}))
    assert only(run_one(CROSS, inventory(r))).status == Status.FAIL


def bucket(name: str, *statements: dict[str, Any]) -> Any:
    return asset("AWS::S3::Bucket", f"arn:aws:s3:::{name}", bucket_name=name,
                 policy=doc(*statements), policy_present=True)


def grant(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::x/*", **extra}


def test_resource_policies_inside_vs_outside() -> None:
    buckets = [
        bucket("shared-sibling", grant({"AWS": f"arn:aws:iam::{SIBLING}:root"})),
        bucket("shared-outsider", grant({"AWS": OUTSIDER})),
        bucket("org-wide", grant("*", Condition=ORG_PIN)),
        bucket("own", grant({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
        asset("AWS::S3::Bucket", "arn:aws:s3:::none", bucket_name="none", policy=None,
              policy_present=False),
        asset("AWS::S3::Bucket", "arn:aws:s3:::unread", bucket_name="unread", policy=None,
              policy_present=None),
    ]
    found = by_uid(run_one(RESOURCES, inventory(*buckets, *context())))
    assert found["arn:aws:s3:::shared-sibling"].status == Status.PASS
    out = found["arn:aws:s3:::shared-outsider"]
    assert out.status == Status.FAIL and OUTSIDER in out.message
    assert out.evidence["grants"][0]["outside_organization"] == [OUTSIDER]
    assert found["arn:aws:s3:::org-wide"].status == Status.PASS
    assert found["arn:aws:s3:::own"].message == "resource policy grants no other account"
    assert found["arn:aws:s3:::none"].status == Status.PASS
    assert found["arn:aws:s3:::unread"].status == Status.INCONCLUSIVE


# --- organisation trails and the SCP guarding them -------------------------------------------


def trail_inventory(trails: list[dict[str, Any]] | None) -> Any:
    return inventory(organization(), member(trails=trails), full_access())


def test_member_covered_by_logging_organisation_trail() -> None:
    finding = only(run_one(TRAIL, trail_inventory([org_trail()])))
    assert finding.status == Status.PASS and "org-trail" in finding.message


def test_organisation_trail_not_logging_fails() -> None:
    finding = only(run_one(TRAIL, trail_inventory([org_trail(logging=False)])))
    assert finding.status == Status.FAIL and "not logging" in finding.message


def test_organisation_trails_unknown_is_inconclusive() -> None:
    assert only(run_one(TRAIL, trail_inventory(None))).status == Status.INCONCLUSIVE


def test_no_trail_anywhere_fails_and_standalone_unchanged() -> None:
    assert only(run_one(TRAIL, trail_inventory([]))).status == Status.FAIL
    standalone = only(run_one(TRAIL, inventory()))
    assert standalone.status == Status.FAIL and standalone.message == "no CloudTrail trail exists"


def test_scp_protecting_the_audit_trail() -> None:
    guard = scp("ProtectTrail", deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
                                     Condition={"ArnNotLike": {
                                         "aws:PrincipalArn": "arn:aws:iam::*:role/SecOps"}}),
                targets=(ROOT,))
    protected = only(run_one(GUARD, inventory(*context(full_access(), guard))))
    assert protected.status == Status.PASS and protected.resource_uid == ACCOUNT_UID
    bare = only(run_one(GUARD, inventory(*context(full_access()))))
    assert bare.status == Status.FAIL and "cloudtrail:StopLogging" in bare.message
    unknown = only(run_one(GUARD, inventory(*context(full_access(), scps_known=False))))
    assert unknown.status == Status.INCONCLUSIVE
    assert run_one(GUARD, inventory(*context(full_access(), management=True))) == []
