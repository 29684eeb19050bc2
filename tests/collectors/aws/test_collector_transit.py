"""posture.collectors.aws.transit against a real moto server (and stubbed failures)."""

from __future__ import annotations

from botocore.stub import Stubber
from support.aws import ACCOUNT, client
from support.collect import scope

from posture.collectors.aws import transit
from posture.collectors.aws.collector import REGIONAL_MODULES, all_permissions


def test_collects_attachments_tables_associations_propagations_and_routes(
    moto_endpoint: str,
) -> None:
    ec2 = client("ec2", moto_endpoint, "ap-southeast-2")
    tgw = ec2.create_transit_gateway(Description="core")["TransitGateway"]["TransitGatewayId"]
    vpcs, atts = [], []
    for i in (1, 2):
        vpc = ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
        sub = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{i}.1.0/24")["Subnet"]["SubnetId"]
        att = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[sub]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        vpcs.append(vpc)
        atts.append(att)
    rt = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)[
        "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=rt, TransitGatewayAttachmentId=atts[0])
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=rt, TransitGatewayAttachmentId=atts[1])
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="10.9.0.0/16", TransitGatewayRouteTableId=rt, Blackhole=True)

    s = scope(moto_endpoint, "ap-southeast-2")
    assets = [a for a in transit.collect(s) if a.attrs["transit_gateway_id"] == tgw]

    assert s.errors == []
    by_type: dict[str, list] = {}
    for a in assets:
        by_type.setdefault(a.type, []).append(a)
    attachments = {a.attrs["attachment_id"]: a for a in by_type[transit.ATTACHMENT]}
    assert set(attachments) == set(atts)
    first = attachments[atts[0]]
    assert first.attrs["vpc_id"] == vpcs[0] and first.attrs["resource_type"] == "vpc"
    # the table's association list wins over the attachment's own (default-table) field
    assert first.attrs["route_table_id"] == rt
    assert first.uid == (
        f"arn:aws:ec2:ap-southeast-2:{ACCOUNT}:transit-gateway-attachment/{atts[0]}")
    tables = {a.attrs["route_table_id"]: a for a in by_type[transit.ROUTE_TABLE]}
    table = tables[rt]
    assert table.attrs["associations"] == [atts[0]]
    assert table.attrs["propagations"] == [atts[1]]
    assert {"destination": "10.9.0.0/16", "destination_kind": "cidr", "type": "static",
            "state": "blackhole", "attachment_ids": []} in table.attrs["routes"]


def test_failed_route_search_leaves_routes_unknown(moto_endpoint: str) -> None:
    ec2 = client("ec2", moto_endpoint, "ca-central-1")
    tgw = ec2.create_transit_gateway(Description="x")["TransitGateway"]["TransitGatewayId"]
    s = scope(moto_endpoint, "ca-central-1")
    real = s.client("ec2")
    tables = real.describe_transit_gateway_route_tables(
        Filters=[{"Name": "transit-gateway-id", "Values": [tgw]}])["TransitGatewayRouteTables"]
    assert tables  # moto makes the default table
    with Stubber(real) as stub:
        stub.add_response("describe_transit_gateway_attachments",
                          {"TransitGatewayAttachments": []})
        stub.add_response("describe_transit_gateway_route_tables",
                          {"TransitGatewayRouteTables": tables[:1]})
        stub.add_client_error("search_transit_gateway_routes", "UnauthorizedOperation",
                              "You are not authorized to perform this operation.")
        stub.add_response("get_transit_gateway_route_table_associations", {"Associations": []})
        stub.add_response("get_transit_gateway_route_table_propagations",
                          {"TransitGatewayRouteTablePropagations": []})
        [table] = transit.collect(s)
    assert table.attrs["routes"] is None
    [error] = s.errors
    assert (error.operation, error.code, error.asset_types, error.resource_uid) == (
        "SearchTransitGatewayRoutes", "UnauthorizedOperation", (transit.ROUTE_TABLE,), table.uid)


def test_registered_with_the_collector() -> None:
    assert "transit" in REGIONAL_MODULES
    assert {"ec2:SearchTransitGatewayRoutes", "ec2:DescribeTransitGatewayAttachments",
            "ec2:GetTransitGatewayRouteTableAssociations"} <= set(all_permissions())
