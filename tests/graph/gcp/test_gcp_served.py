"""Every tcp port of a GCP instance the internet reaches (posture.graph.gcp.served): the range
1-65535 cut at the firewall rules' and load balancers' port boundaries, each piece judged once
with the exposure checks' verdict, and the same answer as judging every port on its own."""

from __future__ import annotations

import pytest
from support.gcp import (
    backend_service,
    firewall,
    forwarding_rule,
    ginventory,
    instance,
    instance_group,
    proxy,
)

from posture.graph.gcp.exposure import Estate, assess
from posture.graph.gcp.served import served_ports
from posture.model import Asset

WEB = firewall("web", rules=(("tcp", ("443", "8000-8100")),))
OFFICE_SSH = firewall("office-ssh", source_ranges=("203.0.113.0/24",))
PROBES = (1, 22, 442, 443, 444, 7999, 8000, 8049, 8050, 8051, 8100, 8101, 65535)
LB_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
IG = "zones/us-central1-a/instanceGroups/ig"


def _ranges(*assets: Asset) -> tuple[tuple[tuple[int, int], ...], int]:
    inv = ginventory(*assets)
    vm = next(a for a in inv.of("compute.googleapis.com/Instance") if a.name == "vm")
    got = served_ports(Estate.of(inv), vm)
    fresh = Estate.of(inv)
    for port in PROBES:  # each port on its own, on a fresh estate
        inside = any(lo <= port <= hi for lo, hi in got.ranges)
        assert bool(assess(fresh, vm, (port,)).exposed) is inside, port
    return got.ranges, got.pieces


@pytest.mark.parametrize(
    ("assets", "expected"),
    [
        ((WEB, OFFICE_SSH, instance("vm")), ((443, 443), (8000, 8100))),
        # a higher-priority deny of one port cuts the range
        ((WEB, firewall("deny", priority=900, action="deny", rules=(("tcp", ("8050",)),)),
          instance("vm")), ((443, 443), (8000, 8049), (8051, 8100))),
        ((firewall("any", rules=(("all", ()),)), instance("vm")), ((1, 65535),)),
        # open rule, no external address: nothing (latent, not exposed)
        ((WEB, instance("vm", external=False)), ()),
    ],
    ids=["web", "deny-cut", "all", "no-address"],
)
def test_exposed_ranges_agree_with_port_by_port(
    assets: tuple[Asset, ...], expected: tuple[tuple[int, int], ...]
) -> None:
    ranges, pieces = _ranges(*assets)
    assert ranges == expected
    assert pieces <= 12


def test_a_proxy_load_balancer_backend_port_is_served() -> None:
    lb = (
        forwarding_rule("web-lb", target="global/targetTcpProxies/web-proxy"),
        proxy("targetTcpProxies", "web-proxy", service="global/backendServices/web-bs"),
        backend_service("web-bs", IG, port_name="app"),
        instance_group("ig", "vm", named_ports=(("app", 8080),)),
        instance("vm", external=False),
        firewall("lb", source_ranges=LB_RANGES, rules=(("tcp", ("8080",)),)),
    )
    assert _ranges(*lb)[0] == ((8080, 8080),)
