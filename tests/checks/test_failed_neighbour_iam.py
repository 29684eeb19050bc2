"""A policy that could not be read is not an empty policy (AWS identity).

End to end: the real IAM collector (boto3 on the moto server) collects a user who holds
administrator rights only through a customer-managed policy attached to her group, with
``GetPolicyVersion`` refused for that policy. The identity checks on the user must not PASS: her
permissions are unknown, and the finding names the failed call.
"""

from __future__ import annotations

import json

import boto3
import pytest
from support.aws import ACCOUNT, client
from support.checks import by_uid, run_one
from support.collect import client_factory
from support.faults import deny

from posture.collectors import runner
from posture.collectors.aws import iam
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.model import GLOBAL, Inventory, Provider, Status

ADMIN_EQUIVALENT = "aws.iam.users_not_admin_equivalent"
ESCALATION = "aws.iam.no_privilege_escalation_paths"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/ana"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ops-all"


@pytest.fixture
def factory(moto_endpoint: str) -> ClientFactory:
    c = client("iam", moto_endpoint)
    c.create_user(UserName="ana")
    c.create_user(UserName="bob")
    c.create_group(GroupName="ops")
    c.add_user_to_group(GroupName="ops", UserName="ana")
    doc = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    c.create_policy(PolicyName="ops-all", PolicyDocument=json.dumps(doc))
    c.attach_group_policy(GroupName="ops", PolicyArn=POLICY_ARN)
    return client_factory(moto_endpoint, boto3.session.Session())


def _inventory(factory: ClientFactory) -> Inventory:
    sc = RegionScope(account=ACCOUNT, region=GLOBAL, clients=factory, api_region="us-east-1")
    assets = iam.collect(sc)
    return runner.build_inventory(Provider.AWS, started=runner.now(), accounts=(ACCOUNT,),
                                  regions=("us-east-1",), endpoint_url=None, assets=assets,
                                  errors=sc.errors)


def test_the_user_is_an_administrator_when_the_policy_is_read(factory: ClientFactory) -> None:
    inv = _inventory(factory)
    assert inv.errors == ()
    assert by_uid(run_one(ADMIN_EQUIVALENT, inv))[USER_ARN].status == Status.FAIL


@pytest.mark.parametrize("check_id", [ADMIN_EQUIVALENT, ESCALATION])
def test_an_unreadable_policy_leaves_its_holders_inconclusive(
    factory: ClientFactory, check_id: str
) -> None:
    deny(factory, "iam", "GetPolicyVersion", "us-east-1", when={"PolicyArn": POLICY_ARN})
    inv = _inventory(factory)
    assert {(e.operation, e.resource_uid) for e in inv.errors} == {
        ("GetPolicyVersion", POLICY_ARN)}

    found = by_uid(run_one(check_id, inv))

    assert found[USER_ARN].status == Status.INCONCLUSIVE, found[USER_ARN].message
    assert "GetPolicyVersion" in found[USER_ARN].message
    assert found[f"arn:aws:iam::{ACCOUNT}:user/bob"].status == Status.PASS  # holds nothing


def test_unlisted_group_policies_leave_the_members_inconclusive(factory: ClientFactory) -> None:
    deny(factory, "iam", "ListAttachedGroupPolicies", "us-east-1")
    inv = _inventory(factory)
    assert {e.operation for e in inv.errors} == {"ListAttachedGroupPolicies"}

    found = by_uid(run_one(ADMIN_EQUIVALENT, inv))[USER_ARN]

    assert found.status == Status.INCONCLUSIVE, found.message
    assert "ListAttachedGroupPolicies" in found.message
