"""Kubernetes on AWS (EKS): who can reach the API server endpoint, secrets encrypted with a key
you control, control-plane audit logs, supported Kubernetes versions, how IAM principals are
mapped into the cluster, and the node groups' SSH access and public addresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from posture import lifecycle
from posture.engine import CheckContext, Result
from posture.graph.aws.eks import cluster_groups, eks_control_plane, private_clients
from posture.graph.aws.exposure import reach_of
from posture.graph.aws.reach import NETWORK_ACL, ROUTE_TABLE, SECURITY_GROUP, SUBNET, AwsReach
from posture.graph.depth import depth_evidence
from posture.graph.paths import Reach
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import scan_time

CLUSTER = "AWS::EKS::Cluster"
NODEGROUP = "AWS::EKS::Nodegroup"
PRIVATE_READS = (ROUTE_TABLE, NETWORK_ACL, SECURITY_GROUP, SUBNET)


def _reach(ctx: CheckContext) -> AwsReach:
    return ctx.derived("aws.reach", reach_of)


def _private_evidence(ctx: CheckContext, cluster: Asset) -> tuple[str, dict[str, Any]]:
    """Who reaches the private endpoint (routes, network ACLs, security groups), with the
    listings whose failure leaves that incomplete."""
    found = private_clients(_reach(ctx), cluster)
    if found is None:
        return "its VPC (not in this snapshot)", {"vpc_id": None}
    gaps = sorted({e.operation for e in ctx.inventory.errors_affecting(PRIVATE_READS)
                   if e.covers(cluster.account, cluster.region)})
    text = found.describe() + (f"; incomplete: {', '.join(gaps)} failed" if gaps else "")
    return text, {"vpc_id": found.routed.vpc_id, "peer_vpcs": list(found.peers_reaching()),
                  "routed_vpcs": list(found.routed.peers),
                  "kept_out_vpcs": [v for v, _ in found.kept_out],
                  "vpn_gateways": list(found.routed.vpn_gateways),
                  "security_groups": list(cluster_groups(cluster))}


@check("aws.kubernetes.eks_endpoint_not_public", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads={CLUSTER})
def eks_endpoint_not_public(ctx: CheckContext) -> Iterator[Result]:
    """EKS API server endpoints are not open to the internet

    A public endpoint admits every address in its publicAccessCidrs (AWS's default is
    0.0.0.0/0): the Kubernetes API, with its pre-authentication surface and every leaked
    kubeconfig or token, is one request away. Open to the whole internet is CRITICAL, to a wide
    range (at least a /8 of public IPv4 or a /16 of IPv6 in total) HIGH; a narrow allow-list
    passes. The finding carries the path (internet range, allow-list, endpoint, API server) and
    the defense depth (the public endpoint switch and the allow-list are the layers). A
    private-only endpoint is not an exposure: the finding names what reaches it on tcp/443 - the
    subnets and security groups of its VPC and of VPCs peered or attached to it by transit
    gateway, evaluated through routes, network ACLs and the cluster's security groups.

    Remediation: Turn on private access and turn off public access (`aws eks
    update-cluster-config --name <c> --resources-vpc-config
    endpointPublicAccess=false,endpointPrivateAccess=true`), reaching the API from the VPC, a
    peered VPC or a VPN; if it must stay public, restrict publicAccessCidrs to your egress ranges.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        cp = eks_control_plane(_reach(ctx), cluster)
        evidence: dict[str, Any] = {
            "state": cp.state.value, "endpoint_public_access":
            cluster.attr("endpoint_public_access"), "endpoint_private_access":
            cluster.attr("endpoint_private_access"), "public_access_cidrs":
            cluster.attr("public_access_cidrs")}
        if cp.depth is not None:
            evidence.update(depth_evidence(cp.depth))
        evidence.update(cp.evidence())
        if cp.state is Reach.UNKNOWN:
            yield ctx.unknown(cluster, "endpoint access settings were not reported", **evidence)
            continue
        ranges = ", ".join(cluster.attr("public_access_cidrs") or ())
        where = ""
        if cluster.attr("endpoint_private_access"):
            text, extra = _private_evidence(ctx, cluster)
            evidence.update(extra)
            where = f"; its private endpoint is reached from {text}"
        if not cluster.attr("endpoint_public_access"):
            yield ctx.passed(cluster, f"API endpoint is private, not reachable from the "
                             f"internet{where}", **evidence)
        elif cp.state is Reach.EXPOSED and cp.everyone:
            yield ctx.fail(cluster, f"API endpoint is public and open to the whole internet "
                           f"({ranges})", **evidence)
        elif cp.state is Reach.EXPOSED:
            yield ctx.fail_at(Severity.HIGH, cluster, "API endpoint is public and open to a "
                              f"wide range of the internet ({ranges})", **evidence)
        elif cp.state is Reach.NARROW:
            yield ctx.passed(cluster, f"API endpoint is public but admits only the allow-listed "
                             f"ranges {ranges}{where}", **evidence)
        else:
            yield ctx.passed(cluster, f"API endpoint is public but its ranges ({ranges}) admit "
                             f"no internet address{where}", **evidence)


