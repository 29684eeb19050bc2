"""RDS beyond instances: Aurora clusters, DB and cluster snapshots (encryption, public restore
attribute) and parameter groups (the TLS-enforcing parameters). Attrs as in
``docs/aws-assets.md``; instances are in ``rds.py``.
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, pick, tag_map
from posture.model import Asset

SERVICE = "rds"
CLUSTER = "AWS::RDS::DBCluster"
SNAPSHOT = "AWS::RDS::DBSnapshot"
CLUSTER_SNAPSHOT = "AWS::RDS::DBClusterSnapshot"
PARAMETER_GROUP = "AWS::RDS::DBParameterGroup"
CLUSTER_PARAMETER_GROUP = "AWS::RDS::DBClusterParameterGroup"
TLS_PARAMETERS = ("rds.force_ssl", "require_secure_transport")

PERMISSIONS: tuple[str, ...] = (
    "rds:DescribeDBClusters", "rds:DescribeDBSnapshots", "rds:DescribeDBSnapshotAttributes",
    "rds:DescribeDBClusterSnapshots", "rds:DescribeDBClusterSnapshotAttributes",
    "rds:DescribeDBParameterGroups", "rds:DescribeDBParameters",
    "rds:DescribeDBClusterParameterGroups", "rds:DescribeDBClusterParameters",
)

# (type, listing op, result key, ARN key, id key, attributes op, attributes result key)
_SNAPSHOTS = (
    (
        SNAPSHOT,
        "DescribeDBSnapshots",
        "DBSnapshots",
        "DBSnapshotArn",
        "DBSnapshotIdentifier",
        "DescribeDBSnapshotAttributes",
        "DBSnapshotAttributesResult",
    ),
    (
        CLUSTER_SNAPSHOT,
        "DescribeDBClusterSnapshots",
        "DBClusterSnapshots",
        "DBClusterSnapshotArn",
        "DBClusterSnapshotIdentifier",
        "DescribeDBClusterSnapshotAttributes",
        "DBClusterSnapshotAttributesResult",
    ),
)
# (type, listing op, result key, name key, ARN key, parameters op)
_GROUPS = (
    (
        PARAMETER_GROUP,
        "DescribeDBParameterGroups",
        "DBParameterGroups",
        "DBParameterGroupName",
        "DBParameterGroupArn",
        "DescribeDBParameters",
    ),
    (
        CLUSTER_PARAMETER_GROUP,
        "DescribeDBClusterParameterGroups",
        "DBClusterParameterGroups",
        "DBClusterParameterGroupName",
        "DBClusterParameterGroupArn",
        "DescribeDBClusterParameters",
    ),
)


def collect(scope: RegionScope) -> list[Asset]:
    clusters = scope.paginate(SERVICE, "DescribeDBClusters", "DBClusters", (CLUSTER,))
    assets = [normalize_cluster(scope, c) for c in clusters or []]
    for spec in _SNAPSHOTS:
        assets += collect_snapshots(scope, *spec)
    for group_spec in _GROUPS:
        assets += collect_parameter_groups(scope, *group_spec)
    return assets


# --- clusters ------------------------------------------------------------------------------


def normalize_cluster(scope: RegionScope, cluster: Payload) -> Asset:
    arn = str(cluster["DBClusterArn"])
    attrs = {
        "arn": arn,
        **pick(cluster, db_cluster_id="DBClusterIdentifier", engine="Engine",
               engine_version="EngineVersion", status="Status",
               storage_encrypted="StorageEncrypted", kms_key_id="KmsKeyId",
               publicly_accessible="PubliclyAccessible",
               parameter_group="DBClusterParameterGroup"),
        "member_instance_ids": sorted(
            str(m["DBInstanceIdentifier"])
            for m in cluster.get("DBClusterMembers") or []
            if m.get("DBInstanceIdentifier")
        ),
        "deletion_protection": cluster.get("DeletionProtection"),
    }
    name = str(cluster.get("DBClusterIdentifier") or arn)
    return scope.asset(arn, CLUSTER, name, attrs, raw=cluster, tags=tag_map(cluster.get("TagList")))


# --- snapshots -----------------------------------------------------------------------------


def collect_snapshots(
    scope: RegionScope,
    type_: str,
    op: str,
    key: str,
    arn_key: str,
    id_key: str,
    attr_op: str,
    attr_key: str,
) -> list[Asset]:
    listed = scope.paginate(SERVICE, op, key, (type_,))
    ordered = sorted(listed or [], key=lambda s: str(s[arn_key]))

    def restore(snap: Payload) -> list[str] | None:
        if snap.get("SnapshotType") != "manual":
            return []  # automated snapshots cannot be shared
        resp = scope.call(
            SERVICE,
            attr_op,
            (f"{type_}#permissions",),
            str(snap[arn_key]),
            **{id_key: snap[id_key]},
        )
        if resp is None:
            return None
        attributes = (resp.get(attr_key) or {}).get(attr_key.removesuffix("Result")) or []
        return sorted(
            {
                str(v)
                for a in attributes
                if a.get("AttributeName") == "restore"
                for v in a.get("AttributeValues") or []
            }
        )

    shares = parallel_map(restore, ordered)
    return [
        normalize_snapshot(scope, type_, s, arn_key, id_key, r)
        for s, r in zip(ordered, shares, strict=True)
    ]


def normalize_snapshot(
    scope: RegionScope,
    type_: str,
    snap: Payload,
    arn_key: str,
    id_key: str,
    restore: list[str] | None,
) -> Asset:
    """``restore`` is the restore attribute's values (``all`` = public), ``None`` if unknown."""
    arn = str(snap[arn_key])
    encrypted = snap.get("Encrypted", snap.get("StorageEncrypted"))
    attrs = {
        "arn": arn,
        "snapshot_id": snap.get(id_key),
        "source_id": snap.get("DBInstanceIdentifier") or snap.get("DBClusterIdentifier"),
        "engine": snap.get("Engine"),
        "snapshot_type": snap.get("SnapshotType"),
        "status": snap.get("Status"),
        "encrypted": encrypted,
        "kms_key_id": snap.get("KmsKeyId"),
        "created": snap.get("SnapshotCreateTime"),
        "public": None if restore is None else "all" in restore,
        "shared_with_accounts": None if restore is None else [v for v in restore if v != "all"],
    }
    raw = {**snap, "restore": restore}
    return scope.asset(
        arn, type_, str(snap.get(id_key) or arn), attrs, raw=raw, tags=tag_map(snap.get("TagList"))
    )


