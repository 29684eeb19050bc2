"""Collectors of issue 5 against the moto server: EBS snapshots, flow logs, RDS clusters /
snapshots / parameter groups, EFS, DynamoDB, ACM, CloudFront, IAM server certificates, Lambda,
ECS task definitions, instance user data and load balancer attributes — plus denied calls.

moto gaps worked around here: DescribeSnapshots ignores ``OwnerIds=["self"]`` (it lists the
AMI snapshots of other owners too; the collector keeps its own account's); ALB attributes lack
``access_logs.s3.enabled`` until it is set; ACM certificates stay PENDING_VALIDATION.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from support.aws import ACCOUNT, client
from support.collect import by_uid, error_keys, scope
from support.faults import refuse

from posture.collectors.aws import (
    acm,
    awslambda,
    cloudfront,
    dynamodb,
    ec2,
    ec2_snapshots,
    ecs,
    efs,
    elbv2,
    flowlogs,
    iam_certificates,
    rds_data,
)
from posture.collectors.secrets import REDACTED, fingerprint
from posture.model import GLOBAL

R = "us-east-1"
KEY = f"arn:aws:kms:{R}:{ACCOUNT}:key/6f1c1e8e-aaaa-bbbb-cccc-ddddeeeeffff"


def test_ebs_snapshots_encryption_and_public_permission(moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vol = ec2c.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    public = ec2c.create_snapshot(VolumeId=vol)["SnapshotId"]
    ec2c.modify_snapshot_attribute(
        SnapshotId=public,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    shared = ec2c.create_snapshot(
        VolumeId=vol,
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": "nightly"}]}
        ],
    )["SnapshotId"]
    ec2c.modify_snapshot_attribute(
        SnapshotId=shared,
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=["111122223333"],
    )
    sc = scope(moto_endpoint, region=R)
    assets = by_uid(ec2_snapshots.collect(sc))
    uid = f"arn:aws:ec2:{R}:{ACCOUNT}:snapshot/{public}"
    assert sc.errors == [] and set(assets) == {uid, uid.replace(public, shared)}
    attrs = assets[uid].attrs
    assert (
        attrs["encrypted"],
        attrs["public"],
        attrs["shared_with_accounts"],
        attrs["volume_id"],
    ) == (False, True, [], vol)
    other = assets[uid.replace(public, shared)]
    assert (other.name, other.attrs["public"], other.attrs["shared_with_accounts"]) == (
        "nightly",
        False,
        ["111122223333"],
    )

    denied = scope(moto_endpoint, region=R)
    refuse(denied.clients, "ec2", R, "DescribeSnapshotAttribute", code="UnauthorizedOperation")
    assets = by_uid(ec2_snapshots.collect(denied))
    assert assets[uid].attrs["public"] is None
    assert error_keys(denied.errors) == {
        (
            R,
            "ec2",
            "DescribeSnapshotAttribute",
            "UnauthorizedOperation",
            ("AWS::EC2::Snapshot#permissions",),
            u,
        )
        for u in assets
    }


def test_flow_logs(moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    vpc = ec2c.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    client("s3", moto_endpoint).create_bucket(Bucket="flow-archive")
    flow = ec2c.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flow-archive",
    )["FlowLogIds"][0]
    sc = scope(moto_endpoint, region=R)
    [asset] = flowlogs.collect(sc)
    assert asset.uid == f"arn:aws:ec2:{R}:{ACCOUNT}:vpc-flow-log/{flow}"
    assert {
        k: asset.attrs[k]
        for k in ("resource_id", "traffic_type", "status", "destination_type", "destination")
    } == {
        "resource_id": vpc,
        "traffic_type": "ALL",
        "status": "ACTIVE",
        "destination_type": "s3",
        "destination": "arn:aws:s3:::flow-archive",
    }


def test_rds_clusters_snapshots_and_parameter_groups(moto_endpoint: str) -> None:
    rdsc = client("rds", moto_endpoint)
    rdsc.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="aurora-tls",
        DBParameterGroupFamily="aurora-postgresql16",
        Description="tls",
    )
    rdsc.create_db_cluster(
        DBClusterIdentifier="ledger",
        Engine="aurora-postgresql",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
        StorageEncrypted=True,
        KmsKeyId=KEY,
        DBClusterParameterGroupName="aurora-tls",
    )
    rdsc.create_db_parameter_group(
        DBParameterGroupName="pg-tls", DBParameterGroupFamily="postgres16", Description="tls"
    )
    rdsc.modify_db_parameter_group(
        DBParameterGroupName="pg-tls",
        Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )
    rdsc.create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
    )
    rdsc.create_db_snapshot(DBSnapshotIdentifier="orders-manual", DBInstanceIdentifier="orders")
    rdsc.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="orders-manual", AttributeName="restore", ValuesToAdd=["all"]
    )
    rdsc.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="ledger-manual", DBClusterIdentifier="ledger"
    )
    sc = scope(moto_endpoint, region=R)
    assets = by_uid(rds_data.collect(sc))
    assert sc.errors == []
    arn = f"arn:aws:rds:{R}:{ACCOUNT}"
    cluster = assets[f"{arn}:cluster:ledger"].attrs
    assert (cluster["storage_encrypted"], cluster["kms_key_id"], cluster["parameter_group"]) == (
        True,
        KEY,
        "aurora-tls",
    )
    snap = assets[f"{arn}:snapshot:orders-manual"].attrs
    assert (snap["encrypted"], snap["public"], snap["snapshot_type"], snap["source_id"]) == (
        False,
        True,
        "manual",
        "orders",
    )
    csnap = assets[f"{arn}:cluster-snapshot:ledger-manual"].attrs
    assert (csnap["encrypted"], csnap["public"], csnap["shared_with_accounts"]) == (True, False, [])
    automated = [a for a in assets.values() if a.attrs.get("snapshot_type") == "automated"]
    assert automated and all(a.attrs["public"] is False for a in automated)
    group = assets[f"{arn}:pg:pg-tls"]
    assert (group.type, group.attrs["tls_parameters"]) == (
        rds_data.PARAMETER_GROUP,
        {"rds.force_ssl": "1"},
    )
    assert assets[f"{arn}:cluster-pg:aurora-tls"].attrs["tls_parameters"] == {}

    denied = scope(moto_endpoint, region=R)
    refuse(denied.clients, "rds", R, "DescribeDBParameters", code="AccessDenied")
    group = by_uid(rds_data.collect(denied))[f"{arn}:pg:pg-tls"]
    assert group.attrs["tls_parameters"] is None
    assert (
        R,
        "rds",
        "DescribeDBParameters",
        "AccessDenied",
        ("AWS::RDS::DBParameterGroup#parameters",),
        f"{arn}:pg:pg-tls",
    ) in error_keys(denied.errors)


def test_efs_and_dynamodb(moto_endpoint: str) -> None:
    efsc = client("efs", moto_endpoint)
    fs = efsc.create_file_system(
        CreationToken="share", Encrypted=False, Tags=[{"Key": "Name", "Value": "share"}]
    )["FileSystemId"]
    ddb = client("dynamodb", moto_endpoint)
    schema: dict[str, Any] = {
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(TableName="plain", **schema)
    ddb.create_table(
        TableName="cmk",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY},
        **schema,
    )
    sc = scope(moto_endpoint, region=R)
    [share] = efs.collect(sc)
    assert (share.name, share.attrs["file_system_id"], share.attrs["encrypted"]) == (
        "share",
        fs,
        False,
    )
    tables = {a.name: a.attrs for a in dynamodb.collect(sc)}
    assert (tables["plain"]["sse_type"], tables["plain"]["kms_key_arn"]) == ("AWS_OWNED", None)
    assert (tables["cmk"]["sse_type"], tables["cmk"]["kms_key_arn"]) == ("KMS", KEY)
    assert sc.errors == []

    denied = scope(moto_endpoint, region=R)
    refuse(denied.clients, "dynamodb", R, "DescribeTable")
    assert dynamodb.collect(denied) == []
    assert {(e.operation, e.asset_types, e.resource_uid) for e in denied.errors} == {
        ("DescribeTable", ("AWS::DynamoDB::Table",), f"arn:aws:dynamodb:{R}:{ACCOUNT}:table/{n}")
        for n in ("cmk", "plain")
    }


def test_certificates_and_cloudfront(moto_endpoint: str) -> None:
    cert = client("acm", moto_endpoint).request_certificate(DomainName="shop.example.com")[
        "CertificateArn"
    ]
    cf = client("cloudfront", moto_endpoint)
    cf.create_distribution(
        DistributionConfig={
            "CallerReference": "shop",
            "Comment": "shop",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "app",
                        "DomainName": "app.example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "http-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "app",
                "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            },
            "ViewerCertificate": {
                "ACMCertificateArn": cert,
                "SSLSupportMethod": "sni-only",
                "MinimumProtocolVersion": "TLSv1.2_2021",
            },
        }
    )
    sc = scope(moto_endpoint, region=R)
    [acm_cert] = acm.collect(sc)
    assert acm_cert.uid == cert and acm_cert.attrs["not_after"] is not None
    assert acm_cert.attrs["in_use_by"] == []
    glob = scope(moto_endpoint)
    [dist] = cloudfront.collect(glob)
    assert dist.region == GLOBAL
    assert dist.attrs["cache_behaviors"] == [
        {"path_pattern": "*", "viewer_protocol_policy": "allow-all", "target_origin_id": "app"}
    ]
    assert (
        dist.attrs["minimum_protocol_version"],
        dist.attrs["certificate_arn"],
        dist.attrs["origins"][0]["protocol_policy"],
    ) == ("TLSv1.2_2021", cert, "http-only")
    assert iam_certificates.collect(glob) == []
    assert sc.errors == glob.errors == []

    denied = scope(moto_endpoint)
    refuse(denied.clients, "cloudfront", R, "ListDistributions", code="AccessDenied")
    assert cloudfront.collect(denied) == []
    assert error_keys(denied.errors) == {
        (
            GLOBAL,
            "cloudfront",
            "ListDistributions",
            "AccessDenied",
            ("AWS::CloudFront::Distribution",),
            None,
        )
    }


def test_iam_server_certificate_normalized() -> None:
    """moto's UploadServerCertificate needs a real PEM pair; the listing entry is built here."""
    entry = {
        "Path": "/",
        "ServerCertificateName": "legacy",
        "ServerCertificateId": "ASCA1",
        "Arn": f"arn:aws:iam::{ACCOUNT}:server-certificate/legacy",
        "UploadDate": "2024-01-01T00:00:00+00:00",
        "Expiration": "2026-01-10T00:00:00+00:00",
    }
    asset = iam_certificates.normalize_server_certificate(scope("http://127.0.0.1:9"), entry)
    assert (asset.region, asset.attrs["not_after"]) == (GLOBAL, "2026-01-10T00:00:00+00:00")


