"""Compute Engine networking: VPC networks (with peerings), subnetworks, firewall rules, routes.

References between resources (a firewall's network, a route's next hop) are kept as short paths
``projects/<p>/global/networks/<n>``, the form that compares equal across API versions and
hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, compute_uid, last, short_path, to_json
from posture.model import GLOBAL, Asset

NETWORK = "compute.googleapis.com/Network"
SUBNETWORK = "compute.googleapis.com/Subnetwork"
FIREWALL = "compute.googleapis.com/Firewall"
ROUTE = "compute.googleapis.com/Route"
SERVICE = "compute"
PERMISSIONS = (
    "compute.firewalls.list",
    "compute.networks.list",
    "compute.routes.list",
    "compute.subnetworks.list",
)


def list_items(
    scope: ProjectScope, client_name: str, operation: str, asset_type: str, method: str = "list"
) -> list[dict[str, Any]] | None:
    """A global listing (all pages) as REST JSON, or ``None`` if any page failed."""
    client, retry = scope.clients.compute(client_name), scope.clients.retry

    def run() -> list[dict[str, Any]]:
        pager = getattr(client, method)(request={"project": scope.project}, retry=retry)
        return [to_json(x) for x in pager]

    return scope.call(SERVICE, operation, (asset_type,), run)


def aggregated_items(
    scope: ProjectScope, client_name: str, operation: str, asset_type: str, field: str
) -> list[dict[str, Any]] | None:
    """An aggregatedList over every region/zone (all pages), or ``None`` if any page failed."""
    client, retry = scope.clients.compute(client_name), scope.clients.retry

    def run() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        pager = client.aggregated_list(request={"project": scope.project}, retry=retry)
        for _where, scoped in pager:
            out.extend(to_json(x) for x in getattr(scoped, field))
        return out

    return scope.call(SERVICE, operation, (asset_type,), run)


def collect(scope: ProjectScope) -> list[Asset]:
    jobs: list[
        tuple[
            Callable[[], list[dict[str, Any]] | None],
            Callable[[ProjectScope, Mapping[str, Any]], Asset],
        ]
    ] = [
        (lambda: list_items(scope, "NetworksClient", "networks.list", NETWORK), normalize_network),
        (
            lambda: aggregated_items(
                scope, "SubnetworksClient", "subnetworks.aggregatedList", SUBNETWORK, "subnetworks"
            ),
            normalize_subnetwork,
        ),
        (
            lambda: list_items(scope, "FirewallsClient", "firewalls.list", FIREWALL),
            normalize_firewall,
        ),
        (lambda: list_items(scope, "RoutesClient", "routes.list", ROUTE), normalize_route),
    ]
    assets: list[Asset] = []
    for fetch, normalize in jobs:
        assets.extend(normalize(scope, item) for item in fetch() or [])
    return assets


def region_of(item: Mapping[str, Any]) -> str:
    return last(item.get("zone")) or last(item.get("region")) or GLOBAL


def normalize_network(scope: ProjectScope, n: Mapping[str, Any]) -> Asset:
    attrs = {
        "network_name": n.get("name"),
        "path": short_path(n.get("selfLink")),
        "auto_create_subnetworks": n.get("autoCreateSubnetworks"),
        "legacy": bool(n.get("IPv4Range")),
        "routing_mode": (n.get("routingConfig") or {}).get("routingMode"),
        "subnetworks": sorted(short_path(s) or s for s in n.get("subnetworks") or []),
        "peerings": sorted(
            (
                {
                    "name": p.get("name"),
                    "network": short_path(p.get("network")),
                    "state": p.get("state"),
                    "export_custom_routes": bool(p.get("exportCustomRoutes")),
                    "import_custom_routes": bool(p.get("importCustomRoutes")),
                }
                for p in n.get("peerings") or []
            ),
            key=lambda p: str(p["name"]),
        ),
    }
    return scope.asset(compute_uid(n["selfLink"]), NETWORK, str(n.get("name")), attrs, n)


def normalize_subnetwork(scope: ProjectScope, s: Mapping[str, Any]) -> Asset:
    attrs = {
        "subnet_name": s.get("name"),
        "path": short_path(s.get("selfLink")),
        "network": short_path(s.get("network")),
        "ip_cidr_range": s.get("ipCidrRange"),
        "secondary_ranges": sorted(r.get("ipCidrRange") for r in s.get("secondaryIpRanges") or []),
        "private_google_access": bool(s.get("privateIpGoogleAccess")),
        "flow_logs_enabled": bool((s.get("logConfig") or {}).get("enable")),
        "purpose": s.get("purpose"),
        "stack_type": s.get("stackType"),
        "external_ipv6_prefix": s.get("externalIpv6Prefix"),
    }
    return scope.asset(
        compute_uid(s["selfLink"]), SUBNETWORK, str(s.get("name")), attrs, s, region=region_of(s)
    )


def _protocols(entries: Any) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "protocol": str(e.get("IPProtocol", "all")).lower(),
                "ports": list(e.get("ports") or []),
            }
            for e in entries or []
        ),
        key=lambda e: (e["protocol"], e["ports"]),
    )


def normalize_firewall(scope: ProjectScope, f: Mapping[str, Any]) -> Asset:
    action = "deny" if f.get("denied") else "allow"
    attrs = {
        "firewall_name": f.get("name"),
        "network": short_path(f.get("network")),
        "priority": int(f.get("priority", 1000)),
        "direction": f.get("direction") or "INGRESS",
        "action": action,
        "rules": _protocols(f.get("denied") if action == "deny" else f.get("allowed")),
        "source_ranges": sorted(f.get("sourceRanges") or []),
        "destination_ranges": sorted(f.get("destinationRanges") or []),
        "source_tags": sorted(f.get("sourceTags") or []),
        "source_service_accounts": sorted(f.get("sourceServiceAccounts") or []),
        "target_tags": sorted(f.get("targetTags") or []),
        "target_service_accounts": sorted(f.get("targetServiceAccounts") or []),
        "disabled": bool(f.get("disabled")),
        "logging_enabled": bool((f.get("logConfig") or {}).get("enable")),
    }
    return scope.asset(compute_uid(f["selfLink"]), FIREWALL, str(f.get("name")), attrs, f)


_HOPS = (
    ("nextHopGateway", "gateway"),
    ("nextHopInstance", "instance"),
    ("nextHopIp", "ip"),
    ("nextHopPeering", "peering"),
    ("nextHopVpnTunnel", "vpn"),
    ("nextHopIlb", "ilb"),
    ("nextHopNetwork", "network"),
    ("nextHopHub", "hub"),
)


def normalize_route(scope: ProjectScope, r: Mapping[str, Any]) -> Asset:
    kind, hop = "other", None
    for key, name in _HOPS:
        if r.get(key):
            kind, hop = name, r.get(key)
            break
    if kind == "gateway" and last(str(hop)) == "default-internet-gateway":
        kind = "internet_gateway"
    attrs = {
        "route_name": r.get("name"),
        "network": short_path(r.get("network")),
        "dest_range": r.get("destRange"),
        "priority": int(r.get("priority", 1000)),
        "tags": sorted(r.get("tags") or []),
        "next_hop_kind": kind,
        "next_hop": short_path(str(hop)) if kind not in ("ip", "peering") else hop,
    }
    return scope.asset(compute_uid(r["selfLink"]), ROUTE, str(r.get("name")), attrs, r)
