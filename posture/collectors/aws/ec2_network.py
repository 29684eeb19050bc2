"""EC2 network layer: VPCs, subnets, route tables, gateways, network ACLs, security groups and
managed prefix lists (attrs as in ``docs/aws-assets.md``).

``fetch`` goes through :class:`RegionScope` (paginated, failures recorded); ``normalize_*`` are pure
functions of one API payload. Instances, ENIs and volumes live in ``ec2.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, ec2_asset, listed, tag_map
from posture.model import Asset

VPC = "AWS::EC2::VPC"
SUBNET = "AWS::EC2::Subnet"
ROUTE_TABLE = "AWS::EC2::RouteTable"
INTERNET_GATEWAY = "AWS::EC2::InternetGateway"
NAT_GATEWAY = "AWS::EC2::NatGateway"
NETWORK_ACL = "AWS::EC2::NetworkAcl"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
PREFIX_LIST = "AWS::EC2::PrefixList"

PERMISSIONS: tuple[str, ...] = (
    "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables",
    "ec2:DescribeInternetGateways", "ec2:DescribeNatGateways", "ec2:DescribeNetworkAcls",
    "ec2:DescribeSecurityGroups", "ec2:DescribeManagedPrefixLists",
    "ec2:GetManagedPrefixListEntries",
)

Normalizer = Callable[[RegionScope, Payload], Asset]

# Final states of an association/attachment; transient ones still count (a snapshot errs towards
# "connected" so that an exposure is not hidden by a change in flight).
_ENDED = frozenset({"disassociated", "failed", "detached"})
_SG_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
# Route target fields, checked in this order (an instance route also names the instance's ENI).
_ROUTE_TARGETS = (
    ("EgressOnlyInternetGatewayId", "egress_only_igw"),
    ("NatGatewayId", "nat"),
    ("VpcPeeringConnectionId", "pcx"),
    ("TransitGatewayId", "tgw"),
    ("InstanceId", "instance"),
    ("NetworkInterfaceId", "eni"),
    ("LocalGatewayId", "other"),
    ("CarrierGatewayId", "other"),
    ("CoreNetworkArn", "other"),
)
_GATEWAY_PREFIXES = (("igw-", "igw"), ("vgw-", "vgw"), ("vpce-", "vpce"))


def collect(scope: RegionScope) -> list[Asset]:
    assets: list[Asset] = []
    for operation, key, type_, normalize in _LISTINGS:
        assets.extend(listing(scope, operation, key, type_, normalize))
    assets.extend(collect_prefix_lists(scope))
    return assets


def listing(
    scope: RegionScope, operation: str, key: str, type_: str, normalize: Normalizer
) -> list[Asset]:
    """One paginated EC2 listing, normalized (:func:`~posture.collectors.aws.base.listed`)."""
    return listed(scope, "ec2", operation, key, type_, normalize)


# --- VPCs, subnets, gateways ---------------------------------------------------------------


def normalize_vpc(scope: RegionScope, vpc: Payload) -> Asset:
    vpc_id = vpc["VpcId"]
    v4 = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", []) if _live(a, "CidrBlock")]
    if not v4 and vpc.get("CidrBlock"):
        v4 = [vpc["CidrBlock"]]
    v6 = [a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
          if _live(a, "Ipv6CidrBlock")]
    attrs = {
        "vpc_id": vpc_id,
        "cidr_blocks": sorted(v4),
        "ipv6_cidr_blocks": sorted(v6),
        "is_default": vpc.get("IsDefault"),
    }
    return ec2_asset(scope, VPC, f"vpc/{vpc_id}", vpc_id, attrs, vpc)


def normalize_subnet(scope: RegionScope, subnet: Payload) -> Asset:
    subnet_id = subnet["SubnetId"]
    v6 = [a["Ipv6CidrBlock"] for a in subnet.get("Ipv6CidrBlockAssociationSet", [])
          if _live(a, "Ipv6CidrBlock")]
    attrs = {
        "subnet_id": subnet_id,
        "vpc_id": subnet.get("VpcId"),
        "cidr_block": subnet.get("CidrBlock"),
        "ipv6_cidr_blocks": sorted(v6),
        "availability_zone": subnet.get("AvailabilityZone"),
        "map_public_ip_on_launch": subnet.get("MapPublicIpOnLaunch"),
    }
    return ec2_asset(scope, SUBNET, f"subnet/{subnet_id}", subnet_id, attrs, subnet)


def normalize_internet_gateway(scope: RegionScope, igw: Payload) -> Asset:
    igw_id = igw["InternetGatewayId"]
    vpc_ids = {a["VpcId"] for a in igw.get("Attachments", [])
               if a.get("VpcId") and a.get("State") not in _ENDED}
    attrs = {"igw_id": igw_id, "vpc_ids": sorted(vpc_ids)}
    return ec2_asset(scope, INTERNET_GATEWAY, f"internet-gateway/{igw_id}", igw_id, attrs, igw)


def normalize_nat_gateway(scope: RegionScope, nat: Payload) -> Asset:
    nat_id = nat["NatGatewayId"]
    public_ips = {a["PublicIp"] for a in nat.get("NatGatewayAddresses", []) if a.get("PublicIp")}
    attrs = {
        "nat_gateway_id": nat_id,
        "vpc_id": nat.get("VpcId"),
        "subnet_id": nat.get("SubnetId"),
        "state": nat.get("State"),
        "public_ips": sorted(public_ips),
        "connectivity_type": nat.get("ConnectivityType"),
    }
    return ec2_asset(scope, NAT_GATEWAY, f"natgateway/{nat_id}", nat_id, attrs, nat)


# --- route tables --------------------------------------------------------------------------


def normalize_route_table(scope: RegionScope, table: Payload) -> Asset:
    rtb_id = table["RouteTableId"]
    live = [a for a in table.get("Associations", [])
            if a.get("AssociationState", {}).get("State") not in _ENDED]
    routes = [normalize_route(r) for r in table.get("Routes", [])]
    attrs = {
        "route_table_id": rtb_id,
        "vpc_id": table.get("VpcId"),
        "main": any(a.get("Main") for a in live),
        "subnet_ids": sorted({a["SubnetId"] for a in live if a.get("SubnetId")}),
        "routes": sorted(routes, key=lambda r: (r["destination_kind"], r["destination"] or "")),
    }
    return ec2_asset(scope, ROUTE_TABLE, f"route-table/{rtb_id}", rtb_id, attrs, table)


def normalize_route(route: Payload) -> dict[str, Any]:
    """One route: destination (IPv4/IPv6 CIDR or prefix list) and the kind of its target."""
    if route.get("DestinationCidrBlock"):
        destination, dest_kind = route["DestinationCidrBlock"], "ipv4"
    elif route.get("DestinationIpv6CidrBlock"):
        destination, dest_kind = route["DestinationIpv6CidrBlock"], "ipv6"
    else:
        destination, dest_kind = route.get("DestinationPrefixListId"), "prefix_list"
    target_kind, target_id = route_target(route)
    return {
        "destination": destination,
        "destination_kind": dest_kind,
        "target_kind": target_kind,
        "target_id": target_id,
        "state": route.get("State"),
    }


def route_target(route: Payload) -> tuple[str, str | None]:
    gateway = route.get("GatewayId")
    if gateway:
        if gateway == "local":
            return "local", "local"
        kind = next((k for prefix, k in _GATEWAY_PREFIXES if gateway.startswith(prefix)), "other")
        return kind, gateway
    for field, kind in _ROUTE_TARGETS:
        if route.get(field):
            return kind, str(route[field])
    return "other", None


# --- network ACLs --------------------------------------------------------------------------


def normalize_network_acl(scope: RegionScope, acl: Payload) -> Asset:
    acl_id = acl["NetworkAclId"]
    entries = [normalize_acl_entry(e) for e in acl.get("Entries", [])]
    attrs = {
        "network_acl_id": acl_id,
        "vpc_id": acl.get("VpcId"),
        "is_default": acl.get("IsDefault"),
        "subnet_ids": sorted({a["SubnetId"] for a in acl.get("Associations", [])
                              if a.get("SubnetId")}),
        "entries": sorted(entries, key=lambda e: (e["egress"], e["rule_number"], e["cidr"] or "")),
    }
    return ec2_asset(scope, NETWORK_ACL, f"network-acl/{acl_id}", acl_id, attrs, acl)


def normalize_acl_entry(entry: Payload) -> dict[str, Any]:
    ports = entry.get("PortRange") or {}
    icmp = entry.get("IcmpTypeCode") or {}
    return {
        "rule_number": entry.get("RuleNumber"),
        "egress": bool(entry.get("Egress")),
        "protocol": str(entry.get("Protocol", "-1")),
        "action": entry.get("RuleAction"),
        "cidr": entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"),
        "port_from": ports.get("From"),
        "port_to": ports.get("To"),
        "icmp_type": icmp.get("Type"),
        "icmp_code": icmp.get("Code"),
    }


# --- security groups -----------------------------------------------------------------------


def normalize_security_group(scope: RegionScope, group: Payload) -> Asset:
    group_id = group["GroupId"]
    attrs = {
        "group_id": group_id,
        "group_name": group.get("GroupName"),
        "vpc_id": group.get("VpcId"),
        "description": group.get("Description"),
        "ingress": flatten_permissions(group.get("IpPermissions", []), scope.account),
        "egress": flatten_permissions(group.get("IpPermissionsEgress", []), scope.account),
    }
    tags = tag_map(group.get("Tags"))
    name = tags.get("Name") or group.get("GroupName") or group_id
    uid = scope.arn("ec2", f"security-group/{group_id}")
    return scope.asset(uid, SECURITY_GROUP, name, attrs, raw=group, tags=tags)


def flatten_permissions(permissions: list[Payload], account: str) -> list[dict[str, Any]]:
    """One rule per (protocol, port range, source); sorted, since order has no meaning."""
    rules: list[dict[str, Any]] = []
    for perm in permissions:
        base = _permission_ports(perm)
        for r in perm.get("IpRanges", []):
            rules.append(_rule(base, "cidr4", r.get("CidrIp"), None, r))
        for r in perm.get("Ipv6Ranges", []):
            rules.append(_rule(base, "cidr6", r.get("CidrIpv6"), None, r))
        for r in perm.get("PrefixListIds", []):
            rules.append(_rule(base, "prefix_list", r.get("PrefixListId"), None, r))
        for r in perm.get("UserIdGroupPairs", []):
            owner = r.get("UserId")
            other = owner if owner and owner != account else None
            rules.append(_rule(base, "security_group", r.get("GroupId"), other, r))
    return sorted(rules, key=_rule_key)


def _permission_ports(perm: Payload) -> dict[str, Any]:
    raw = str(perm.get("IpProtocol", "-1")).lower()
    protocol = _SG_PROTOCOLS.get(raw, raw)
    if protocol == "-1":
        return {"protocol": protocol, "from_port": None, "to_port": None}
    from_port, to_port = perm.get("FromPort"), perm.get("ToPort")
    return {
        "protocol": protocol,
        "from_port": None if from_port in (None, -1) else from_port,
        "to_port": None if to_port in (None, -1) else to_port,
    }


def _rule(
    base: dict[str, Any], kind: str, source: str | None, account: str | None, item: Payload
) -> dict[str, Any]:
    return {**base, "source_kind": kind, "source": source, "source_account": account,
            "description": item.get("Description")}


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    def num(value: int | None) -> int:
        return -1 if value is None else value

    return (rule["protocol"], num(rule["from_port"]), num(rule["to_port"]), rule["source_kind"],
            rule["source"] or "", rule["source_account"] or "", rule["description"] or "")


# --- managed prefix lists ------------------------------------------------------------------


def collect_prefix_lists(scope: RegionScope) -> list[Asset]:
    lists = scope.paginate("ec2", "DescribeManagedPrefixLists", "PrefixLists", (PREFIX_LIST,))
    assets = []
    for pl in lists or []:
        uid = scope.arn("ec2", f"prefix-list/{pl['PrefixListId']}")
        entries = scope.paginate(
            "ec2", "GetManagedPrefixListEntries", "Entries", (f"{PREFIX_LIST}#entries",),
            resource_uid=uid, PrefixListId=pl["PrefixListId"],
        )
        assets.append(normalize_prefix_list(scope, pl, entries))
    return assets


def normalize_prefix_list(
    scope: RegionScope, pl: Payload, entries: list[Payload] | None
) -> Asset:
    """``entries`` is ``None`` when GetManagedPrefixListEntries failed: unknown, not empty."""
    pl_id = pl["PrefixListId"]
    cidrs = None if entries is None else sorted({e["Cidr"] for e in entries if e.get("Cidr")})
    attrs = {
        "prefix_list_id": pl_id,
        "name": pl.get("PrefixListName"),
        "address_family": pl.get("AddressFamily"),
        "entries": cidrs,
        "aws_managed": str(pl.get("OwnerId", "")).upper() == "AWS",
    }
    raw = {**pl, "Entries": entries}
    tags = tag_map(pl.get("Tags"))
    name = tags.get("Name") or pl.get("PrefixListName") or pl_id
    uid = scope.arn("ec2", f"prefix-list/{pl_id}")
    return scope.asset(uid, PREFIX_LIST, name, attrs, raw=raw, tags=tags)


# --- helpers -------------------------------------------------------------------------------


def _live(association: Payload, key: str) -> bool:
    """A CIDR association that is in effect (associated or being associated)."""
    if not association.get(key):
        return False
    state = (association.get("CidrBlockState") or association.get("Ipv6CidrBlockState") or {})
    return state.get("State") not in _ENDED


_LISTINGS: tuple[tuple[str, str, str, Normalizer], ...] = (
    ("DescribeVpcs", "Vpcs", VPC, normalize_vpc),
    ("DescribeSubnets", "Subnets", SUBNET, normalize_subnet),
    ("DescribeRouteTables", "RouteTables", ROUTE_TABLE, normalize_route_table),
    ("DescribeInternetGateways", "InternetGateways", INTERNET_GATEWAY, normalize_internet_gateway),
    ("DescribeNatGateways", "NatGateways", NAT_GATEWAY, normalize_nat_gateway),
    ("DescribeNetworkAcls", "NetworkAcls", NETWORK_ACL, normalize_network_acl),
    ("DescribeSecurityGroups", "SecurityGroups", SECURITY_GROUP, normalize_security_group),
)
