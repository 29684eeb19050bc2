"""EKS collector against the moto server: endpoint access, secrets encryption, log types and
node groups normalized; a refused DescribeCluster drops that cluster with its error, a refused
ListNodegroups leaves its node groups unknown. moto does not return ``accessConfig`` or
``vpcId``: both stay null (unknown), never guessed."""

from __future__ import annotations

from support.aws import ACCOUNT, client
from support.collect import by_uid, error_keys, scope, vpc_with_subnets
from support.faults import refusals, refused_scope

from posture.collectors.aws import eks

R = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks"
KEY = f"arn:aws:kms:{R}:{ACCOUNT}:key/k-1"
SHOP = f"arn:aws:eks:{R}:{ACCOUNT}:cluster/shop"
DEV = f"arn:aws:eks:{R}:{ACCOUNT}:cluster/dev"


def _seed(endpoint: str) -> list[str]:
    _, subnets = vpc_with_subnets(client("ec2", endpoint))
    c = client("eks", endpoint)
    c.create_cluster(
        name="shop", version="1.31", roleArn=ROLE,
        resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": True,
                            "endpointPrivateAccess": False,
                            "publicAccessCidrs": ["203.0.113.0/24", "0.0.0.0/0"]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY}}],
        logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True},
                                    {"types": ["authenticator", "scheduler"], "enabled": False}]},
        tags={"team": "shop"},
    )
    c.create_cluster(name="dev", roleArn=ROLE, resourcesVpcConfig={
        "subnetIds": subnets[:1], "endpointPublicAccess": False, "endpointPrivateAccess": True})
    c.create_nodegroup(clusterName="shop", nodegroupName="workers", subnets=subnets,
                       nodeRole=ROLE, remoteAccess={"ec2SshKey": "ops"}, version="1.31")
    return subnets


def test_clusters_and_node_groups(moto_endpoint: str) -> None:
    subnets = _seed(moto_endpoint)
    sc = scope(moto_endpoint, region=R)
    found = by_uid(eks.collect(sc))
    assert sc.errors == []
    shop, dev = found[SHOP], found[DEV]
    assert {k: shop.attrs[k] for k in (
        "version", "endpoint_public_access", "endpoint_private_access", "public_access_cidrs",
        "subnet_ids", "secrets_encrypted", "secrets_kms_key_arn", "logging_enabled_types",
        "authentication_mode", "vpc_id")} == {
        "version": "1.31", "endpoint_public_access": True, "endpoint_private_access": False,
        "public_access_cidrs": ["0.0.0.0/0", "203.0.113.0/24"], "subnet_ids": sorted(subnets),
        "secrets_encrypted": True, "secrets_kms_key_arn": KEY,
        "logging_enabled_types": ["api", "audit"], "authentication_mode": None, "vpc_id": None,
    }
    assert shop.tags == {"team": "shop"} and "certificateAuthority" not in shop.raw
    assert (dev.attrs["endpoint_public_access"], dev.attrs["secrets_encrypted"],
            dev.attrs["logging_enabled_types"]) == (False, False, [])
    [group] = [a for a in found.values() if a.type == eks.NODEGROUP]
    assert group.name == "shop/workers"
    assert {k: group.attrs[k] for k in ("cluster_arn", "version", "remote_access_key",
                                        "remote_access_source_groups")} == {
        "cluster_arn": SHOP, "version": "1.31", "remote_access_key": "ops",
        "remote_access_source_groups": []}
    assert group.attrs["remote_access_security_group"]


def test_refused_calls_are_recorded_against_the_cluster(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    described = refused_scope(moto_endpoint, "eks", "DescribeCluster")
    assert eks.collect(described) == []
    assert error_keys(described.errors) == refusals(
        "eks", "DescribeCluster", (eks.CLUSTER,), [DEV, SHOP])

    groups = refused_scope(moto_endpoint, "eks", "ListNodegroups")
    assert {a.type for a in eks.collect(groups)} == {eks.CLUSTER}
    assert error_keys(groups.errors) == refusals(
        "eks", "ListNodegroups", (eks.NODEGROUP,), [DEV, SHOP])

    listing = refused_scope(moto_endpoint, "eks", "ListClusters")
    assert eks.collect(listing) == []
    assert error_keys(listing.errors) == refusals(
        "eks", "ListClusters", (eks.CLUSTER, eks.NODEGROUP))