def _function(endpoint: str, name: str, env: dict[str, str]) -> None:
    role = client("iam", endpoint).create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("h.py", "def h(e, c):\n    return 1\n")
    client("lambda", endpoint).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": env},
    )


def test_lambda_and_ecs_environments_are_scanned_and_redacted(moto_endpoint: str) -> None:
    _function(moto_endpoint, "api", {"DB_PASSWORD": "kP3vR8nW2qZ6", "LOG_LEVEL": "debug"})
    client("ecs", moto_endpoint).register_task_definition(
        family="web",
        containerDefinitions=[
            {
                "name": "app",
                "image": "nginx",
                "memory": 128,
                "environment": [
                    {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
                    {"name": "PORT", "value": "8080"},
                ],
                "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/t"}],
            }
        ],
    )
    sc = scope(moto_endpoint, region=R)
    [fn] = awslambda.collect(sc)
    assert fn.attrs["environment_variable_names"] == ["DB_PASSWORD", "LOG_LEVEL"]
    assert fn.attrs["environment_secrets"] == [
        {
            "type": "Secret Keyword",
            "key": "DB_PASSWORD",
            "line": None,
            "fingerprint": fingerprint("kP3vR8nW2qZ6", ACCOUNT),
        }
    ]
    assert fn.raw["Environment"]["Variables"] == {"DB_PASSWORD": REDACTED, "LOG_LEVEL": REDACTED}
    [task] = ecs.collect(sc)
    assert (task.name, [h["type"] for h in task.attrs["environment_secrets"]]) == (
        "web:1",
        ["AWS Access Key"],
    )
    assert task.attrs["containers"][0]["secret_references"] == ["TOKEN"]
    dumped = json.dumps([dict(fn.attrs), dict(fn.raw), dict(task.attrs), dict(task.raw)])
    assert "kP3vR8nW2qZ6" not in dumped and "AKIAIOSFODNN7EXAMPLE" not in dumped
    assert sc.errors == []

    denied = scope(moto_endpoint, region=R)
    refuse(denied.clients, "ecs", R, "DescribeTaskDefinition")
    assert ecs.collect(denied) == []
    assert [(e.operation, e.asset_types) for e in denied.errors] == [
        ("DescribeTaskDefinition", ("AWS::ECS::TaskDefinition",))
    ]


