"""EC2 collector (``ec2_network`` + ``ec2``): real boto3 against the moto server.

moto gaps met here (each asserted as moto behaves, with a comment):
- a route whose target was deleted stays ``active`` (AWS reports ``blackhole``);
- NACL entries lose ``IcmpTypeCode``; security-group prefix-list sources lose their description;
- NAT gateways have no ``ConnectivityType``;
- ``GetEbsDefaultKmsKeyId`` is not implemented (the server answers with an HTML 500);
- security-group references to another account's group are refused (group must exist locally).
Those cases are covered by the pure ``normalize_*`` tests at the end of this file.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from support.aws import ACCOUNT, client
from support.collect import collected, scope, security_group
from support.faults import deny, respond

from posture.collectors.aws import ec2, ec2_network
from posture.collectors.aws.base import ClientFactory
from posture.model import Asset

REGION = "us-east-1"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b7c2a10-1111-2222-3333-444455556666"


def _arn(resource: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{resource}"


def _of(assets: dict[str, Asset], type_: str) -> dict[str, Asset]:
    return {uid: a for uid, a in assets.items() if a.type == type_}


def _rules(asset: Asset, direction: str) -> set[tuple[Any, ...]]:
    return {(r["protocol"], r["from_port"], r["to_port"], r["source_kind"], r["source"],
             r["source_account"], r["description"]) for r in asset.attrs[direction]}


def _ami(ec2c: Any) -> str:
    """A Linux AMI from moto's bundled catalogue (listing the catalogue takes seconds)."""
    return "ami-1e749f67"


# --- network layer -------------------------------------------------------------------------


def test_security_group_rules_are_flattened(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg_a = ec2c.create_security_group(GroupName="db", Description="DB tier", VpcId=vpc,
                                      TagSpecifications=[{"ResourceType": "security-group",
                                                          "Tags": [{"Key": "Name",
                                                                    "Value": "db-sg"}]}])
    sg_a_id = sg_a["GroupId"]
    sg_b = ec2c.create_security_group(GroupName="app", Description="App", VpcId=vpc)["GroupId"]
    pl = ec2c.create_managed_prefix_list(
        PrefixListName="office", AddressFamily="IPv4", MaxEntries=5,
        Entries=[{"Cidr": "203.0.113.0/24", "Description": "hq"}],
    )["PrefixList"]["PrefixListId"]
    ec2c.authorize_security_group_ingress(GroupId=sg_a_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "corp"},
                      {"CidrIp": "192.168.0.0/16"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "world v6"}]},
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "UserIdGroupPairs": [{"GroupId": sg_b, "Description": "app"}]},
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8081,
         "PrefixListIds": [{"PrefixListId": pl, "Description": "office"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "17", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]},
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg_a_id}]},
    ])

    assets, scope = collected(ec2_network, factory)

    sg = assets[_arn(f"security-group/{sg_a_id}")]
    assert (sg.type, sg.name, sg.region, sg.account) == (
        "AWS::EC2::SecurityGroup", "db-sg", REGION, ACCOUNT)
    assert {k: sg.attrs[k] for k in ("group_id", "group_name", "vpc_id", "description")} == {
        "group_id": sg_a_id, "group_name": "db", "vpc_id": vpc, "description": "DB tier"}
    assert _rules(sg, "ingress") == {
        ("tcp", 22, 22, "cidr4", "10.0.0.0/8", None, "corp"),
        ("tcp", 22, 22, "cidr4", "192.168.0.0/16", None, None),
        ("tcp", 443, 443, "cidr6", "::/0", None, "world v6"),
        ("tcp", 5432, 5432, "security_group", sg_b, None, "app"),
        # moto drops the description of a prefix-list source (AWS keeps it).
        ("tcp", 8080, 8081, "prefix_list", pl, None, None),
        ("icmp", 8, None, "cidr4", "0.0.0.0/0", None, None),
        ("udp", 53, 53, "cidr4", "10.0.0.0/16", None, None),
        ("-1", None, None, "security_group", sg_a_id, None, None),
    }
    assert _rules(sg, "egress") == {("-1", None, None, "cidr4", "0.0.0.0/0", None, None)}
    assert scope.errors == []


