"""Compute Engine load balancing: forwarding rules (global and regional), target HTTP/TCP proxies,
URL maps, backend services, target pools, target instances and instance groups with their
members. HTTPS and SSL proxies are collected by :mod:`compute` (they carry the TLS policy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import (
    ProjectScope,
    compute_uid,
    last,
    parallel_map,
    short_path,
    to_json,
)
from posture.collectors.gcp.compute import normalize_proxy
from posture.collectors.gcp.compute_network import SERVICE, aggregated_items, list_items
from posture.gcp import (
    BACKEND_SERVICE,
    FORWARDING_RULE,
    GLOBAL_FORWARDING_RULE,
    HTTP_PROXY,
    INSTANCE_GROUP,
    TARGET_INSTANCE,
    TARGET_POOL,
    TCP_PROXY,
    URL_MAP,
)
from posture.model import Asset

PERMISSIONS = (
    "compute.backendServices.list", "compute.forwardingRules.list",
    "compute.globalForwardingRules.list", "compute.instanceGroups.list",
    "compute.regionBackendServices.list", "compute.regionTargetHttpProxies.list",
    "compute.regionTargetTcpProxies.list", "compute.regionUrlMaps.list",
    "compute.targetHttpProxies.list", "compute.targetInstances.list", "compute.targetPools.list",
    "compute.targetTcpProxies.list", "compute.urlMaps.list",
)


def collect(scope: ProjectScope) -> list[Asset]:
    assets: list[Asset] = []
    found = list_items(
        scope, "GlobalForwardingRulesClient", "globalForwardingRules.list", GLOBAL_FORWARDING_RULE
    )
    assets += [normalize_forwarding_rule(scope, f, GLOBAL_FORWARDING_RULE) for f in found or []]
    lists = (
        ("ForwardingRulesClient", "forwardingRules", FORWARDING_RULE, "forwarding_rules"),
        ("TargetHttpProxiesClient", "targetHttpProxies", HTTP_PROXY, "target_http_proxies"),
        ("TargetTcpProxiesClient", "targetTcpProxies", TCP_PROXY, "target_tcp_proxies"),
        ("UrlMapsClient", "urlMaps", URL_MAP, "url_maps"),
        ("BackendServicesClient", "backendServices", BACKEND_SERVICE, "backend_services"),
        ("TargetPoolsClient", "targetPools", TARGET_POOL, "target_pools"),
        ("TargetInstancesClient", "targetInstances", TARGET_INSTANCE, "target_instances"),
    )
    for client, api, type_, field in lists:
        found = aggregated_items(scope, client, f"{api}.aggregatedList", type_, field)
        assets += [_NORMALIZE[type_](scope, item, type_) for item in found or []]
    groups = aggregated_items(
        scope,
        "InstanceGroupsClient",
        "instanceGroups.aggregatedList",
        INSTANCE_GROUP,
        "instance_groups",
    )
    members = parallel_map(lambda g: group_members(scope, g), groups or [])
    assets += [
        normalize_instance_group(scope, g, m) for g, m in zip(groups or [], members, strict=True)
    ]
    return assets


def group_members(scope: ProjectScope, group: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``instanceGroups.listInstances`` (zonal) or ``regionInstanceGroups.listInstances``: every
    member whatever its state; ``None`` if the call failed."""
    retry = scope.clients.retry
    name, zone, region = str(group.get("name")), last(group.get("zone")), last(group.get("region"))

    def run() -> list[dict[str, Any]]:
        if zone:
            pager = scope.clients.compute("InstanceGroupsClient").list_instances(
                request={
                    "project": scope.project,
                    "zone": zone,
                    "instance_group": name,
                    "instance_groups_list_instances_request_resource": {"instance_state": "ALL"},
                },
                retry=retry,
            )
        else:
            pager = scope.clients.compute("RegionInstanceGroupsClient").list_instances(
                request={
                    "project": scope.project,
                    "region": region,
                    "instance_group": name,
                    "region_instance_groups_list_instances_request_resource": {
                        "instance_state": "ALL"
                    },
                },
                retry=retry,
            )
        return [to_json(x) for x in pager]

    return scope.call(
        SERVICE,
        "instanceGroups.listInstances" if zone else "regionInstanceGroups.listInstances",
        (f"{INSTANCE_GROUP}#instances",),
        run,
        region=zone or region or "global",
        resource_uid=compute_uid(str(group["selfLink"])),
    )


def _ports(f: Mapping[str, Any]) -> list[str]:
    return sorted(str(p) for p in f.get("ports") or [])


def normalize_forwarding_rule(scope: ProjectScope, f: Mapping[str, Any], type_: str) -> Asset:
    attrs = {
        "rule_name": f.get("name"),
        "path": short_path(f.get("selfLink")),
        "ip_address": f.get("IPAddress"),
        "ip_protocol": str(f.get("IPProtocol") or "TCP").upper(),
        "port_range": f.get("portRange"),
        "ports": _ports(f),
        "all_ports": bool(f.get("allPorts")),
        "load_balancing_scheme": f.get("loadBalancingScheme") or "EXTERNAL",
        "target": short_path(f.get("target")),
        "backend_service": short_path(f.get("backendService")),
        "network": short_path(f.get("network")),
        "subnetwork": short_path(f.get("subnetwork")),
        "network_tier": f.get("networkTier"),
        "ip_version": f.get("ipVersion"),
        "source_ip_ranges": sorted(f.get("sourceIpRanges") or []),
    }
    return scope.compute_asset(type_, f, attrs)


