"""A managed Kubernetes API server (EKS, AKS, GKE) as an entry point from the internet.

The control plane is not a host behind the network's filters: the provider runs it, and on
every cloud two settings alone decide which internet clients reach its public endpoint on
tcp/443 - the same two layers, named differently:

- the **public endpoint** (EKS ``endpointPublicAccess``, AKS not a private cluster, GKE
  ``enablePrivateEndpoint`` off): off, the API server answers only on its private endpoint
  inside the cluster's network (what reaches *that* is the provider adapter's business:
  :mod:`posture.graph.aws.eks` evaluates routes and security groups);
- the **allow-list** (EKS ``publicAccessCidrs``, AKS ``authorizedIPRanges``, GKE master
  authorized networks): the client ranges the public endpoint admits; off (or empty on AKS),
  every address. Ranges are judged like firewall sources (:func:`posture.graph.depth.wide`:
  the public addresses admitted add up to a /8 of IPv4 or a /16 of IPv6 - the exposure
  checks' "wide internet").

:func:`control_plane` gives the shared verdict (:class:`~posture.graph.paths.Reach`), the path
as hops (internet range → allow-list → public endpoint → API server, as the other exposure
findings draw theirs) and the defense depth: both layers must be open for the wide internet to
reach the API server and each opens with one change, so the depth is the number of layers that
keep it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posture.graph.depth import Depth, Layer, PathDepth, wide
from posture.graph.intervals import EMPTY, PUBLIC, IntervalSet, cidr_span
from posture.graph.paths import Reach
from posture.model import Asset

API_PORT = 443
VIA = "control-plane endpoint"


@dataclass(frozen=True, slots=True)
class ApiEndpoint:
    """What decides who reaches one cluster's API server, in the provider's words."""

    service: str  # EKS, AKS, GKE
    cluster: Asset
    public: bool | None  # the public endpoint is on (None: not reported)
    restricted: bool  # an allow-list is in force (off: every address is admitted)
    ranges: tuple[str, ...]  # the allow-list
    allow_list: str  # its name: "publicAccessCidrs", "authorized IP ranges", ...
    address: str | None = None  # the public endpoint (address or host name)
    private: str = ""  # where the private endpoint answers, in words
    open_endpoint: str = ""  # the change that turns the public endpoint on
    open_allow_list: str = ""  # the change that admits every address
    also: str = ""  # a provider-wide range admitted besides the list ("" when none)


@dataclass(frozen=True, slots=True)
class ControlPlane:
    """Who reaches a cluster's Kubernetes API server from the internet, and why."""

    state: Reach
    why: str
    public_endpoint: str | None = None
    admitted: tuple[str, ...] = ()  # allow-listed ranges holding public addresses
    wide_ranges: tuple[str, ...] = ()  # the admitted ranges, when they make the wide internet
    google_cloud: bool = False  # a provider-wide range is admitted too (GKE: Google Cloud)
    depth: Depth | None = None
    everyone: bool = False  # every public address of a family is admitted
    path: tuple[dict[str, Any], ...] = ()  # internet -> allow-list -> endpoint -> API server

    def evidence(self) -> dict[str, Any]:
        """The path (when the internet reaches the endpoint) for the findings."""
        return {"path": [dict(h) for h in self.path]} if self.path else {}


def public_ranges(cidrs: tuple[str, ...]) -> tuple[dict[int, IntervalSet], tuple[str, ...]]:
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


def control_plane(ep: ApiEndpoint) -> ControlPlane:
    """The internet's reach to the API server of ``ep.cluster``."""
    if ep.public is None:
        return ControlPlane(Reach.UNKNOWN, "the cluster's endpoint settings were not collected")
    admitted, holding = public_ranges(ep.ranges)
    everyone = not ep.restricted or any(admitted[f] == PUBLIC[f] for f in (4, 6))
    is_wide = not ep.restricted or any(wide(f, admitted[f]) for f in (4, 6))
    also = bool(ep.restricted and ep.also)
    depth = _depth((_endpoint_layer(ep), _list_layer(ep, is_wide, holding)))
    address = ep.address or "(address not reported)"
    if not ep.public:
        return ControlPlane(Reach.BLOCKED, f"the public endpoint is disabled: the API server "
                            f"listens on {ep.private or 'its private endpoint'} only", None,
                            holding, google_cloud=also, depth=depth)
    if not ep.restricted:
        return ControlPlane(Reach.EXPOSED, f"public endpoint {address} with {ep.allow_list} "
                            "disabled: every internet address reaches it", ep.address,
                            depth=depth, everyone=True, path=_path(ep, ("any address",)))
    if is_wide:
        return ControlPlane(Reach.EXPOSED, f"public endpoint {address} and its {ep.allow_list} "
                            f"admit the wide internet ({', '.join(holding)})", ep.address,
                            holding, holding, also, depth, everyone, _path(ep, holding))
    if holding:
        why = (f"public endpoint {address} reachable only from allow-listed ranges "
               f"({', '.join(holding)})")
    else:
        why = f"public endpoint {address}, but its {ep.allow_list} admit no public address"
    state = Reach.NARROW if holding or also else Reach.BLOCKED
    return ControlPlane(state, why, ep.address, holding, google_cloud=also, depth=depth,
                        path=_path(ep, holding) if holding else ())


def _path(ep: ApiEndpoint, ranges: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    listed = ", ".join(ep.ranges) if ep.restricted else "disabled"
    return (
        {"kind": "internet", "id": ", ".join(ranges), "rule": f"tcp/{API_PORT}"},
        {"kind": ep.allow_list, "id": listed or "none",
         "rule": "admits every address" if not ep.restricted else "admits the ranges listed"},
        {"kind": f"{ep.service} public endpoint", "id": ep.address or "?",
         "rule": "public endpoint enabled"},
        {"kind": "Kubernetes API server", "id": ep.cluster.name, "rule": ep.service},
    )


def _endpoint_layer(ep: ApiEndpoint) -> Layer:
    public = bool(ep.public)
    return Layer(
        key=("k8s-public-endpoint", ep.cluster.uid), layer="public-endpoint",
        resource=ep.cluster.name, blocking=not public,
        rule="public endpoint " + ("enabled" if public else "disabled"),
        detail="" if public else "the API server listens on its private endpoint only",
        change=ep.open_endpoint or f"enable the public endpoint of cluster {ep.cluster.name}")


def _list_layer(ep: ApiEndpoint, is_wide: bool, holding: tuple[str, ...]) -> Layer:
    if not ep.restricted:
        rule, detail = f"{ep.allow_list} disabled", "every address may connect"
    else:
        rule = f"{ep.allow_list}: {', '.join(ep.ranges) or 'none'}"
        detail = "they admit the wide internet" if is_wide else (
            f"public ranges admitted: {', '.join(holding)}" if holding else
            "no public address admitted")
    return Layer(
        key=("k8s-allow-list", ep.cluster.uid), layer=ep.allow_list.replace(" ", "-"),
        resource=ep.cluster.name,
        blocking=ep.restricted and not is_wide, rule=rule, detail=detail,
        change=ep.open_allow_list or f"admit 0.0.0.0/0 in the {ep.allow_list} of "
                                     f"cluster {ep.cluster.name}")


def _depth(layers: tuple[Layer, ...]) -> Depth:
    """Both layers must be open for the internet to reach the API server, and each opens with
    one change: the depth is the number of blocking layers."""
    closed = tuple(x for x in layers if x.blocking)
    path = PathDepth(VIA, 4, layers, len(closed), len(closed), changes=closed)
    return Depth(API_PORT, len(closed), len(closed), path, paths=(path,))
