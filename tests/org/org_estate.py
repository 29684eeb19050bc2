"""A small AWS organisation on a moto server: the management account, three members in two OUs,
the audit role in each member and a small estate (an open security group in ``prod-web``, a
bucket in ``prod-data``) and, across accounts, a VPC peering between a host in ``prod-web``
(OU Prod) and a host in ``sandbox-1`` (OU Sandbox) with routes both ways and security groups
that admit each other: a production-to-sandbox path no single account can see whole."""

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
    if "prod-web" in accounts and "sandbox-1" in accounts:
        peer_prod_and_sandbox(endpoint, accounts["prod-web"], accounts["sandbox-1"])
    if "prod-data" in accounts:
        s3 = client("s3", endpoint, member_creds(endpoint, accounts["prod-data"]))
        s3.create_bucket(Bucket=f"prod-data-{accounts['prod-data']}")
    return Org(endpoint, org_id, accounts, ous)


def _host(ec2: Any, vpc: str, cidr: str, peer_cidr: str, pcx: str) -> None:
    """A subnet routed to ``peer_cidr`` through the peering, and an instance in it whose
    security group admits all traffic from ``peer_cidr``."""
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock=peer_cidr,
                     VpcPeeringConnectionId=pcx)
    group = ec2.create_security_group(GroupName="from-peer", Description="peer traffic",
                                      VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "-1", "IpRanges": [{"CidrIp": peer_cidr}]}])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                      SubnetId=subnet, SecurityGroupIds=[group])


def peer_prod_and_sandbox(endpoint: str, prod: str, sandbox: str) -> None:
    """prod-web 10.20.0.0/16 <-> sandbox-1 10.30.0.0/16, requested by prod, accepted by sandbox."""
    ec2_prod = client("ec2", endpoint, member_creds(endpoint, prod))
    ec2_sandbox = client("ec2", endpoint, member_creds(endpoint, sandbox))
    vpc_prod = ec2_prod.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    vpc_sandbox = ec2_sandbox.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2_prod.create_vpc_peering_connection(
        VpcId=vpc_prod, PeerVpcId=vpc_sandbox, PeerOwnerId=sandbox
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2_sandbox.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    _host(ec2_prod, vpc_prod, "10.20.1.0/24", "10.30.0.0/16", pcx)
    _host(ec2_sandbox, vpc_sandbox, "10.30.1.0/24", "10.20.0.0/16", pcx)
