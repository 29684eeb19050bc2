"""VPC peering connections (regional): ``AWS::EC2::VPCPeeringConnection``.

``DescribeVpcPeeringConnections`` lists the connections in which a VPC of this account and
region is requester or accepter; an inter-region connection is therefore seen from both regions
and becomes one asset per region (the uid carries the region of the listing).
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import RegionScope, ec2_asset
from posture.model import Asset

TYPE = "AWS::EC2::VPCPeeringConnection"
PERMISSIONS = ("ec2:DescribeVpcPeeringConnections",)


def collect(scope: RegionScope) -> list[Asset]:
    items = fetch_peerings(scope)
    if items is None:
        return []
    return sorted((normalize_peering(scope, item) for item in items), key=lambda a: a.uid)


def fetch_peerings(scope: RegionScope) -> list[dict[str, Any]] | None:
    return scope.paginate("ec2", "DescribeVpcPeeringConnections", "VpcPeeringConnections",
                          (TYPE,))


def normalize_peering(scope: RegionScope, item: dict[str, Any]) -> Asset:
    peering_id = str(item["VpcPeeringConnectionId"])
    requester = item.get("RequesterVpcInfo") or {}
    accepter = item.get("AccepterVpcInfo") or {}
    attrs = {
        "peering_id": peering_id,
        "status": (item.get("Status") or {}).get("Code"),
        "status_message": (item.get("Status") or {}).get("Message"),
        "expiration_time": item.get("ExpirationTime"),
        **_side("requester", requester),
        **_side("accepter", accepter),
    }
    return ec2_asset(scope, TYPE, f"vpc-peering-connection/{peering_id}", peering_id, attrs, item)


def _side(prefix: str, info: dict[str, Any]) -> dict[str, Any]:
    cidrs = [c["CidrBlock"] for c in info.get("CidrBlockSet") or () if c.get("CidrBlock")]
    if not cidrs and info.get("CidrBlock"):
        cidrs = [info["CidrBlock"]]
    return {
        f"{prefix}_vpc_id": info.get("VpcId"),
        f"{prefix}_account": info.get("OwnerId"),
        f"{prefix}_region": info.get("Region"),
        f"{prefix}_cidr_blocks": cidrs,
        f"{prefix}_ipv6_cidr_blocks": [
            c["Ipv6CidrBlock"] for c in info.get("Ipv6CidrBlockSet") or ()
            if c.get("Ipv6CidrBlock")
        ],
    }
