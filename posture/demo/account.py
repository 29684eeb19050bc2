"""The demo account: a production and a development VPC, a bastion, a load-balanced app tier,
databases, buckets, keys, secrets, IAM and CloudTrail — with deliberate misconfigurations and a
few traps that naive scanners report wrongly.

Planted violations (what posture should find):

* ``legacy-jumphost``: SSH open to 0.0.0.0/0 on a public host in a public subnet (real exposure).
* ``reporting-db``: a publicly accessible MySQL in public subnets with 3306 open to the world.
* an ALB whose HTTPS listener uses ``ELBSecurityPolicy-2016-08`` (TLS 1.0 enabled) and whose
  HTTP listener forwards instead of redirecting.
* an unencrypted EBS volume and RDS instance, EBS default encryption off, a KMS key without
  rotation, a secret without rotation.
* ``report-runner``: ``DB_PASSWORD`` in plaintext in its user data; the ``billing-export``
  Lambda with ``SFTP_PASSWORD`` in its environment; an unencrypted EBS snapshot; a CloudFront
  distribution serving plain HTTP on the default certificate (TLS 1.0).
* ``support-console``: a private instance (no public address) whose SSH is forwarded by the
  internet-facing network load balancer ``ops-ssh`` (listener tcp/2222 -> target port 22); its
  security group admits SSH from the load balancer's subnets (a real exposure, with its path).
* ``legacy-jumphost`` runs as the administrator role ``ops-admin`` (instance profile
  ``ops-admin``): an attack path across network and identity, internet → tcp/22 → host → role →
  administrator (issue 14).
* IAM Identity Center (issue 16): the permission set ``AdministratorAccess`` (admin, 12-hour
  sessions) permanently assigned to the group ``platform-admins``; ``bob``, a console user although
  SSO exists (``break-glass`` is the documented exception, by tag); the role ``admin-access``,
  admin-equivalent, assumable by anyone in the account without MFA, 12-hour sessions.
* ``bob`` with a console password and no MFA; a customer policy granting ``*`` on ``*``; a role
  trusting any AWS principal; no multi-region CloudTrail; prod ↔ dev VPC peering.

Traps (what posture must *not* report as exposed):

* ``batch-worker``: security group open to 0.0.0.0/0 on SSH, but in a private subnet without a
  public address.
* ``nacl-guarded``: public address and SSH open in its security group, but the subnet's network
  ACL denies tcp/22 (rule 50) before allowing everything (rule 100). Not exposed, but at defense
  depth 1: that one ACL rule is all that keeps SSH from the internet (a LOW finding naming it).
* ``bastion``: SSH only from the office range.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

from posture.demo.cicd import github_actions
from posture.demo.identity_center import identity_center
from posture.demo.platforms import platforms

AMI = "ami-12c6146b"  # an image id moto knows
OFFICE_CIDR = "203.0.113.0/24"
PROD_TAGS = {"Environment": "production"}
DEV_TAGS = {"Environment": "dev"}



def _doc(*statements: dict[str, Any]) -> str:
    """An IAM policy document (JSON) of these statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: Any) -> str:
    """A role trust policy letting ``principal`` assume the role, with no condition."""
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})

def _tags(name: str, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    tags = {"Name": name, **(extra or {})}
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _spec(kind: str, name: str, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": _tags(name, extra)}]


class _Builder:
    def __init__(self, session: boto3.session.Session, endpoint: str) -> None:
        self.session = session
        self.endpoint = endpoint
        self.ec2 = self.client("ec2")

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return self.session.client(service, region_name=region, endpoint_url=self.endpoint)

    def vpc(self, cidr: str, name: str, env: dict[str, str]) -> str:
        vpc = self.ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_spec("vpc", name, env))["Vpc"][
            "VpcId"
        ]
        return str(vpc)

    def subnet(self, vpc: str, cidr: str, az: str, name: str, public: bool) -> str:
        sub = self.ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            AvailabilityZone=az,
            TagSpecifications=_spec("subnet", name),
        )["Subnet"]["SubnetId"]
        if public:
            self.ec2.modify_subnet_attribute(SubnetId=sub, MapPublicIpOnLaunch={"Value": True})
        return str(sub)

    def sg(self, vpc: str, name: str, rules: list[dict[str, Any]]) -> str:
        gid = self.ec2.create_security_group(
            GroupName=name,
            Description=f"{name} tier",
            VpcId=vpc,
            TagSpecifications=_spec("security-group", name),
        )["GroupId"]
        if rules:
            self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        return str(gid)

    def instance(
        self,
        subnet: str,
        sgs: list[str],
        name: str,
        extra: dict[str, str] | None = None,
        public: bool = False,
    ) -> str:
        iface: dict[str, Any] = {
            "DeviceIndex": 0,
            "SubnetId": subnet,
            "Groups": sgs,
            "AssociatePublicIpAddress": public,
        }
        inst = self.ec2.run_instances(
            ImageId=AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            NetworkInterfaces=[iface],
            TagSpecifications=_spec("instance", name, extra),
            MetadataOptions={"HttpTokens": "required"},
        )["Instances"][0]
        return str(inst["InstanceId"])