def test_network_layout(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    vpc_id, v6 = vpc["VpcId"], vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    ec2c.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock="10.8.0.0/16")
    peer = ec2c.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    pub = ec2c.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
    pub_id = pub["Subnet"]["SubnetId"]
    ec2c.modify_subnet_attribute(SubnetId=pub_id, MapPublicIpOnLaunch={"Value": True})
    priv_id = ec2c.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24",
                                 AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    igw = ec2c.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2c.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    eip = ec2c.allocate_address(Domain="vpc")
    nat = ec2c.create_nat_gateway(SubnetId=pub_id, AllocationId=eip["AllocationId"])
    nat_id = nat["NatGateway"]["NatGatewayId"]
    pcx = ec2c.create_vpc_peering_connection(VpcId=vpc_id, PeerVpcId=peer)
    pcx_id = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    pl = ec2c.create_managed_prefix_list(PrefixListName="partners", AddressFamily="IPv4",
                                         MaxEntries=2)["PrefixList"]["PrefixListId"]
    rt_pub = ec2c.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2c.associate_route_table(RouteTableId=rt_pub, SubnetId=pub_id)
    ec2c.create_route(RouteTableId=rt_pub, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2c.create_route(RouteTableId=rt_pub, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
    ec2c.create_route(RouteTableId=rt_pub, DestinationCidrBlock="10.1.0.0/16",
                      VpcPeeringConnectionId=pcx_id)
    rt_priv = ec2c.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2c.associate_route_table(RouteTableId=rt_priv, SubnetId=priv_id)
    ec2c.create_route(RouteTableId=rt_priv, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    ec2c.create_route(RouteTableId=rt_priv, DestinationPrefixListId=pl,
                      VpcPeeringConnectionId=pcx_id)
    # A route to an internet gateway that is then deleted: AWS reports it as a blackhole.
    igw_gone = ec2c.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2c.attach_internet_gateway(InternetGatewayId=igw_gone, VpcId=peer)
    rt_peer = ec2c.create_route_table(VpcId=peer)["RouteTable"]["RouteTableId"]
    ec2c.create_route(RouteTableId=rt_peer, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_gone)
    ec2c.detach_internet_gateway(InternetGatewayId=igw_gone, VpcId=peer)
    ec2c.delete_internet_gateway(InternetGatewayId=igw_gone)

    assets, scope = collected(ec2_network, factory)
    assert scope.errors == []

    assert assets[_arn(f"vpc/{vpc_id}")].attrs == {
        "vpc_id": vpc_id, "cidr_blocks": ["10.0.0.0/16", "10.8.0.0/16"],
        "ipv6_cidr_blocks": [v6], "is_default": False}
    subnets = {a.attrs["subnet_id"]: a.attrs for a in _of(assets, "AWS::EC2::Subnet").values()}
    assert subnets[pub_id] == {
        "subnet_id": pub_id, "vpc_id": vpc_id, "cidr_block": "10.0.1.0/24",
        "ipv6_cidr_blocks": [], "availability_zone": "us-east-1a",
        "map_public_ip_on_launch": True}
    assert subnets[priv_id]["map_public_ip_on_launch"] is False
    assert assets[_arn(f"internet-gateway/{igw}")].attrs == {"igw_id": igw, "vpc_ids": [vpc_id]}
    assert assets[_arn(f"natgateway/{nat_id}")].attrs == {
        "nat_gateway_id": nat_id, "vpc_id": vpc_id, "subnet_id": pub_id, "state": "available",
        "public_ips": [eip["PublicIp"]],
        "connectivity_type": None,  # moto omits ConnectivityType (AWS: "public")
    }

    tables = {a.attrs["route_table_id"]: a.attrs
              for a in _of(assets, "AWS::EC2::RouteTable").values()}
    main = [t for t in tables.values() if t["vpc_id"] == vpc_id and t["main"]]
    assert len(main) == 1 and main[0]["subnet_ids"] == []
    assert {(r["destination"], r["target_kind"]) for r in main[0]["routes"]} == {
        ("10.0.0.0/16", "local"), ("10.8.0.0/16", "local"), (v6, "local")}

    def routes(rtb: str) -> set[tuple[Any, ...]]:
        return {(r["destination"], r["destination_kind"], r["target_kind"], r["target_id"],
                 r["state"]) for r in tables[rtb]["routes"]}

    assert (tables[rt_pub]["main"], tables[rt_pub]["subnet_ids"]) == (False, [pub_id])
    assert routes(rt_pub) == {
        ("10.0.0.0/16", "ipv4", "local", "local", "active"),
        ("10.8.0.0/16", "ipv4", "local", "local", "active"),
        (v6, "ipv6", "local", "local", "active"),
        ("0.0.0.0/0", "ipv4", "igw", igw, "active"),
        ("::/0", "ipv6", "igw", igw, "active"),
        ("10.1.0.0/16", "ipv4", "pcx", pcx_id, "active"),
    }
    assert tables[rt_priv]["subnet_ids"] == [priv_id]
    assert routes(rt_priv) - routes(rt_pub) == {
        ("0.0.0.0/0", "ipv4", "nat", nat_id, "active"),
        (pl, "prefix_list", "pcx", pcx_id, "active"),
    }
    # moto keeps the route to the deleted gateway "active"; AWS would say "blackhole".
    assert ("0.0.0.0/0", "ipv4", "igw", igw_gone, "active") in routes(rt_peer)


def test_more_route_targets(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    sub = ec2c.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    rt = ec2c.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    eigw = ec2c.create_egress_only_internet_gateway(VpcId=vpc)["EgressOnlyInternetGateway"]
    vgw = ec2c.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2c.attach_vpn_gateway(VpcId=vpc, VpnGatewayId=vgw)
    tgw = ec2c.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    eni = ec2c.create_network_interface(SubnetId=sub)["NetworkInterface"]["NetworkInterfaceId"]
    inst = ec2c.run_instances(ImageId=_ami(ec2c), MinCount=1, MaxCount=1,
                              SubnetId=sub)["Instances"][0]["InstanceId"]
    ec2c.create_route(RouteTableId=rt, DestinationIpv6CidrBlock="::/0",
                      EgressOnlyInternetGatewayId=eigw["EgressOnlyInternetGatewayId"])
    ec2c.create_route(RouteTableId=rt, DestinationCidrBlock="172.16.0.0/12", GatewayId=vgw)
    ec2c.create_route(RouteTableId=rt, DestinationCidrBlock="10.100.0.0/16", TransitGatewayId=tgw)
    ec2c.create_route(RouteTableId=rt, DestinationCidrBlock="10.101.0.0/16",
                      NetworkInterfaceId=eni)
    ec2c.create_route(RouteTableId=rt, DestinationCidrBlock="10.102.0.0/16", InstanceId=inst)
    vpce = ec2c.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3",
                                    RouteTableIds=[rt], VpcEndpointType="Gateway")

    assets, _ = collected(ec2_network, factory)

    kinds = {(r["target_kind"], r["target_id"])
             for r in assets[_arn(f"route-table/{rt}")].attrs["routes"]}
    assert kinds >= {
        ("egress_only_igw", eigw["EgressOnlyInternetGatewayId"]), ("vgw", vgw), ("tgw", tgw),
        ("eni", eni), ("instance", inst), ("vpce", vpce["VpcEndpoint"]["VpcEndpointId"]),
    }


def test_network_acl_entries(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2c.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    acl = ec2c.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    entry: dict[str, Any] = {"NetworkAclId": acl, "Egress": False}
    ec2c.create_network_acl_entry(**entry, RuleNumber=120, Protocol="-1", RuleAction="allow",
                                  Ipv6CidrBlock="::/0")
    ec2c.create_network_acl_entry(**entry, RuleNumber=100, Protocol="6", RuleAction="allow",
                                  CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443})
    ec2c.create_network_acl_entry(**entry, RuleNumber=90, Protocol="6", RuleAction="deny",
                                  CidrBlock="198.51.100.0/24", PortRange={"From": 0, "To": 65535})
    ec2c.create_network_acl_entry(**entry, RuleNumber=110, Protocol="1", RuleAction="allow",
                                  CidrBlock="0.0.0.0/0", IcmpTypeCode={"Type": 8, "Code": -1})
    ec2c.create_network_acl_entry(NetworkAclId=acl, Egress=True, RuleNumber=100, Protocol="-1",
                                  RuleAction="allow", CidrBlock="0.0.0.0/0")
    current = ec2c.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                                   "Values": [sub]}])["NetworkAcls"][0]
    assoc = next(a for a in current["Associations"] if a["SubnetId"] == sub)
    ec2c.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                         NetworkAclId=acl)

    assets, _ = collected(ec2_network, factory)

    attrs = assets[_arn(f"network-acl/{acl}")].attrs
    assert (attrs["vpc_id"], attrs["is_default"], attrs["subnet_ids"]) == (vpc, False, [sub])

    def e(n: int, egress: bool, proto: str, action: str, cidr: str, ports: tuple[Any, Any] = (
            None, None)) -> dict[str, Any]:
        return {"rule_number": n, "egress": egress, "protocol": proto, "action": action,
                "cidr": cidr, "port_from": ports[0], "port_to": ports[1],
                "icmp_type": None, "icmp_code": None}

    assert attrs["entries"] == [  # ordered by (egress, rule_number)
        e(90, False, "6", "deny", "198.51.100.0/24", (0, 65535)),
        e(100, False, "6", "allow", "0.0.0.0/0", (443, 443)),
        e(110, False, "1", "allow", "0.0.0.0/0"),  # moto drops IcmpTypeCode (type 8 here)
        e(120, False, "-1", "allow", "::/0"),
        e(100, True, "-1", "allow", "0.0.0.0/0"),
    ]
    default = [a for a in _of(assets, "AWS::EC2::NetworkAcl").values()
               if a.attrs["vpc_id"] == vpc and a.attrs["is_default"]]
    assert len(default) == 1 and sub not in default[0].attrs["subnet_ids"]


