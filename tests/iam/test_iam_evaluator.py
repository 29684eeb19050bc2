"""posture.iam: the policy evaluator, table-driven — deny over allow, NotAction/NotResource,
boundaries, wildcard expansion, conditions (decided and conditional), policy variables,
group-inherited policies, resource policies (S3, KMS, trust) and admin-equivalence."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, inventory
from support.cases import named
from support.iam import allow, deny, doc

from posture.iam import Decision, Evaluator, ResourcePolicy
from posture.iam.actions import AccessLevel, catalogue
from posture.iam.evaluate import world_verdict
from posture.iam.policy import parse_policy

A, C, D, N = (Decision.ALLOWED, Decision.CONDITIONAL, Decision.DENIED, Decision.IMPLICIT_DENY)
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
OTHER = f"arn:aws:iam::{ACCOUNT}:user/bob"
BUCKET = "arn:aws:s3:::data"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
GROUP = f"arn:aws:iam::{ACCOUNT}:group/devs"


def user(
    policies: list[dict[str, Any]],
    boundary: dict[str, Any] | None = None,
    mfa: bool = False,
    groups: tuple[str, ...] = (),
    tags: dict[str, str] | None = None,
) -> list[Any]:
    out = [
        asset(
            "AWS::IAM::User",
            USER,
            region="global",
            tags=tags or {},
            arn=USER,
            user_name="alice",
            user_id="AIDAALICE",
            mfa_devices=["arn:aws:iam::1:mfa/alice"] if mfa else [],
            access_keys=[],
            has_console_password=True,
            group_names=list(groups),
            inline_policies={f"p{i}": d for i, d in enumerate(policies)},
            attached_policy_arns=[],
            permissions_boundary_arn=BOUNDARY if boundary else None,
        )
    ]
    if boundary:
        out.append(
            asset(
                "AWS::IAM::Policy",
                BOUNDARY,
                region="global",
                arn=BOUNDARY,
                policy_name="boundary",
                aws_managed=False,
                document=boundary,
                attachment_count=0,
            )
        )
    return out


def verdict(assets: list[Any], action: str, resource: str, **kw: Any) -> Decision:
    ev = Evaluator(inventory(*assets))
    return ev.evaluate(ev.principals[USER], action, resource, **kw).decision


S3_READ = allow("s3:Get*", f"{BUCKET}/*")
CASES = [
    ("allow-exact", [doc(allow("s3:GetObject", f"{BUCKET}/*"))], "s3:GetObject", f"{BUCKET}/k", A),
    (
        "action-case-insensitive",
        [doc(allow("S3:getobject", f"{BUCKET}/*"))],
        "s3:GetObject",
        f"{BUCKET}/k",
        A,
    ),
    ("no-statement", [doc(S3_READ)], "s3:PutObject", f"{BUCKET}/k", N),
    ("wildcard-action", [doc(S3_READ)], "s3:GetObjectTagging", f"{BUCKET}/k", A),
    ("wildcard-middle", [doc(allow("iam:*AccessKey*"))], "iam:CreateAccessKey", USER, A),
    ("wildcard-middle-miss", [doc(allow("iam:*AccessKey*"))], "iam:ListUsers", USER, N),
    ("resource-miss", [doc(S3_READ)], "s3:GetObject", "arn:aws:s3:::other/k", N),
    ("deny-over-allow", [doc(allow("*"), deny("s3:Delete*"))], "s3:DeleteBucket", BUCKET, D),
    (
        "deny-other-policy",
        [doc(allow("*")), doc(deny("s3:*", BUCKET))],
        "s3:DeleteBucket",
        BUCKET,
        D,
    ),
    (
        "deny-elsewhere",
        [doc(allow("*"), deny("s3:*", "arn:aws:s3:::x"))],
        "s3:DeleteBucket",
        BUCKET,
        A,
    ),
    (
        "notaction-excludes",
        [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        "iam:CreateUser",
        "*",
        N,
    ),
    (
        "notaction-allows-rest",
        [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        "ec2:RunInstances",
        "*",
        A,
    ),
    (
        "notresource-excludes",
        [doc({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"})],
        "s3:GetObject",
        f"{BUCKET}/secret/k",
        N,
    ),
    (
        "notresource-allows-rest",
        [doc({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"})],
        "s3:GetObject",
        f"{BUCKET}/public/k",
        A,
    ),
    (
        "deny-notaction",
        [doc(allow("*"), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"})],
        "ec2:RunInstances",
        "*",
        D,
    ),
    (
        "unknown-condition-conditional",
        [doc(allow("ec2:*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))],
        "ec2:RunInstances",
        "*",
        C,
    ),
    (
        "conditional-deny",
        [
            doc(
                allow("*"),
                deny("*", Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
            )
        ],
        "ec2:RunInstances",
        "*",
        C,
    ),
    (
        "source-ip-any",
        [doc(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}))],
        "s3:GetObject",
        f"{BUCKET}/k",
        A,
    ),
    (
        "source-ip-range",
        [doc(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))],
        "s3:GetObject",
        f"{BUCKET}/k",
        C,
    ),
    (
        "secure-transport-deny",
        [doc(allow("s3:*"), deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}}))],
        "s3:GetObject",
        f"{BUCKET}/k",
        A,
    ),
    (
        "mfa-required-no-device",
        [doc(allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))],
        "ec2:RunInstances",
        "*",
        N,
    ),
    (
        "principal-account-decided",
        [doc(allow("s3:*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}))],
        "s3:GetObject",
        f"{BUCKET}/k",
        A,
    ),
    (
        "null-operator",
        [doc(allow("s3:*", Condition={"Null": {"aws:PrincipalTag/team": "true"}}))],
        "s3:GetObject",
        f"{BUCKET}/k",
        A,
    ),
    (
        "if-exists-absent-tag",
        [doc(allow("s3:*", Condition={"StringEqualsIfExists": {"aws:PrincipalTag/team": "x"}}))],
        "s3:GetObject",
        f"{BUCKET}/k",
        A,
    ),
    (
        "variable-own-user",
        [doc(allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"))],
        "iam:CreateAccessKey",
        USER,
        A,
    ),
    (
        "variable-other-user",
        [doc(allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"))],
        "iam:CreateAccessKey",
        OTHER,
        N,
    ),
    (
        "variable-unresolvable",
        [doc(allow("s3:*", f"{BUCKET}/${{aws:PrincipalTag/team}}/*"))],
        "s3:GetObject",
        f"{BUCKET}/x/k",
        N,
    ),
    (
        "variable-default",
        [doc(allow("s3:*", f"{BUCKET}/${{aws:PrincipalTag/team, 'shared'}}/*"))],
        "s3:GetObject",
        f"{BUCKET}/shared/k",
        A,
    ),
]


@pytest.mark.parametrize(("policies", "action", "resource", "expected"), named(CASES))
def test_identity_policy_evaluation(
    policies: list[dict[str, Any]], action: str, resource: str, expected: Decision
) -> None:
    assert verdict(user(policies), action, resource) == expected


def test_mfa_condition_holds_for_a_user_with_a_device() -> None:
    mfa = doc(allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    assert verdict(user([mfa], mfa=True), "ec2:RunInstances", "*") == A


def test_principal_tag_variable_resolves() -> None:
    policy = doc(allow("s3:*", f"{BUCKET}/${{aws:PrincipalTag/team}}/*"))
    assert verdict(user([policy], tags={"team": "blue"}), "s3:GetObject", f"{BUCKET}/blue/k") == A
    assert verdict(user([policy], tags={"team": "blue"}), "s3:GetObject", f"{BUCKET}/red/k") == N


BOUNDARY_CASES = [
    ("boundary-caps", doc(allow("s3:*")), "ec2:RunInstances", N),
    ("boundary-allows", doc(allow("s3:*")), "s3:GetObject", A),
    ("boundary-deny", doc(allow("*"), deny("s3:DeleteBucket")), "s3:DeleteBucket", D),
    (
        "boundary-conditional",
        doc(allow("*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})),
        "s3:GetObject",
        C,
    ),
]


@pytest.mark.parametrize(("boundary", "action", "expected"), named(BOUNDARY_CASES))
def test_permissions_boundary(boundary: dict[str, Any], action: str, expected: Decision) -> None:
    assert verdict(user([doc(allow("*"))], boundary=boundary), action, BUCKET) == expected


def group(policies: dict[str, Any]) -> Any:
    return asset(
        "AWS::IAM::Group",
        GROUP,
        region="global",
        arn=GROUP,
        group_name="devs",
        attached_policy_arns=[],
        inline_policies=policies,
        member_user_names=["alice"],
    )


def test_group_policies_are_inherited_and_their_denies_apply() -> None:
    granted = [*user([], groups=("devs",)), group({"g": doc(allow("s3:*"))})]
    assert verdict(granted, "s3:GetObject", f"{BUCKET}/k") == A
    denied = [*user([doc(allow("*"))], groups=("devs",)), group({"g": doc(deny("s3:*"))})]
    assert verdict(denied, "s3:GetObject", f"{BUCKET}/k") == D


def test_unknown_group_makes_grants_conditional() -> None:
    assert verdict(user([doc(allow("*"))], groups=("gone",)), "s3:GetObject", BUCKET) == C


def resource_policy(*statements: dict[str, Any], kind: str = "") -> ResourcePolicy:
    return ResourcePolicy(parse_policy(doc(*statements), "rp", catalogue()), ACCOUNT, kind)


def rp_allow(principal: Any, action: str = "*", resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}


RESOURCE_CASES = [
    ("bucket-names-user", [], rp_allow({"AWS": USER}, "s3:GetObject", f"{BUCKET}/*"), "", A),
    (
        "bucket-names-account-needs-identity",
        [],
        rp_allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "s3:GetObject", f"{BUCKET}/*"),
        "",
        N,
    ),
    (
        "bucket-deny-wins",
        [doc(allow("s3:*"))],
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*"},
        "",
        D,
    ),
    ("kms-no-key-grant", [doc(allow("kms:*"))], rp_allow({"AWS": OTHER}, "kms:*"), "kms", N),
    (
        "kms-delegated-to-account",
        [doc(allow("kms:*"))],
        rp_allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "kms:*"),
        "kms",
        A,
    ),
    ("kms-names-user", [], rp_allow({"AWS": USER}, "kms:Decrypt"), "kms", A),
]


@pytest.mark.parametrize(("policies", "statement", "kind", "expected"), named(RESOURCE_CASES))
def test_resource_policies(
    policies: list[dict[str, Any]], statement: dict[str, Any], kind: str, expected: Decision
) -> None:
    action, target = (
        ("kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k")
        if kind
        else ("s3:GetObject", f"{BUCKET}/k")
    )
    rp = resource_policy(statement, kind=kind)
    assert verdict(user(policies), action, target, resource_policy=rp) == expected


WORLD_CASES = [
    ("star", rp_allow("*", "s3:GetObject", f"{BUCKET}/*"), A),
    ("aws-star", rp_allow({"AWS": "*"}, "s3:GetObject", f"{BUCKET}/*"), A),
    (
        "org-pinned",
        {
            **rp_allow("*", "s3:GetObject", f"{BUCKET}/*"),
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        },
        N,
    ),
    (
        "vpce-pinned",
        {
            **rp_allow("*", "s3:GetObject", f"{BUCKET}/*"),
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
        },
        N,
    ),
    (
        "negated-account",
        {
            **rp_allow("*", "s3:GetObject", f"{BUCKET}/*"),
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "1"}},
        },
        A,
    ),
    (
        "undecidable",
        {
            **rp_allow("*", "s3:GetObject", f"{BUCKET}/*"),
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/x": "y"}},
        },
        C,
    ),
    ("named", rp_allow({"AWS": OTHER}, "s3:GetObject", f"{BUCKET}/*"), N),
]


@pytest.mark.parametrize(("statement", "expected"), named(WORLD_CASES))
def test_world_access(statement: dict[str, Any], expected: Decision) -> None:
    policy = parse_policy(doc(statement), "bucket", catalogue())
    assert world_verdict(policy, "s3:GetObject", f"{BUCKET}/k").decision == expected


ADMIN_CASES = [
    ("star", [doc(allow("*"))], None, A),
    ("star-star", [doc(allow("*:*"))], None, A),
    ("service-wildcards-only", [doc(allow(["s3:*", "ec2:*"]))], None, N),
    ("star-on-one-bucket", [doc(allow("*", f"{BUCKET}/*"))], None, N),
    (
        "neutralised-by-deny",
        [doc(allow("*")), doc({"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"})],
        None,
        N,
    ),
    ("neutralised-by-boundary", [doc(allow("*"))], doc(allow("s3:*")), N),
    ("boundary-is-admin-too", [doc(allow("*"))], doc(allow("*")), A),
    (
        "mfa-conditional-without-device",
        [doc(allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))],
        None,
        N,
    ),
    (
        "region-condition",
        [doc(allow("*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))],
        None,
        C,
    ),
    ("notaction-iam", [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})], None, N),
]


@pytest.mark.parametrize(("policies", "boundary", "expected"), named(ADMIN_CASES))
def test_admin_equivalence(
    policies: list[dict[str, Any]], boundary: dict[str, Any] | None, expected: Decision
) -> None:
    ev = Evaluator(inventory(*user(policies, boundary=boundary)))
    assert ev.admin(ev.principals[USER]).decision == expected


def test_catalogue_expands_wildcards_with_access_levels() -> None:
    cat = catalogue()
    assert len(cat) > 15000 and cat.version
    names = cat.names(cat.expand("iam:*PolicyVersion"))
    assert {
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
    } <= set(names)
    assert "iam:ListPolicyVersions" not in names
    assert cat.expand("s3:get*") == cat.expand("S3:Get*") != 0
    assert cat.get("iam:PutRolePolicy").access_level == AccessLevel.PERMISSIONS_MANAGEMENT
    assert cat.get("s3:ListAllMyBuckets").access_level == AccessLevel.LIST
    assert cat.expand("*") == cat.all and cat.expand("nosuchservice:*") == 0