def _tcp(port: int, cidr: str | None = None, group: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        rule["IpRanges"] = [{"CidrIp": cidr, "Description": f"{port} from {cidr}"}]
    if group:
        rule["UserIdGroupPairs"] = [{"GroupId": group}]
    return rule


def _network(b: _Builder) -> dict[str, Any]:
    ec2 = b.ec2
    prod = b.vpc("10.0.0.0/16", "prod-vpc", PROD_TAGS)
    dev = b.vpc("10.1.0.0/16", "dev-vpc", DEV_TAGS)
    igw = ec2.create_internet_gateway(TagSpecifications=_spec("internet-gateway", "prod-igw"))[
        "InternetGateway"
    ]
    ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=prod)
    net = {
        "prod": prod,
        "dev": dev,
        "public_a": b.subnet(prod, "10.0.1.0/24", "us-east-1a", "prod-public-a", True),
        "public_b": b.subnet(prod, "10.0.2.0/24", "us-east-1b", "prod-public-b", True),
        "private_a": b.subnet(prod, "10.0.10.0/24", "us-east-1a", "prod-private-a", False),
        "private_b": b.subnet(prod, "10.0.11.0/24", "us-east-1b", "prod-private-b", False),
        "guarded": b.subnet(prod, "10.0.3.0/24", "us-east-1c", "prod-restricted", True),
        "dev_a": b.subnet(dev, "10.1.1.0/24", "us-east-1a", "dev-a", False),
    }
    public_rt = ec2.create_route_table(
        VpcId=prod, TagSpecifications=_spec("route-table", "prod-public-rt")
    )["RouteTable"]
    ec2.create_route(
        RouteTableId=public_rt["RouteTableId"],
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=igw["InternetGatewayId"],
    )
    for key in ("public_a", "public_b", "guarded"):
        ec2.associate_route_table(RouteTableId=public_rt["RouteTableId"], SubnetId=net[key])
    # the restricted subnet: a NACL that denies SSH before allowing everything else
    acl = ec2.create_network_acl(
        VpcId=prod, TagSpecifications=_spec("network-acl", "prod-restricted-acl")
    )["NetworkAcl"]
    acl_id = acl["NetworkAclId"]
    ssh: dict[str, Any] = {"Protocol": "6", "PortRange": {"From": 22, "To": 22}}
    for number, action, egress, match in (
        (50, "deny", False, ssh),
        (100, "allow", False, {"Protocol": "-1"}),
        (100, "allow", True, {"Protocol": "-1"}),
    ):
        ec2.create_network_acl_entry(
            NetworkAclId=acl_id,
            RuleNumber=number,
            RuleAction=action,
            Egress=egress,
            CidrBlock="0.0.0.0/0",
            **match,
        )
    assoc = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [net["guarded"]]}]
    )["NetworkAcls"][0]["Associations"]
    for a in assoc:
        if a["SubnetId"] == net["guarded"]:
            ec2.replace_network_acl_association(
                AssociationId=a["NetworkAclAssociationId"], NetworkAclId=acl_id
            )
    peering = ec2.create_vpc_peering_connection(
        VpcId=prod, PeerVpcId=dev, TagSpecifications=_spec("vpc-peering-connection", "prod-dev")
    )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=peering)
    main_rt = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [prod]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    ec2.create_route(
        RouteTableId=main_rt, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=peering
    )
    return net


def _compute(b: _Builder, net: dict[str, Any]) -> dict[str, str]:
    prod = net["prod"]
    sg = {
        "bastion": b.sg(prod, "bastion", [_tcp(22, OFFICE_CIDR)]),
        "open_ssh": b.sg(prod, "legacy-ssh", [_tcp(22, "0.0.0.0/0")]),
        "alb": b.sg(prod, "web-alb", [_tcp(443, "0.0.0.0/0"), _tcp(80, "0.0.0.0/0")]),
        "worker": b.sg(prod, "batch-worker", [_tcp(22, "0.0.0.0/0")]),
        "db_public": b.sg(prod, "reporting-db", [_tcp(3306, "0.0.0.0/0")]),
    }
    sg["app"] = b.sg(prod, "app", [_tcp(8080, group=sg["alb"])])
    b.ec2.authorize_security_group_ingress(
        GroupId=sg["app"], IpPermissions=[_tcp(22, group=sg["bastion"])]
    )
    sg["db"] = b.sg(prod, "orders-db", [_tcp(5432, group=sg["app"])])
    ids = {
        "bastion": b.instance(
            net["public_a"], [sg["bastion"]], "bastion", {"Role": "bastion"}, public=True
        ),
        "jumphost": b.instance(net["public_b"], [sg["open_ssh"]], "legacy-jumphost", public=True),
        "app": b.instance(net["private_a"], [sg["app"]], "app-1", PROD_TAGS),
        "worker": b.instance(net["private_b"], [sg["worker"]], "batch-worker", PROD_TAGS),
        "guarded": b.instance(net["guarded"], [sg["open_ssh"]], "nacl-guarded", public=True),
    }
    vol = b.ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=20,
        Encrypted=False,
        TagSpecifications=_spec("volume", "app-data"),
    )["VolumeId"]
    b.ec2.attach_volume(VolumeId=vol, InstanceId=ids["app"], Device="/dev/sdf")
    b.ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=20,
        Encrypted=True,
        TagSpecifications=_spec("volume", "bastion-logs"),
    )
    return {**{f"sg_{k}": v for k, v in sg.items()}, **ids}


