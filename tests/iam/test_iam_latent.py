"""posture.iam.latent: escalation techniques held on counterparts that do not exist yet, and
permissions management over other principals — decided by the evaluator on future resources,
with its denies, boundaries and conditions; never latent where a real path exists."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import inventory
from support.iam import ARN, allow, deny, group, managed, role, service, trust, user

from posture.iam import build_identity_graph
from posture.iam.latent import FUTURE, LatentAnalysis, LatentEscalation, future_arns
from posture.model import Asset

EC2 = "ec2.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
RUN_EC2 = allow("ec2:RunInstances")
RUN_LAMBDA = allow(["lambda:CreateFunction", "lambda:InvokeFunction"])
ADMIN = allow("*")


def analyse(*assets: Asset) -> LatentAnalysis:
    return LatentAnalysis(build_identity_graph(inventory(*assets)))


def latent_of(la: LatentAnalysis, name: str, kind: str = "user") -> LatentEscalation | None:
    return la.escalation(f"{ARN}:{kind}/{name}")


def techniques(found: LatentEscalation | None) -> list[str]:
    return [] if found is None else [c.technique for c in found.capabilities]


def test_passrole_latent_becomes_real_when_an_admin_ec2_role_appears() -> None:
    dev = user("dev", allow("iam:PassRole"), RUN_EC2)
    before = analyse(dev, role("app", service(EC2), allow("s3:GetObject")))
    found = latent_of(before, "dev")
    assert techniques(found) == ["iam:PassRole+ec2:RunInstances"]
    assert found is not None and not found.conditional and found.via == ()
    cap = found.capabilities[0]
    assert cap.missing == (
        f"no role trusting {EC2} that dev can pass is or can become administrator today"
    )
    assert cap.today == ("app",)  # it can pass app today; app is no administrator
    requests = [req for req, _ in cap.grants]
    assert requests[0] == f"iam:PassRole on {ARN}:role/{FUTURE}"
    assert requests[1].startswith("ec2:RunInstances on ")
    assert cap.grants[0][1].allowed_by[0].raw["Action"] == "iam:PassRole"
    assert before.graph.admin_path(dev.uid) is None
    # the counterpart appears: a real path, and no longer latent (never both)
    after = analyse(dev, role("app", service(EC2), allow("s3:GetObject")),
                    role("ops", service(EC2), ADMIN))
    assert after.graph.admin_path(dev.uid) is not None
    assert latent_of(after, "dev") is None


def test_passrole_restricted_to_a_service_without_privileged_role() -> None:
    to_lambda = {"StringEquals": {"iam:PassedToService": LAMBDA}}
    estate = (
        role("ops", service(EC2), ADMIN),  # a privileged EC2 role exists, lambda has none
        user("fn-dev", allow("iam:PassRole", Condition=to_lambda), RUN_EC2, RUN_LAMBDA),
        user("ec2-only", allow("iam:PassRole", Condition=to_lambda), RUN_EC2),
    )
    la = analyse(*estate)
    assert la.graph.admin_path(f"{ARN}:user/fn-dev") is None
    assert techniques(latent_of(la, "fn-dev")) == [
        "iam:PassRole+lambda:CreateFunction+lambda:InvokeFunction"
    ]
    # may pass roles to Lambda only, and cannot run Lambda code: nothing, latent or real
    assert latent_of(la, "ec2-only") is None
    assert la.graph.admin_path(f"{ARN}:user/ec2-only") is None


def test_passrole_on_a_pattern_probes_a_future_role_of_that_pattern() -> None:
    dev = user("dev", allow("iam:PassRole", f"{ARN}:role/app-*"), RUN_EC2)
    la = analyse(dev, role("ops", service(EC2), ADMIN))  # ops: not app-*, so no path
    found = latent_of(la, "dev")
    assert techniques(found) == ["iam:PassRole+ec2:RunInstances"]
    assert found is not None
    assert found.capabilities[0].grants[0][0] == f"iam:PassRole on {ARN}:role/app-{FUTURE}"
    # an exact ARN of an existing role is no future resource
    exact = user("exact", allow("iam:PassRole", f"{ARN}:role/app"), RUN_EC2)
    la = analyse(exact, role("app", service(EC2), allow("s3:GetObject")))
    assert latent_of(la, "exact") is None


@pytest.mark.parametrize(
    ("blocker", "latent"),
    [
        ({"boundary": allow("s3:*")}, False),  # the boundary allows neither action
        ({"boundary": allow(["iam:PassRole", "ec2:RunInstances"])}, True),
        ({"deny": deny("iam:PassRole")}, False),
        ({"deny": deny("iam:PassRole", f"{ARN}:role/admin-*")}, True),  # a future ops-x is not
    ],
    ids=["boundary-denies", "boundary-allows", "explicit-deny", "deny-on-a-pattern"],
)
def test_boundaries_and_denies_are_honoured(blocker: dict[str, Any], latent: bool) -> None:
    assets: list[Asset] = []
    boundary = None
    statements = [allow("iam:PassRole"), RUN_EC2]
    if "boundary" in blocker:
        assets.append(managed("cap", blocker["boundary"], attachments=0))
        boundary = f"{ARN}:policy/cap"
    else:
        statements.append(blocker["deny"])
    assets.append(user("dev", *statements, boundary=boundary))
    la = analyse(*assets)
    assert (latent_of(la, "dev") is not None) == latent


def test_conditional_grant_is_conditional() -> None:
    tagged = {"StringEquals": {"aws:RequestTag/team": "ops"}}
    la = analyse(user("dev", allow("iam:PassRole"), allow("ec2:RunInstances", Condition=tagged)))
    found = latent_of(la, "dev")
    assert found is not None and found.conditional


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("*", ["iam:CreatePolicyVersion"]),
        (f"{ARN}:policy/dev-*", ["iam:CreatePolicyVersion"]),
        (f"{ARN}:policy/dev-a", []),  # one existing policy, attached to nobody it can become
    ],
    ids=["star", "pattern", "specific-arn"],
)
def test_create_policy_version_needs_a_future_policy(resource: str, expected: list[str]) -> None:
    la = analyse(user("dev", allow("iam:CreatePolicyVersion", resource)),
                 managed("dev-a", allow("s3:GetObject"), attachments=0))
    found = latent_of(la, "dev")
    assert techniques(found) == expected
    if found is not None:
        assert found.capabilities[0].missing == (
            "no customer-managed policy that dev can rewrite is attached to it today"
        )


def test_create_policy_version_under_a_boundary_it_cannot_remove_is_void() -> None:
    la = analyse(managed("cap", allow("iam:CreatePolicyVersion"), attachments=0),
                 user("dev", allow("iam:CreatePolicyVersion"), boundary=f"{ARN}:policy/cap"))
    assert latent_of(la, "dev") is None


def test_set_default_version_alone_is_conditional() -> None:
    la = analyse(user("dev", allow("iam:SetDefaultPolicyVersion")))
    found = latent_of(la, "dev")
    assert techniques(found) == ["iam:SetDefaultPolicyVersion"] and found is not None
    assert found.conditional


@pytest.mark.parametrize(
    ("statement", "technique"),
    [
        (allow("iam:CreateAccessKey", f"{ARN}:user/*"), "iam:CreateAccessKey"),
        (allow("iam:AddUserToGroup"), "iam:AddUserToGroup"),
        (allow("iam:UpdateAssumeRolePolicy"), "iam:UpdateAssumeRolePolicy"),
        (allow("sts:AssumeRole"), "sts:AssumeRole"),
    ],
)
def test_other_techniques_on_future_principals(statement: dict[str, Any], technique: str) -> None:
    la = analyse(user("dev", statement), group("readers", allow("s3:GetObject")),
                 role("app", trust({"AWS": f"{ARN}:root"}), allow("s3:GetObject")))
    assert techniques(latent_of(la, "dev")) == [technique]


def test_own_keys_are_no_future_user() -> None:
    la = analyse(user("dev", allow("iam:CreateAccessKey", f"{ARN}:user/${{aws:username}}")))
    assert latent_of(la, "dev") is None


def test_read_only_principal_holds_nothing() -> None:
    la = analyse(user("auditor", allow(["iam:Get*", "iam:List*", "ec2:Describe*", "s3:Get*"])),
                 role("app", service(EC2)))
    assert latent_of(la, "auditor") is None
    assert la.capabilities(f"{ARN}:user/auditor") == ()
    assert la.management(f"{ARN}:user/auditor") == ()


def test_latent_through_a_role_it_can_assume() -> None:
    la = analyse(
        user("dev", allow("sts:AssumeRole", f"{ARN}:role/deployer")),
        role("deployer", trust({"AWS": f"{ARN}:root"}), allow("iam:PassRole"), RUN_EC2),
    )
    found = latent_of(la, "dev")
    assert found is not None and found.holder == f"{ARN}:role/deployer"
    assert [e.technique for e in found.via] == ["sts:AssumeRole"]
    assert techniques(found) == ["iam:PassRole+ec2:RunInstances"]


def test_future_arns_fill_patterns_and_skip_existing() -> None:
    la = analyse(user("dev", allow("iam:PassRole", [f"{ARN}:role/app/*", f"{ARN}:role/ops",
                                                    "arn:aws:s3:::bucket"])),
                 role("ops", service(EC2)))
    p = la.evaluator.principals[f"{ARN}:user/dev"]
    assert future_arns(la.evaluator, p, "iam:PassRole", "role") == [
        f"{ARN}:role/{FUTURE}", f"{ARN}:role/app/{FUTURE}"
    ]


# permissions management ---------------------------------------------------------------------


def grants(la: LatentAnalysis, name: str) -> list[tuple[str, str, bool, bool]]:
    return sorted((g.action, g.name, g.future, g.verdict.allowed)
                  for g in la.management(f"{ARN}:user/{name}"))


def test_management_on_star_reaches_existing_and_future_principals() -> None:
    la = analyse(
        user("iam-bot", allow("iam:AttachRolePolicy")),
        role("app", service(EC2)),
        managed("cap", allow("s3:*"), attachments=1),
        role("capped", service(EC2), boundary=f"{ARN}:policy/cap"),  # boundary stays: no
    )
    assert grants(la, "iam-bot") == [
        ("iam:AttachRolePolicy", "app", False, True),
        ("iam:AttachRolePolicy", f"role/{FUTURE}", True, True),
    ]


def test_management_of_itself_only_is_no_management() -> None:
    la = analyse(user("dev", allow("iam:PutUserPolicy", f"{ARN}:user/${{aws:username}}")),
                 user("other"))
    assert grants(la, "dev") == []
    assert la.graph.admin_path(f"{ARN}:user/dev") is not None  # a real path instead


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}, []),
        ({"ArnEquals": {"iam:PermissionsBoundary": f"{ARN}:policy/cap"}}, []),
        ({"StringEquals": {"aws:RequestTag/team": "ops"}},
         [("iam:AttachUserPolicy", f"user/{FUTURE}", True, False),
          ("iam:AttachUserPolicy", "other", False, False)]),
    ],
    ids=["only-read-only-policy", "only-under-a-boundary", "undecidable"],
)
def test_management_conditions(condition: dict[str, Any], expected: list[Any]) -> None:
    la = analyse(user("iam-bot", allow("iam:AttachUserPolicy", Condition=condition)),
                 user("other"))
    assert grants(la, "iam-bot") == sorted(expected)


def test_create_policy_version_on_policies_other_principals_hold() -> None:
    la = analyse(
        user("iam-bot", allow("iam:CreatePolicyVersion", f"{ARN}:policy/dev-a")),
        managed("dev-a", allow("s3:GetObject")),
        user("other", policies=(f"{ARN}:policy/dev-a",)),
    )
    assert grants(la, "iam-bot") == [("iam:CreatePolicyVersion", "dev-a", False, True)]


def test_explicit_deny_removes_management() -> None:
    la = analyse(user("iam-bot", allow("iam:*"), deny("iam:*")), user("other"))
    assert grants(la, "iam-bot") == []