def _url_map_services(m: Mapping[str, Any]) -> list[str]:
    found: set[str] = set()

    def route_action(action: Mapping[str, Any] | None) -> None:
        for w in (action or {}).get("weightedBackendServices") or []:
            found.add(str(w.get("backendService")))

    if m.get("defaultService"):
        found.add(str(m["defaultService"]))
    route_action(m.get("defaultRouteAction"))
    for pm in m.get("pathMatchers") or []:
        if pm.get("defaultService"):
            found.add(str(pm["defaultService"]))
        route_action(pm.get("defaultRouteAction"))
        for rule in [*(pm.get("pathRules") or []), *(pm.get("routeRules") or [])]:
            if rule.get("service"):
                found.add(str(rule["service"]))
            route_action(rule.get("routeAction"))
    return sorted(short_path(s) or s for s in found)


def normalize_url_map(scope: ProjectScope, m: Mapping[str, Any], type_: str) -> Asset:
    services = _url_map_services(m)
    attrs = {
        "map_name": m.get("name"),
        "path": short_path(m.get("selfLink")),
        "default_service": short_path(m.get("defaultService")),
        "services": services,
        "redirect_only": not services and bool(m.get("defaultUrlRedirect")),
    }
    return scope.compute_asset(type_, m, attrs)


def backend_kind(group: str | None) -> str:
    text = group or ""
    if "/instanceGroups/" in text:
        return "instance_group"
    if "/networkEndpointGroups/" in text:
        if "/zones/" in text:
            return "zonal_neg"  # VM (or hybrid) endpoints
        return "regional_neg" if "/regions/" in text else "global_neg"
    return "other"


def normalize_backend_service(scope: ProjectScope, b: Mapping[str, Any], type_: str) -> Asset:
    backends = sorted(
        (
            {
                "group": short_path(x.get("group")),
                "kind": backend_kind(x.get("group")),
                "balancing_mode": x.get("balancingMode"),
            }
            for x in b.get("backends") or []
        ),
        key=lambda x: str(x["group"]),
    )
    attrs = {
        "service_name": b.get("name"),
        "path": short_path(b.get("selfLink")),
        "protocol": b.get("protocol") or "HTTP",
        "port_name": b.get("portName"),
        "port": b.get("port"),
        "load_balancing_scheme": b.get("loadBalancingScheme") or "EXTERNAL",
        "backends": backends,
        "network": short_path(b.get("network")),
        "security_policy": short_path(b.get("securityPolicy")),
        "edge_security_policy": short_path(b.get("edgeSecurityPolicy")),
        "iap_enabled": bool((b.get("iap") or {}).get("enabled")),
    }
    return scope.compute_asset(type_, b, attrs)


def normalize_target_pool(scope: ProjectScope, t: Mapping[str, Any], type_: str) -> Asset:
    attrs = {
        "pool_name": t.get("name"),
        "path": short_path(t.get("selfLink")),
        "instances": sorted(short_path(i) or i for i in t.get("instances") or []),
        "security_policy": short_path(t.get("securityPolicy")),
    }
    return scope.compute_asset(type_, t, attrs)


def normalize_target_instance(scope: ProjectScope, t: Mapping[str, Any], type_: str) -> Asset:
    attrs = {
        "target_name": t.get("name"),
        "path": short_path(t.get("selfLink")),
        "instance": short_path(t.get("instance")),
        "network": short_path(t.get("network")),
    }
    return scope.compute_asset(type_, t, attrs)


def normalize_instance_group(
    scope: ProjectScope, g: Mapping[str, Any], members: list[dict[str, Any]] | None
) -> Asset:
    attrs = {
        "group_name": g.get("name"),
        "path": short_path(g.get("selfLink")),
        "network": short_path(g.get("network")),
        "subnetwork": short_path(g.get("subnetwork")),
        "named_ports": sorted(
            (
                {"name": p.get("name"), "port": int(p.get("port") or 0)}
                for p in g.get("namedPorts") or []
            ),
            key=lambda p: (str(p["name"]), p["port"]),
        ),
        "size": int(g.get("size") or 0),
        "instances": (
            None
            if members is None
            else sorted(short_path(m.get("instance")) or str(m.get("instance")) for m in members)
        ),
    }
    return scope.compute_asset(INSTANCE_GROUP, g, attrs)


def _proxy(scope: ProjectScope, p: Mapping[str, Any], type_: str) -> Asset:
    return normalize_proxy(scope, p, type_)


_NORMALIZE = {
    FORWARDING_RULE: normalize_forwarding_rule,
    HTTP_PROXY: _proxy,
    TCP_PROXY: _proxy,
    URL_MAP: normalize_url_map,
    BACKEND_SERVICE: normalize_backend_service,
    TARGET_POOL: normalize_target_pool,
    TARGET_INSTANCE: normalize_target_instance,
}
