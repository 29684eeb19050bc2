"""Managed data services against the moto server: Redshift (encryption, network placement from
the subnet group, TLS parameters, audit logging), ElastiCache (replication groups and stand-alone
clusters), OpenSearch domains (access policy, encryption, endpoint options) and DynamoDB
point-in-time recovery; refused detail calls leave their attrs unknown and name the resource.

moto ignores AutomatedSnapshotRetentionPeriod=0 (it answers 1) and omits the encryption flags
of Memcached clusters (null here, unknown to the checks)."""

from __future__ import annotations

import json
from typing import Any

from support.aws import ACCOUNT, client
from support.collect import error_keys, scope, vpc_with_subnets
from support.faults import refusals, refused_scope

from posture.collectors.aws import dynamodb, elasticache, opensearch, redshift

R = "us-east-1"
KEY = f"arn:aws:kms:{R}:{ACCOUNT}:key/k-1"
WAREHOUSE = f"arn:aws:redshift:{R}:{ACCOUNT}:cluster:warehouse"
LEGACY = f"arn:aws:redshift:{R}:{ACCOUNT}:cluster:legacy"


def _redshift(endpoint: str) -> list[str]:
    vpc, subnets = vpc_with_subnets(client("ec2", endpoint))
    rs = client("redshift", endpoint)
    rs.create_cluster_subnet_group(ClusterSubnetGroupName="private", Description="d",
                                   SubnetIds=subnets)
    rs.create_cluster_parameter_group(ParameterGroupName="custom", Description="d",
                                      ParameterGroupFamily="redshift-1.0")
    rs.create_cluster(ClusterIdentifier="warehouse", NodeType="ra3.xlplus", MasterUsername="u",
                      MasterUserPassword="Passw0rd-demo", ClusterSubnetGroupName="private",
                      ClusterParameterGroupName="custom", PubliclyAccessible=True,
                      Encrypted=True, KmsKeyId=KEY)
    rs.enable_logging(ClusterIdentifier="warehouse", LogDestinationType="cloudwatch",
                      LogExports=["connectionlog"])
    rs.create_cluster(ClusterIdentifier="legacy", NodeType="dc2.large", MasterUsername="u",
                      MasterUserPassword="Passw0rd-demo")
    return [vpc, *subnets]


def test_redshift_clusters(moto_endpoint: str) -> None:
    vpc, *subnets = _redshift(moto_endpoint)
    sc = scope(moto_endpoint, region=R)
    found = {a.uid: a.attrs for a in redshift.collect(sc)}
    assert sc.errors == []
    warehouse, legacy = found[WAREHOUSE], found[LEGACY]
    assert {k: warehouse[k] for k in (
        "encrypted", "kms_key_id", "publicly_accessible", "port", "vpc_id", "subnet_ids",
        "parameter_group", "require_ssl", "audit_logging_enabled", "audit_log_destination")} == {
        "encrypted": True, "kms_key_id": KEY, "publicly_accessible": True, "port": 5439,
        "vpc_id": vpc, "subnet_ids": sorted(subnets), "parameter_group": "custom",
        "require_ssl": False, "audit_logging_enabled": True, "audit_log_destination": "cloudwatch",
    }
    assert (legacy["encrypted"], legacy["subnet_ids"], legacy["audit_logging_enabled"]) == (
        False, None, False)
    assert "MasterUserPassword" not in json.dumps(found)


def test_redshift_refused_details_are_unknown(moto_endpoint: str) -> None:
    _redshift(moto_endpoint)
    sc = refused_scope(moto_endpoint, "redshift", "DescribeClusterParameters",
                       "DescribeLoggingStatus")
    found = {a.uid: a.attrs for a in redshift.collect(sc)}
    assert (found[WAREHOUSE]["require_ssl"], found[WAREHOUSE]["audit_logging_enabled"]) == (
        None, None)
    assert found[WAREHOUSE]["encrypted"] is True
    assert error_keys(sc.errors) == (
        refusals("redshift", "DescribeClusterParameters", ("AWS::Redshift::Cluster#parameters",),
                 [LEGACY, WAREHOUSE])
        | refusals("redshift", "DescribeLoggingStatus", ("AWS::Redshift::Cluster#logging",),
                   [LEGACY, WAREHOUSE]))