# --- parameter groups ----------------------------------------------------------------------


def collect_parameter_groups(
    scope: RegionScope,
    type_: str,
    op: str,
    key: str,
    name_key: str,
    arn_key: str,
    params_op: str,
) -> list[Asset]:
    groups = scope.paginate(SERVICE, op, key, (type_,))
    ordered = sorted(groups or [], key=lambda g: str(g[name_key]))

    def parameters(group: Payload) -> list[Payload] | None:
        arg = (
            "DBClusterParameterGroupName"
            if type_ == CLUSTER_PARAMETER_GROUP
            else "DBParameterGroupName"
        )
        return scope.paginate(
            SERVICE,
            params_op,
            "Parameters",
            (f"{type_}#parameters",),
            resource_uid=group_uid(scope, type_, group, arn_key, name_key),
            **{arg: group[name_key]},
        )

    params = parallel_map(parameters, ordered)
    return [
        normalize_parameter_group(scope, type_, g, name_key, arn_key, p)
        for g, p in zip(ordered, params, strict=True)
    ]


def group_uid(scope: RegionScope, type_: str, group: Payload, arn_key: str, name_key: str) -> str:
    kind = "cluster-pg" if type_ == CLUSTER_PARAMETER_GROUP else "pg"
    return str(group.get(arn_key) or scope.arn("rds", f"{kind}:{group[name_key]}"))


def normalize_parameter_group(
    scope: RegionScope,
    type_: str,
    group: Payload,
    name_key: str,
    arn_key: str,
    parameters: list[Payload] | None,
) -> Asset:
    """``tls_parameters``: the TLS-enforcing parameters the group defines, with their value
    (null = no value set, i.e. the engine default); the whole map is null if unknown."""
    tls: dict[str, Any] | None = None
    if parameters is not None:
        tls = {
            str(p["ParameterName"]): p.get("ParameterValue")
            for p in parameters
            if p.get("ParameterName") in TLS_PARAMETERS
        }
    attrs = {
        "group_name": group.get(name_key),
        "family": group.get("DBParameterGroupFamily"),
        "tls_parameters": tls,
    }
    uid = group_uid(scope, type_, group, arn_key, name_key)
    raw = {**group, "tls_parameters": tls}
    return scope.asset(uid, type_, str(group.get(name_key)), attrs, raw=raw)
