"""Who may reach a private endpoint that lives in a VPC (an EKS cluster's private API endpoint,
a VPC-only domain): the VPC itself, every VPC one active peering or transit-gateway route away
(in either direction, as the segregation checks see them: :func:`envpaths.connections`), and
on-premises networks behind a virtual private gateway the VPC routes to.

Routes only, so this is the set of networks that *may* reach the endpoint, never more than that
(:mod:`posture.graph.aws.eks` adds network ACLs and security groups for EKS endpoints). None
of it is the internet: a private endpoint reachable from a peered VPC is not an internet exposure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from posture.graph.aws.envpaths import connections
from posture.graph.aws.reach import ROUTE_TABLE, AwsReach


@dataclass(frozen=True, slots=True)
class PrivateReach:
    vpc_id: str
    peers: tuple[str, ...]  # VPCs with a peering or transit-gateway route to or from it
    vpn_gateways: tuple[str, ...]  # virtual private gateways its route tables send traffic to
    names: Mapping[str, str] = field(default_factory=dict)  # VPC id -> its Name tag

    def label(self, vpc_id: str) -> str:
        name = self.names.get(vpc_id)
        return f"{name} ({vpc_id})" if name and name != vpc_id else vpc_id

    def describe(self) -> str:
        """``VPC prod (vpc-1) and, by peering or transit-gateway routes, dev (vpc-2)``."""
        text = f"VPC {self.label(self.vpc_id)}"
        if self.peers:
            peers = ", ".join(self.label(p) for p in self.peers)
            text += f" and, by peering or transit-gateway routes, {peers}"
        if self.vpn_gateways:
            text += f"; on-premises networks through {', '.join(self.vpn_gateways)}"
        return text


def vpc_of(reach: AwsReach, vpc_id: str | None, subnet_ids: Iterable[str]) -> str | None:
    """The VPC of a resource: as reported, else that of its first known subnet."""
    if vpc_id:
        return vpc_id
    for subnet in sorted(subnet_ids):
        found = reach.subnet_vpc(subnet)
        if found:
            return found
    return None


def private_reach(reach: AwsReach, vpc_id: str) -> PrivateReach:
    links: dict[str, set[str]] = reach.memo.get("vpc_links") or {}
    if "vpc_links" not in reach.memo:
        links = reach.memo["vpc_links"] = connections(reach)
    vgws = sorted({
        str(r.get("target_id"))
        for rt in reach.inventory.of(ROUTE_TABLE) if rt.attr("vpc_id") == vpc_id
        for r in rt.attr("routes") or ()
        if r.get("target_kind") == "vgw" and r.get("state") == "active"
    })
    peers = sorted(str(v) for v in links.get(vpc_id, ()) if v and v != vpc_id)
    names = {v: reach.vpcs[v].name for v in (vpc_id, *peers) if v in reach.vpcs}
    return PrivateReach(vpc_id, tuple(peers), tuple(vgws), names)
