"""aws.iam.no_latent_privilege_escalation and aws.iam.no_unrestricted_permissions_management:
pass, fail and trap estates; one finding per fact (a real path is never also latent, latent
permissions management is reported by the management check)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support.aws import collection_error, inventory
from support.checks import by_uid, run_one
from support.iam import ARN, allow, deny, managed, role, service, user

from posture.model import Asset, Severity, Status

LATENT = "aws.iam.no_latent_privilege_escalation"
MANAGEMENT = "aws.iam.no_unrestricted_permissions_management"
ESCALATION = "aws.iam.no_privilege_escalation_paths"
EC2 = "ec2.amazonaws.com"
DEV = f"{ARN}:user/dev-alex"
PASSROLE_EC2 = (allow("iam:PassRole"), allow("ec2:RunInstances"))


def verdicts(check: str, *assets: Asset) -> dict[str, Any]:
    return by_uid(run_one(check, inventory(*assets)))


def test_latent_then_real_never_both() -> None:
    app = role("app-instance", service(EC2), allow("s3:GetObject"))
    dev = user("dev-alex", *PASSROLE_EC2)
    latent = verdicts(LATENT, dev, app)[DEV]
    assert latent.status == Status.FAIL and latent.severity == Severity.MEDIUM
    assert latent.message == (
        f"no role trusting {EC2} that dev-alex can pass is or can become administrator today; "
        "the moment one exists, dev-alex becomes administrator through iam:PassRole + "
        "ec2:RunInstances (it reaches today, short of administrator: app-instance)"
    )
    cap = latent.evidence["latent"][0]
    assert cap["technique"] == "iam:PassRole+ec2:RunInstances"
    assert cap["missing"] == f"a role trusting {EC2} that is or can become administrator"
    assert [g["request"].split(" on ")[0] for g in cap["grants"]] == [
        "iam:PassRole", "ec2:RunInstances"
    ]
    assert all(g["allowed_by"] for g in cap["grants"])
    assert [(h["kind"], h["id"]) for h in latent.evidence["path"]] == [
        ("principal", "dev-alex"), ("missing", cap["missing"]), ("", "ADMIN")
    ]
    assert verdicts(ESCALATION, dev, app)[DEV].status == Status.PASS
    # a privileged role trusting EC2 is created: the escalation check fails, latent passes
    ops = role("ops-admin", service(EC2), allow("*"))
    assert verdicts(ESCALATION, dev, app, ops)[DEV].status == Status.FAIL
    after = verdicts(LATENT, dev, app, ops)[DEV]
    assert after.status == Status.PASS and ESCALATION in after.message


def test_latent_through_an_assumable_role_names_the_way() -> None:
    finding = verdicts(
        LATENT,
        user("dev-alex", allow("sts:AssumeRole", f"{ARN}:role/deployer")),
        role("deployer", {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"{ARN}:root"},
                                         "Action": "sts:AssumeRole"}]}, *PASSROLE_EC2),
    )
    assert finding[DEV].status == Status.FAIL
    assert finding[DEV].message.startswith(
        "dev-alex can act as deployer (dev-alex -[sts:AssumeRole]-> deployer); no role trusting"
    )
    assert finding[f"{ARN}:role/deployer"].status == Status.FAIL


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ((allow(["iam:Get*", "iam:List*", "ec2:Describe*"]),), Status.PASS),  # read-only
        ((*PASSROLE_EC2, deny("iam:PassRole")), Status.PASS),  # explicit deny
        ((allow("iam:PassRole", Condition={"StringEquals": {"iam:PassedToService":
                                                            "lambda.amazonaws.com"}}),
          allow("ec2:RunInstances")), Status.PASS),  # may pass roles to Lambda only
        ((allow("iam:PassRole"),
          allow("ec2:RunInstances", Condition={"StringEquals": {"aws:RequestTag/t": "x"}})),
         Status.INCONCLUSIVE),  # conditional grant
    ],
    ids=["read-only", "explicit-deny", "passed-to-other-service", "conditional"],
)
def test_latent_traps(statements: tuple[dict[str, Any], ...], expected: Status) -> None:
    assert verdicts(LATENT, user("dev-alex", *statements))[DEV].status == expected


def test_latent_under_a_boundary_that_denies_passes() -> None:
    found = verdicts(LATENT, managed("cap", allow("s3:*"), attachments=0),
                     user("dev-alex", *PASSROLE_EC2, boundary=f"{ARN}:policy/cap"))
    assert found[DEV].status == Status.PASS


def test_unknown_policies_are_inconclusive() -> None:
    gap = collection_error("iam", "ListUserPolicies", ("AWS::IAM::User#policies",), region="",
                           resource_uid=DEV)
    dev = user("dev-alex")
    unknown = replace(dev, attrs={**dev.attrs, "inline_policies": None})
    for check in (LATENT, MANAGEMENT):
        found = by_uid(run_one(check, inventory(unknown, errors=(gap,))))
        assert found[DEV].status == Status.INCONCLUSIVE


def test_create_policy_version_on_star_is_reported_once_by_management() -> None:
    dev = user("dev-alex", allow(["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]))
    other = user("bob", policies=(f"{ARN}:policy/team",))
    team = managed("team", allow("s3:GetObject"))
    management = verdicts(MANAGEMENT, dev, other, team)[DEV]
    assert management.status == Status.FAIL and management.severity == Severity.HIGH
    assert management.message == (
        "can grant administrator to other principals: iam:CreatePolicyVersion on policy team "
        "and on policies that do not exist yet"
    )
    latent = verdicts(LATENT, dev, other, team)[DEV]
    assert latent.status == Status.PASS and MANAGEMENT in latent.message
    assert latent.evidence["latent"][0]["technique"] == "iam:CreatePolicyVersion"


def test_create_policy_version_on_one_specific_policy() -> None:
    """Only dev-a, which nobody holds: no future policy, no other principal to empower."""
    dev = user("dev-alex", allow("iam:CreatePolicyVersion", f"{ARN}:policy/dev-a"))
    unattached = managed("dev-a", allow("s3:GetObject"), attachments=0)
    assert verdicts(LATENT, dev, unattached)[DEV].status == Status.PASS
    assert verdicts(MANAGEMENT, dev, unattached)[DEV].status == Status.PASS


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ((allow("iam:AttachRolePolicy"),), Status.FAIL),
        ((allow("iam:PutUserPolicy", f"{ARN}:user/${{aws:username}}"),), Status.PASS),  # self
        ((allow("*"),), Status.PASS),  # an administrator: the admin checks judge it
        ((allow(["iam:Get*", "iam:List*"]),), Status.PASS),
        ((allow("iam:AttachRolePolicy"), deny("iam:AttachRolePolicy")), Status.PASS),
        ((allow("iam:AttachRolePolicy",
                Condition={"StringEquals": {"aws:RequestTag/t": "x"}}),), Status.INCONCLUSIVE),
    ],
    ids=["attach-role-star", "own-policy-only", "admin", "read-only", "denied", "conditional"],
)
def test_management(statements: tuple[dict[str, Any], ...], expected: Status) -> None:
    found = verdicts(MANAGEMENT, user("dev-alex", *statements), role("app", service(EC2)))
    assert found[DEV].status == expected, found[DEV].message
    if expected == Status.FAIL:
        assert found[DEV].message == (
            "can grant administrator to other principals: iam:AttachRolePolicy on role app and "
            "on roles that do not exist yet"
        )
        assert found[DEV].evidence["grants"][0]["allowed_by"]
