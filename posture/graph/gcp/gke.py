"""The control plane of a GKE cluster as an entry point from the internet.

The Kubernetes API server is not a VM behind the VPC's firewall: Google runs it, and two
settings alone decide who reaches its IP endpoints (``docs/gcp-assets.md``, GKE):

- the **public endpoint** (``public_endpoint_enabled``): off, the API server listens only on its
  private endpoint inside the VPC (and, with global access, from every region of the VPC and its
  peered or VPN-connected networks) - not internet clients;
- **authorized networks** (``authorized_networks_enabled``, ``authorized_networks``): on, only
  the listed ranges reach the public endpoint; off, every address does. Ranges are judged like
  firewall sources (:data:`posture.net.WIDE`, the exposure checks' "wide internet": the public
  addresses admitted add up to a /8 of IPv4 or a /16 of IPv6); ``gcp_public_cidrs_access`` adds
  every Google Cloud public address, i.e. any VM of any Google Cloud customer.

The verdict uses the shared vocabulary (:class:`~posture.graph.paths.Reach`: ``exposed``,
``allow-listed``, ``blocked``, ``unknown``) and the defense-depth shape (``Layer`` /
``Depth`` on tcp/443): the two settings are the two layers of the path, each one change to
open, so the depth is the number of them that keep the wide internet out.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.graph.depth import Depth, Layer, PathDepth, wide
from posture.graph.intervals import EMPTY, PUBLIC, IntervalSet, cidr_span
from posture.graph.paths import Reach
from posture.model import Asset

API_PORT = 443
VIA = "control-plane endpoint"


@dataclass(frozen=True, slots=True)
class ControlPlane:
    """Who reaches a cluster's Kubernetes API server from the internet, and why."""

    state: Reach
    why: str
    public_endpoint: str | None = None
    admitted: tuple[str, ...] = ()  # authorized networks holding public addresses
    wide_ranges: tuple[str, ...] = ()  # the admitted ranges, when they make the wide internet
    google_cloud: bool = False  # every Google Cloud public address is admitted too
    depth: Depth | None = None


def _public(cidrs: tuple[str, ...]) -> tuple[dict[int, IntervalSet], tuple[str, ...]]:
    """The public addresses admitted per family, and the ranges that hold some."""
    out = {4: EMPTY, 6: EMPTY}
    holding = []
    for cidr in cidrs:
        parsed = cidr_span(cidr)
        if parsed is None:
            continue
        family, span = parsed
        public = span & PUBLIC[family]
        if public:
            out[family] = out[family] | public
            holding.append(cidr)
    return out, tuple(holding)


def control_plane(cluster: Asset) -> ControlPlane:
    """The internet's reach to ``cluster``'s API server (``unknown`` on an older snapshot
    without the endpoint attributes)."""
    public = cluster.attr("public_endpoint_enabled")
    if public is None:
        return ControlPlane(Reach.UNKNOWN, "the cluster's endpoint settings were not collected")
    restricted = bool(cluster.attr("authorized_networks_enabled"))
    cidrs = tuple(cluster.attr("authorized_networks") or ())
    admitted, holding = _public(cidrs)
    is_wide = not restricted or any(wide(f, admitted[f]) for f in (4, 6))
    google = restricted and bool(cluster.attr("gcp_public_cidrs_access"))
    address = cluster.attr("public_endpoint")
    layers = (_endpoint_layer(cluster, bool(public)), _networks_layer(cluster, restricted,
                                                                      is_wide, holding))
    depth = _depth(layers)
    if not public:
        where = cluster.attr("private_endpoint") or "its private endpoint"
        scope = "any region of the VPC and connected networks" if cluster.attr(
            "private_endpoint_global_access") else "the VPC"
        return ControlPlane(Reach.BLOCKED, f"the public endpoint is disabled: the API server "
                            f"listens on {where}, reachable from {scope} only", None, holding,
                            google_cloud=google, depth=depth)
    if not restricted:
        return ControlPlane(Reach.EXPOSED, f"public endpoint {address} with authorized networks "
                            "disabled: every internet address reaches it", address, depth=depth)
    if is_wide:
        return ControlPlane(Reach.EXPOSED, f"public endpoint {address} and its authorized "
                            f"networks admit the wide internet ({', '.join(holding)})", address,
                            holding, holding, google, depth)
    if holding:
        why = f"public endpoint {address} reachable only from allow-listed ranges " \
              f"({', '.join(holding)})"
    else:
        why = f"public endpoint {address}, but its authorized networks admit no public address"
    state = Reach.NARROW if holding or google else Reach.BLOCKED
    return ControlPlane(state, why, address, holding, google_cloud=google, depth=depth)


def _endpoint_layer(cluster: Asset, public: bool) -> Layer:
    return Layer(
        key=("gke-public-endpoint", cluster.uid), layer="public-endpoint", resource=cluster.name,
        blocking=not public, rule="public endpoint " + ("enabled" if public else "disabled"),
        detail="" if public else "the API server listens on its private endpoint only",
        change=f"enable the public endpoint of cluster {cluster.name} (gcloud container "
               "clusters update --no-enable-private-endpoint)")


def _networks_layer(cluster: Asset, restricted: bool, is_wide: bool,
                    holding: tuple[str, ...]) -> Layer:
    if not restricted:
        rule, detail = "authorized networks disabled", "every address may connect"
    else:
        listed = ", ".join(cluster.attr("authorized_networks") or ()) or "none"
        rule = f"authorized networks: {listed}"
        detail = "they admit the wide internet" if is_wide else (
            f"public ranges admitted: {', '.join(holding)}" if holding else
            "no public address admitted")
    return Layer(
        key=("gke-authorized-networks", cluster.uid), layer="authorized-networks",
        resource=cluster.name, blocking=restricted and not is_wide, rule=rule, detail=detail,
        change=f"disable the authorized networks of cluster {cluster.name} (gcloud container "
               "clusters update --no-enable-master-authorized-networks) or add 0.0.0.0/0")


def _depth(layers: tuple[Layer, ...]) -> Depth:
    """Both layers must be open for the internet to reach the API server, and each opens with
    one change: the depth is the number of blocking layers."""
    closed = tuple(x for x in layers if x.blocking)
    path = PathDepth(VIA, 4, layers, len(closed), len(closed), changes=closed)
    return Depth(API_PORT, len(closed), len(closed), path, paths=(path,))