def test_prefix_lists(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    pl = ec2c.create_managed_prefix_list(
        PrefixListName="office", AddressFamily="IPv4", MaxEntries=5,
        Entries=[{"Cidr": "203.0.113.0/24"}, {"Cidr": "198.51.100.0/24"}],
        TagSpecifications=[{"ResourceType": "prefix-list",
                            "Tags": [{"Key": "team", "Value": "net"}]}],
    )["PrefixList"]["PrefixListId"]

    assets, _ = collected(ec2_network, factory)

    office = assets[_arn(f"prefix-list/{pl}")]
    assert (office.name, dict(office.tags)) == ("office", {"team": "net"})
    assert office.attrs == {"prefix_list_id": pl, "name": "office", "address_family": "IPv4",
                            "entries": ["198.51.100.0/24", "203.0.113.0/24"],
                            "aws_managed": False}
    s3 = [a for a in _of(assets, "AWS::EC2::PrefixList").values()
          if a.attrs["name"] == f"com.amazonaws.{REGION}.s3"]
    assert len(s3) == 1 and s3[0].attrs["aws_managed"] is True and s3[0].attrs["entries"]


def test_denied_network_calls_are_recorded(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    security_group(ec2c, vpc, "web")
    pl = ec2c.create_managed_prefix_list(PrefixListName="office", AddressFamily="IPv4",
                                         MaxEntries=1)["PrefixList"]["PrefixListId"]
    deny(factory, "ec2", "DescribeSecurityGroups")
    deny(factory, "ec2", "GetManagedPrefixListEntries", when={"PrefixListId": pl})

    assets, scope = collected(ec2_network, factory)

    assert _of(assets, "AWS::EC2::SecurityGroup") == {}
    assert _arn(f"vpc/{vpc}") in assets  # the other listings still ran
    pl_uid = _arn(f"prefix-list/{pl}")
    assert assets[pl_uid].attrs["entries"] is None  # unknown, not empty
    others = [a for a in _of(assets, "AWS::EC2::PrefixList").values() if a.uid != pl_uid]
    assert others and all(a.attrs["entries"] is not None for a in others)
    got = {(e.service, e.operation, e.code, e.asset_types, e.resource_uid, e.region)
           for e in scope.errors}
    assert got == {
        ("ec2", "DescribeSecurityGroups", "AccessDenied", ("AWS::EC2::SecurityGroup",), None,
         REGION),
        ("ec2", "GetManagedPrefixListEntries", "AccessDenied", ("AWS::EC2::PrefixList#entries",),
         pl_uid, REGION),
    }


# --- compute and storage -------------------------------------------------------------------


def test_instances_interfaces_and_volumes(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    iam = client("iam", moto_endpoint)
    profile = iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Arn"]
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2c.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                             AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sg = security_group(ec2c, vpc, "web")
    inst = ec2c.run_instances(
        ImageId=_ami(ec2c), MinCount=1, MaxCount=1, SubnetId=sub, SecurityGroupIds=[sg],
        MetadataOptions={"HttpTokens": "required"}, IamInstanceProfile={"Arn": profile},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}],
    )["Instances"][0]
    eip = ec2c.allocate_address(Domain="vpc")
    ec2c.associate_address(InstanceId=inst["InstanceId"], AllocationId=eip["AllocationId"])
    spare = ec2c.create_network_interface(SubnetId=sub, Groups=[sg], Description="spare")
    spare_id = spare["NetworkInterface"]["NetworkInterfaceId"]
    vol = ec2c.create_volume(AvailabilityZone="us-east-1a", Size=8, Encrypted=True,
                             KmsKeyId=KMS_KEY)["VolumeId"]
    ec2c.attach_volume(VolumeId=vol, InstanceId=inst["InstanceId"], Device="/dev/sdf")
    loose = ec2c.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    respond(factory, "ec2", "GetEbsDefaultKmsKeyId", {"KmsKeyId": "alias/aws/ebs"})

    assets, scope = collected(ec2, factory)
    assert scope.errors == []

    iid = inst["InstanceId"]
    primary = inst["NetworkInterfaces"][0]["NetworkInterfaceId"]
    got = assets[_arn(f"instance/{iid}")]
    assert got.name == "web"
    assert {k: v for k, v in got.attrs.items() if k != "launch_time"} == {
        "instance_id": iid, "state": "running", "vpc_id": vpc, "subnet_id": sub,
        "private_ip": inst["PrivateIpAddress"], "public_ip": eip["PublicIp"],
        "ipv6_addresses": [], "security_group_ids": [sg], "network_interface_ids": [primary],
        "iam_instance_profile_arn": profile, "image_id": inst["ImageId"], "platform": None,
        "http_tokens": "required", "http_endpoint": "enabled",
        "user_data_present": False, "user_data_secrets": [],  # no user data given
    }
    assert got.attrs["launch_time"].endswith("+00:00")

    enis = {a.attrs["eni_id"]: a.attrs for a in _of(assets, "AWS::EC2::NetworkInterface").values()}
    assert enis[primary]["public_ips"] == [eip["PublicIp"]]
    assert (enis[primary]["instance_id"], enis[primary]["private_ips"]) == (
        iid, [inst["PrivateIpAddress"]])
    assert {k: enis[spare_id][k] for k in ("public_ips", "instance_id", "security_group_ids",
                                           "description", "status", "vpc_id", "subnet_id")} == {
        "public_ips": [], "instance_id": None, "security_group_ids": [sg],
        "description": "spare", "status": "available", "vpc_id": vpc, "subnet_id": sub}

    assert assets[_arn(f"volume/{vol}")].attrs == {
        "volume_id": vol, "encrypted": True, "kms_key_id": KMS_KEY, "state": "in-use",
        "size_gib": 8, "attached_instance_ids": [iid]}
    assert assets[_arn(f"volume/{loose}")].attrs == {
        "volume_id": loose, "encrypted": False, "kms_key_id": None, "state": "available",
        "size_gib": 1, "attached_instance_ids": []}


def test_describe_instances_is_paginated(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    ami = _ami(ec2c)
    launched = {ec2c.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]
                ["InstanceId"] for _ in range(7)}
    calls: list[dict[str, Any]] = []
    events = factory.client("ec2", REGION).meta.events

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params.setdefault("MaxResults", 5)
        calls.append(dict(params))

    events.register("before-parameter-build.ec2.DescribeInstances", small_pages)
    respond(factory, "ec2", "GetEbsDefaultKmsKeyId", {"KmsKeyId": "alias/aws/ebs"})

    assets, _ = collected(ec2, factory)

    assert {a.attrs["instance_id"] for a in _of(assets, "AWS::EC2::Instance").values()} == launched
    assert len(calls) == 2 and "NextToken" in calls[1]


def test_ebs_encryption_by_default(factory: ClientFactory, moto_endpoint: str) -> None:
    client("ec2", moto_endpoint).enable_ebs_encryption_by_default()
    # moto does not implement GetEbsDefaultKmsKeyId: answer it through botocore's event hook.
    respond(factory, "ec2", "GetEbsDefaultKmsKeyId", {"KmsKeyId": KMS_KEY})

    assets, scope = collected(ec2, factory)

    uid = _arn("ebs-encryption-by-default")
    assert (assets[uid].type, assets[uid].region) == ("AWS::EC2::EbsEncryptionByDefault", REGION)
    assert assets[uid].attrs == {"enabled": True, "kms_key_id": KMS_KEY}
    assert scope.errors == []


def test_unimplemented_kms_key_call_is_recorded(
    session: boto3.session.Session, moto_endpoint: str
) -> None:
    # The real moto gap: GetEbsDefaultKmsKeyId gets an HTML 500. One attempt keeps this fast.
    fast = ClientFactory(session=session, endpoint_url=moto_endpoint,
                         config=Config(retries={"mode": "standard", "max_attempts": 1}))
    uid = _arn("ebs-encryption-by-default")

    # default encryption off: the default key is irrelevant and not asked for
    assets, scope = collected(ec2, fast)
    assert assets[uid].attrs == {"enabled": False, "kms_key_id": None}
    assert scope.errors == []

    client("ec2", moto_endpoint).enable_ebs_encryption_by_default()
    assets, scope = collected(ec2, fast)
    assert assets[uid].attrs == {"enabled": True, "kms_key_id": None}
    assert [(e.operation, e.code, e.asset_types, e.resource_uid) for e in scope.errors] == [
        ("GetEbsDefaultKmsKeyId", "ResponseParserError",
         ("AWS::EC2::EbsEncryptionByDefault#kms_key_id",), uid)]


def test_denied_compute_calls_are_recorded(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    iid = ec2c.run_instances(ImageId=_ami(ec2c), MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"]
    deny(factory, "ec2", "DescribeVolumes")
    deny(factory, "ec2", "GetEbsEncryptionByDefault")
    respond(factory, "ec2", "GetEbsDefaultKmsKeyId", {"KmsKeyId": KMS_KEY})

    assets, scope = collected(ec2, factory)

    assert _arn(f"instance/{iid}") in assets
    assert _of(assets, "AWS::EC2::Volume") == {}
    uid = _arn("ebs-encryption-by-default")
    assert assets[uid].attrs == {"enabled": None, "kms_key_id": KMS_KEY}  # unknown, not False
    assert {(e.service, e.operation, e.code, e.asset_types, e.resource_uid)
            for e in scope.errors} == {
        ("ec2", "DescribeVolumes", "AccessDenied", ("AWS::EC2::Volume",), None),
        ("ec2", "GetEbsEncryptionByDefault", "AccessDenied",
         ("AWS::EC2::EbsEncryptionByDefault",), uid),
    }


def test_permissions_cover_every_call(factory: ClientFactory, moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    ec2c.enable_ebs_encryption_by_default()  # so the default-key call is made too
    ec2c.create_managed_prefix_list(PrefixListName="x", AddressFamily="IPv4", MaxEntries=1)
    ec2c.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)  # user data is read
    called: set[str] = set()
    factory.client("ec2", REGION).meta.events.register(
        "before-parameter-build.ec2", lambda model, **_: called.add(f"ec2:{model.name}"))
    respond(factory, "ec2", "GetEbsDefaultKmsKeyId", {"KmsKeyId": KMS_KEY})

    for module in (ec2_network, ec2):
        collected(module, factory)

    assert called == set(ec2_network.PERMISSIONS) | set(ec2.PERMISSIONS)


# --- pure normalizers: what moto cannot produce --------------------------------------------


def test_flatten_cross_account_and_numeric_protocols() -> None:
    perms = [
        {"IpProtocol": "-1", "UserIdGroupPairs": [
            {"GroupId": "sg-0aaa", "UserId": "210987654321", "Description": "partner"},
            {"GroupId": "sg-0bbb", "UserId": ACCOUNT}]},
        {"IpProtocol": "6", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "58", "FromPort": -1, "ToPort": -1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "50", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ]
    rules = ec2_network.flatten_permissions(perms, ACCOUNT)
    assert {(r["protocol"], r["from_port"], r["to_port"], r["source"], r["source_account"])
            for r in rules} == {
        ("-1", None, None, "sg-0aaa", "210987654321"),
        ("-1", None, None, "sg-0bbb", None),
        ("tcp", 0, 65535, "0.0.0.0/0", None),
        ("icmpv6", None, None, "::/0", None),
        ("50", None, None, "10.0.0.0/8", None),
    }
    assert rules == ec2_network.flatten_permissions(list(reversed(perms)), ACCOUNT)


def test_normalize_blackhole_route_and_icmp_acl_entry() -> None:
    route = ec2_network.normalize_route(
        {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "blackhole"})
    assert route == {"destination": "0.0.0.0/0", "destination_kind": "ipv4",
                     "target_kind": "nat", "target_id": "nat-1", "state": "blackhole"}
    # An instance route names the instance and its ENI; the instance wins.
    assert ec2_network.route_target({"InstanceId": "i-1", "NetworkInterfaceId": "eni-1"}) == (
        "instance", "i-1")
    entry = ec2_network.normalize_acl_entry(
        {"RuleNumber": 110, "Protocol": "1", "RuleAction": "allow", "Egress": False,
         "CidrBlock": "0.0.0.0/0", "IcmpTypeCode": {"Type": 8, "Code": -1}})
    assert (entry["icmp_type"], entry["icmp_code"], entry["port_from"]) == (8, -1, None)


def test_normalize_nat_connectivity_and_disassociated_table() -> None:
    nat = ec2_network.normalize_nat_gateway(scope(region=REGION), {
        "NatGatewayId": "nat-1", "VpcId": "vpc-1", "SubnetId": "subnet-1", "State": "available",
        "ConnectivityType": "private", "NatGatewayAddresses": [{"PrivateIp": "10.0.0.5"}]})
    assert (nat.attrs["connectivity_type"], nat.attrs["public_ips"]) == ("private", [])
    table = ec2_network.normalize_route_table(scope(region=REGION), {
        "RouteTableId": "rtb-1", "VpcId": "vpc-1", "Routes": [],
        "Associations": [
            {"SubnetId": "subnet-1", "AssociationState": {"State": "disassociated"}},
            {"SubnetId": "subnet-2", "AssociationState": {"State": "associated"}}]})
    assert (table.attrs["main"], table.attrs["subnet_ids"]) == (False, ["subnet-2"])


def test_normalize_volume_without_encryption_field_is_unknown() -> None:
    vol = ec2.normalize_volume(
        scope(region=REGION), {"VolumeId": "vol-1", "Size": 1, "State": "available"})
    assert vol.attrs["encrypted"] is None
    assert ec2.normalize_ebs_default(scope(region=REGION), None, None).attrs == {
        "enabled": None, "kms_key_id": None}
