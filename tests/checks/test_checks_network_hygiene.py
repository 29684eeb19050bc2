"""aws.network.default_security_group_restricts_all on groups collected from a real moto server.
AWS gives every VPC a default group that admits its own members and allows all egress; moto
creates only the egress rule, so the test adds the self-reference itself."""

from __future__ import annotations

from support.aws import asset, client, inventory
from support.checks import only, run_one
from support.collect import scope, security_group

from posture.collectors.aws import ec2, ec2_network
from posture.model import Status

CHECK = "aws.network.default_security_group_restricts_all"


def test_default_group_with_rules_fails_and_names_its_members(moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2c.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    default = ec2c.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]},
    ])["SecurityGroups"][0]["GroupId"]
    ec2c.authorize_security_group_ingress(GroupId=default, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default}]}])
    ec2c.run_instances(ImageId="ami-1e749f67", MinCount=1, MaxCount=1, SubnetId=subnet)
    own = security_group(ec2c, vpc, "web")
    sc = scope(moto_endpoint)
    assets = ec2_network.collect(sc) + ec2.collect(sc)
    findings = {f.resource_uid: f for f in run_one(CHECK, inventory(*assets))}
    finding = next(f for uid, f in findings.items() if uid.endswith(default))
    assert finding.status == Status.FAIL
    assert finding.evidence["interface_count"] == 1
    assert "has 1 inbound and 1 outbound rule(s); 1 interface(s) use it" in finding.message
    assert not any(uid.endswith(own) for uid in findings)  # only default groups are judged

    ec2c.revoke_security_group_ingress(GroupId=default, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default}]}])
    ec2c.revoke_security_group_egress(GroupId=default, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    assets = ec2_network.collect(sc) + ec2.collect(sc)
    findings = {f.resource_uid: f for f in run_one(CHECK, inventory(*assets))}
    assert next(f for uid, f in findings.items() if uid.endswith(default)).status == Status.PASS


def test_unknown_rules_are_inconclusive() -> None:
    sg = asset("AWS::EC2::SecurityGroup", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-d",
               group_id="sg-d", group_name="default", vpc_id="vpc-1", ingress=None, egress=[])
    assert only(run_one(CHECK, inventory(sg))).status == Status.INCONCLUSIVE
