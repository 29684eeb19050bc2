"""posture.collectors.aws.peering against a real moto server (and a stubbed failure)."""

from __future__ import annotations

from botocore.stub import Stubber
from support.aws import ACCOUNT, client
from support.collect import scope

from posture.collectors.aws import peering
from posture.collectors.aws.collector import REGIONAL_MODULES, all_permissions

TYPE = "AWS::EC2::VPCPeeringConnection"


def test_collects_peering_connections(moto_endpoint: str) -> None:
    ec2 = client("ec2", moto_endpoint)
    prod = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    dev = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    pending = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    active_id = ec2.create_vpc_peering_connection(VpcId=prod, PeerVpcId=dev)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=active_id)
    ec2.create_tags(Resources=[active_id], Tags=[{"Key": "Name", "Value": "prod-dev"}])
    pending_id = ec2.create_vpc_peering_connection(VpcId=prod, PeerVpcId=pending)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]

    s = scope(moto_endpoint, "us-east-1")
    assets = peering.collect(s)

    assert s.errors == []
    got = {a.attrs["peering_id"]: a for a in assets}
    assert set(got) == {active_id, pending_id}
    active = got[active_id]
    assert active.type == TYPE
    assert active.uid == f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc-peering-connection/{active_id}"
    assert active.name == "prod-dev" and active.tags == {"Name": "prod-dev"}
    assert {k: active.attrs[k] for k in (
        "status", "requester_vpc_id", "requester_account", "requester_region",
        "accepter_vpc_id", "accepter_account", "accepter_region",
        "requester_cidr_blocks", "accepter_cidr_blocks")} == {
        "status": "active", "requester_vpc_id": prod, "requester_account": ACCOUNT,
        "requester_region": "us-east-1", "accepter_vpc_id": dev, "accepter_account": ACCOUNT,
        "accepter_region": "us-east-1", "requester_cidr_blocks": ["10.0.0.0/16"],
        "accepter_cidr_blocks": ["10.1.0.0/16"]}
    assert got[pending_id].attrs["status"] == "pending-acceptance"
    assert got[pending_id].name == pending_id


def test_empty_region(moto_endpoint: str) -> None:
    s = scope(moto_endpoint, "eu-west-1")
    assert peering.collect(s) == []
    assert s.errors == []


def test_denied_listing_is_recorded_not_raised(moto_endpoint: str) -> None:
    s = scope(moto_endpoint, "us-east-1")
    ec2 = s.client("ec2")
    with Stubber(ec2) as stub:
        stub.add_client_error("describe_vpc_peering_connections", "UnauthorizedOperation",
                              "You are not authorized to perform this operation.")
        assert peering.collect(s) == []
    [error] = s.errors
    assert (error.operation, error.code, error.asset_types) == (
        "DescribeVpcPeeringConnections", "UnauthorizedOperation", (TYPE,))
    assert error.region == "us-east-1" and error.resource_uid is None


def test_registered_with_the_collector() -> None:
    assert "peering" in REGIONAL_MODULES
    assert "ec2:DescribeVpcPeeringConnections" in all_permissions()
