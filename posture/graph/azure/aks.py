"""An AKS cluster's API server as an entry point (:mod:`posture.graph.apiserver`, in AKS's
settings; ``docs/azure-assets.md``, AKS).

- the public endpoint: a private cluster (``enablePrivateCluster``) has none - its API server
  answers on a private endpoint in the nodes' virtual network, reached from that VNet and the
  VNets peered to it (a public FQDN, when enabled, only resolves to the private address);
- the allow-list: ``authorizedIPRanges``; an empty list admits every address.
"""

from __future__ import annotations

from posture.graph.apiserver import ApiEndpoint, ControlPlane, control_plane
from posture.graph.azure.reach import AzureNetwork
from posture.model import Asset


def cluster_vnets(net: AzureNetwork, cluster: Asset) -> tuple[str, ...]:
    """The virtual networks of the cluster's node pools (from their subnets)."""
    found = set()
    for pool in cluster.attr("node_pools") or ():
        subnet = net.subnets.get(str(pool.get("subnet_id") or ""))
        if subnet is not None and subnet.attr("vnet_id"):
            found.add(str(subnet.attr("vnet_id")))
    return tuple(sorted(found))


def _name(rid: str) -> str:
    return rid.rstrip("/").rsplit("/", 1)[-1]


def private_scope(net: AzureNetwork | None, cluster: Asset) -> str:
    """Where the private endpoint answers: the nodes' VNet and the VNets peered to it."""
    vnets = () if net is None else cluster_vnets(net, cluster)
    if not vnets:
        return "its private endpoint in the cluster's virtual network (not in this snapshot)"
    peers = sorted({_name(str(p.attr("remote_vnet_id"))) for v in vnets
                    for p in net.peerings.get(v, ()) if p.attr("remote_vnet_id")
                    and str(p.attr("peering_state")).lower() == "connected"} if net else ())
    text = f"its private endpoint in VNet {', '.join(_name(v) for v in vnets)}"
    return text + (f", reached from there and the peered VNets {', '.join(peers)}" if peers
                   else ", reached from that VNet")


def endpoint(net: AzureNetwork | None, cluster: Asset) -> ApiEndpoint:
    private = cluster.attr("private_cluster")
    ranges = tuple(str(r) for r in cluster.attr("authorized_ip_ranges") or ())
    name = cluster.name
    return ApiEndpoint(
        "AKS", cluster, None if private is None else not private, bool(ranges), ranges,
        "authorized IP ranges", cluster.attr("fqdn"),
        private_scope(net, cluster) if private else "",
        open_endpoint=f"recreate cluster {name} without a private API server (or, with API "
                      "Server VNet Integration, az aks update --disable-private-cluster)",
        open_allow_list=f"az aks update -n {name} --api-server-authorized-ip-ranges ''")


def aks_control_plane(net: AzureNetwork | None, cluster: Asset) -> ControlPlane:
    return control_plane(endpoint(net, cluster))
