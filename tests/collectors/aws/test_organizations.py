"""AWS Organizations discovery against moto (in-process ``mock_aws``, no mocks of our own code).

The organisation: Root → Prod (prod-a, prod-b), NonProd (dev, closed: SUSPENDED) → Sandbox
(sandbox); SCPs at the root (DenyLeave), on Prod (ProdGuard), on Sandbox (SandboxFence) and on
the dev account (DevOnly), besides AWS's FullAWSAccess everywhere; an organisation trail (home
eu-west-1, multi-region, logging) and a plain trail in the management account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from posture.collectors.aws.organizations import (
    ACCOUNT,
    ORGANIZATION,
    POLICY,
    Organization,
    discover,
)
from posture.errors import CollectorError
from posture.model import GLOBAL, Provider

MGMT = "123456789012"
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                 "Resource": "*"}]}


def _deny_doc(action: str) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}]}


@dataclass(frozen=True)
class Org:
    session: boto3.session.Session
    root: str
    ous: dict[str, str]       # name -> id
    accounts: dict[str, str]  # name -> id
    policies: dict[str, str]  # name -> id
    trail_arn: str


def _refuse(session: boto3.session.Session, service_id: str, operation: str,
            code: str = "AccessDeniedException") -> None:
    """Answer ``operation`` as AWS does when IAM denies it, for every client of ``session``."""
    message = f"User is not authorized to perform: {service_id}:{operation}"

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://denied.invalid/", 400, {}, None), {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400}}

    session.events.register(f"before-call.{service_id}.{operation}", answer)


def _build(session: boto3.session.Session, *, enable_scps: bool = True) -> Org:
    orgs = session.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    if enable_scps:
        orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")

    def ou(name: str, parent: str) -> str:
        return str(orgs.create_organizational_unit(ParentId=parent, Name=name)
                   ["OrganizationalUnit"]["Id"])

    ous = {"Prod": ou("Prod", root), "NonProd": ou("NonProd", root)}
    ous["Sandbox"] = ou("Sandbox", ous["NonProd"])
    accounts: dict[str, str] = {}
    for name, parent in (("prod-a", "Prod"), ("prod-b", "Prod"), ("dev", "NonProd"),
                         ("sandbox", "Sandbox"), ("closed", "NonProd")):
        acc = orgs.create_account(AccountName=name, Email=f"{name}@example.com")
        accounts[name] = str(acc["CreateAccountStatus"]["AccountId"])
        orgs.move_account(AccountId=accounts[name], SourceParentId=root,
                          DestinationParentId=ous[parent])
    orgs.close_account(AccountId=accounts["closed"])  # moto: SUSPENDED at once
    policies: dict[str, str] = {}
    for name, action, target in (("DenyLeave", "organizations:LeaveOrganization", root),
                                 ("ProdGuard", "ec2:DeleteVpc", ous["Prod"]),
                                 ("SandboxFence", "iam:*", ous["Sandbox"]),
                                 ("DevOnly", "s3:DeleteBucket", accounts["dev"])):
        created = orgs.create_policy(Name=name, Description=name, Type="SERVICE_CONTROL_POLICY",
                                     Content=json.dumps(_deny_doc(action)))
        policies[name] = str(created["Policy"]["PolicySummary"]["Id"])
        orgs.attach_policy(PolicyId=policies[name], TargetId=target)
    session.client("s3").create_bucket(Bucket="org-trail-logs")
    west = session.client("cloudtrail", region_name="eu-west-1")
    trail = west.create_trail(Name="org-trail", S3BucketName="org-trail-logs",
                              IsOrganizationTrail=True, IsMultiRegionTrail=True)
    west.start_logging(Name="org-trail")
    session.client("cloudtrail").create_trail(Name="local-trail", S3BucketName="org-trail-logs")
    return Org(session, root, ous, accounts, policies, str(trail["TrailARN"]))


@pytest.fixture
def org() -> Iterator[Org]:
    with mock_aws():
        yield _build(boto3.session.Session(region_name="us-east-1"))


def _ids(found: Organization) -> list[str]:
    return [a.id for a in found.accounts]


def test_lists_active_accounts_with_their_ou_paths(org: Org) -> None:
    found = discover(org.session)
    acc = org.accounts
    assert found.management_account_id == MGMT
    assert found.feature_set == "ALL"
    assert found.arn == f"arn:aws:organizations::{MGMT}:organization/{found.id}"
    assert _ids(found) == sorted([MGMT, acc["prod-a"], acc["prod-b"], acc["dev"],
                                  acc["sandbox"]])
    assert [a.id for a in found.all_accounts] == sorted([*_ids(found), acc["closed"]])
    by_id = {a.id: a for a in found.all_accounts}
    paths = {name: [ou.name for ou in by_id[i].parent_path] for name, i in acc.items()}
    assert paths == {"prod-a": ["Root", "Prod"], "prod-b": ["Root", "Prod"],
                     "dev": ["Root", "NonProd"], "sandbox": ["Root", "NonProd", "Sandbox"],
                     "closed": ["Root", "NonProd"]}
    sandbox = by_id[acc["sandbox"]]
    assert [(o.id, o.type) for o in sandbox.parent_path] == [
        (org.root, "ROOT"), (org.ous["NonProd"], "ORGANIZATIONAL_UNIT"),
        (org.ous["Sandbox"], "ORGANIZATIONAL_UNIT")]
    assert (sandbox.name, sandbox.email, sandbox.status, sandbox.management) == (
        "sandbox", "sandbox@example.com", "ACTIVE", False)
    assert by_id[MGMT].management and by_id[MGMT].parent_path[-1].id == org.root
    assert by_id[acc["closed"]].status == "SUSPENDED"
    assert found.errors == ()


def test_ou_keeps_that_ou_and_its_descendants(org: Org) -> None:
    acc = org.accounts
    assert _ids(discover(org.session, ou=org.ous["NonProd"])) == sorted(
        [acc["dev"], acc["sandbox"]])  # "closed" is SUSPENDED
    assert _ids(discover(org.session, ou=org.ous["Sandbox"])) == [acc["sandbox"]]
    assert len(discover(org.session, ou=org.root).accounts) == 5
    with pytest.raises(CollectorError, match="ou-nope-12345678 not found"):
        discover(org.session, ou="ou-nope-12345678")


def test_include_and_exclude(org: Org) -> None:
    acc = org.accounts
    assert _ids(discover(org.session, include=[acc["dev"], acc["prod-a"]])) == sorted(
        [acc["dev"], acc["prod-a"]])
    assert _ids(discover(org.session, exclude=[acc["prod-a"], MGMT])) == sorted(
        [acc["prod-b"], acc["dev"], acc["sandbox"]])
    assert _ids(discover(org.session, ou=org.ous["Prod"], include=[acc["prod-b"]])) == [
        acc["prod-b"]]
    with pytest.raises(CollectorError, match=f"not under {org.ous['Prod']}: {acc['dev']}"):
        discover(org.session, ou=org.ous["Prod"], include=[acc["dev"]])


def test_an_included_account_that_is_not_active_is_reported_not_scanned(org: Org) -> None:
    found = discover(org.session, include=[org.accounts["closed"], org.accounts["dev"]])
    assert _ids(found) == [org.accounts["dev"]]
    [error] = found.errors
    assert (error.account, error.code, error.resource_uid) == (
        org.accounts["closed"], "AccountNotActive", org.accounts["closed"])


def test_an_unknown_included_account_is_a_clean_error(org: Org) -> None:
    with pytest.raises(CollectorError) as raised:
        discover(org.session, include=["999999999999", org.accounts["dev"]])
    assert str(raised.value) == f"account(s) not in organization {discover(org.session).id}: " \
                                "999999999999"


def test_outside_an_organization_or_denied_is_a_one_line_error() -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        with pytest.raises(CollectorError, match="not a member of an AWS organization") as raised:
            discover(session)
        assert "\n" not in str(raised.value)
        session.client("organizations").create_organization(FeatureSet="ALL")
        _refuse(session, "organizations", "ListAccounts")
        with pytest.raises(CollectorError, match="management account or a delegated "
                                                 "administrator") as raised:
            discover(session)
        assert "ListAccounts" in str(raised.value) and "\n" not in str(raised.value)


def test_context_assets_have_the_documented_shapes(org: Org) -> None:
    found = discover(org.session)
    acc = org.accounts
    sandbox = acc["sandbox"]
    assets = found.context_assets(sandbox)
    assert assets == found.context_assets(sandbox) == discover(org.session).context_assets(
        sandbox)  # deterministic
    assert [a.uid for a in assets] == sorted(a.uid for a in assets)
    assert {(a.provider, a.region) for a in assets} == {(Provider.AWS, GLOBAL)}
    by_type: dict[str, list[Any]] = {}
    for a in assets:
        by_type.setdefault(a.type, []).append(a)

    [organization] = by_type[ORGANIZATION]
    assert (organization.uid, organization.account, organization.name) == (
        found.arn, MGMT, found.id)
    ou_paths = {MGMT: ["Root"], acc["prod-a"]: ["Root", "Prod"], acc["prod-b"]: ["Root", "Prod"],
                acc["dev"]: ["Root", "NonProd"], acc["closed"]: ["Root", "NonProd"],
                sandbox: ["Root", "NonProd", "Sandbox"]}
    names = {v: k for k, v in acc.items()} | {MGMT: "master"}
    assert organization.attrs == {
        "id": found.id,
        "management_account_id": MGMT,
        "feature_set": "ALL",
        "accounts": [{"id": i, "name": names[i],
                      "status": "SUSPENDED" if i == acc["closed"] else "ACTIVE",
                      "ou_path": ou_paths[i]} for i in sorted(ou_paths)],
        "scps_known": True,
        "trails_known": True,
    }

    [account] = by_type[ACCOUNT]
    assert (account.uid, account.account, account.name) == (
        f"arn:aws:organizations::{MGMT}:account/{found.id}/{sandbox}", sandbox, "sandbox")
    assert account.attrs == {
        "id": sandbox, "name": "sandbox", "email": "sandbox@example.com", "status": "ACTIVE",
        "management": False,
        "parent_path": [{"id": org.root, "name": "Root", "type": "ROOT"},
                        {"id": org.ous["NonProd"], "name": "NonProd",
                         "type": "ORGANIZATIONAL_UNIT"},
                        {"id": org.ous["Sandbox"], "name": "Sandbox",
                         "type": "ORGANIZATIONAL_UNIT"}],
        "organization_trails": [{"arn": org.trail_arn, "name": "org-trail",
                                 "home_region": "eu-west-1", "multi_region": True,
                                 "logging": True}],
    }

    policies = {p.name: p for p in by_type[POLICY]}
    assert set(policies) == {"FullAWSAccess", "DenyLeave", "SandboxFence"}
    fence = policies["SandboxFence"]
    assert (fence.account, fence.uid) == (MGMT, next(s.arn for s in found.scps or ()
                                                     if s.name == "SandboxFence"))
    assert fence.attrs == {"id": org.policies["SandboxFence"], "name": "SandboxFence",
                           "type": "SERVICE_CONTROL_POLICY", "aws_managed": False,
                           "document": _deny_doc("iam:*"), "targets": [org.ous["Sandbox"]]}
    full = policies["FullAWSAccess"].attrs
    assert (full["aws_managed"], full["document"]) == (True, FULL)
    assert full["targets"] == sorted([org.root, org.ous["NonProd"], org.ous["Sandbox"], sandbox])
    assert policies["DenyLeave"].attrs["targets"] == [org.root]
    assert not [a for a in assets if "example.com" in json.dumps(a.raw)]  # raw stays empty


def test_scps_on_an_account_path_include_those_attached_to_the_account(org: Org) -> None:
    found = discover(org.session)
    dev = {a.name: a.attrs["targets"] for a in found.context_assets(org.accounts["dev"])
           if a.type == POLICY}
    assert dev == {"FullAWSAccess": sorted([org.root, org.ous["NonProd"], org.accounts["dev"]]),
                   "DenyLeave": [org.root], "DevOnly": [org.accounts["dev"]]}
    prod = {a.name for a in found.context_assets(org.accounts["prod-a"]) if a.type == POLICY}
    assert prod == {"FullAWSAccess", "DenyLeave", "ProdGuard"}
    every = {s.name: s for s in found.scps or ()}
    assert set(every) == {"FullAWSAccess", "DenyLeave", "ProdGuard", "SandboxFence", "DevOnly"}
    assert every["ProdGuard"].document == _deny_doc("ec2:DeleteVpc")  # parsed, a dict


def test_scps_not_enabled_are_known_to_be_none() -> None:
    """Without the SCP policy type nothing is fenced: a known fact, not a collection gap."""
    with mock_aws():
        built = _build(boto3.session.Session(region_name="us-east-1"), enable_scps=False)
        found = discover(built.session)
    assert found.scps == ()
    assert not [e for e in found.errors if e.service == "organizations"]
    assets = found.context_assets(built.accounts["dev"])
    assert not [a for a in assets if a.type == POLICY]
    assert next(a for a in assets if a.type == ORGANIZATION).attrs["scps_known"] is True


def test_unreadable_scps_or_trail_status_are_unknown(org: Org) -> None:
    _refuse(org.session, "organizations", "DescribePolicy")
    _refuse(org.session, "cloudtrail", "GetTrailStatus", code="AccessDeniedException")
    found = discover(org.session)
    assert found.scps is None
    assert found.trails is not None and [t.logging for t in found.trails] == [None]
    assert {(e.service, e.operation, e.region) for e in found.errors} == {
        ("organizations", "DescribePolicy", GLOBAL), ("cloudtrail", "GetTrailStatus", "eu-west-1")}
    assert next(e for e in found.errors if e.service == "organizations").asset_types == (POLICY,)


def test_unreadable_trails_are_unknown(org: Org) -> None:
    _refuse(org.session, "cloudtrail", "DescribeTrails")
    found = discover(org.session)
    assert found.trails is None
    account = next(a for a in found.context_assets(org.accounts["dev"]) if a.type == ACCOUNT)
    assert account.attrs["organization_trails"] is None
    assert [(e.service, e.operation) for e in found.errors] == [("cloudtrail", "DescribeTrails")]


def test_only_organization_trails_are_kept_and_found_from_another_region(org: Org) -> None:
    trails = discover(org.session, region="us-east-1").trails
    assert trails is not None
    assert [(t.arn, t.name, t.home_region, t.multi_region, t.logging) for t in trails] == [
        (org.trail_arn, "org-trail", "eu-west-1", True, True)]
