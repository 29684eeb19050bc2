"""Compute Engine networking: VPC networks (with peerings and the firewall policies in effect on
them), subnetworks, firewall rules, global and regional network firewall policies, routes.

References between resources (a firewall's network, a route's next hop) are kept as short paths
``projects/<p>/global/networks/<n>``, the form that compares equal across API versions and
hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from posture.collectors.gcp.base import (
    ProjectScope,
    compute_uid,
    last,
    parallel_map,
    region_of,
    short_path,
    to_json,
)
from posture.model import GLOBAL, Asset

NETWORK = "compute.googleapis.com/Network"
SUBNETWORK = "compute.googleapis.com/Subnetwork"
FIREWALL = "compute.googleapis.com/Firewall"
ROUTE = "compute.googleapis.com/Route"
FIREWALL_POLICY = "compute.googleapis.com/FirewallPolicy"
EFFECTIVE = f"{NETWORK}#effective_firewalls"
SERVICE = "compute"
PERMISSIONS = (
    "compute.firewallPolicies.list", "compute.firewalls.list",
    "compute.networks.getEffectiveFirewalls", "compute.networks.list",
    "compute.regionFirewallPolicies.list", "compute.routes.list", "compute.subnetworks.list",
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
        (
            lambda: aggregated_items(
                scope,
                "NetworkFirewallPoliciesClient",
                "networkFirewallPolicies.aggregatedList",
                FIREWALL_POLICY,
                "firewall_policies",
            ),
            normalize_firewall_policy,
        ),
        (lambda: list_items(scope, "RoutesClient", "routes.list", ROUTE), normalize_route),
    ]
    assets: list[Asset] = []
    networks = list_items(scope, "NetworksClient", "networks.list", NETWORK) or []
    effective = parallel_map(lambda n: effective_firewalls(scope, n), networks)
    assets += [normalize_network(scope, n, e) for n, e in zip(networks, effective, strict=True)]
    for fetch, normalize in jobs:
        assets.extend(normalize(scope, item) for item in fetch() or [])
    return assets


def effective_firewalls(scope: ProjectScope, network: Mapping[str, Any]) -> dict[str, Any] | None:
    """``networks.getEffectiveFirewalls``: the hierarchical and global network firewall
    policies in effect on the network (``None`` if the call failed)."""
    client, retry = scope.clients.compute("NetworksClient"), scope.clients.retry

    def run() -> dict[str, Any]:
        request = {"project": scope.project, "network": str(network.get("name"))}
        return to_json(client.get_effective_firewalls(request=request, retry=retry))

    return scope.call(
        SERVICE,
        "networks.getEffectiveFirewalls",
        (EFFECTIVE,),
        run,
        resource_uid=compute_uid(str(network["selfLink"])),
    )


def normalize_network(
    scope: ProjectScope, n: Mapping[str, Any], effective: Mapping[str, Any] | None = None
) -> Asset:
    """The network; ``effective`` is its getEffectiveFirewalls answer (None = unknown)."""
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
        "firewall_policy_enforcement_order": n.get("networkFirewallPolicyEnforcementOrder")
        or "AFTER_CLASSIC_FIREWALL",
        "effective_firewall_policies": (
            None
            if effective is None
            else [
                {
                    "name": p.get("name"),
                    "short_name": p.get("shortName"),
                    "display_name": p.get("displayName"),
                    "type": p.get("type"),
                    "priority": p.get("priority"),
                    "rules": policy_rules(p.get("rules")),
                }
                for p in effective.get("firewallPolicys") or []
            ]
        ),
    }
    return scope.asset(compute_uid(n["selfLink"]), NETWORK, str(n.get("name")), attrs, n)


def policy_rules(rules: Any) -> list[dict[str, Any]]:
    """Firewall-policy rules (hierarchical, network, regional), sorted by priority."""
    out = []
    for r in rules or []:
        match = r.get("match") or {}
        out.append(
            {
                "priority": int(r.get("priority") or 0),
                "rule_name": r.get("ruleName"),
                "description": r.get("description"),
                "direction": r.get("direction") or "INGRESS",
                "action": r.get("action"),
                "disabled": bool(r.get("disabled")),
                "logging_enabled": bool(r.get("enableLogging")),
                "layer4_configs": _protocols(
                    [
                        {"IPProtocol": c.get("ipProtocol", "all"), "ports": c.get("ports")}
                        for c in match.get("layer4Configs") or []
                    ]
                ),
                "src_ip_ranges": sorted(match.get("srcIpRanges") or []),
                "dest_ip_ranges": sorted(match.get("destIpRanges") or []),
                "src_secure_tags": _tags(match.get("srcSecureTags")),
                "src_address_groups": sorted(match.get("srcAddressGroups") or []),
                "src_fqdns": sorted(match.get("srcFqdns") or []),
                "src_region_codes": sorted(match.get("srcRegionCodes") or []),
                "src_threat_intelligences": sorted(match.get("srcThreatIntelligences") or []),
                "src_network_type": match.get("srcNetworkType"),
                "src_networks": sorted(short_path(x) or x for x in match.get("srcNetworks") or []),
                "dest_address_groups": sorted(match.get("destAddressGroups") or []),
                "target_secure_tags": _tags(r.get("targetSecureTags")),
                "target_service_accounts": sorted(r.get("targetServiceAccounts") or []),
                "target_resources": sorted(
                    short_path(x) or x for x in r.get("targetResources") or []
                ),
                "target_type": r.get("targetType"),
            }
        )
    return sorted(out, key=lambda r: (r["priority"], str(r["direction"])))


def _tags(tags: Any) -> list[dict[str, Any]]:
    return sorted(
        ({"name": t.get("name"), "state": t.get("state")} for t in tags or []),
        key=lambda t: str(t["name"]),
    )


def normalize_firewall_policy(scope: ProjectScope, p: Mapping[str, Any]) -> Asset:
    """A global or regional network firewall policy (hierarchical policies are read through
    each network's effective firewalls)."""
    region = region_of(p)
    attrs = {
        "policy_name": p.get("name"),
        "path": short_path(p.get("selfLink")),
        "scope": "global" if region == GLOBAL else "regional",
        "description": p.get("description"),
        "associations": sorted(
            short_path(a.get("attachmentTarget")) or str(a.get("attachmentTarget"))
            for a in p.get("associations") or []
        ),
        "rules": policy_rules(p.get("rules")),
    }
    return scope.asset(
        compute_uid(p["selfLink"]), FIREWALL_POLICY, str(p.get("name")), attrs, p, region=region
    )


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
    return scope.compute_asset(SUBNETWORK, s, attrs)


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
