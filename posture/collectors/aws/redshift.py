"""Redshift provisioned clusters: encryption, network placement, the TLS and logging parameters
of their parameter group, audit logging and snapshot retention (attrs as in
``docs/aws-assets.md``).

Per cluster, concurrently: DescribeClusterParameters of its parameter group (``#parameters``),
DescribeClusterSubnetGroups of its subnet group (``#network``) and DescribeLoggingStatus
(``#logging``); a failed call leaves those attrs null and names the cluster.
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, tag_map
from posture.model import Asset

CLUSTER = "AWS::Redshift::Cluster"
PARAMETERS = ("require_ssl", "use_fips_ssl", "enable_user_activity_logging")

PERMISSIONS: tuple[str, ...] = (
    "redshift:DescribeClusters", "redshift:DescribeClusterParameters",
    "redshift:DescribeClusterSubnetGroups", "redshift:DescribeLoggingStatus",
)


def collect(scope: RegionScope) -> list[Asset]:
    clusters = scope.paginate("redshift", "DescribeClusters", "Clusters", (CLUSTER,))
    ordered = sorted(clusters or [], key=lambda c: str(c["ClusterIdentifier"]))
    details = parallel_map(lambda c: fetch_details(scope, c), ordered)
    return [normalize_cluster(scope, c, d) for c, d in zip(ordered, details, strict=True)]


def cluster_uid(scope: RegionScope, cluster_id: str) -> str:
    return scope.arn("redshift", f"cluster:{cluster_id}")


# --- fetch -------------------------------------------------------------------------------------


def fetch_details(scope: RegionScope, cluster: Payload) -> Payload:
    cid = str(cluster["ClusterIdentifier"])
    uid = cluster_uid(scope, cid)
    groups = [g["ParameterGroupName"] for g in cluster.get("ClusterParameterGroups") or []
              if g.get("ParameterGroupName")]
    parameters = None
    if groups:
        parameters = scope.paginate("redshift", "DescribeClusterParameters", "Parameters",
                                    (f"{CLUSTER}#parameters",), uid,
                                    ParameterGroupName=groups[0])
    subnets = None
    if cluster.get("ClusterSubnetGroupName"):
        found = scope.paginate("redshift", "DescribeClusterSubnetGroups", "ClusterSubnetGroups",
                               (f"{CLUSTER}#network",), uid,
                               ClusterSubnetGroupName=cluster["ClusterSubnetGroupName"])
        subnets = None if found is None else (found[0] if found else {})
    logging = scope.call("redshift", "DescribeLoggingStatus", (f"{CLUSTER}#logging",), uid,
                         ClusterIdentifier=cid)
    return {"parameters": parameters, "subnet_group": subnets, "logging": logging}


# --- normalize ---------------------------------------------------------------------------------


def parameter_values(parameters: list[Payload] | None) -> dict[str, Any] | None:
    """The TLS and logging parameters as bools (a parameter the group does not list: null)."""
    if parameters is None:
        return None
    values = {str(p.get("ParameterName")): p.get("ParameterValue") for p in parameters}
    out: dict[str, Any] = {}
    for name in PARAMETERS:
        value = values.get(name)
        out[name] = None if value is None else str(value).strip().lower() == "true"
    return out


def normalize_cluster(scope: RegionScope, cluster: Payload, details: Payload) -> Asset:
    cid = str(cluster["ClusterIdentifier"])
    endpoint: Payload = cluster.get("Endpoint") or {}
    params = parameter_values(details["parameters"])
    group: Payload | None = details["subnet_group"]
    logging: Payload | None = details["logging"]
    subnet_ids = None if group is None else sorted(
        str(s["SubnetIdentifier"]) for s in group.get("Subnets") or []
        if s.get("SubnetIdentifier"))
    attrs = {
        "arn": cluster_uid(scope, cid),
        "cluster_id": cid,
        "status": cluster.get("ClusterStatus"),
        "node_type": cluster.get("NodeType"),
        "cluster_version": cluster.get("ClusterVersion"),
        "encrypted": cluster.get("Encrypted"),
        "kms_key_id": cluster.get("KmsKeyId"),
        "publicly_accessible": cluster.get("PubliclyAccessible"),
        "endpoint_address": endpoint.get("Address"),
        "port": endpoint.get("Port"),
        "vpc_id": cluster.get("VpcId") or (group or {}).get("VpcId"),
        "subnet_group": cluster.get("ClusterSubnetGroupName"),
        "subnet_ids": subnet_ids,
        "security_group_ids": sorted(str(g["VpcSecurityGroupId"])
                                     for g in cluster.get("VpcSecurityGroups") or []
                                     if g.get("VpcSecurityGroupId")),
        "public_ips": sorted(str(n["PublicIPAddress"]) for n in cluster.get("ClusterNodes") or []
                             if n.get("PublicIPAddress")),
        "parameter_group": next((g.get("ParameterGroupName")
                                 for g in cluster.get("ClusterParameterGroups") or []), None),
        "require_ssl": None if params is None else params["require_ssl"],
        "use_fips_ssl": None if params is None else params["use_fips_ssl"],
        "user_activity_logging": (None if params is None
                                  else params["enable_user_activity_logging"]),
        "audit_logging_enabled": None if logging is None else bool(logging.get("LoggingEnabled")),
        "audit_log_destination": (None if logging is None
                                  else logging.get("LogDestinationType") or None),
        "automated_snapshot_retention_days": cluster.get("AutomatedSnapshotRetentionPeriod"),
        "enhanced_vpc_routing": cluster.get("EnhancedVpcRouting"),
    }
    return scope.asset(cluster_uid(scope, cid), CLUSTER, cid, attrs, raw=cluster,
                       tags=tag_map(cluster.get("Tags")))
