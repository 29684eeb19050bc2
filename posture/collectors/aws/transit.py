"""Transit gateways (regional): VPC attachments and route tables with their routes.

What the reachability graph needs to decide whether a transit gateway really carries traffic
between two VPCs: each VPC attachment's *associated* route table (the table that routes traffic
entering the gateway from that VPC), and every table's routes - static ones and the ones
propagated by attachments. ``SearchTransitGatewayRoutes`` returns both on AWS; the table's
propagations (``GetTransitGatewayRouteTablePropagations``) are stored as well, so the graph can
install the propagated VPC CIDRs itself when a listing leaves them out.

A transit gateway shared from another account (RAM) has its route tables in the owner account:
they are absent here, and the graph then falls back to "attached VPCs route to each other",
saying so in the path.
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import RegionScope, ec2_asset
from posture.model import Asset

ATTACHMENT = "AWS::EC2::TransitGatewayAttachment"
ROUTE_TABLE = "AWS::EC2::TransitGatewayRouteTable"
TYPES = (ATTACHMENT, ROUTE_TABLE)
PERMISSIONS = (
    "ec2:DescribeTransitGatewayAttachments", "ec2:DescribeTransitGatewayRouteTables",
    "ec2:SearchTransitGatewayRoutes", "ec2:GetTransitGatewayRouteTableAssociations",
    "ec2:GetTransitGatewayRouteTablePropagations",
)
_ROUTE_STATES = ("active", "blackhole")


def collect(scope: RegionScope) -> list[Asset]:
    attachments = scope.paginate(
        "ec2", "DescribeTransitGatewayAttachments", "TransitGatewayAttachments", (ATTACHMENT,)
    )
    tables = scope.paginate(
        "ec2", "DescribeTransitGatewayRouteTables", "TransitGatewayRouteTables", (ROUTE_TABLE,)
    )
    assets: list[Asset] = []
    associations: dict[str, str] = {}
    for table in tables or []:
        asset, assoc = _table(scope, table)
        assets.append(asset)
        associations.update(assoc)
    for item in attachments or []:
        assets.append(normalize_attachment(scope, item, associations))
    return sorted(assets, key=lambda a: a.uid)


def normalize_attachment(
    scope: RegionScope, item: dict[str, Any], associations: dict[str, str]
) -> Asset:
    """``associations``: attachment id -> route table id, from the tables' association lists
    (authoritative; the attachment's own ``Association`` field is the fallback)."""
    att_id = str(item["TransitGatewayAttachmentId"])
    own = item.get("Association") or {}
    rt_id = associations.get(att_id)
    if rt_id is None and own.get("State") in ("associated", "associating"):
        rt_id = own.get("TransitGatewayRouteTableId")
    attrs = {
        "attachment_id": att_id,
        "transit_gateway_id": item.get("TransitGatewayId"),
        "transit_gateway_owner": item.get("TransitGatewayOwnerId"),
        "resource_type": item.get("ResourceType"),
        "resource_id": item.get("ResourceId"),
        "resource_owner": item.get("ResourceOwnerId"),
        "vpc_id": item.get("ResourceId") if item.get("ResourceType") == "vpc" else None,
        "state": item.get("State"),
        "route_table_id": rt_id,
    }
    resource = f"transit-gateway-attachment/{att_id}"
    return ec2_asset(scope, ATTACHMENT, resource, att_id, attrs, item)


def _table(scope: RegionScope, table: dict[str, Any]) -> tuple[Asset, dict[str, str]]:
    rt_id = str(table["TransitGatewayRouteTableId"])
    uid = scope.arn("ec2", f"transit-gateway-route-table/{rt_id}")
    routes = _routes(scope, rt_id, uid)
    associated = _attachment_ids(
        scope, rt_id, uid, "GetTransitGatewayRouteTableAssociations", "Associations",
        ("associated", "associating"),
    )
    propagating = _attachment_ids(
        scope, rt_id, uid, "GetTransitGatewayRouteTablePropagations",
        "TransitGatewayRouteTablePropagations", ("enabled", "enabling"),
    )
    attrs = {
        "route_table_id": rt_id,
        "transit_gateway_id": table.get("TransitGatewayId"),
        "state": table.get("State"),
        "default_association": table.get("DefaultAssociationRouteTable"),
        "default_propagation": table.get("DefaultPropagationRouteTable"),
        "routes": routes,  # None: not read (collection error recorded)
        "associations": associated,  # None: not read
        "propagations": propagating,
    }
    asset = ec2_asset(
        scope, ROUTE_TABLE, f"transit-gateway-route-table/{rt_id}", rt_id, attrs, table
    )
    return asset, {a: rt_id for a in associated or ()}


def _attachment_ids(
    scope: RegionScope, rt_id: str, uid: str, operation: str, key: str, states: tuple[str, ...]
) -> list[str] | None:
    """The ids of the attachments that ``operation`` lists for the route table in one of
    ``states`` (None: not read, collection error recorded)."""
    items = scope.paginate(
        "ec2", operation, key, (ROUTE_TABLE,), resource_uid=uid, TransitGatewayRouteTableId=rt_id
    )
    if items is None:
        return None
    return sorted(
        str(i["TransitGatewayAttachmentId"])
        for i in items
        if i.get("TransitGatewayAttachmentId") and i.get("State") in states
    )


def _routes(scope: RegionScope, rt_id: str, uid: str) -> list[dict[str, Any]] | None:
    response = scope.call(
        "ec2",
        "SearchTransitGatewayRoutes",
        (ROUTE_TABLE,),
        resource_uid=uid,
        TransitGatewayRouteTableId=rt_id,
        # MaxResults left at the API default (1000; moto mishandles an explicit value)
        Filters=[{"Name": "state", "Values": list(_ROUTE_STATES)}],
    )
    if response is None:
        return None
    if response.get("AdditionalRoutesAvailable"):
        scope.record(
            "ec2",
            "SearchTransitGatewayRoutes",
            "Truncated",
            f"{rt_id} has more than 1000 routes; the rest cannot be listed",
            (ROUTE_TABLE,),
            resource_uid=uid,
        )
        return None
    out = []
    for r in response.get("Routes") or ():
        dest = r.get("DestinationCidrBlock") or r.get("PrefixListId")
        targets = r.get("TransitGatewayAttachments") or ()
        out.append(
            {
                "destination": dest,
                "destination_kind": "cidr" if r.get("DestinationCidrBlock") else "prefix_list",
                "type": r.get("Type"),
                "state": r.get("State"),
                "attachment_ids": sorted(
                    str(t["TransitGatewayAttachmentId"])
                    for t in targets
                    if t.get("TransitGatewayAttachmentId")
                ),
            }
        )
    return sorted(out, key=lambda r: (str(r["destination"]), str(r["type"])))
