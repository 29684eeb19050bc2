"""IAM Identity Center collector against the moto server: the instance, identity-store users and
groups, permission sets (session duration, managed / customer-managed / inline policies,
boundary) and their account assignments named by display name; the home-region lookup; and the
SAML / OIDC providers.

moto 5.2.6 does not implement GetPermissionsBoundaryForPermissionSet (it answers HTTP 500):
the tests answer it through botocore's event system in AWS's real shapes
(``ResourceNotFoundException`` when a set has no boundary, ``PermissionsBoundary`` when it has)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.aws import ACCOUNT, client
from support.collect import by_uid, collected, error_keys
from support.faults import deny, refuse, respond

from posture.collectors.aws import iam_providers, sso
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.model import GLOBAL

ADMIN_DOC = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
NO_BOUNDARY = "GetPermissionsBoundaryForPermissionSet"


def _no_boundary(factory: ClientFactory, region: str = "us-east-1") -> None:
    refuse(factory, "sso-admin", region, NO_BOUNDARY, code="ResourceNotFoundException")


def _seed(endpoint: str) -> dict[str, str]:
    admin = client("sso-admin", endpoint)
    store = client("identitystore", endpoint)
    instance = admin.list_instances()["Instances"][0]
    arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
    group = store.create_group(IdentityStoreId=store_id, DisplayName="platform-admins")["GroupId"]
    carol = store.create_user(IdentityStoreId=store_id, UserName="carol", DisplayName="Carol Diaz",
                              Name={"GivenName": "Carol", "FamilyName": "Diaz"},
                              Emails=[{"Value": "carol@example.com"}])["UserId"]
    store.create_group_membership(IdentityStoreId=store_id, GroupId=group,
                                  MemberId={"UserId": carol})
    ps = admin.create_permission_set(Name="AdministratorAccess", InstanceArn=arn,
                                     SessionDuration="PT12H")["PermissionSet"]["PermissionSetArn"]
    admin.put_inline_policy_to_permission_set(InstanceArn=arn, PermissionSetArn=ps,
                                              InlinePolicy=json.dumps(ADMIN_DOC))
    admin.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=arn, PermissionSetArn=ps,
        CustomerManagedPolicyReference={"Name": "ops-extra", "Path": "/teams/"})
    for kind, pid in (("GROUP", group), ("USER", carol)):
        admin.create_account_assignment(InstanceArn=arn, TargetId=ACCOUNT,
                                        TargetType="AWS_ACCOUNT", PermissionSetArn=ps,
                                        PrincipalType=kind, PrincipalId=pid)
    reader = admin.create_permission_set(Name="ReadOnly", InstanceArn=arn)["PermissionSet"][
        "PermissionSetArn"]
    return {"instance": arn, "store": store_id, "admin": ps, "reader": reader, "group": group,
            "carol": carol}


def test_identity_center_is_collected_with_names(factory: ClientFactory,
                                                 moto_endpoint: str) -> None:
    ids = _seed(moto_endpoint)
    _no_boundary(factory)
    found, scope = collected(sso, factory, region=GLOBAL)
    assert not scope.errors, scope.errors
    instance = found[ids["instance"]]
    assert instance.type == sso.INSTANCE and instance.attrs["home_region"] == "us-east-1"
    assert instance.attrs["identity_store_id"] == ids["store"]
    admin = found[ids["admin"]].attrs
    assert admin["permission_set_name"] == "AdministratorAccess"
    assert (admin["session_duration"], admin["session_seconds"]) == ("PT12H", 43200)
    assert admin["inline_policy"] == ADMIN_DOC and admin["inline_policy_present"] is True
    assert admin["customer_managed_policies"] == [{"name": "ops-extra", "path": "/teams/"}]
    assert admin["aws_managed_policy_arns"] == []
    assert (admin["permissions_boundary"], admin["permissions_boundary_present"]) == (None, False)
    assert sorted(admin["assignments"], key=lambda a: a["principal_type"]) == [
        {"account_id": ACCOUNT, "principal_type": "GROUP", "principal_id": ids["group"],
         "principal_name": "platform-admins"},
        {"account_id": ACCOUNT, "principal_type": "USER", "principal_id": ids["carol"],
         "principal_name": "Carol Diaz"},
    ]
    reader = found[ids["reader"]].attrs
    # AWS applies one hour when a set names none (moto answers "3600")
    assert reader["session_seconds"] == 3600 and reader["inline_policy_present"] is False
    assert reader["assignments"] == []
    user = found[f"arn:aws:identitystore:::user/{ids['carol']}"]
    assert user.name == "Carol Diaz" and "carol@example.com" not in json.dumps(user.raw)
    group = found[f"arn:aws:identitystore:::group/{ids['group']}"]
    assert group.attrs["member_user_ids"] == [ids["carol"]]


def test_boundary_and_aws_managed_policy_documents(factory: ClientFactory,
                                                   moto_endpoint: str) -> None:
    ids = _seed(moto_endpoint)
    client("sso-admin", moto_endpoint).attach_managed_policy_to_permission_set(
        InstanceArn=ids["instance"], PermissionSetArn=ids["reader"],
        ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    boundary = {"PermissionsBoundary": {"CustomerManagedPolicyReference": {
        "Name": "guardrail", "Path": "/"}}}
    respond(factory, "sso-admin", NO_BOUNDARY, boundary)
    found, scope = collected(sso, factory, region=GLOBAL)
    reader = found[ids["reader"]].attrs
    assert reader["aws_managed_policy_arns"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert reader["permissions_boundary"] == {
        "customer_managed_policy": {"name": "guardrail", "path": "/"}}
    # moto has no AWS-managed policies loaded: the document is recorded as unknown
    assert ("global", "iam", "GetPolicy", "NoSuchEntity", ("AWS::IAM::Policy#document",),
            "arn:aws:iam::aws:policy/ReadOnlyAccess") in error_keys(scope.errors)


def test_failed_details_are_null_and_recorded(factory: ClientFactory, moto_endpoint: str) -> None:
    ids = _seed(moto_endpoint)
    _no_boundary(factory)
    deny(factory, "sso-admin", "ListAccountAssignments")
    found, scope = collected(sso, factory, region=GLOBAL)
    assert found[ids["admin"]].attrs["assignments"] is None
    assert ("global", "sso-admin", "ListAccountAssignments", "AccessDenied",
            ("AWS::SSO::PermissionSet#assignments",), ids["admin"]) in error_keys(scope.errors)


def test_instance_lookup_denied_is_recorded(factory: ClientFactory) -> None:
    deny(factory, "sso-admin", "ListInstances")
    found, scope = collected(sso, factory, region=GLOBAL)
    assert found == {}
    assert {("global", "sso-admin", "ListInstances", "AccessDenied", ("AWS::SSO::Instance",),
             None)} == error_keys(scope.errors)


def test_home_region_read_from_the_provisioned_roles(factory: ClientFactory,
                                                     moto_endpoint: str) -> None:
    # no instance in the API region (AWS answers an empty list outside the home region)
    respond(factory, "sso-admin", "ListInstances", {"Instances": []}, region="us-east-1")
    client("iam", moto_endpoint).create_role(
        RoleName="AWSReservedSSO_Admin_0123456789abcdef",
        Path="/aws-reserved/sso.amazonaws.com/eu-west-1/",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    _no_boundary(factory, "eu-west-1")
    scope = RegionScope(account=ACCOUNT, region=GLOBAL, clients=factory)
    home, instances = sso.find_instances(scope)
    assert home == "eu-west-1" and len(instances) == 1
    assets = sso.collect(scope)
    assert [a.attrs["home_region"] for a in assets if a.type == sso.INSTANCE] == ["eu-west-1"]


@pytest.mark.parametrize(("duration", "seconds"), [
    ("PT12H", 43200), ("PT1H30M", 5400), ("PT900S", 900), ("3600", 3600), ("P1D", None),
    ("", None)])
def test_session_seconds(duration: str, seconds: int | None) -> None:
    assert sso.session_seconds(duration) == seconds


def test_saml_and_oidc_providers(factory: ClientFactory, moto_endpoint: str) -> None:
    iam = client("iam", moto_endpoint)
    saml = iam.create_saml_provider(Name="AWSSSO_0123_DO_NOT_DELETE",
                                    SAMLMetadataDocument="x" * 1000)["SAMLProviderArn"]
    oidc = iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    found, scope = collected(iam_providers, factory, region=GLOBAL)
    assert not scope.errors
    assert found[saml].attrs["identity_center"] is True
    attrs: dict[str, Any] = dict(found[oidc].attrs)
    assert attrs["url"] == "token.actions.githubusercontent.com"
    assert (attrs["client_ids"], attrs["thumbprints"]) == (["sts.amazonaws.com"], ["a" * 40])
    assert set(by_uid(found.values())) == {saml, oidc}
