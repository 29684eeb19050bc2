"""The control plane of a GKE cluster as an entry point from the internet
(:mod:`posture.graph.apiserver`, in GKE's settings; ``docs/gcp-assets.md``, GKE):

- the **public endpoint** (``public_endpoint_enabled``): off, the API server listens only on its
  private endpoint inside the VPC (and, with global access, from every region of the VPC and its
  peered or VPN-connected networks) - not internet clients;
- **authorized networks** (``authorized_networks_enabled``, ``authorized_networks``): on, only
  the listed ranges reach the public endpoint; off, every address does.
  ``gcp_public_cidrs_access`` adds every Google Cloud public address, i.e. any VM of any Google
  Cloud customer.
"""

from __future__ import annotations

from posture.graph.apiserver import API_PORT, ApiEndpoint, ControlPlane
from posture.graph.apiserver import control_plane as judge
from posture.model import Asset

__all__ = ["API_PORT", "ControlPlane", "control_plane", "endpoint"]


def endpoint(cluster: Asset) -> ApiEndpoint:
    """The settings of ``cluster`` that decide who reaches its API server."""
    public = cluster.attr("public_endpoint_enabled")
    where = cluster.attr("private_endpoint") or "its private endpoint"
    scope = "any region of the VPC and connected networks" if cluster.attr(
        "private_endpoint_global_access") else "the VPC"
    return ApiEndpoint(
        "GKE", cluster, None if public is None else bool(public),
        bool(cluster.attr("authorized_networks_enabled")),
        tuple(cluster.attr("authorized_networks") or ()), "authorized networks",
        cluster.attr("public_endpoint"), f"{where}, reachable from {scope}",
        open_endpoint=f"enable the public endpoint of cluster {cluster.name} (gcloud container "
                      "clusters update --no-enable-private-endpoint)",
        open_allow_list=f"disable the authorized networks of cluster {cluster.name} (gcloud "
                        "container clusters update --no-enable-master-authorized-networks) or "
                        "add 0.0.0.0/0",
        also="every Google Cloud public address" if cluster.attr("gcp_public_cidrs_access")
        else "")


def control_plane(cluster: Asset) -> ControlPlane:
    """The internet's reach to ``cluster``'s API server (``unknown`` on an older snapshot
    without the endpoint attributes)."""
    return judge(endpoint(cluster))
