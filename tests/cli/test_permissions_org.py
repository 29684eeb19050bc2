"""``posture permissions aws --organization``: the management policy, the member role's trust and
read policies, and the CloudFormation template for a StackSet (deployed on moto's CloudFormation
to show it really creates the role)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws
from typer.testing import CliRunner

from posture.cli.main import app
from posture.collectors.aws import org_permissions
from posture.collectors.aws.collector import policy_document
from posture.collectors.aws.organizations import PERMISSIONS

runner = CliRunner()
SCANNER = "arn:aws:iam::111122223333:role/posture-scanner"


def _json(*args: str) -> Any:
    result = runner.invoke(app, ["permissions", "aws", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _actions(document: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in document["Statement"]:
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found


def _deployed(template: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Role PostureAudit as moto's CloudFormation creates it from ``template``, and the managed
    policies attached to it."""
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        session.client("cloudformation").create_stack(
            StackName="posture-audit", TemplateBody=json.dumps(template),
            Capabilities=["CAPABILITY_NAMED_IAM"])
        iam = session.client("iam")
        role = iam.get_role(RoleName="PostureAudit")["Role"]
        return role, iam.list_attached_role_policies(RoleName="PostureAudit")["AttachedPolicies"]


def test_organization_permissions_are_three_policies() -> None:
    doc = _json("--organization", "--role-name", "audit/PostureAudit", "--external-id", "ext-7",
                "--trusted-principal", SCANNER)
    assert set(doc) == {"role_name", "management_policy", "member_trust_policy",
                        "member_read_policy"}
    mgmt = doc["management_policy"]
    assert _actions(mgmt) == set(PERMISSIONS) | {"sts:AssumeRole"}
    assert not [a for a in _actions(mgmt)
                if a.split(":")[1].startswith(("Create", "Delete", "Put", "Update", "Attach"))]
    assume = next(s for s in mgmt["Statement"] if s["Action"] == "sts:AssumeRole")
    assert assume["Resource"] == "arn:aws:iam::*:role/audit/PostureAudit"
    assert doc["member_trust_policy"]["Statement"] == [{
        "Sid": "PostureAuditTrust", "Effect": "Allow", "Principal": {"AWS": SCANNER},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "ext-7"}}}]
    assert doc["member_read_policy"] == policy_document()


def test_without_a_principal_the_trust_names_a_placeholder_and_no_condition() -> None:
    doc = _json("--organization")
    [statement] = doc["member_trust_policy"]["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::<MANAGEMENT_ACCOUNT_ID>:root"}
    assert "Condition" not in statement
    assert doc["role_name"] == "PostureAudit"


def test_organization_options_need_organization() -> None:
    result = runner.invoke(app, ["permissions", "aws", "--external-id", "x"])
    assert result.exit_code == 2
    assert "--external-id need --organization" in result.output
    assert _json() == policy_document()  # the single-account output is unchanged


def test_the_template_creates_the_role_with_trust_and_read_policies() -> None:
    template = _json("--organization", "--format", "cloudformation", "--role-name",
                     "audit/PostureAudit", "--external-id", "ext-7", "--trusted-principal",
                     SCANNER)
    role = template["Resources"]["PostureAuditRole"]["Properties"]
    assert (role["RoleName"], role["Path"]) == ("PostureAudit", "/audit/")
    assert template["Parameters"]["TrustedPrincipal"]["Default"] == SCANNER
    assert template["Parameters"]["ExternalId"] == {
        "Type": "String", "Default": "ext-7", "NoEcho": True,
        "Description": "sts:ExternalId the scanner must present (empty: none)"}
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["Fn::If"][:2] == [
        "HasExternalId", {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}]
    policies = [k for k, v in template["Resources"].items()
                if v["Type"] == "AWS::IAM::ManagedPolicy"]
    assert {json.dumps(template["Resources"][k]["Properties"]["Roles"]) for k in policies} == {
        json.dumps([{"Ref": "PostureAuditRole"}])}
    docs = [template["Resources"][k]["Properties"]["PolicyDocument"] for k in policies]
    assert set().union(*(_actions(d) for d in docs)) == _actions(policy_document())

    created, attached = _deployed(template)
    assert created["Path"] == "/audit/"
    assert created["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {
        "StringEquals": {"sts:ExternalId": "ext-7"}}
    assert created["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": SCANNER}
    assert len(attached) == len(policies)


def test_without_a_principal_the_template_asks_for_one() -> None:
    template = org_permissions.member_template()
    assert "Default" not in template["Parameters"]["TrustedPrincipal"]
    assert template["Parameters"]["ExternalId"]["Default"] == ""


def test_the_read_policy_is_split_under_the_managed_policy_limit() -> None:
    whole = _actions(policy_document())
    for limit in (org_permissions.MANAGED_POLICY_LIMIT, 1200):
        docs = org_permissions.read_policies(limit)
        sizes = [len(json.dumps(d, separators=(",", ":"))) for d in docs]
        assert max(sizes) <= limit
        assert set().union(*(_actions(d) for d in docs)) == whole
    assert len(org_permissions.read_policies(1200)) > 1


def test_without_an_external_id_the_deployed_trust_has_no_condition() -> None:
    template = org_permissions.member_template(trusted_principal=SCANNER)
    role, _ = _deployed(template)
    assert role["Path"] == "/"
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert "Condition" not in statement and statement["Principal"] == {"AWS": SCANNER}
