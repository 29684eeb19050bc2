"""Privilege escalation, end to end: each technique is built in moto, the real IAM collector
reads the account, and the identity graph must find the path (and no path where a deny or a
permissions boundary neutralises the admin grant)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.aws import ACCOUNT, client, inventory, reset_moto
from support.checks import by_uid, run_one
from support.collect import scope
from support.iam import user

from posture.collectors.aws import iam
from posture.iam import IdentityGraph, build_identity_graph
from posture.model import Inventory, Status

ARN = f"arn:aws:iam::{ACCOUNT}"
ADMIN_DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _trust(principal: dict[str, Any]) -> str:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


SERVICE_ROLES = {
    "ec2": "ec2.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
    "cfn": "cloudformation.amazonaws.com",
    "glue": "glue.amazonaws.com",
    "ecs": "ecs-tasks.amazonaws.com",
}

# user name -> inline policy statements
USERS: dict[str, list[dict[str, Any]]] = {
    "u-policyversion": [_allow("iam:CreatePolicyVersion", f"{ARN}:policy/dev-*")],
    "u-setdefault": [_allow("iam:SetDefaultPolicyVersion", f"{ARN}:policy/dev-*")],
    "u-putself": [_allow("iam:PutUserPolicy", f"{ARN}:user/${{aws:username}}")],
    "u-attachrole": [_allow(["iam:AttachRolePolicy", "sts:AssumeRole"], f"{ARN}:role/dev-role")],
    "u-createkey": [_allow("iam:CreateAccessKey", f"{ARN}:user/admin-user")],
    "u-loginprofile": [_allow("iam:CreateLoginProfile", f"{ARN}:user/admin-user")],
    "u-updatelogin": [_allow("iam:UpdateLoginProfile", f"{ARN}:user/admin-console")],
    "u-trust": [_allow("iam:UpdateAssumeRolePolicy", f"{ARN}:role/admin-ec2")],
    "u-group": [_allow("iam:AddUserToGroup", f"{ARN}:group/admins")],
    "u-assume": [_allow("sts:AssumeRole", f"{ARN}:role/admin-assumable")],
    "u-ec2": [_allow("iam:PassRole", f"{ARN}:role/admin-ec2"), _allow("ec2:RunInstances")],
    "u-lambda": [
        _allow("iam:PassRole", f"{ARN}:role/admin-lambda"),
        _allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
    ],
    "u-cfn": [
        _allow("iam:PassRole", f"{ARN}:role/admin-cfn"),
        _allow("cloudformation:CreateStack"),
    ],
    "u-glue": [_allow("iam:PassRole", f"{ARN}:role/admin-glue"), _allow("glue:CreateDevEndpoint")],
    "u-ecs": [
        _allow("iam:PassRole", f"{ARN}:role/admin-ecs"),
        _allow(["ecs:RegisterTaskDefinition", "ecs:RunTask"]),
    ],
    # traps: no path
    "u-passrole-wrong-service": [
        _allow(
            "iam:PassRole",
            f"{ARN}:role/admin-ec2",
            Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        ),
        _allow("ec2:RunInstances"),
    ],
    "u-passrole-no-run": [_allow("iam:PassRole", f"{ARN}:role/admin-ec2")],
    "u-neutralised-deny": [{"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}],
}
# roles capped by a permissions boundary (moto supports boundaries on roles, not on users)
BOUNDED_ROLES: dict[str, list[dict[str, Any]]] = {
    "r-neutralised-boundary": [],
    "r-boundary-putself": [_allow("iam:PutRolePolicy", f"{ARN}:role/r-boundary-putself")],
}

EXPECTED = {  # user -> techniques along the shortest path, and whether it is conditional
    "u-policyversion": (["iam:CreatePolicyVersion"], False),
    "u-setdefault": (["iam:SetDefaultPolicyVersion"], True),
    "u-putself": (["iam:PutUserPolicy"], False),
    "u-attachrole": (["iam:AttachRolePolicy"], False),
    "u-createkey": (["iam:CreateAccessKey", "admin-policy"], False),
    "u-loginprofile": (["iam:CreateLoginProfile", "admin-policy"], False),
    "u-updatelogin": (["iam:UpdateLoginProfile", "admin-policy"], False),
    "u-trust": (["iam:UpdateAssumeRolePolicy", "admin-policy"], False),
    "u-group": (["iam:AddUserToGroup", "admin-policy"], False),
    "u-assume": (["sts:AssumeRole", "admin-policy"], False),
    "u-ec2": (["iam:PassRole+ec2:RunInstances", "admin-policy"], False),
    "u-lambda": (
        ["iam:PassRole+lambda:CreateFunction+lambda:InvokeFunction", "admin-policy"],
        False,
    ),
    "u-cfn": (["iam:PassRole+cloudformation:CreateStack", "admin-policy"], False),
    "u-glue": (["iam:PassRole+glue:CreateDevEndpoint", "admin-policy"], False),
    "u-ecs": (["iam:PassRole+ecs:RegisterTaskDefinition+ecs:RunTask", "admin-policy"], False),
}
NO_PATH = [
    "user/u-passrole-wrong-service",
    "user/u-passrole-no-run",
    "user/u-neutralised-deny",
    "role/r-neutralised-boundary",
    "role/r-boundary-putself",
    "role/dev-role-reader",
]


def _build(endpoint: str) -> None:
    c = client("iam", endpoint)
    admin = c.create_policy(PolicyName="admin-all", PolicyDocument=json.dumps(ADMIN_DOC))
    admin_arn = admin["Policy"]["Arn"]
    boundary = c.create_policy(PolicyName="s3-only", PolicyDocument=_doc(_allow("s3:*")))
    for name in ("dev-a", "dev-b"):
        c.create_policy(PolicyName=name, PolicyDocument=_doc(_allow("s3:List*")))
    for key, service in SERVICE_ROLES.items():
        c.create_role(
            RoleName=f"admin-{key}", AssumeRolePolicyDocument=_trust({"Service": service})
        )
        c.attach_role_policy(RoleName=f"admin-{key}", PolicyArn=admin_arn)
    c.create_role(
        RoleName="admin-assumable", AssumeRolePolicyDocument=_trust({"AWS": f"{ARN}:root"})
    )
    c.attach_role_policy(RoleName="admin-assumable", PolicyArn=admin_arn)
    c.create_role(RoleName="dev-role", AssumeRolePolicyDocument=_trust({"AWS": f"{ARN}:root"}))
    c.create_role(
        RoleName="dev-role-reader",
        AssumeRolePolicyDocument=_trust({"Service": "ec2.amazonaws.com"}),
    )
    c.create_group(GroupName="admins")
    c.attach_group_policy(GroupName="admins", PolicyArn=admin_arn)
    c.create_user(UserName="admin-user")
    c.attach_user_policy(UserName="admin-user", PolicyArn=admin_arn)
    c.create_user(UserName="admin-console")
    c.create_login_profile(UserName="admin-console", Password="Demo-Only-Passw0rd!")
    c.attach_user_policy(UserName="admin-console", PolicyArn=admin_arn)
    for name, statements in BOUNDED_ROLES.items():
        c.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=_trust({"Service": "ec2.amazonaws.com"}),
            PermissionsBoundary=boundary["Policy"]["Arn"],
        )
        c.attach_role_policy(RoleName=name, PolicyArn=admin_arn)
        if statements:
            c.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=_doc(*statements))
    for name, statements in USERS.items():
        c.create_user(UserName=name)
        if statements:
            c.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_doc(*statements))
    c.attach_user_policy(UserName="u-policyversion", PolicyArn=f"{ARN}:policy/dev-a")
    c.attach_user_policy(UserName="u-setdefault", PolicyArn=f"{ARN}:policy/dev-b")
    c.attach_user_policy(UserName="u-neutralised-deny", PolicyArn=admin_arn)


@pytest.fixture(scope="module")
def account(moto_server: str) -> Iterator[tuple[Inventory, IdentityGraph]]:
    reset_moto(moto_server)
    with pytest.MonkeyPatch.context() as mp:  # module scope: conftest's autouse env is not set
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            mp.setenv(var, "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        _build(moto_server)
        sc = scope(moto_server)
        assets = iam.collect(sc)
    assert sc.errors == []
    inv = inventory(*assets)
    yield inv, build_identity_graph(inv)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_escalation_path_found(account: tuple[Inventory, IdentityGraph], name: str) -> None:
    _, graph = account
    path = graph.admin_path(f"{ARN}:user/{name}")
    assert path is not None, name
    techniques, conditional = EXPECTED[name]
    assert [e.technique for e in path.edges] == techniques
    assert path.conditional == conditional
    for step in path.steps():
        grants = step["grants"]
        assert grants and all(g["allowed_by"] or g.get("conditional_on") for g in grants)


@pytest.mark.parametrize("name", NO_PATH)
def test_no_false_admin(account: tuple[Inventory, IdentityGraph], name: str) -> None:
    _, graph = account
    assert graph.admin_path(f"{ARN}:{name}") is None


def test_admin_path_evidence_names_the_granting_statement(
    account: tuple[Inventory, IdentityGraph],
) -> None:
    _, graph = account
    path = graph.admin_path(f"{ARN}:user/u-ec2")
    assert path is not None
    first = path.steps()[0]
    passrole = first["grants"][0]
    assert passrole["request"] == f"iam:PassRole on {ARN}:role/admin-ec2"
    assert passrole["allowed_by"][0]["statement"]["Action"] == "iam:PassRole"
    assert path.describe(graph.names()) == (
        "u-ec2 -[iam:PassRole+ec2:RunInstances]-> admin-ec2 -[admin-policy]-> ADMIN"
    )


def test_checks_report_escalation_and_standing_admin(
    account: tuple[Inventory, IdentityGraph],
) -> None:
    inv, _ = account
    esc = by_uid(run_one("aws.iam.no_privilege_escalation_paths", inv))
    assert esc[f"{ARN}:user/u-ec2"].status == Status.FAIL
    assert "admin-ec2" in esc[f"{ARN}:user/u-ec2"].message
    assert esc[f"{ARN}:user/u-setdefault"].status == Status.INCONCLUSIVE
    assert esc[f"{ARN}:user/admin-user"].status == Status.PASS  # direct admin: not escalation
    assert esc[f"{ARN}:user/u-neutralised-deny"].status == Status.PASS
    users = by_uid(run_one("aws.iam.users_not_admin_equivalent", inv))
    assert users[f"{ARN}:user/admin-user"].status == Status.FAIL
    assert users[f"{ARN}:user/u-group"].status == Status.FAIL
    assert users[f"{ARN}:user/u-neutralised-deny"].status == Status.PASS
    assert esc[f"{ARN}:role/r-boundary-putself"].status == Status.PASS
    policies = by_uid(run_one("aws.iam.no_full_admin_customer_policies", inv))
    assert policies[f"{ARN}:policy/admin-all"].status == Status.FAIL


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        (None, True),
        ({"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}, False),
        ({"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}, True),
        ({"Null": {"iam:PermissionsBoundary": "false"}}, False),  # only under a boundary
    ],
    ids=["unconditional", "read-only-policy-only", "admin-policy-allowed", "boundary-required"],
)
def test_attach_to_itself_honours_policy_conditions(
    condition: dict[str, Any] | None, path: bool
) -> None:
    """iam:PolicyARN is the policy the escalation attaches (AdministratorAccess) and
    iam:PermissionsBoundary the target's boundary (absent here): both decided, not conditional."""
    extra = {"Condition": condition} if condition else {}
    me = user("me", _allow("iam:AttachUserPolicy", f"{ARN}:user/me", **extra))
    found = build_identity_graph(inventory(me)).admin_path(me.uid)
    assert (found is not None) == path
    assert found is None or not found.conditional