@check("aws.kubernetes.eks_secrets_encrypted", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST, Principle.SECRETS), reads={CLUSTER})
def eks_secrets_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """EKS clusters envelope-encrypt Kubernetes secrets with a KMS key you control

    Without secrets encryption, Kubernetes secrets sit in etcd protected only by EKS's default
    encryption (an AWS-owned key since Kubernetes 1.28): you cannot audit their decryption in
    CloudTrail, restrict who may decrypt them, or revoke the key.

    Remediation: Associate a customer-managed KMS key with the cluster's secrets (`aws eks
    associate-encryption-config --cluster-name <c> --encryption-config
    resources=secrets,provider={keyArn=<key>}`); it cannot be removed afterwards.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        key = cluster.attr("secrets_kms_key_arn")
        if cluster.attr("secrets_encrypted"):
            yield ctx.passed(cluster, f"secrets are envelope-encrypted with KMS key {key}",
                             secrets_kms_key_arn=key)
        else:
            yield ctx.fail(cluster, "Kubernetes secrets are not envelope-encrypted with a KMS key "
                           "you control", version=cluster.attr("version"))


@check("aws.kubernetes.eks_control_plane_logging", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={CLUSTER}, params={"required_log_types": ("api", "audit", "authenticator")})
def eks_control_plane_logging(ctx: CheckContext) -> Iterator[Result]:
    """EKS control planes send their API, audit and authenticator logs to CloudWatch

    The audit log records who did what through the Kubernetes API, the authenticator log which IAM
    principal became which Kubernetes user; without them an incident inside the cluster leaves
    no trace. The required types are a parameter.

    Remediation: Enable the log types (`aws eks update-cluster-config --name <c> --logging
    '{"clusterLogging":[{"types":["api","audit","authenticator"],"enabled":true}]}'`).
    """
    required = [str(t) for t in ctx.param("required_log_types")]
    for cluster in ctx.inventory.of(CLUSTER):
        enabled = cluster.attr("logging_enabled_types")
        if enabled is None:
            yield ctx.unknown(cluster, "control-plane logging settings were not reported")
            continue
        missing = [t for t in required if t not in enabled]
        if missing:
            yield ctx.fail(cluster, f"control-plane log types off: {', '.join(missing)}",
                           missing=missing, enabled=enabled)
        else:
            yield ctx.passed(cluster, f"control-plane logs on: {', '.join(enabled)}",
                             enabled=enabled)


def _version_result(ctx: CheckContext, asset: Asset, what: str, today: dt.date,
                    table: lifecycle.Product, extended: lifecycle.Product | None) -> Result:
    version = asset.attr("version")
    if not version:
        return ctx.unknown(asset, f"{what} Kubernetes version was not reported")
    end = table.end_of(str(version))
    last = None if extended is None else extended.end_of(str(version))
    evidence = {"version": version, "end_of_standard_support": end,
                "end_of_extended_support": last, "source": table.source(),
                "support_type": asset.attr("support_type")}
    if end is None:
        return ctx.unknown(asset, f"{what} runs Kubernetes {version}, which the end-of-support "
                           f"table does not list ({table.source()})", **evidence)
    if last is not None and last <= today:
        return ctx.fail_at(Severity.HIGH, asset, f"{what} runs Kubernetes {version}, past the "
                           f"end of EKS extended support since {last.isoformat()}: no more fixes, "
                           "AWS upgrades it on its own schedule", **evidence)
    if end <= today:
        until = f"; extended support (paid) ends {last.isoformat()}" if last else ""
        return ctx.fail(asset, f"{what} runs Kubernetes {version}, past the end of EKS standard "
                        f"support since {end.isoformat()} ({(today - end).days} days before the "
                        f"scan){until}", **evidence)
    return ctx.passed(asset, f"{what} runs Kubernetes {version}, in standard support until "
                      f"{end.isoformat()}", **evidence)


@check("aws.kubernetes.eks_version_supported", Severity.MEDIUM, (Principle.PATCHING,),
       reads={CLUSTER, NODEGROUP})
def eks_version_supported(ctx: CheckContext) -> Iterator[Result]:
    """EKS clusters and node groups run a Kubernetes version in standard support

    Past the end of standard support a cluster runs on paid extended support (MEDIUM); past
    extended support (HIGH) it gets no fixes and AWS upgrades it on AWS's schedule, breaking
    workloads that were not tested. A node group's kubelet follows the same calendar. Dates come
    from checks/lifecycle/aws.toml (products eks_version and eks_version_extended, with their
    source and date); a version the table does not list is unknown, never supported.

    Remediation: Upgrade the control plane one minor version at a time (`aws eks
    update-cluster-version`), then the node groups (`aws eks update-nodegroup-version`) and the
    add-ons; keep a calendar of the EKS release schedule.
    """
    table = lifecycle.product("aws", "eks_version")
    extended = lifecycle.lifecycle("aws").get("eks_version_extended")
    today = scan_time(ctx.inventory).date()
    for cluster in ctx.inventory.of(CLUSTER):
        yield _version_result(ctx, cluster, "the control plane", today, table, extended)
    for group in ctx.inventory.of(NODEGROUP):
        yield _version_result(ctx, group, "the node group", today, table, extended)


@check("aws.kubernetes.eks_authentication_mode_api", Severity.LOW,
       (Principle.LEAST_PRIVILEGE, Principle.AUDITABLE), reads={CLUSTER})
def eks_authentication_mode_api(ctx: CheckContext) -> Iterator[Result]:
    """EKS clusters map IAM principals through access entries only

    With the aws-auth ConfigMap (authentication modes CONFIG_MAP and API_AND_CONFIG_MAP), who is
    cluster-admin lives inside the cluster, invisible to IAM and CloudTrail and editable by
    anyone who can write one ConfigMap; access entries (mode API) are AWS resources, auditable and
    governed by IAM.

    Remediation: Migrate the aws-auth mappings to access entries, then switch the cluster to
    `--access-config authenticationMode=API` (the change cannot be undone).
    """
    for cluster in ctx.inventory.of(CLUSTER):
        mode = cluster.attr("authentication_mode")
        evidence = {"authentication_mode": mode,
                    "bootstrap_creator_admin": cluster.attr("bootstrap_creator_admin")}
        if mode is None:
            yield ctx.unknown(cluster, "authentication mode was not reported", **evidence)
        elif mode == "API":
            yield ctx.passed(cluster, "IAM principals are mapped through access entries only",
                             **evidence)
        else:
            yield ctx.fail(cluster, f"authentication mode {mode}: the aws-auth ConfigMap still "
                           "grants cluster access outside IAM", **evidence)


@check("aws.kubernetes.eks_nodegroup_ssh_restricted", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={NODEGROUP})
def eks_nodegroup_ssh_restricted(ctx: CheckContext) -> Iterator[Result]:
    """EKS managed node groups do not open SSH to the world

    A node group with an SSH key and no source security groups gets a security group that
    admits tcp/22 from 0.0.0.0/0 on every node; whether a node is then reachable (public address,
    route, network ACL) is judged by the aws.network checks on the instances.

    Remediation: Remove remote access from the node group (recreate it without an SSH key; use SSM
    Session Manager), or list the bastion's security group in sourceSecurityGroups.
    """
    for group in ctx.inventory.of(NODEGROUP):
        key, sources = group.attr("remote_access_key"), group.attr("remote_access_source_groups")
        evidence = {"remote_access_key": key, "source_security_groups": sources,
                    "remote_access_security_group": group.attr("remote_access_security_group")}
        if not key:
            yield ctx.passed(group, "no SSH remote access configured", **evidence)
        elif sources:
            yield ctx.passed(group, f"SSH admitted only from security groups "
                             f"{', '.join(sources)}", **evidence)
        else:
            yield ctx.fail(group, f"SSH key {key} without source security groups: EKS opens "
                           "tcp/22 to 0.0.0.0/0 on the nodes' security group "
                           f"{group.attr('remote_access_security_group') or '(unknown)'}",
                           **evidence)


@check("aws.kubernetes.eks_nodes_private", Severity.LOW, (Principle.DEFENSE_IN_DEPTH,),
       reads={NODEGROUP, SUBNET})
def eks_nodes_private(ctx: CheckContext) -> Iterator[Result]:
    """EKS managed node groups run in subnets that give no public addresses

    Nodes launched in a subnet that maps public IPv4 addresses are internet-addressable: one
    security-group change from exposure. Whether a node is reachable today is judged by the
    aws.network checks; a launch template may override the subnet's setting.

    Remediation: Place node groups in private subnets (egress through a NAT gateway or VPC
    endpoints) and turn off MapPublicIpOnLaunch on node subnets.
    """
    subnets = {str(s.attr("subnet_id")): s for s in ctx.inventory.of(SUBNET)}
    for group in ctx.inventory.of(NODEGROUP):
        ids = group.attr("subnet_ids") or []
        known = [subnets[i] for i in ids if i in subnets]
        public = sorted(str(s.attr("subnet_id")) for s in known
                        if s.attr("map_public_ip_on_launch"))
        unseen = sorted(set(ids) - set(subnets))
        if public:
            yield ctx.fail(group, f"nodes launch in subnets that assign public IPv4 addresses: "
                           f"{', '.join(public)}", public_subnets=public,
                           launch_template=group.attr("launch_template"))
        elif unseen or not ids:
            yield ctx.unknown(group, "node subnets not in this snapshot: "
                              f"{', '.join(unseen) or 'none reported'}")
        else:
            yield ctx.passed(group, f"nodes launch in private subnets {', '.join(ids)}",
                             subnet_ids=ids)
