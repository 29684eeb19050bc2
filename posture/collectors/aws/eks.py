"""EKS clusters and their managed node groups (attrs as in ``docs/aws-assets.md``).

ListClusters names the clusters; DescribeCluster, ListNodegroups and DescribeNodegroup run per
cluster, concurrently. A cluster whose DescribeCluster failed is not emitted (the error names its
ARN and the type); a failed ListNodegroups leaves that cluster's node groups unknown (recorded as
``AWS::EKS::Nodegroup`` with the cluster's ARN). A setting the answer does not carry (an older
cluster without ``accessConfig``) is null, never guessed.
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import Payload, RegionScope
from posture.collectors.runner import parallel_flat_map
from posture.model import Asset

CLUSTER = "AWS::EKS::Cluster"
NODEGROUP = "AWS::EKS::Nodegroup"

PERMISSIONS: tuple[str, ...] = (
    "eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup",
)


def collect(scope: RegionScope) -> list[Asset]:
    names = scope.paginate("eks", "ListClusters", "clusters", (CLUSTER, NODEGROUP))
    ordered = sorted(str(n) for n in names or [])
    return parallel_flat_map(lambda name: fetch_cluster(scope, name), ordered)


def cluster_uid(scope: RegionScope, name: str) -> str:
    return scope.arn("eks", f"cluster/{name}")


def fetch_cluster(scope: RegionScope, name: str) -> list[Asset]:
    """The cluster and its node groups (nothing when DescribeCluster failed)."""
    uid = cluster_uid(scope, name)
    described = scope.call("eks", "DescribeCluster", (CLUSTER,), uid, name=name)
    cluster = (described or {}).get("cluster")
    if not cluster:
        return []
    out = [normalize_cluster(scope, cluster)]
    groups = scope.paginate("eks", "ListNodegroups", "nodegroups", (NODEGROUP,), uid,
                            clusterName=name)
    for group in sorted(str(g) for g in groups or []):
        answer = scope.call("eks", "DescribeNodegroup", (NODEGROUP,), uid, clusterName=name,
                            nodegroupName=group)
        if answer and answer.get("nodegroup"):
            out.append(normalize_nodegroup(scope, answer["nodegroup"], str(cluster["arn"])))
    return out


# --- normalize ---------------------------------------------------------------------------------


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def enabled_log_types(logging: Payload | None) -> list[str] | None:
    """Control-plane log types switched on (``[]`` none; null when the answer has no logging)."""
    if logging is None:
        return None
    types = {str(t) for entry in logging.get("clusterLogging") or [] if entry.get("enabled")
             for t in entry.get("types") or []}
    return sorted(types)


def secrets_key(encryption: list[Payload] | None) -> tuple[bool, str | None]:
    """(secrets envelope-encrypted with a KMS key, that key's ARN)."""
    for entry in encryption or []:
        if "secrets" in (entry.get("resources") or []):
            return True, (entry.get("provider") or {}).get("keyArn")
    return False, None


def normalize_cluster(scope: RegionScope, cluster: Payload) -> Asset:
    vpc: Payload = cluster.get("resourcesVpcConfig") or {}
    access: Payload = cluster.get("accessConfig") or {}
    encrypted, key = secrets_key(cluster.get("encryptionConfig"))
    cidrs = vpc.get("publicAccessCidrs")
    attrs = {
        "arn": cluster["arn"],
        "cluster_name": cluster.get("name"),
        "status": cluster.get("status"),
        "version": cluster.get("version"),
        "platform_version": cluster.get("platformVersion"),
        "endpoint": cluster.get("endpoint"),
        "endpoint_public_access": _flag(vpc.get("endpointPublicAccess")),
        "endpoint_private_access": _flag(vpc.get("endpointPrivateAccess")),
        "public_access_cidrs": None if cidrs is None else sorted(str(c) for c in cidrs),
        "vpc_id": vpc.get("vpcId"),
        "subnet_ids": sorted(str(s) for s in vpc.get("subnetIds") or []),
        "security_group_ids": sorted(str(s) for s in vpc.get("securityGroupIds") or []),
        "cluster_security_group_id": vpc.get("clusterSecurityGroupId"),
        "secrets_encrypted": encrypted,
        "secrets_kms_key_arn": key,
        "logging_enabled_types": enabled_log_types(cluster.get("logging")),
        "authentication_mode": access.get("authenticationMode"),
        "bootstrap_creator_admin": _flag(access.get("bootstrapClusterCreatorAdminPermissions")),
        "support_type": (cluster.get("upgradePolicy") or {}).get("supportType"),
        "role_arn": cluster.get("roleArn"),
        "oidc_issuer": ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer"),
    }
    raw = {k: v for k, v in cluster.items() if k != "certificateAuthority"}
    tags = {str(k): str(v) for k, v in (cluster.get("tags") or {}).items()}
    return scope.asset(str(cluster["arn"]), CLUSTER, str(cluster.get("name")), attrs, raw=raw,
                       tags=tags)


def normalize_nodegroup(scope: RegionScope, group: Payload, cluster_arn: str) -> Asset:
    remote: Payload = group.get("remoteAccess") or {}
    template: Payload = group.get("launchTemplate") or {}
    attrs = {
        "arn": group["nodegroupArn"],
        "nodegroup_name": group.get("nodegroupName"),
        "cluster_name": group.get("clusterName"),
        "cluster_arn": cluster_arn,
        "status": group.get("status"),
        "version": group.get("version"),
        "release_version": group.get("releaseVersion"),
        "ami_type": group.get("amiType"),
        "capacity_type": group.get("capacityType"),
        "subnet_ids": sorted(str(s) for s in group.get("subnets") or []),
        "node_role_arn": group.get("nodeRole"),
        "remote_access_key": remote.get("ec2SshKey"),
        "remote_access_source_groups": sorted(str(g) for g in
                                              remote.get("sourceSecurityGroups") or []),
        "remote_access_security_group": (group.get("resources") or {}).get(
            "remoteAccessSecurityGroup"),
        "launch_template": template.get("name") or template.get("id"),
        "desired_size": (group.get("scalingConfig") or {}).get("desiredSize"),
    }
    name = f"{group.get('clusterName')}/{group.get('nodegroupName')}"
    tags = {str(k): str(v) for k, v in (group.get("tags") or {}).items()}
    return scope.asset(str(group["nodegroupArn"]), NODEGROUP, name, attrs, raw=group, tags=tags)
