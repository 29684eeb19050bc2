"""Exposure through external load balancers: from each external forwarding rule to the
instances that receive its traffic, and the port and source ranges the instances' firewall
must admit (https://cloud.google.com/load-balancing/docs/firewall-rules).

Resolved paths:

- **proxy load balancers** (target HTTP(S) proxy -> URL map -> backend services; target SSL /
  TCP proxy -> backend service) -> instance groups -> instances. The backend port is the
  instance group's named port called the backend service's ``portName`` (``http`` by default);
  a group without that named port receives nothing. The connection to the backend comes from
  Google's front ends (``130.211.0.0/22``, ``35.191.0.0/16``) for global forwarding rules and
  for the classic (``EXTERNAL``) scheme, and from the region's proxy-only subnet for regional
  ``EXTERNAL_MANAGED`` forwarding rules: the firewall must admit those sources;
- **passthrough network load balancers** (regional ``EXTERNAL`` forwarding rule -> target pool,
  target instance, or backend service -> instance groups) keep the client's address and the
  destination port: the firewall must admit the internet clients on the forwarding rule's
  ports (all ports for ``allPorts`` / ``L3_DEFAULT``). The instances need no external IP.

Backend buckets, serverless / internet / PSC network endpoint groups are not instances and are
skipped. What cannot be resolved - zonal network endpoint groups (their VM endpoints are not
listed), an instance group whose members could not be listed, a referenced resource missing
from the inventory, a regional proxy LB without a known proxy-only subnet - is reported as
:class:`Unresolved`, never as "not exposed". A Cloud Armor policy on the backend service or
target pool is not evaluated: an exposure through it is possible, not certain. A backend
service with Identity-Aware Proxy enabled only serves authenticated users: not exposure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from posture.gcp import (
    FORWARDING_RULE,
    GLOBAL_FORWARDING_RULE,
    INSTANCE,
    INSTANCE_GROUP,
    LB_PARTS,
    SUBNETWORK,
)
from posture.graph.gcp.fw import LB_RANGES, Net, Origin
from posture.model import Asset, Inventory

EXTERNAL_SCHEMES = ("EXTERNAL", "EXTERNAL_MANAGED")
PROXY_SUBNET_PURPOSES = ("REGIONAL_MANAGED_PROXY",)
_WORLD: tuple[Net, ...] = (
    ipaddress.ip_network("0.0.0.0/0"),
    ipaddress.ip_network("::/0"),
)
GFE_LABEL = "Google front ends (130.211.0.0/22, 35.191.0.0/16)"


def _hop(asset: Asset) -> dict[str, Any]:
    """A hop of a load-balancer path (``kind``/``id``: what the HTML report draws)."""
    return {"kind": asset.type.rsplit("/", 1)[-1], "id": asset.name, "uid": asset.uid}


@dataclass(frozen=True, slots=True)
class LbPath:
    """One external forwarding rule delivering to one instance."""

    frontend: Asset
    hops: tuple[dict[str, Any], ...]  # forwarding rule -> ... -> instance group / target pool
    instance: str  # the instance's uid
    network: str | None  # the network the traffic is delivered into (instance group)
    protocols: tuple[str, ...]
    ports: tuple[tuple[int, int], ...] | None  # backend port ranges; None = every port
    sources: tuple[Net, ...]
    origin: Origin
    source_label: str
    family: int = 4
    undecided: tuple[str, ...] = ()  # Cloud Armor not evaluated
    authenticated: str | None = None  # Identity-Aware Proxy on the backend service

    def reaches(self, protocol: str, port: int) -> bool:
        if protocol not in self.protocols and "all" not in self.protocols:
            return False
        return self.ports is None or any(a <= port <= b for a, b in self.ports)

    def evidence(self) -> dict[str, Any]:
        fr = self.frontend
        return {
            "via": "load-balancer",
            "frontend": {
                "forwarding_rule": fr.name,
                "uid": fr.uid,
                "ip_address": fr.attr("ip_address"),
                "ports": frontend_text(fr),
                "scheme": fr.attr("load_balancing_scheme"),
            },
            "path": [
                *self.hops,
                {
                    "kind": "Instance",
                    "id": self.instance.rsplit("/", 1)[-1],
                    "uid": self.instance,
                },
            ],
            "sources": self.source_label,
        }


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A part of an external load balancer whose receiving instances are unknown."""

    subject: Asset
    reason: str
    hops: tuple[dict[str, Any], ...]
    protocols: tuple[str, ...]
    ports: tuple[tuple[int, int], ...] | None  # None = any port may be reached

    def relevant(self, protocol: str, ports: tuple[int, ...]) -> bool:
        if protocol not in self.protocols and "all" not in self.protocols:
            return False
        return self.ports is None or any(a <= p <= b for p in ports for a, b in self.ports)

    def evidence(self) -> dict[str, Any]:
        return {"via": "load-balancer", "path": list(self.hops), "unresolved": self.reason}