def test_user_data_is_scanned_and_a_denied_read_is_unknown(moto_endpoint: str) -> None:
    ec2c = client("ec2", moto_endpoint)
    secret_id = ec2c.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        UserData="#!/bin/sh\nexport SECRET_KEY=Wq8zN3vB7xL2\n",
    )["Instances"][0]["InstanceId"]
    clean_id = ec2c.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    sc = scope(moto_endpoint, region=R)
    instances = {a.attrs["instance_id"]: a for a in ec2.collect_instances(sc)}
    assert sc.errors == []
    hit = instances[secret_id].attrs["user_data_secrets"]
    assert hit == [
        {
            "type": "Secret Keyword",
            "key": None,
            "line": 2,
            "fingerprint": fingerprint("Wq8zN3vB7xL2", ACCOUNT),
        }
    ]
    assert (
        instances[clean_id].attrs["user_data_present"],
        instances[clean_id].attrs["user_data_secrets"],
    ) == (False, [])
    assert "Wq8zN3vB7xL2" not in json.dumps(
        [dict(a.raw) | dict(a.attrs) for a in instances.values()]
    )

    denied = scope(moto_endpoint, region=R)
    refuse(denied.clients, "ec2", R, "DescribeInstanceAttribute", code="UnauthorizedOperation")
    instances = {a.attrs["instance_id"]: a for a in ec2.collect_instances(denied)}
    assert instances[secret_id].attrs["user_data_secrets"] is None
    assert {(e.asset_types, e.resource_uid) for e in denied.errors} == {
        (("AWS::EC2::Instance#user_data",), f"arn:aws:ec2:{R}:{ACCOUNT}:instance/{i}")
        for i in (secret_id, clean_id)
    }


@pytest.mark.parametrize("enabled", [True, False])
def test_load_balancer_access_logs(moto_endpoint: str, enabled: bool) -> None:
    ec2c = client("ec2", moto_endpoint)
    subnets = [s["SubnetId"] for s in ec2c.describe_subnets()["Subnets"]][:2]
    elb = client("elbv2", moto_endpoint)
    lb = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=lb,
        Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": str(enabled).lower()},
            {"Key": "access_logs.s3.bucket", "Value": "lb-logs" if enabled else ""},
        ],
    )
    sc = scope(moto_endpoint, region=R)
    attrs = by_uid(elbv2.collect(sc))[lb].attrs
    assert (attrs["access_logs_enabled"], attrs["access_logs_bucket"]) == (
        enabled,
        "lb-logs" if enabled else None,
    )
    denied = scope(moto_endpoint, region=R)
    refuse(denied.clients, "elbv2", R, "DescribeLoadBalancerAttributes", code="AccessDenied")
    assert by_uid(elbv2.collect(denied))[lb].attrs["access_logs_enabled"] is None
    assert ("AWS::ElasticLoadBalancingV2::LoadBalancer#attributes",) in {
        e.asset_types for e in denied.errors
    }
