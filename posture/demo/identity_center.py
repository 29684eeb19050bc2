"""The demo account's identity: IAM Identity Center with a standing admin assignment, a
break-glass user documented by tag, an admin role assumable without MFA (issue 16); and the
read calls moto does not implement, answered the way AWS answers them for this account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3


def identity_center(client: Callable[[str], Any], doc: Callable[..., str]) -> None:
    """Issue 16: single sign-on with a standing admin assignment, a break-glass user documented
    by tag, and an admin role people may assume without MFA."""
    sso, store = client("sso-admin"), client("identitystore")
    instance = sso.list_instances()["Instances"][0]  # moto creates one per account and region
    arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
    group = store.create_group(IdentityStoreId=store_id, DisplayName="platform-admins")["GroupId"]
    carol = store.create_user(IdentityStoreId=store_id, UserName="carol", DisplayName="Carol Diaz",
                              Name={"GivenName": "Carol", "FamilyName": "Diaz"})["UserId"]
    store.create_group_membership(IdentityStoreId=store_id, GroupId=group,
                                  MemberId={"UserId": carol})
    account = client("sts").get_caller_identity()["Account"]
    for name, duration, document in (
        ("AdministratorAccess", "PT12H", doc({"Effect": "Allow", "Action": "*", "Resource": "*"})),
        ("ReadOnly", "PT4H", doc({"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
                                   "Resource": "*"})),
    ):
        ps = sso.create_permission_set(Name=name, InstanceArn=arn, SessionDuration=duration)[
            "PermissionSet"]["PermissionSetArn"]
        sso.put_inline_policy_to_permission_set(InstanceArn=arn, PermissionSetArn=ps,
                                                InlinePolicy=document)
        sso.provision_permission_set(InstanceArn=arn, PermissionSetArn=ps,
                                     TargetType="AWS_ACCOUNT", TargetId=account)
        sso.create_account_assignment(InstanceArn=arn, TargetId=account,
                                      TargetType="AWS_ACCOUNT", PermissionSetArn=ps,
                                      PrincipalType="GROUP", PrincipalId=group)
    iam = client("iam")
    iam.create_user(UserName="break-glass", Tags=[{"Key": "posture:break-glass", "Value": "true"}])
    iam.create_login_profile(UserName="break-glass", Password="Demo-Only-Passw0rd!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="break-glass")[
        "VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="break-glass", SerialNumber=serial,
                          AuthenticationCode1="123456", AuthenticationCode2="654321")
    anyone_here = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                   "Action": "sts:AssumeRole"}
    iam.create_role(RoleName="admin-access", MaxSessionDuration=43200,
                    AssumeRolePolicyDocument=doc(anyone_here))
    iam.put_role_policy(RoleName="admin-access", PolicyName="admin",
                        PolicyDocument=doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))


def emulate_missing_apis(session: boto3.session.Session) -> None:
    """Answer, on ``session``'s clients, the read calls moto does not implement the way AWS
    answers them for this account: GetPermissionsBoundaryForPermissionSet (no boundary: moto
    cannot set one either); Systems Manager's DescribeInstanceInformation and
    DescribeInstancePatchStates (no instance runs the SSM agent: none is managed, none reports
    patches), GetServiceSetting (Default Host Management never turned on: AWS's own answer)
    and Inspector's ListCoverage (so Inspector, enabled, covers no instance: it scans EC2
    through the SSM agent). Register before the clients are created."""
    from botocore.awsrequest import AWSResponse

    def answer(status: int, parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        meta = {"ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://emulator.invalid/", status, {}, None), {**parsed, **meta}

    def no_boundary(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return answer(400, {"Error": {"Code": "ResourceNotFoundException",
                                      "Message": "no permissions boundary"}})

    empty = {"ssm.DescribeInstanceInformation": "InstanceInformationList",
             "ssm.DescribeInstancePatchStates": "InstancePatchStates",
             "inspector2.ListCoverage": "coveredResources"}
    session.events.register(
        "before-call.sso-admin.GetPermissionsBoundaryForPermissionSet", no_boundary)
    for operation, key in empty.items():
        session.events.register(f"before-call.{operation}",
                                lambda key=key, **_: answer(200, {key: []}))
    session.events.register("before-call.ssm.GetServiceSetting", lambda **_: answer(200, {
        "ServiceSetting": {
            "SettingId": "/ssm/managed-instance/default-ec2-instance-management-role",
            "SettingValue": "$None", "Status": "Default", "LastModifiedUser": "System"}}))
