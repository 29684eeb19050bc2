"""aws.kubernetes.*: EKS endpoint exposure graded by width (and the trap: a private endpoint
reachable only from a peered VPC is not internet-exposed), secrets encryption, control-plane logs,
supported versions from a dated table, authentication mode, node-group SSH and public subnets —
pass, fail and not collected, on hand-built inventories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.aws import asset, aws_arn, collection_error, inventory
from support.aws_net import ALL_OUT, peered_side, sg, sg_rule, subnet
from support.aws_platforms import CLUSTER_UID, NODEGROUP_UID, cluster, nodegroup, use_eks_table
from support.cases import named
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

ENDPOINT = "aws.kubernetes.eks_endpoint_not_public"
LISTING = collection_error("eks", "ListClusters", ("AWS::EKS::Cluster", "AWS::EKS::Nodegroup"))


@pytest.mark.parametrize(("over", "status", "severity", "words"), named([
    ("open-to-everyone", {"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]},
     Status.FAIL, Severity.CRITICAL, "open to the whole internet (0.0.0.0/0)"),
    ("wide-range", {"endpoint_public_access": True,
                    "public_access_cidrs": ["52.0.0.0/8", "203.0.113.0/24"]},
     Status.FAIL, Severity.HIGH, "wide range of the internet"),
    ("office-allow-list", {"endpoint_public_access": True,
                           "public_access_cidrs": ["203.0.113.0/28"]},
     Status.PASS, None, "only the allow-listed ranges 203.0.113.0/28"),
    ("private-ranges-only", {"endpoint_public_access": True, "public_access_cidrs": ["10.0.0.0/8"]},
     Status.PASS, None, "admit no internet address"),
    ("private-only", {}, Status.PASS, None, "private, not reachable from the internet"),
    ("not-reported", {"endpoint_public_access": None}, Status.INCONCLUSIVE, None, "not reported"),
    ("cidrs-not-reported", {"endpoint_public_access": True, "public_access_cidrs": None},
     Status.INCONCLUSIVE, None, "not reported"),
]))
def test_endpoint_exposure_is_graded_by_width(over: dict[str, Any], status: Status,
                                              severity: Severity | None, words: str) -> None:
    found = only(run_one(ENDPOINT, inventory(cluster(**over))))
    assert (found.status, words in found.message) == (status, True), found.message
    if severity is not None:
        assert found.severity == severity
        assert found.evidence["depth"] == 0
        hops = found.evidence["path"]
        assert [h["kind"] for h in hops] == ["internet", "publicAccessCidrs",
                                             "EKS public endpoint", "Kubernetes API server"]
        assert hops[0]["id"] == ", ".join(over["public_access_cidrs"])  # the ranges admitting it
        assert found.evidence["state"] == "exposed"


def _peered(cluster_sg_ingress: list[dict[str, Any]]) -> list[Any]:
    """vpc-a (production, subnet-a, host i-a in sg-a) peered with vpc-b (dev, subnet-b, host
    i-b in sg-b); the EKS cluster's endpoint sits in subnet-a with security group sg-eks."""
    prod = peered_side("vpc-a", "a", "10.0.1.0/24", "10.1.0.0/16", [], "production")
    dev = peered_side("vpc-b", "b", "10.1.1.0/24", "10.0.0.0/16", [], "dev")
    pcx = asset("AWS::EC2::VPCPeeringConnection", aws_arn("ec2", "vpc-peering-connection/pcx-1"),
                peering_id="pcx-1", status="active", requester_vpc_id="vpc-a",
                accepter_vpc_id="vpc-b")
    eks_sg = sg(cluster_sg_ingress, "sg-eks", vpc_id="vpc-a", egress=[ALL_OUT])
    return [pcx, eks_sg, *prod, *dev]


def test_trap_private_endpoint_reachable_only_from_a_peered_vpc_is_not_exposed() -> None:
    """The issue's trap: the cluster's VPC is peered with another whose CIDR the cluster
    security group admits on tcp/443; the endpoint is reachable from both VPCs, and the finding
    says so, but it is not internet-exposed."""
    estate = _peered([sg_rule(443, 443, "10.0.0.0/8")])
    eks = cluster(vpc_id=None, subnet_ids=["subnet-a"])  # the VPC comes from the subnet
    found = only(run_one(ENDPOINT, inventory(eks, *estate)))
    assert found.status == Status.PASS
    assert "not reachable from the internet" in found.message
    assert "vpc-b (peering or transit gateway): any host in subnet-b" in found.message
    assert (found.evidence["vpc_id"], found.evidence["peer_vpcs"]) == ("vpc-a", ["vpc-b"])
    assert "path" not in found.evidence and found.evidence["depth"] == 1


def test_private_endpoint_peered_but_kept_out_by_the_cluster_security_group() -> None:
    """Routes alone would say the dev VPC reaches the API server; the cluster security group
    admits only the production VPC's range, so the dev VPC is named as routed but kept out."""
    estate = _peered([sg_rule(443, 443, "10.0.0.0/16")])
    found = only(run_one(ENDPOINT, inventory(cluster(vpc_id="vpc-a", subnet_ids=["subnet-a"]),
                                             *estate)))
    assert found.evidence["peer_vpcs"] == [] and found.evidence["routed_vpcs"] == ["vpc-b"]
    assert found.evidence["kept_out_vpcs"] == ["vpc-b"]
    assert "any host in subnet-a" in found.message
    assert "routed but kept out: vpc-b (at the security-group inbound)" in found.message