def _load_balancer(b: _Builder, net: dict[str, Any], ids: dict[str, str]) -> None:
    elb = b.client("elbv2")
    acm = b.client("acm")
    cert = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
    lb = elb.create_load_balancer(
        Name="shop-web",
        Subnets=[net["public_a"], net["public_b"]],
        SecurityGroups=[ids["sg_alb"]],
        Scheme="internet-facing",
        Type="application",
        Tags=[{"Key": "Name", "Value": "shop-web"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(
        Name="shop-app", Protocol="HTTP", Port=8080, VpcId=net["prod"], TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ids["app"], "Port": 8080}])
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-2016-08",
        Certificates=[{"CertificateArn": cert}],
        DefaultActions=forward,
    )
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward)


def _databases(b: _Builder, net: dict[str, Any], ids: dict[str, str]) -> None:
    rds = b.client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName="private-db",
        DBSubnetGroupDescription="private",
        SubnetIds=[net["private_a"], net["private_b"]],
    )
    rds.create_db_subnet_group(
        DBSubnetGroupName="public-db",
        DBSubnetGroupDescription="public",
        SubnetIds=[net["public_a"], net["public_b"]],
    )
    common = {
        "DBInstanceClass": "db.t3.micro",
        "MasterUsername": "admin",
        "MasterUserPassword": "demo-only-not-a-secret",
        "AllocatedStorage": 20,
    }
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db",
        Engine="postgres",
        DBSubnetGroupName="private-db",
        VpcSecurityGroupIds=[ids["sg_db"]],
        PubliclyAccessible=False,
        StorageEncrypted=False,
        **common,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="reporting-db",
        Engine="mysql",
        DBSubnetGroupName="public-db",
        VpcSecurityGroupIds=[ids["sg_db_public"]],
        PubliclyAccessible=True,
        StorageEncrypted=True,
        **common,
    )


