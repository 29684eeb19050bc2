"""posture.iam.scp: service control policies as a ceiling, level by level — an allow needed at
every level of the path, explicit deny anywhere wins, conditions three-valued, NotAction, the
management account and service-linked roles exempt, unreadable SCPs never a fence."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import inventory
from support.cases import named
from support.iam import ARN, allow, deny, role, service, user
from support.org import ROOT, SANDBOX, context, full_access, scp

from posture.iam import Decision, Evaluator
from posture.iam.scp import UNREAD, fences

A, C, D, N = (Decision.ALLOWED, Decision.CONDITIONAL, Decision.DENIED, Decision.IMPLICIT_DENY)
ADMIN_USER = f"{ARN}:user/admin"
BUCKET = "arn:aws:s3:::data/x"
ROLE = f"{ARN}:role/app"

DENY_IAM = scp("DenyIAM", deny(["iam:*", "organizations:*"]), targets=(SANDBOX,))
EC2_S3_ONLY = scp("SandboxAllowList", allow(["ec2:*", "s3:*"]), targets=(SANDBOX,))
ROOT_AND_ACCOUNT = full_access((ROOT, "123456789012"))


def ev(*scps: Any, management: bool = False, **org: Any) -> Evaluator:
    assets = [user("admin", allow("*")), *context(*scps, management=management, **org)]
    return Evaluator(inventory(*assets))


def decide(e: Evaluator, action: str, resource: str = "*", arn: str = ADMIN_USER) -> Decision:
    return e.evaluate(e.principals[arn], action, resource).decision


LEVEL_CASES = [
    # (name, scps, action, expected)
    ("full-access-everywhere", (full_access(),), "iam:PutUserPolicy", A),
    ("deny-at-ou", (full_access(), DENY_IAM), "iam:PutUserPolicy", D),
    ("deny-at-ou-other-service", (full_access(), DENY_IAM), "s3:GetObject", A),
    ("allow-list-at-ou-omits", (ROOT_AND_ACCOUNT, EC2_S3_ONLY), "iam:PutUserPolicy", N),
    ("allow-list-at-ou-covers", (ROOT_AND_ACCOUNT, EC2_S3_ONLY), "s3:GetObject", A),
    ("allow-only-at-root", (full_access((ROOT,)), scp("X", allow("s3:*"), targets=(SANDBOX,)),
                            scp("AccountAll", allow("*"), targets=("123456789012",))),
     "ec2:RunInstances", N),
    ("level-without-scp-read", (full_access((ROOT, "123456789012")),), "s3:GetObject", C),
    ("notaction-deny",
     (full_access(), scp("OnlyS3", {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"})),
     "ec2:RunInstances", D),
    ("notaction-deny-spares", (full_access(), scp(
        "OnlyS3", {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"})), "s3:GetObject", A),
    ("deny-on-other-resource", (full_access(), scp("ProtectBucket", deny(
        "s3:*", "arn:aws:s3:::audit/*"))), "s3:GetObject", A),
    ("undecidable-deny-condition", (full_access(), scp("NeedsTag", deny(
        "s3:*", Condition={"StringNotEquals": {"aws:ResourceTag/team": "x"}}))),
     "s3:GetObject", C),
    ("decided-deny-condition-false", (full_access(), scp("NoMfa", deny(
        "s3:*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))),
     "s3:GetObject", D),
    ("region-deny-caller-picks-region", (full_access(), scp("Regions", {
        "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}})),
     "ec2:RunInstances", A),
]


@pytest.mark.parametrize(("scps", "action", "expected"), named(LEVEL_CASES))
def test_every_level_must_allow_and_deny_wins(scps: tuple[Any, ...], action: str,
                                              expected: Decision) -> None:
    resource = BUCKET if action.startswith("s3") else "*"
    assert decide(ev(*scps), action, resource) == expected


def test_denied_verdict_names_the_scp_and_level() -> None:
    e = ev(full_access(), DENY_IAM)
    v = e.evaluate(e.principals[ADMIN_USER], "iam:PutUserPolicy", ADMIN_USER)
    text = " ".join(v.evidence()["service_control_policies"])
    assert "SCP DenyIAM" in text and "OU Sandbox" in text and "iam:PutUserPolicy" in text


def test_allow_list_verdict_names_the_level_that_omits_the_action() -> None:
    e = ev(ROOT_AND_ACCOUNT, EC2_S3_ONLY)
    v = e.evaluate(e.principals[ADMIN_USER], "iam:PutUserPolicy", ADMIN_USER)
    assert v.decision == N
    assert any("SandboxAllowList" in r and "OU Sandbox" in r for r in v.scp)


def test_admin_fenced_by_deny_scp() -> None:
    e = ev(full_access(), DENY_IAM)
    p = e.principals[ADMIN_USER]
    assert e.admin(p).decision == N
    assert any("DenyIAM" in r and "iam:" in r for r in e.fenced(p))


def test_admin_fenced_by_allow_list_but_not_by_full_access() -> None:
    fenced = ev(ROOT_AND_ACCOUNT, EC2_S3_ONLY)
    assert fenced.admin(fenced.principals[ADMIN_USER]).decision == N
    assert any("allow no" in r for r in fenced.fenced(fenced.principals[ADMIN_USER]))
    free = ev(full_access())
    assert free.admin(free.principals[ADMIN_USER]).decision == A
    assert free.fenced(free.principals[ADMIN_USER]) == ()


def test_guardrails_leave_an_administrator_with_a_note() -> None:
    guard = scp("Guardrails", deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail",
                                    "organizations:LeaveOrganization"]))
    e = ev(full_access(), guard)
    v = e.admin(e.principals[ADMIN_USER])
    assert v.decision == A
    assert "guardrails remove 3 action(s)" in v.scp[0]
    assert decide(e, "cloudtrail:StopLogging") == D


def test_undecidable_scp_condition_on_iam_is_conditional_not_fenced() -> None:
    cond = scp("IamOnlyFromVpn", deny(
        "iam:*", Condition={"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}))
    e = ev(full_access(), cond)
    p = e.principals[ADMIN_USER]
    assert e.admin(p).decision == C
    assert e.fenced(p) == ()


def test_management_account_is_not_fenced() -> None:
    e = ev(full_access(), DENY_IAM, management=True)
    assert e.fences == {}
    assert e.admin(e.principals[ADMIN_USER]).decision == A


def test_service_linked_role_is_not_fenced() -> None:
    linked = role("AWSServiceRoleForX", service("x.amazonaws.com"), allow("*"))
    linked = type(linked)(**{**{f: getattr(linked, f) for f in linked.__dataclass_fields__},
                             "attrs": {**linked.attrs, "service_linked": True,
                                       "path": "/aws-service-role/x.amazonaws.com/"}})
    e = Evaluator(inventory(linked, *context(full_access(), DENY_IAM)))
    p = e.principals[linked.uid]
    assert e.fence(p) is None
    assert e.evaluate(p, "iam:PutRolePolicy", linked.uid).decision == A


def test_unreadable_scps_fence_nothing_but_say_so() -> None:
    e = ev(DENY_IAM, scps_known=False)
    p = e.principals[ADMIN_USER]
    v = e.evaluate(p, "iam:PutUserPolicy", ADMIN_USER)
    assert v.decision == A and v.scp == (UNREAD,)
    assert e.admin(p).decision == A and e.admin(p).scp == (UNREAD,)


def test_consolidated_billing_has_no_scps_and_standalone_has_no_fence() -> None:
    assert ev(DENY_IAM, feature_set="CONSOLIDATED_BILLING").fences == {}
    standalone = Evaluator(inventory(user("admin", allow("*"))))
    assert standalone.fences == {}
    v = standalone.admin(standalone.principals[ADMIN_USER])
    assert v.decision == A and "service_control_policies" not in v.evidence()


def test_fence_applies_to_resource_policy_grants_too() -> None:
    from posture.iam import ResourcePolicy
    from posture.iam.policy import parse_policy

    e = Evaluator(inventory(user("dev"), *context(full_access(), DENY_IAM)))
    p = e.principals[f"{ARN}:user/dev"]
    rp = ResourcePolicy(parse_policy(
        {"Statement": [allow(["s3:GetObject", "iam:PassRole"], Principal={"AWS": p.arn})]},
        "rp", e.catalogue), p.account, "s3")
    assert e.evaluate(p, "s3:GetObject", BUCKET, rp).decision == A
    assert e.evaluate(p, "iam:PassRole", ROLE, rp).decision == D


def test_fences_by_account_and_level_order() -> None:
    e = ev(full_access(), DENY_IAM)
    fence = fences(e.inventory, e.catalogue)["123456789012"]
    assert [lv.kind for lv in fence.levels] == ["root", "OU", "account"]
    assert [len(lv.policies) for lv in fence.levels] == [1, 2, 1]
