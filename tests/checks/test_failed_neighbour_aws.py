"""A failed detail call on one resource never turns another resource's FAIL into PASS (AWS).

End to end: the real collectors (boto3 on the moto server) collect a host that an internet-facing
application load balancer exposes on its SSH port, with one load-balancer call denied; the
network checks then judge the host. Without the listeners (or the target health) the load
balancer's exposure of the host is unknown: the host's finding is INCONCLUSIVE and names the
failed call, never PASS.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from support.aws import ACCOUNT, client
from support.checks import by_uid, run_one
from support.collect import client_factory
from support.faults import deny

from posture.collectors import runner
from posture.collectors.aws import ec2, ec2_network, elbv2
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.model import Inventory, Provider, Status

REGION = "us-east-1"
ADMIN = "aws.network.admin_ports_not_internet_reachable"
DEPTH = "aws.network.sensitive_ports_defense_in_depth"


@pytest.fixture
def factory(moto_endpoint: str) -> ClientFactory:
    return client_factory(moto_endpoint, boto3.session.Session())


@pytest.fixture
def estate(moto_endpoint: str) -> dict[str, Any]:
    """An internet-facing ALB (SG open to the world on 22 and 80) in two public subnets: its
    tcp/22 listener forwards to a private instance ``ssh`` (no public address) registered on port
    22, its tcp/80 listener to a private instance ``web`` registered on port 80 (one
    registration away from exposing its SSH port: depth 1). Both hosts' security group admits
    the ALB's on 22 and 80."""
    ec2c, elb = client("ec2", moto_endpoint), client("elbv2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2c.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2c.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2c.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2c.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    subnets = []
    for i, az in ((1, "a"), (2, "b")):
        sub = ec2c.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
        ec2c.associate_route_table(RouteTableId=rt, SubnetId=sub)
        subnets.append(sub)
    private = ec2c.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24",
                                 AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    lb_sg = ec2c.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    ec2c.authorize_security_group_ingress(GroupId=lb_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": p, "ToPort": p,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]} for p in (22, 80)])
    host_sg = ec2c.create_security_group(GroupName="host", Description="host",
                                         VpcId=vpc)["GroupId"]
    ec2c.authorize_security_group_ingress(GroupId=host_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": p, "ToPort": p,
         "UserIdGroupPairs": [{"GroupId": lb_sg}]} for p in (22, 80)])
    alb = elb.create_load_balancer(Name="front", Subnets=subnets, SecurityGroups=[lb_sg],
                                   Scheme="internet-facing")["LoadBalancers"][0]
    out = {"lb": alb["LoadBalancerArn"]}
    for name, port in (("ssh", 22), ("web", 80)):
        iid = ec2c.run_instances(ImageId="ami-1e749f67", MinCount=1, MaxCount=1,
                                 SubnetId=private,
                                 SecurityGroupIds=[host_sg])["Instances"][0]["InstanceId"]
        tg = elb.create_target_group(Name=name, Protocol="HTTP", Port=port, VpcId=vpc,
                                     TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": iid, "Port": port}])
        elb.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        out[name] = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid}"
    return out


def _inventory(factory: ClientFactory) -> Inventory:
    assets, errors = [], []
    for module in (ec2_network, ec2, elbv2):
        sc = RegionScope(account=ACCOUNT, region=REGION, clients=factory)
        assets += module.collect(sc)
        errors += sc.errors
    return runner.build_inventory(Provider.AWS, started=runner.now(), accounts=(ACCOUNT,),
                                  regions=(REGION,), endpoint_url=None, assets=assets,
                                  errors=errors)


def _host(inv: Inventory, check_id: str, uid: str) -> Any:
    return by_uid(run_one(check_id, inv))[uid]


def test_the_host_fails_when_every_call_succeeds(factory: ClientFactory,
                                                 estate: dict[str, Any]) -> None:
    inv = _inventory(factory)
    assert inv.errors == ()
    assert _host(inv, ADMIN, estate["ssh"]).status == Status.FAIL
    depth = _host(inv, DEPTH, estate["web"])
    assert (depth.status, depth.evidence.get("depth")) == (Status.FAIL, 1), depth.message


CASES = [(ADMIN, "ssh"), (DEPTH, "web")]


@pytest.mark.parametrize(("operation", "when"), [
    ("DescribeListeners", None),
    ("DescribeTargetHealth", None),
])
@pytest.mark.parametrize(("check_id", "host"), CASES)
def test_a_denied_load_balancer_call_leaves_the_host_inconclusive(
    factory: ClientFactory, estate: dict[str, Any], operation: str, when: Any, check_id: str,
    host: str,
) -> None:
    deny(factory, "elbv2", operation, REGION)
    inv = _inventory(factory)
    assert {e.operation for e in inv.errors} == {operation}

    found = _host(inv, check_id, estate[host])

    assert found.status == Status.INCONCLUSIVE, found.message
    assert operation in found.message


def test_a_host_outside_every_target_group_keeps_its_pass(
    factory: ClientFactory, estate: dict[str, Any], moto_endpoint: str
) -> None:
    """DescribeListeners denied: only the targets of the load balancer's groups depend on it."""
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sub = ec2c.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    other = ec2c.run_instances(ImageId="ami-1e749f67", MinCount=1, MaxCount=1,
                               SubnetId=sub)["Instances"][0]["InstanceId"]
    deny(factory, "elbv2", "DescribeListeners", REGION)
    inv = _inventory(factory)

    found = _host(inv, ADMIN, f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{other}")

    assert found.status == Status.PASS, found.message
