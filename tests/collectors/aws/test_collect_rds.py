"""RDS collector: real boto3 against the moto server.

moto differences used here: ``MaxRecords`` below the API minimum (20) is accepted, which lets a
test force pagination with three instances.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, client
from support.collect import collected, network_with_group, scope
from support.faults import deny

from posture.collectors.aws import rds
from posture.collectors.aws.base import ClientFactory

REGION = "us-east-1"
DB = "AWS::RDS::DBInstance"


@pytest.fixture
def network(moto_endpoint: str) -> dict[str, Any]:
    net = network_with_group(client("ec2", moto_endpoint), "db")
    rdsc = client("rds", moto_endpoint)
    rdsc.create_db_subnet_group(DBSubnetGroupName="data", DBSubnetGroupDescription="data",
                                SubnetIds=net["subnets"])
    rdsc.create_db_parameter_group(DBParameterGroupName="pg-tls",
                                   DBParameterGroupFamily="postgres16", Description="force ssl")
    return net


def _create(moto_endpoint: str, name: str, **kwargs: Any) -> str:
    db = client("rds", moto_endpoint).create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
        EngineVersion="16.3", MasterUsername="admin_user", MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20, **kwargs)
    return str(db["DBInstance"]["DBInstanceArn"])


def test_db_instances(factory: ClientFactory, network: dict[str, Any], moto_endpoint: str) -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/6f1c1e8e-aaaa-bbbb-cccc-ddddeeeeffff"
    public = _create(moto_endpoint, "orders", DBSubnetGroupName="data",
                     VpcSecurityGroupIds=[network["sg"]], PubliclyAccessible=True,
                     StorageEncrypted=True, KmsKeyId=key, DBParameterGroupName="pg-tls",
                     EnableIAMDatabaseAuthentication=True, MultiAZ=True,
                     BackupRetentionPeriod=7, DeletionProtection=True,
                     Tags=[{"Key": "env", "Value": "prod"}])
    private = _create(moto_endpoint, "reports", DBSubnetGroupName="data",
                      VpcSecurityGroupIds=[network["sg"]], PubliclyAccessible=False,
                      StorageEncrypted=False)

    assets, scope = collected(rds, factory)

    assert scope.errors == []
    assert set(assets) == {public, private}
    got = assets[public]
    assert (got.type, got.name, got.region, dict(got.tags)) == (DB, "orders", REGION,
                                                               {"env": "prod"})
    attrs = dict(got.attrs)
    assert attrs.pop("endpoint_address").startswith("orders.")
    assert attrs == {
        "arn": public, "db_instance_id": "orders", "engine": "postgres",
        "engine_version": "16.3", "status": "available", "publicly_accessible": True,
        "storage_encrypted": True, "kms_key_id": key, "vpc_id": network["vpc"],
        "subnet_ids": sorted(network["subnets"]), "security_group_ids": [network["sg"]],
        "port": 5432, "iam_auth_enabled": True, "parameter_groups": ["pg-tls"],
        "multi_az": True, "backup_retention_days": 7, "deletion_protection": True,
    }
    other = assets[private].attrs
    assert (other["publicly_accessible"], other["storage_encrypted"]) == (False, False)
    assert other["kms_key_id"] is None
    assert other["subnet_ids"] == sorted(network["subnets"])


def test_denied_listing_is_recorded(factory: ClientFactory, network: dict[str, Any],
                                    moto_endpoint: str) -> None:
    _create(moto_endpoint, "orders", DBSubnetGroupName="data")
    deny(factory, "rds", "DescribeDBInstances")

    assets, scope = collected(rds, factory)

    assert assets == {}
    assert [(e.service, e.operation, e.code, e.asset_types, e.resource_uid, e.region)
            for e in scope.errors] == [
        ("rds", "DescribeDBInstances", "AccessDenied", (DB,), None, REGION)]


def test_pagination_and_permissions(factory: ClientFactory, network: dict[str, Any],
                                    moto_endpoint: str) -> None:
    arns = {_create(moto_endpoint, f"db{i}") for i in range(3)}
    calls: list[dict[str, Any]] = []

    def small_pages(params: dict[str, Any], model: Any, **_: Any) -> None:
        params["MaxRecords"] = 2  # AWS's minimum is 20; moto pages at any size
        calls.append({"op": f"rds:{model.name}", **params})

    factory.client("rds", REGION).meta.events.register("before-parameter-build.rds", small_pages)

    assets, _ = collected(rds, factory)

    assert set(assets) == arns
    assert len(calls) == 2 and "Marker" in calls[1]
    assert {c["op"] for c in calls} == set(rds.PERMISSIONS)


def test_normalize_missing_flags_stay_unknown() -> None:
    sc = scope(region=REGION)
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:creating"
    attrs = rds.normalize_db_instance(sc, {"DBInstanceArn": arn,
                                              "DBInstanceIdentifier": "creating"}).attrs
    assert (attrs["publicly_accessible"], attrs["storage_encrypted"], attrs["port"],
            attrs["subnet_ids"]) == (None, None, None, [])
