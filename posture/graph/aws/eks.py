"""An EKS cluster's API server as an entry point (:mod:`posture.graph.apiserver`, in EKS's
settings), and who reaches its private endpoint inside the VPC.

Public endpoint: AWS runs it outside the VPC; ``publicAccessCidrs`` (default 0.0.0.0/0) is the
allow-list, always in force. Private endpoint: EKS places network interfaces in the cluster's
subnets carrying the cluster security group and the additional security groups, so a client
reaches tcp/443 when a route delivers the traffic (same VPC, an active peering or transit
gateway: :mod:`posture.graph.aws.private_reach`), the network ACLs of both subnets pass it both
ways, and those security groups admit the client - by address, or by a security group the client
carries. The clients tried are every subnet of the VPCs routed to the cluster as *any host there*
(rules by address), and every interface class of the running hosts in them (rules by security
group: the nodes reach the API through the cluster security group's self-reference). Reached
from a peered VPC is never internet exposure; it is named so the segregation of the networks can
be judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from posture.graph.apiserver import ApiEndpoint, ControlPlane, control_plane
from posture.graph.aws.private_reach import PrivateReach, private_reach, vpc_of
from posture.graph.aws.reach import AwsReach
from posture.graph.intervals import IntervalSet
from posture.model import Asset

API_PORT = 443


@dataclass(frozen=True, slots=True)
class VpcClients:
    """What in one VPC reaches the private endpoint on tcp/443."""

    vpc_id: str
    subnets: tuple[str, ...]  # any host in these subnets (admitted by address)
    groups: tuple[str, ...]  # hosts carrying these security groups (admitted by group)


@dataclass(frozen=True, slots=True)
class PrivateClients:
    """Who reaches an EKS cluster's private endpoint (routes, network ACLs, security groups)."""

    routed: PrivateReach
    reached: tuple[VpcClients, ...]
    kept_out: tuple[tuple[str, str], ...]  # (VPC routed to the cluster, the layer that stops it)
    unknown: tuple[str, ...] = ()  # why some answers are undecided
    groups_known: bool = True  # the cluster reported its security groups

    def describe(self) -> str:
        """``VPC prod (vpc-1): any host in subnet-a; hosts in sg-nodes; ...``."""
        if not self.reached:
            text = "no subnet or host of the VPCs routed to it"
        else:
            parts = []
            for v in self.reached:
                who = []
                if v.subnets:
                    who.append(f"any host in {', '.join(v.subnets)}")
                if v.groups:
                    who.append(f"hosts in {', '.join(v.groups)}")
                how = "" if v.vpc_id == self.routed.vpc_id else " (peering or transit gateway)"
                parts.append(f"VPC {self.routed.label(v.vpc_id)}{how}: {'; '.join(who)}")
            text = " | ".join(parts)
        if self.kept_out:
            text += "; routed but kept out: " + ", ".join(
                f"{self.routed.label(v)} (at the {why})" for v, why in self.kept_out)
        if self.routed.vpn_gateways:
            text += f"; on-premises networks through {', '.join(self.routed.vpn_gateways)} " \
                    "(not evaluated)"
        if not self.groups_known:
            text += "; the cluster's security groups were not reported (routes and ACLs only)"
        if self.unknown:
            text += f"; undecided: {self.unknown[0]}"
        return text

    def peers_reaching(self) -> tuple[str, ...]:
        return tuple(v.vpc_id for v in self.reached if v.vpc_id != self.routed.vpc_id)


def cluster_groups(cluster: Asset) -> tuple[str, ...]:
    """The security groups on the endpoint's interfaces: the cluster security group and the
    additional ones."""
    found = {str(g) for g in cluster.attr("security_group_ids") or ()}
    if cluster.attr("cluster_security_group_id"):
        found.add(str(cluster.attr("cluster_security_group_id")))
    return tuple(sorted(found))


def private_clients(reach: AwsReach, cluster: Asset) -> PrivateClients | None:
    """Who reaches ``cluster``'s private endpoint, or None when its VPC is not in the snapshot.
    Memoized per cluster in ``reach.memo``."""
    memo: dict[str, PrivateClients | None] = reach.memo.setdefault("eks.private", {})
    if cluster.uid in memo:
        return memo[cluster.uid]
    subnets = sorted(str(s) for s in cluster.attr("subnet_ids") or ())
    vpc = vpc_of(reach, cluster.attr("vpc_id"), subnets)
    found = None
    if vpc is not None:
        found = _clients(reach, cluster, vpc, [s for s in subnets if s in reach.subnets])
    memo[cluster.uid] = found
    return found


