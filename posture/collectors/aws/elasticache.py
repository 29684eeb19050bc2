"""ElastiCache: replication groups (Valkey / Redis OSS) and the cache clusters that belong to
none (Memcached, single-node Redis OSS), with encryption, authentication and snapshot retention
(attrs as in ``docs/aws-assets.md``). Serverless caches are not read.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope
from posture.model import Asset

REPLICATION_GROUP = "AWS::ElastiCache::ReplicationGroup"
CACHE_CLUSTER = "AWS::ElastiCache::CacheCluster"

PERMISSIONS: tuple[str, ...] = (
    "elasticache:DescribeReplicationGroups", "elasticache:DescribeCacheClusters",
)


def collect(scope: RegionScope) -> list[Asset]:
    groups = scope.paginate("elasticache", "DescribeReplicationGroups", "ReplicationGroups",
                            (REPLICATION_GROUP,))
    out = [normalize_group(scope, g) for g in groups or []]
    clusters = scope.paginate("elasticache", "DescribeCacheClusters", "CacheClusters",
                              (CACHE_CLUSTER,))
    out += [normalize_cluster(scope, c) for c in clusters or [] if not c.get("ReplicationGroupId")]
    return out


def _common(item: Payload) -> dict[str, object]:
    return {
        "arn": item["ARN"],
        "engine": (item.get("Engine") or "").lower() or None,
        "at_rest_encryption": item.get("AtRestEncryptionEnabled"),
        "transit_encryption": item.get("TransitEncryptionEnabled"),
        "transit_encryption_mode": item.get("TransitEncryptionMode"),
        "auth_token_enabled": item.get("AuthTokenEnabled"),
        "snapshot_retention_days": item.get("SnapshotRetentionLimit"),
    }


def normalize_group(scope: RegionScope, group: Payload) -> Asset:
    attrs = {
        **_common(group),
        "replication_group_id": group.get("ReplicationGroupId"),
        "status": group.get("Status"),
        "kms_key_id": group.get("KmsKeyId"),
        "user_group_ids": sorted(str(u) for u in group.get("UserGroupIds") or []),
        "cluster_mode": group.get("ClusterMode"),
        "member_clusters": sorted(str(m) for m in group.get("MemberClusters") or []),
        "automatic_failover": group.get("AutomaticFailover"),
        "multi_az": group.get("MultiAZ"),
    }
    name = str(group.get("ReplicationGroupId") or group["ARN"])
    return scope.asset(str(group["ARN"]), REPLICATION_GROUP, name, attrs, raw=group)


def normalize_cluster(scope: RegionScope, cluster: Payload) -> Asset:
    attrs = {
        **_common(cluster),
        "cache_cluster_id": cluster.get("CacheClusterId"),
        "status": cluster.get("CacheClusterStatus"),
        "engine_version": cluster.get("EngineVersion"),
        "subnet_group": cluster.get("CacheSubnetGroupName"),
        "security_group_ids": sorted(str(g["SecurityGroupId"])
                                     for g in cluster.get("SecurityGroups") or []
                                     if g.get("SecurityGroupId")),
    }
    name = str(cluster.get("CacheClusterId") or cluster["ARN"])
    return scope.asset(str(cluster["ARN"]), CACHE_CLUSTER, name, attrs, raw=cluster)