@dataclass(frozen=True, slots=True)
class LoadBalancing:
    paths: Mapping[str, list[LbPath]]  # instance uid -> paths
    unresolved: tuple[Unresolved, ...]


def frontend_ports(fr: Asset) -> tuple[tuple[int, int], ...] | None:
    if fr.attr("all_ports") or fr.attr("ip_protocol") == "L3_DEFAULT":
        return None
    ranges = []
    for text in [fr.attr("port_range"), *(fr.attr("ports") or ())]:
        if not text:
            continue
        lo, _, hi = str(text).partition("-")
        try:
            ranges.append((int(lo), int(hi or lo)))
        except ValueError:
            return None
    return tuple(ranges) or None


def frontend_text(fr: Asset) -> str:
    ports = frontend_ports(fr)
    proto = str(fr.attr("ip_protocol") or "TCP").lower()
    if ports is None:
        return f"{proto}/all"
    return f"{proto}/" + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ports)


def _passthrough_protocols(fr: Asset) -> tuple[str, ...]:
    proto = str(fr.attr("ip_protocol") or "TCP").lower()
    return ("all",) if proto == "l3_default" else (proto,)


class _Resolver:
    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.by_path: dict[str, Asset] = {}
        for a in inv.of(*LB_PARTS, INSTANCE_GROUP):
            path = a.attr("path") or a.uid.removeprefix("//compute.googleapis.com/")
            self.by_path[str(path)] = a
        self.instances = {a.uid for a in inv.of(INSTANCE)}
        self.subnets = inv.of(SUBNETWORK)
        self.paths: dict[str, list[LbPath]] = {}
        self.unresolved: list[Unresolved] = []

    def missing(
        self, subject: Asset, what: str, hops: list[dict[str, Any]], ports: Any, protos: Any
    ) -> None:
        self.unresolved.append(
            Unresolved(subject, f"{what} is not in the inventory", tuple(hops), protos, ports)
        )

    def run(self) -> LoadBalancing:
        for fr in sorted(self.inv.of(FORWARDING_RULE, GLOBAL_FORWARDING_RULE), key=lambda a: a.uid):
            if fr.attr("load_balancing_scheme") in EXTERNAL_SCHEMES:
                self.frontend(fr)
        paths = {
            k: sorted(v, key=lambda p: (p.frontend.uid, p.hops[-1]["uid"]))
            for k, v in self.paths.items()
        }
        return LoadBalancing(paths, tuple(self.unresolved))

    def frontend(self, fr: Asset) -> None:
        target = str(fr.attr("target") or "")
        hops = [_hop(fr)]
        ports, protos = frontend_ports(fr), _passthrough_protocols(fr)
        if any(k in target for k in ("/targetHttpProxies/", "/targetHttpsProxies/")):
            proxy = self.by_path.get(target)
            if proxy is None:
                return self.missing(fr, f"target proxy {target}", hops, None, ("tcp",))
            url_map = self.by_path.get(str(proxy.attr("url_map")))
            if url_map is None:
                hops.append(_hop(proxy))
                return self.missing(proxy, f"URL map {proxy.attr('url_map')}", hops, None, ("tcp",))
            for service in url_map.attr("services") or ():
                if "/backendBuckets/" not in service:
                    self.backend(fr, service, [*hops, _hop(proxy), _hop(url_map)], proxy=True)
        elif any(k in target for k in ("/targetSslProxies/", "/targetTcpProxies/")):
            proxy = self.by_path.get(target)
            if proxy is None:
                return self.missing(fr, f"target proxy {target}", hops, None, ("tcp",))
            self.backend(fr, str(proxy.attr("backend_service")), [*hops, _hop(proxy)], proxy=True)
        elif "/targetPools/" in target:
            pool = self.by_path.get(target)
            if pool is None:
                return self.missing(fr, f"target pool {target}", hops, ports, protos)
            armor = _armor(pool)
            for inst in pool.attr("instances") or ():
                self.add(
                    fr, [*hops, _hop(pool)], inst, None, protos, ports, *self.clients(fr), armor
                )
        elif "/targetInstances/" in target:
            ti = self.by_path.get(target)
            if ti is None:
                return self.missing(fr, f"target instance {target}", hops, ports, protos)
            self.add(
                fr,
                [*hops, _hop(ti)],
                str(ti.attr("instance")),
                ti.attr("network"),
                protos,
                ports,
                *self.clients(fr),
                (),
            )
        elif fr.attr("backend_service"):
            self.backend(fr, str(fr.attr("backend_service")), hops, proxy=False)
        return None

    def clients(self, fr: Asset) -> tuple[tuple[Net, ...], Origin, str, int]:
        family = 6 if fr.attr("ip_version") == "IPV6" else 4
        ranges = fr.attr("source_ip_ranges") or ()
        nets: tuple[Net, ...] = _WORLD
        label = "internet clients (passthrough: the client address is kept)"
        if ranges:
            nets = tuple(ipaddress.ip_network(r, strict=False) for r in ranges if _valid(r))
            label = f"clients in {', '.join(ranges)} (passthrough)"
        return nets, Origin.INTERNET, label, family

    def proxy_sources(
        self, fr: Asset, network: str | None
    ) -> tuple[tuple[Net, ...], Origin, str, int] | None:
        if fr.type == GLOBAL_FORWARDING_RULE or fr.attr("load_balancing_scheme") == "EXTERNAL":
            return LB_RANGES, Origin.GOOGLE, GFE_LABEL, 4
        net = fr.attr("network") or network
        found = sorted(
            str(s.attr("ip_cidr_range"))
            for s in self.subnets
            if s.attr("purpose") in PROXY_SUBNET_PURPOSES
            and s.region == fr.region
            and s.attr("network") == net
            and _valid(s.attr("ip_cidr_range"))
        )
        if not found:
            return None
        nets = tuple(ipaddress.ip_network(r, strict=False) for r in found)
        return nets, Origin.VPC, f"proxy-only subnet(s) {', '.join(found)}", 4

    def backend(self, fr: Asset, path: str, hops: list[dict[str, Any]], proxy: bool) -> None:
        front_ports = None if proxy else frontend_ports(fr)
        protos = ("tcp",) if proxy else _passthrough_protocols(fr)
        bs = self.by_path.get(path)
        if bs is None:
            return self.missing(fr, f"backend service {path}", hops, front_ports, protos)
        hops = [*hops, _hop(bs)]
        armor = _armor(bs)
        iap = (
            "Identity-Aware Proxy is enabled on the backend service"
            if (proxy and bs.attr("iap_enabled"))
            else None
        )
        for backend in bs.attr("backends") or ():
            kind, group_path = backend.get("kind"), str(backend.get("group"))
            if kind in ("regional_neg", "global_neg"):
                continue  # serverless / internet / PSC endpoints: no instance of this estate
            if kind != "instance_group":
                self.unresolved.append(
                    Unresolved(
                        bs,
                        f"backend {group_path} is a zonal network endpoint group: its VM "
                        "endpoints and ports are not resolved",
                        tuple(hops),
                        protos,
                        front_ports,
                    )
                )
                continue
            group = self.by_path.get(group_path)
            if group is None:
                self.missing(bs, f"instance group {group_path}", hops, front_ports, protos)
                continue
            members = group.attr("instances")
            if members is None:
                self.unresolved.append(
                    Unresolved(
                        group,
                        "the members of the instance group could not be listed",
                        (*hops, _hop(group)),
                        protos,
                        front_ports,
                    )
                )
                continue
            if proxy:
                port_name = bs.attr("port_name") or "http"
                named = [
                    int(p["port"])
                    for p in group.attr("named_ports") or ()
                    if p.get("name") == port_name and str(p.get("port")).isdigit()
                ]
                if not named:
                    continue  # no such named port: the proxy cannot deliver to this group
                ports: tuple[tuple[int, int], ...] | None = tuple(
                    (p, p) for p in sorted(set(named))
                )
                sources = self.proxy_sources(fr, group.attr("network"))
                if sources is None:
                    self.unresolved.append(
                        Unresolved(
                            group,
                            f"no proxy-only subnet of region {fr.region} is known: the source "
                            "range of the load balancer's proxies is unknown",
                            (*hops, _hop(group)),
                            protos,
                            ports,
                        )
                    )
                    continue
            else:
                ports, sources = front_ports, self.clients(fr)
            for inst in members:
                self.add(
                    fr,
                    [*hops, _hop(group)],
                    inst,
                    group.attr("network"),
                    protos,
                    ports,
                    *sources,
                    armor,
                    iap,
                )
        return None

    def add(
        self,
        fr: Asset,
        hops: list[dict[str, Any]],
        instance_path: str,
        network: str | None,
        protos: tuple[str, ...],
        ports: tuple[tuple[int, int], ...] | None,
        nets: tuple[Net, ...],
        origin: Origin,
        label: str,
        family: int,
        undecided: tuple[str, ...],
        authenticated: str | None = None,
    ) -> None:
        uid = f"//compute.googleapis.com/{instance_path}"
        if uid not in self.instances:
            self.unresolved.append(
                Unresolved(
                    fr,
                    f"instance {instance_path} is not in the inventory",
                    tuple(hops),
                    protos,
                    ports,
                )
            )
            return
        path = LbPath(
            fr,
            tuple(hops),
            uid,
            network,
            protos,
            ports,
            nets,
            origin,
            label,
            family,
            undecided,
            authenticated,
        )
        self.paths.setdefault(uid, []).append(path)


def _armor(asset: Asset) -> tuple[str, ...]:
    policy = asset.attr("security_policy")
    if not policy:
        return ()
    return (
        f"Cloud Armor policy {str(policy).rsplit('/', 1)[-1]} on {asset.name} is not evaluated",
    )


def _valid(text: Any) -> bool:
    try:
        ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return False
    return True


def load_balancing(inv: Inventory) -> LoadBalancing:
    return _Resolver(inv).run()