def test_private_endpoint_reached_by_security_group_membership() -> None:
    """The cluster security group admits only the nodes' group (no address range): no subnet
    reaches it by address, the hosts carrying sg-a do."""
    estate = _peered([sg_rule(443, 443, "sg-a", kind="security_group")])
    found = only(run_one(ENDPOINT, inventory(cluster(vpc_id="vpc-a", subnet_ids=["subnet-a"]),
                                             *estate)))
    assert "VPC vpc-a: hosts in sg-a" in found.message
    assert found.evidence["peer_vpcs"] == []


def test_private_endpoint_with_security_groups_not_listed_is_said() -> None:
    estate = _peered([sg_rule(443, 443, "10.0.0.0/8")])
    errors = (collection_error("ec2", "DescribeSecurityGroups", ("AWS::EC2::SecurityGroup",)),)
    found = only(run_one(ENDPOINT, inventory(cluster(vpc_id="vpc-a", subnet_ids=["subnet-a"]),
                                             *estate, errors=errors)))
    assert "incomplete: DescribeSecurityGroups failed" in found.message


def test_listing_failure_is_inconclusive_not_pass() -> None:
    found = run_one(ENDPOINT, inventory(cluster(), errors=(LISTING,)))
    assert {f.status for f in found} == {Status.INCONCLUSIVE}


@pytest.mark.parametrize(("encrypted", "status"), [(True, Status.PASS), (False, Status.FAIL)])
def test_secrets_encrypted(encrypted: bool, status: Status) -> None:
    eks = cluster(secrets_encrypted=encrypted, secrets_kms_key_arn=None if not encrypted else "k")
    assert only(run_one("aws.kubernetes.eks_secrets_encrypted", inventory(eks))).status == status
    gap = run_one("aws.kubernetes.eks_secrets_encrypted", inventory(eks, errors=(LISTING,)))
    assert Status.PASS not in {f.status for f in gap}


@pytest.mark.parametrize(("types", "status"), named([
    ("all", ["api", "audit", "authenticator", "scheduler"], Status.PASS),
    ("audit-missing", ["api"], Status.FAIL),
    ("none", [], Status.FAIL),
    ("unknown", None, Status.INCONCLUSIVE),
]))
def test_control_plane_logging(types: list[str] | None, status: Status) -> None:
    found = only(run_one("aws.kubernetes.eks_control_plane_logging",
                         inventory(cluster(logging_enabled_types=types))))
    assert found.status == status
    if status == Status.FAIL:
        assert "audit" in found.message


@pytest.mark.parametrize(("version", "status", "severity"), named([
    ("standard-support", "1.33", Status.PASS, None),
    ("extended-support", "1.31", Status.FAIL, Severity.MEDIUM),
    ("past-extended", "1.28", Status.FAIL, Severity.HIGH),
    ("not-in-table", "1.99", Status.INCONCLUSIVE, None),
    ("not-reported", None, Status.INCONCLUSIVE, None),
]))
def test_version_supported_from_the_dated_table(
    version: str | None, status: Status, severity: Severity | None,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    use_eks_table(monkeypatch, tmp_path)
    inv = inventory(cluster(version=version), nodegroup(version=version))
    found = by_uid(run_one("aws.kubernetes.eks_version_supported", inv))
    for uid in (CLUSTER_UID, NODEGROUP_UID):
        assert found[uid].status == status, found[uid].message
        if severity is not None:
            assert found[uid].severity == severity
    if status == Status.FAIL:
        assert "EKS test calendar" in found[CLUSTER_UID].evidence["source"]


@pytest.mark.parametrize(("mode", "status"), [
    ("API", Status.PASS), ("API_AND_CONFIG_MAP", Status.FAIL), ("CONFIG_MAP", Status.FAIL),
    (None, Status.INCONCLUSIVE),
])
def test_authentication_mode(mode: str | None, status: Status) -> None:
    found = only(run_one("aws.kubernetes.eks_authentication_mode_api",
                         inventory(cluster(authentication_mode=mode))))
    assert found.status == status


@pytest.mark.parametrize(("over", "status"), named([
    ("no-remote-access", {}, Status.PASS),
    ("from-bastion-group", {"remote_access_key": "ops", "remote_access_source_groups": ["sg-b"]},
     Status.PASS),
    ("ssh-to-the-world", {"remote_access_key": "ops", "remote_access_security_group": "sg-r"},
     Status.FAIL),
]))
def test_nodegroup_ssh(over: dict[str, Any], status: Status) -> None:
    found = only(run_one("aws.kubernetes.eks_nodegroup_ssh_restricted",
                         inventory(nodegroup(**over))))
    assert found.status == status
    if status == Status.FAIL:
        assert "0.0.0.0/0" in found.message and "sg-r" in found.message
    gap = collection_error("eks", "ListNodegroups", ("AWS::EKS::Nodegroup",),
                           resource_uid=CLUSTER_UID)
    after = run_one("aws.kubernetes.eks_nodegroup_ssh_restricted",
                    inventory(nodegroup(**over), errors=(gap,)))
    assert by_uid(after)[CLUSTER_UID].status == Status.INCONCLUSIVE


@pytest.mark.parametrize(("subnets", "status"), named([
    ("private", [subnet(public=False)], Status.PASS),
    ("public", [subnet(public=True)], Status.FAIL),
    ("subnet-not-collected", [], Status.INCONCLUSIVE),
]))
def test_nodes_private(subnets: list[Any], status: Status) -> None:
    found = only(run_one("aws.kubernetes.eks_nodes_private", inventory(nodegroup(), *subnets)))
    assert found.status == status