def _data(b: _Builder) -> None:
    s3 = b.client("s3")
    s3.create_bucket(Bucket="demo-audit-logs")
    s3.put_bucket_encryption(
        Bucket="demo-audit-logs",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_public_access_block(
        Bucket="demo-audit-logs",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.create_bucket(Bucket="demo-public-assets")
    s3.put_bucket_policy(
        Bucket="demo-public-assets",
        Policy=_doc(
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::demo-public-assets/*",
            }
        ),
    )
    kms = b.client("kms")
    rotated = kms.create_key(Description="orders data key")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=rotated)
    kms.create_alias(AliasName="alias/orders", TargetKeyId=rotated)
    stale = kms.create_key(Description="legacy reports key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/legacy-reports", TargetKeyId=stale)
    sm = b.client("secretsmanager")
    sm.create_secret(
        Name="prod/orders-db/password", SecretString="demo-only-not-a-secret", KmsKeyId=rotated
    )


def _identity(b: _Builder) -> None:
    iam = b.client("iam")
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Demo-Only-Passw0rd!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Demo-Only-Passw0rd!")
    iam.create_user(UserName="ci-deploy")
    iam.create_access_key(UserName="ci-deploy")
    admin = iam.create_policy(
        PolicyName="ops-full-access",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="ci-deploy", PolicyArn=admin)
    iam.create_role(
        RoleName="partner-readonly",
        AssumeRolePolicyDocument=_trust({"AWS": "*"}),
    )
    iam.create_role(
        RoleName="app-instance",
        AssumeRolePolicyDocument=_trust({"Service": "ec2.amazonaws.com"}),
    )
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=False)


def _audit(b: _Builder) -> None:
    b.client("s3").create_bucket(Bucket="demo-cloudtrail")
    trail = b.client("cloudtrail")
    trail.create_trail(
        Name="management-us-east-1",
        S3BucketName="demo-cloudtrail",
        IsMultiRegionTrail=False,
        EnableLogFileValidation=False,
    )
    trail.start_logging(Name="management-us-east-1")


def _data_protection(b: _Builder, net: dict[str, Any]) -> None:
    """Issue 5's planted findings: a password in an instance's user data and in a Lambda
    environment variable (both fake, demo-only values), an unencrypted EBS snapshot and a
    CloudFront distribution that serves plain HTTP with TLS 1.0 allowed."""
    b.ec2.run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=net["private_a"],
        TagSpecifications=_spec("instance", "report-runner", PROD_TAGS),
        MetadataOptions={"HttpTokens": "required"},
        UserData="#!/bin/bash\nexport DB_PASSWORD=Demo0nly-Pl4intext\n/opt/reports/run.sh\n",
    )
    vol = b.ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": ["app-data"]}])["Volumes"][
        0
    ]["VolumeId"]
    b.ec2.create_snapshot(VolumeId=vol, TagSpecifications=_spec("snapshot", "app-data-nightly"))
    role = b.client("iam").create_role(
        RoleName="billing-export-fn",
        AssumeRolePolicyDocument=_trust({"Service": "lambda.amazonaws.com"}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return None\n")
    b.client("lambda").create_function(
        FunctionName="billing-export",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handle",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"SFTP_PASSWORD": "Demo0nly-Lambda-Pw", "REGION": "us-east-1"}},
    )
    b.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "shop-static",
            "Comment": "shop static assets",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "assets",
                        "DomainName": "demo-public-assets.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "assets",
                "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            },
            "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
        }
    )


def _escalation(b: _Builder) -> None:
    """A privilege-escalation path: a developer who may pass an admin role to EC2; and a latent
    one: a deploy user who may pass any role to Lambda, where no role is privileged yet."""
    iam = b.client("iam")
    iam.create_role(
        RoleName="ops-admin",
        AssumeRolePolicyDocument=_trust({"Service": "ec2.amazonaws.com"}),
    )
    iam.put_role_policy(
        RoleName="ops-admin",
        PolicyName="break-glass",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    iam.create_user(UserName="dev-alex")
    iam.put_user_policy(
        UserName="dev-alex",
        PolicyName="launch-instances",
        PolicyDocument=_doc(
            {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:Describe*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
        ),
    )
    # a latent escalation: any role to Lambda, but no role trusting Lambda is privileged (yet)
    iam.create_user(UserName="build-bot")
    iam.put_user_policy(
        UserName="build-bot",
        PolicyName="deploy-functions",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
        ),
    )


def _exposure_behind_lb(b: _Builder, net: dict[str, Any]) -> None:
    """Issue 3's planted exposure: an internet-facing NLB forwards tcp/2222 to SSH (tcp/22) on
    ``support-console``, a private instance without a public address whose security group
    admits SSH only from the load balancer's subnets - a real path a rule list misses."""
    sg = b.sg(net["prod"], "support-ssh", [_tcp(22, "10.0.1.0/24"), _tcp(22, "10.0.2.0/24")])
    target = b.instance(net["private_b"], [sg], "support-console", PROD_TAGS)
    elb = b.client("elbv2")
    lb = elb.create_load_balancer(
        Name="ops-ssh",
        Subnets=[net["public_a"], net["public_b"]],
        Scheme="internet-facing",
        Type="network",
        Tags=[{"Key": "Name", "Value": "ops-ssh"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(
        Name="support-ssh", Protocol="TCP", Port=22, VpcId=net["prod"], TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": target, "Port": 22}])
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="TCP",
        Port=2222,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )


def _attack_path(b: _Builder, ids: dict[str, str]) -> None:
    """Issue 14's joined attack path: the internet-exposed ``legacy-jumphost`` runs as the
    administrator role ``ops-admin`` (created by ``_escalation``) through its instance profile."""
    iam = b.client("iam")
    iam.create_instance_profile(InstanceProfileName="ops-admin")
    iam.add_role_to_instance_profile(InstanceProfileName="ops-admin", RoleName="ops-admin")
    b.ec2.associate_iam_instance_profile(
        IamInstanceProfile={"Name": "ops-admin"}, InstanceId=ids["jumphost"]
    )


def build_account(session: boto3.session.Session, endpoint: str) -> None:
    """Create the demo account in the emulator at ``endpoint``."""
    b = _Builder(session, endpoint)
    net = _network(b)
    ids = _compute(b, net)
    _load_balancer(b, net, ids)
    _databases(b, net, ids)
    _data(b)
    _identity(b)
    _escalation(b)
    _audit(b)
    _data_protection(b, net)
    _exposure_behind_lb(b, net)
    _attack_path(b, ids)
    identity_center(b.client, _doc)
    github_actions(b.client, _doc)
    platforms(b.client, net)