def _clients(reach: AwsReach, cluster: Asset, vpc: str, subnets: list[str]) -> PrivateClients:
    routed = private_reach(reach, vpc)
    groups = cluster_groups(cluster)
    targets = [(s, reach.attachment(s, vpc, groups, None, None, f"EKS endpoint {cluster.name}"))
               for s in subnets]
    reached: list[VpcClients] = []
    kept_out: list[tuple[str, str]] = []
    unknown: list[str] = []
    for v in (vpc, *routed.peers):
        stops: list[str] = []
        by_address = _subnets_reaching(reach, v, targets, unknown, stops)
        by_group = _groups_reaching(reach, v, targets, unknown, set(by_address), stops)
        if by_address or by_group:
            reached.append(VpcClients(v, by_address, by_group))
        elif v != vpc:
            kept_out.append((v, " or ".join(dict.fromkeys(stops)) or "security groups"))
    return PrivateClients(routed, tuple(reached), tuple(kept_out), tuple(unknown), bool(groups))


Targets = list[tuple[str, tuple[Any, ...]]]


def _reaches(reach: AwsReach, src: tuple[Any, ...], src_addrs: IntervalSet | None,
             targets: Targets, unknown: list[str], stops: list[str]) -> bool:
    """Some address of ``src`` reaches tcp/443 on a target; else the first layer that stopped
    the traffic is added to ``stops`` (and an undecided answer to ``unknown``)."""
    for subnet, dst in targets:
        verdict = reach.between(src, dst, 4, "tcp", API_PORT, src_addrs,
                                reach.subnet_addresses(subnet))
        if verdict.unknown:
            unknown.append(verdict.unknown)
        elif verdict.reachable:
            return True
        else:
            stage = verdict.blocking(bool)
            stops.append(stage.layer if stage else "security groups")
    return False


def _subnets_reaching(reach: AwsReach, vpc: str, targets: Targets, unknown: list[str],
                      stops: list[str]) -> tuple[str, ...]:
    out = []
    for subnet in sorted(s for s, a in reach.subnets.items() if a.attr("vpc_id") == vpc):
        src = reach.attachment(subnet, vpc, (), None, None, f"any host in {subnet}")
        if _reaches(reach, src, reach.subnet_addresses(subnet), targets, unknown, stops):
            out.append(subnet)
    return tuple(out)


def _groups_reaching(reach: AwsReach, vpc: str, targets: Targets, unknown: list[str],
                     covered: set[str], stops: list[str]) -> tuple[str, ...]:
    """Security groups of running hosts in ``vpc`` whose carriers reach the endpoint although
    their subnet's addresses alone do not."""
    out: set[str] = set()
    for key in _host_classes(reach, vpc):
        att = reach.classes[key]
        if not att.groups or out >= att.groups or att.network in covered:
            continue
        if _reaches(reach, key, None, targets, unknown, stops):
            out |= att.groups
    return tuple(sorted(out))


def _host_classes(reach: AwsReach, vpc: str) -> Iterable[tuple[Any, ...]]:
    seen = set()
    for host in reach.hosts():
        for iface in host.interfaces:
            if iface.key[0] == vpc and iface.key not in seen:
                seen.add(iface.key)
    return sorted(seen, key=repr)


def endpoint(reach: AwsReach | None, cluster: Asset) -> ApiEndpoint:
    """The settings of ``cluster`` that decide who reaches its API server."""
    public = cluster.attr("endpoint_public_access")
    cidrs = cluster.attr("public_access_cidrs")
    private = "its private endpoint"
    if cluster.attr("endpoint_private_access") and reach is not None:
        clients = private_clients(reach, cluster)
        if clients is not None:
            private = f"its private endpoint, reached from {clients.describe()}"
    elif not public:
        private = "no endpoint"
    name = cluster.name
    return ApiEndpoint(
        "EKS", cluster, None if public is None or (public and cidrs is None) else bool(public),
        True, tuple(str(c) for c in cidrs or ()), "publicAccessCidrs",
        cluster.attr("endpoint"), private,
        open_endpoint=f"aws eks update-cluster-config --name {name} --resources-vpc-config "
                      "endpointPublicAccess=true",
        open_allow_list=f"aws eks update-cluster-config --name {name} --resources-vpc-config "
                        "publicAccessCidrs=0.0.0.0/0")


def eks_control_plane(reach: AwsReach | None, cluster: Asset) -> ControlPlane:
    return control_plane(endpoint(reach, cluster))
