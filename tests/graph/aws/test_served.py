"""Every tcp port a host serves to the internet (posture.graph.aws.served): the range 1-65535
cut at the rules' port boundaries, each piece judged once with the exposure checks' verdict, and
the same answer as judging every port on its own."""

from __future__ import annotations

import pytest
from support.aws_net import (
    PRIVATE_ROUTES,
    default_acl,
    entry,
    estate,
    lb_estate,
    registered_on,
    sg_rule,
)

from posture.graph.aws.exposure import host_lb, judge
from posture.graph.aws.reach import AwsReach
from posture.graph.aws.served import served_ports
from posture.graph.ports import merged, ranges_text
from posture.model import Inventory

WEB = (sg_rule(443, 443), sg_rule(8000, 8100), sg_rule(22, 22, "203.0.113.0/24"))
PROBES = (1, 21, 22, 23, 442, 443, 444, 7999, 8000, 8049, 8050, 8051, 8100, 8101, 65535)


def _served(inv: Inventory) -> tuple[tuple[tuple[int, int], ...], int]:
    reach = AwsReach(inv)
    (host,) = reach.hosts()
    got = served_ports(reach, host)
    return got.ranges, got.pieces


def _port_by_port(reach: AwsReach, port: int) -> bool:
    (host,) = reach.hosts()
    return bool(judge(reach, host.asset, (port,), host_lb(reach, host.asset), host.interfaces)
                .exposed)


@pytest.mark.parametrize(
    ("inv", "expected"),
    [
        # a web server on 443 and a range; SSH only from the office (allow-listed, not exposed)
        (estate(ingress=WEB), ((443, 443), (8000, 8100))),
        # the network ACL denies one port inside the range: the range is cut around it
        (estate(ingress=WEB, acl=default_acl(entry(50, "deny", protocol="6", ports=(8050, 8050)))),
         ((443, 443), (8000, 8049), (8051, 8100))),
        # all traffic from the world: every port
        (estate(ingress=(sg_rule(None, None, protocol="-1"),)), ((1, 65535),)),
        # open group, no public address: nothing
        (estate(ingress=WEB, public_ip=None), ()),
        # open group, public address, no route to an internet gateway: nothing
        (estate(ingress=WEB, routes=PRIVATE_ROUTES), ()),
    ],
    ids=["web", "nacl-cut", "all-traffic", "no-address", "no-route"],
)
def test_exposed_ranges_agree_with_port_by_port(
    inv: Inventory, expected: tuple[tuple[int, int], ...]
) -> None:
    ranges, pieces = _served(inv)
    assert ranges == expected
    assert pieces <= 12  # cut at rule boundaries, not 65,535 ports
    fresh = AwsReach(inv)
    for port in PROBES:
        inside = any(lo <= port <= hi for lo, hi in ranges)
        assert _port_by_port(fresh, port) is inside, port


def test_a_load_balancer_target_port_is_served() -> None:
    # a private host (no address) whose tcp/22 an internet-facing NLB forwards from tcp/2222
    inv = lb_estate()
    ranges, _ = _served(inv)
    assert ranges == ((22, 22),)
    ranges, _ = _served(registered_on(inv, 8443))
    assert ranges == ()  # its group admits tcp/22 only: the registration on 8443 reaches nothing
    admitted = lb_estate(target_ingress=(sg_rule(8443, 8443, "10.0.9.0/24"),))
    assert _served(registered_on(admitted, 8443))[0] == ((8443, 8443),)


def test_range_text_and_merge() -> None:
    assert ranges_text(merged([(8000, 8049), (443, 443), (8050, 8100)])) == "tcp/443, 8000-8100"
    assert ranges_text(()) == "none"
