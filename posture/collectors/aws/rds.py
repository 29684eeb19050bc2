"""RDS: DB instances with their network placement and encryption (attrs as in
``docs/aws-assets.md``)."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, listed, tag_map
from posture.model import Asset

DB_INSTANCE = "AWS::RDS::DBInstance"

PERMISSIONS: tuple[str, ...] = ("rds:DescribeDBInstances",)


def collect(scope: RegionScope) -> list[Asset]:
    return listed(scope, "rds", "DescribeDBInstances", "DBInstances", DB_INSTANCE,
                  normalize_db_instance)


def normalize_db_instance(scope: RegionScope, db: Payload) -> Asset:
    subnet_group = db.get("DBSubnetGroup") or {}
    endpoint = db.get("Endpoint") or {}
    attrs = {
        "arn": db["DBInstanceArn"],
        "db_instance_id": db.get("DBInstanceIdentifier"),
        "engine": db.get("Engine"),
        "engine_version": db.get("EngineVersion"),
        "status": db.get("DBInstanceStatus"),
        "publicly_accessible": db.get("PubliclyAccessible"),
        "storage_encrypted": db.get("StorageEncrypted"),
        "kms_key_id": db.get("KmsKeyId"),
        "vpc_id": subnet_group.get("VpcId"),
        "subnet_ids": sorted({s["SubnetIdentifier"] for s in subnet_group.get("Subnets", [])
                             if s.get("SubnetIdentifier")}),
        "security_group_ids": sorted({g["VpcSecurityGroupId"]
                                     for g in db.get("VpcSecurityGroups", [])
                                     if g.get("VpcSecurityGroupId")}),
        "endpoint_address": endpoint.get("Address"),
        "port": endpoint.get("Port") or db.get("DbInstancePort") or None,
        "iam_auth_enabled": db.get("IAMDatabaseAuthenticationEnabled"),
        "parameter_groups": sorted({p["DBParameterGroupName"]
                                   for p in db.get("DBParameterGroups", [])
                                   if p.get("DBParameterGroupName")}),
        "multi_az": db.get("MultiAZ"),
        "backup_retention_days": db.get("BackupRetentionPeriod"),
        "deletion_protection": db.get("DeletionProtection"),
    }
    name = db.get("DBInstanceIdentifier") or db["DBInstanceArn"]
    tags = tag_map(db.get("TagList"))
    return scope.asset(db["DBInstanceArn"], DB_INSTANCE, name, attrs, raw=db, tags=tags)
