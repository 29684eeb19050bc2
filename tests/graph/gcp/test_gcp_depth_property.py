"""Property: the GCP defense depth of every (instance, port) agrees with brute force.

Hypothesis (derandomized, bounded) generates small estates: VPC firewall rules with
priorities, allow/deny, target tags and CIDR sources (the internet, IAP, allow-listed public
ranges - a /16, the /9 halves of a /8 - a private range, Google's proxy range), disabled
rules, an optional hierarchical policy and an optional network firewall policy (allow / deny /
goto_next, service-account targets), either enforcement order, an instance with or without an
external IPv4 address, the network's routes (not collected, a default route, none, a more
specific route diverting part of the internet, a default route for a tag only) and an
optional passthrough network load balancer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from support.flips import edited, least_flips
from support.gcp import (
    epolicy,
    firewall,
    forwarding_rule,
    ginventory,
    instance,
    network,
    prule,
    route,
    target_pool,
)
from support.properties import examples

from posture.graph.gcp.depth import GcpDepth
from posture.graph.gcp.exposure import Estate, assess
from posture.model import Asset, Inventory

PORTS = (22, 5432)
APP_SA = "app@acme-test.iam.gserviceaccount.com"
FLIPS = ("address4", "address6", "route", "vpc", "hier", "netpol")
SOURCES = ("0.0.0.0/0", "35.235.240.0/20", "8.8.0.0/16", "10.0.0.0/8", "130.211.0.0/22",
           "11.0.0.0/9", "11.128.0.0/9")  # two halves of a /8: wide only together
WORLD = ("0.0.0.0/0", "::/0")
INSTANCE = "compute.googleapis.com/Instance"
NETWORK = "compute.googleapis.com/Network"
ROUTE = "compute.googleapis.com/Route"
FIREWALL = "compute.googleapis.com/Firewall"


ROUTES: dict[str, tuple[Asset, ...]] = {
    "assumed": (),
    "none": (route("subnet", "10.0.0.0/24", "network", 0),),
    "default": (
        route("subnet", "10.0.0.0/24", "network", 0),
        route("default", "0.0.0.0/0", "internet_gateway"),
    ),
    "divert": (
        route("subnet", "10.0.0.0/24", "network", 0),
        route("default", "0.0.0.0/0", "internet_gateway"),
        route("to-nat", "8.0.0.0/8", "instance", 900),
    ),
    "tagged": (
        route("subnet", "10.0.0.0/24", "network", 0),
        route("default", "0.0.0.0/0", "internet_gateway", tags=("web",)),
    ),
}


@st.composite
def vpc_rules(draw: st.DrawFn) -> list[Asset]:
    out = []
    for n in range(draw(st.integers(0, 4))):
        out.append(
            firewall(
                f"r{n}",
                priority=draw(st.sampled_from((100, 500, 1000))),
                action=draw(st.sampled_from(("allow", "deny"))),
                rules=(("tcp", draw(st.sampled_from((("22",), ("5432",), ())))),),
                source_ranges=tuple(
                    draw(st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2, unique=True))
                ),
                target_tags=draw(st.sampled_from(((), ("web",), ("db",), ("app",)))),
                disabled=draw(st.sampled_from((False, False, False, True))),
            )
        )
    return out


@st.composite
def policy_rules(draw: st.DrawFn) -> list[dict[str, Any]]:
    priorities = draw(st.lists(st.sampled_from((100, 200, 300, 1000)), min_size=1, max_size=2,
                               unique=True))
    return [
        prule(
            p,
            draw(st.sampled_from(("allow", "deny", "goto_next"))),
            ports=draw(st.sampled_from((("22",), ("5432",), ("22", "5432")))),
            src=tuple(draw(st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2,
                                    unique=True))),
            target_service_accounts=draw(st.sampled_from(((), (APP_SA,), ("x@y.com",)))),
        )
        for p in priorities
    ]


@st.composite
def estates(draw: st.DrawFn) -> Inventory:
    policies = []
    if draw(st.booleans()):
        policies.append(epolicy("org", *draw(policy_rules())))
    if draw(st.booleans()):
        policies.append(epolicy("netpol", *draw(policy_rules()), type_="NETWORK"))
    order = draw(st.sampled_from(("AFTER_CLASSIC_FIREWALL", "BEFORE_CLASSIC_FIREWALL")))
    assets: list[Asset] = [
        network(policies=policies, order=order),
        *draw(vpc_rules()),
        instance(
            "vm",
            tags=tuple(draw(st.lists(st.sampled_from(("web", "db")), unique=True, max_size=2))),
            external=draw(st.booleans()),
        ),
        *ROUTES[draw(st.sampled_from(tuple(ROUTES)))],
    ]
    nlb = draw(st.sampled_from((None, "22", "5432", "all")))
    if nlb is not None:
        ports = None if nlb == "all" else f"{nlb}-{nlb}"
        assets += [
            target_pool("pool", "vm"),
            forwarding_rule("nlb", target="regions/us-central1/targetPools/pool", ports=ports,
                            region="us-central1", all_ports=nlb == "all"),
        ]
    return ginventory(*assets)


# -- brute force -------------------------------------------------------------------------------


def _address(family: int) -> Callable[[dict], None]:
    def change(attrs: dict) -> None:
        nic = attrs["network_interfaces"][0]
        if family == 4:
            nic["has_external_ipv4"], nic["external_ipv4"] = True, ["34.9.9.9"]
        else:
            nic["has_external_ipv6"], nic["external_ipv6"] = True, ["2600:1900::1"]

    return change


def _open_policy(short_name: str) -> Callable[[dict], None]:
    def change(attrs: dict) -> None:
        for p in attrs["effective_firewall_policies"]:
            if p["short_name"] == short_name:
                p["rules"].insert(0, prule(0, "allow", protocol="all", ports=(), src=WORLD))

    return change


def flip(inv: Inventory, layer: str) -> Inventory:
    """The estate with one layer opened, by editing assets."""
    if layer in ("address4", "address6"):
        return edited(inv, lambda a: a.type == INSTANCE, _address(4 if layer == "address4" else 6))
    if layer == "route":
        if not inv.of(ROUTE):
            return inv  # not collected: the default route is assumed already
        igw = (route("flip4", "0.0.0.0/0", "internet_gateway", 0),
               route("flip6", "::/0", "internet_gateway", 0))
        return edited(inv, lambda a: False, lambda a: None, igw,
                     drop=lambda a: a.type == ROUTE and a.attrs["next_hop_kind"] != "network")
    if layer == "vpc":
        rule = firewall("flip-vpc", priority=0, rules=(("all", ()),), source_ranges=WORLD)
        return edited(inv, lambda a: False, lambda a: None, (rule,))
    name = "org" if layer == "hier" else "netpol"
    present = any(p["short_name"] == name for n in inv.of(NETWORK)
                  for p in n.attrs["effective_firewall_policies"])
    return edited(inv, lambda a: a.type == NETWORK, _open_policy(name)) if present else inv


def exposed(inv: Inventory, port: int) -> bool:
    host = inv.of(INSTANCE)[0]
    return bool(assess(Estate.of(inv), host, [port]).exposed)


def brute_depth(inv: Inventory, port: int) -> int:
    """0, 1 or 2 flips (the least that exposes the port), else 3 meaning "3 or more"."""
    return least_flips(
        inv, lambda x: exposed(x, port), [lambda x, layer=layer: flip(x, layer) for layer in FLIPS]
    )


def as_flip(layer: dict[str, Any]) -> str:
    kind = layer["layer"]
    if kind == "external-address":
        return "address4" if "IPv4" in layer["change"] else "address6"
    return {"route": "route", "vpc-firewall": "vpc", "hierarchical-policy": "hier",
            "network-policy": "netpol"}[kind]


@examples(120, HealthCheck.data_too_large)
@given(estates())
def test_gcp_depth_matches_brute_force_flips(inv: Inventory) -> None:
    host = inv.of(INSTANCE)[0]
    engine = GcpDepth(Estate.of(inv), inv)
    for d in engine.host_depths(host, PORTS):
        assert d.depth is not None, (d.port, d.unknown)
        want = brute_depth(inv, d.port)
        assert min(d.depth, 3) == want, (d.port, d.depth, want, d.best)
        assert (d.depth == 0) == exposed(inv, d.port)
        assert d.best is not None and len(d.best.changes) == d.depth
        changed = inv
        for layer in d.best.changes:
            changed = flip(changed, as_flip(layer.to_dict()))
        assert exposed(changed, d.port), (d.port, [x.change for x in d.best.changes])
