"""A small AWS organisation on a moto server: the management account, three members in two OUs,
the audit role in each member and a small estate (an open security group in ``prod-web``, a
bucket in ``prod-data``, nothing in ``sandbox-1``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3

MANAGEMENT = "123456789012"  # moto's default account: the caller's own credentials
ROLE = "PostureAudit"
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
         '"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}')


@dataclass(frozen=True)
class Org:
    endpoint: str
    id: str
    accounts: dict[str, str]  # name -> id (members)
    ous: dict[str, str]  # name -> id

    def id_of(self, name: str) -> str:
        return self.accounts[name]


def client(service: str, endpoint: str, creds: dict[str, str] | None = None,
           region: str = "us-east-1") -> Any:
    keys = creds or {"aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                     "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")}
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **keys)


def member_creds(endpoint: str, account: str) -> dict[str, str]:
    sts = client("sts", endpoint)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                        RoleSessionName="build")["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def build(endpoint: str, members: tuple[tuple[str, str], ...] = (
    ("prod-web", "Prod"), ("prod-data", "Prod"), ("sandbox-1", "Sandbox"),
)) -> Org:
    """The organisation; IAM fixtures are built one after another (moto's IAM backend is not
    thread-safe)."""
    org = client("organizations", endpoint)
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    ous = {}
    for name in sorted({ou for _, ou in members}):
        ous[name] = org.create_organizational_unit(ParentId=root, Name=name)[
            "OrganizationalUnit"]["Id"]
    accounts = {}
    for name, ou in members:
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")
        account = status["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ous[ou])
        accounts[name] = account
        creds = member_creds(endpoint, account)
        client("iam", endpoint, creds).create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST)
    if "prod-web" in accounts:
        ec2 = client("ec2", endpoint, member_creds(endpoint, accounts["prod-web"]))
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        sg = ec2.create_security_group(GroupName="open-ssh", Description="ssh from anywhere",
                                       VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    if "prod-data" in accounts:
        s3 = client("s3", endpoint, member_creds(endpoint, accounts["prod-data"]))
        s3.create_bucket(Bucket=f"prod-data-{accounts['prod-data']}")
    return Org(endpoint, org_id, accounts, ous)