def test_elasticache_groups_and_standalone_clusters(moto_endpoint: str) -> None:
    ec = client("elasticache", moto_endpoint)
    ec.create_replication_group(
        ReplicationGroupId="sessions", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, AtRestEncryptionEnabled=True,
        TransitEncryptionEnabled=True, AuthToken="a-demo-auth-token-1234", KmsKeyId=KEY,
        SnapshotRetentionLimit=5)
    ec.create_cache_cluster(CacheClusterId="tokens", Engine="memcached",
                            CacheNodeType="cache.t3.micro", NumCacheNodes=1)
    sc = scope(moto_endpoint, region=R)
    found = {a.name: a for a in elasticache.collect(sc)}
    assert sc.errors == []
    group, memcached = found["sessions"], found["tokens"]
    assert group.type == elasticache.REPLICATION_GROUP
    assert {k: group.attrs[k] for k in ("engine", "at_rest_encryption", "transit_encryption",
                                        "auth_token_enabled", "snapshot_retention_days",
                                        "kms_key_id")} == {
        "engine": "redis", "at_rest_encryption": True, "transit_encryption": True,
        "auth_token_enabled": True, "snapshot_retention_days": 5, "kms_key_id": KEY}
    assert "a-demo-auth-token-1234" not in json.dumps(dict(group.raw))
    assert (memcached.type, memcached.attrs["engine"], memcached.attrs["at_rest_encryption"]) == (
        elasticache.CACHE_CLUSTER, "memcached", None)
    # the replication group's member clusters are not reported twice
    assert set(found) == {"sessions", "tokens"}


OPEN = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*",
    "Resource": f"arn:aws:es:{R}:{ACCOUNT}:domain/search/*"}]}


def test_opensearch_domains(moto_endpoint: str) -> None:
    os_ = client("opensearch", moto_endpoint)
    os_.create_domain(DomainName="search", EngineVersion="OpenSearch_2.11",
                      EncryptionAtRestOptions={"Enabled": True, "KmsKeyId": KEY},
                      NodeToNodeEncryptionOptions={"Enabled": False},
                      DomainEndpointOptions={"EnforceHTTPS": True,
                                             "TLSSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"},
                      AccessPolicies=json.dumps(OPEN))
    sc = scope(moto_endpoint, region=R)
    [domain] = opensearch.collect(sc)
    assert sc.errors == []
    assert {k: domain.attrs[k] for k in (
        "arn", "in_vpc", "access_policy", "encryption_at_rest", "kms_key_id",
        "node_to_node_encryption", "enforce_https", "tls_security_policy",
        "fine_grained_access_control", "audit_logs_enabled")} == {
        "arn": f"arn:aws:es:{R}:{ACCOUNT}:domain/search", "in_vpc": False, "access_policy": OPEN,
        "encryption_at_rest": True, "kms_key_id": KEY, "node_to_node_encryption": False,
        "enforce_https": True, "tls_security_policy": "Policy-Min-TLS-1-0-2019-07",
        "fine_grained_access_control": False, "audit_logs_enabled": False}
    refused = refused_scope(moto_endpoint, "opensearch", "DescribeDomain")
    assert opensearch.collect(refused) == []
    assert error_keys(refused.errors) == refusals(
        "opensearch", "DescribeDomain", (opensearch.DOMAIN,), [domain.uid])


def test_dynamodb_point_in_time_recovery(moto_endpoint: str) -> None:
    ddb = client("dynamodb", moto_endpoint)
    schema: dict[str, Any] = {
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb.create_table(TableName="orders", **schema)
    ddb.create_table(TableName="cache", **schema)
    ddb.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    sc = scope(moto_endpoint, region=R)
    assert {a.name: a.attrs["pitr_enabled"] for a in dynamodb.collect(sc)} == {
        "orders": True, "cache": False}
    assert sc.errors == []
    refused = refused_scope(moto_endpoint, "dynamodb", "DescribeContinuousBackups")
    assert {a.name: a.attrs["pitr_enabled"] for a in dynamodb.collect(refused)} == {
        "orders": None, "cache": None}
    assert error_keys(refused.errors) == refusals(
        "dynamodb", "DescribeContinuousBackups", ("AWS::DynamoDB::Table#backups",),
        [f"arn:aws:dynamodb:{R}:{ACCOUNT}:table/{n}" for n in ("cache", "orders")])
