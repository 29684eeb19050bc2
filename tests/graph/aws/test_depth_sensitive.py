"""Defense depth of assets tagged or classified as sensitive: every port of a tagged host (as
port ranges), tcp/443 of VPC endpoint interfaces, private tiers, and the depth-0 finding for
ports no exposure check covers."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, inventory
from support.aws_net import (
    ADMIN,
    DEPTH,
    INSTANCE_UID,
    LOCAL,
    PRIVATE_ROUTES,
    PUBLIC_ROUTES,
    SSH_DENIED,
    SSH_WORLD,
    arn,
    default_acl,
    eni,
    entry,
    estate,
    lb_estate,
    registered_on,
    route,
    sg,
    sg_rule,
)
from support.checks import by_uid, run_one
from support.reports import finding as report_finding

from posture.graph.aws.depth import host_depth
from posture.graph.aws.depth_sweep import sweep
from posture.graph.aws.reach import AwsReach
from posture.graph.depth import NEVER
from posture.model import Inventory, Severity, Status
from posture.reporters.html_depth import depth_table

ENDPOINT_UID = arn("network-interface", "eni-e")
VPC_ONLY_443 = (sg_rule(443, 443, "10.0.0.0/16"),)
WORLD_443 = (sg_rule(443, 443), sg_rule(443, 443, "::/0"))


def tagged(inv: Inventory, uid: str = INSTANCE_UID, **tags: str) -> Inventory:
    assets = [
        asset(a.type, a.uid, name=a.name, tags={**a.tags, **tags}, **a.attrs) if a.uid == uid
        else a
        for a in inv.assets
    ]
    return inventory(*assets, errors=inv.errors)


def depth_of(inv: Inventory, uid: str = INSTANCE_UID, **params: Any) -> Any:
    return by_uid(run_one(DEPTH, inv, **params)).get(uid)


def changes(found: Any) -> list[tuple[str, str]]:
    return [(x["layer"], x["resource"]) for x in found.evidence["changes"]]


# -- tagged hosts: every port -------------------------------------------------------------------


def test_tagged_host_open_on_a_non_admin_port_is_a_medium_exposure_with_its_path() -> None:
    inv = tagged(estate(ingress=(sg_rule(8080, 8080),)), Sensitivity="high")
    assert by_uid(run_one(ADMIN, inv))[INSTANCE_UID].status == Status.PASS  # not an admin port
    found = depth_of(inv)
    assert found.status == Status.FAIL and found.severity == Severity.MEDIUM
    assert found.message.startswith(
        "tcp/8080 on i-1 (tagged Sensitivity=high) is reachable from the internet: internet "
    )
    assert "security-group sg-1 [inbound: sg-1 allow tcp/8080 from 0.0.0.0/0]" in found.message
    ev = found.evidence
    assert ev["depth"] == 0 and ev["port"] == 8080 and ev["exposed_ports"] == "tcp/8080"
    assert ev["paths"][0]["port"] == 8080 and ev["sensitive"] == ["tagged Sensitivity=high"]
    assert depth_of(inv, exposed_severity="high").severity == Severity.HIGH


def test_untagged_host_is_judged_on_admin_and_database_ports_only() -> None:
    found = depth_of(estate(ingress=(sg_rule(8080, 8080),)))
    assert found.status == Status.FAIL and found.severity == Severity.LOW
    assert found.evidence["depth"] == 1 and found.evidence["port"] == 22
    assert "8080" not in str(found.evidence["depth_by_port"])
    assert found.evidence["sensitive"] == ["admin and database ports"]


def test_tagged_public_host_is_one_layer_deep_on_every_closed_port() -> None:
    found = depth_of(tagged(estate(ingress=()), DataClassification="Confidential"))
    assert found.status == Status.FAIL and found.severity == Severity.LOW
    assert found.evidence["depth"] == 1
    assert found.evidence["weakest_ports"] == "tcp/1-65535; udp/1-65535"
    assert found.evidence["port_range"] == "1-65535"
    assert changes(found) == [("security-group", "sg-1")]
    assert found.message.startswith(
        "only security group sg-1 (no rule admits tcp/1-65535 from the internet) keeps "
        "tcp/1-65535 on i-1 from the internet; one change exposes it: add an inbound rule to "
        "sg-1 allowing tcp/1-65535 from 0.0.0.0/0. Also below depth 2: udp/1-65535."
    )
    medium = depth_of(tagged(estate(ingress=()), Tier="private"),
                      class_severity={"sensitive": "medium"})
    assert medium.severity == Severity.MEDIUM


def test_the_latent_admin_port_is_named_first_and_the_ranges_after() -> None:
    found = depth_of(tagged(estate(acl=SSH_DENIED), Sensitivity="high"))
    assert found.status == Status.FAIL and found.evidence["port"] == 22
    assert "port_range" not in found.evidence
    assert found.message.startswith("only network ACL acl-1 inbound (rule 50 deny tcp/22")
    assert found.message.endswith("Also below depth 2: tcp/1-21, 23-65535; udp/1-65535.")
    by_port = found.evidence["depth_by_port"]
    assert by_port == {"1-65535": 1, "udp/1-65535": 1}


def test_port_ranges_are_cut_where_the_rules_differ() -> None:
    # private host; its group admits tcp/8000-8100 from anywhere and tcp/22 from the office
    inv = tagged(
        estate(routes=PRIVATE_ROUTES, public_ip=None,
               ingress=(sg_rule(8000, 8100), sg_rule(22, 22, "198.51.100.0/24"))),
        Tier="private",
    )
    found = depth_of(inv)
    assert found.status == Status.PASS and found.evidence["depth"] == 2
    assert found.evidence["port_range"] == "8000-8100"
    assert found.evidence["depth_by_port"] == {
        "1-7999": 3, "8000-8100": 2, "8101-65535": 3, "udp/1-65535": 3,
    }
    sg_layer = next(x for x in found.evidence["layers"] if x["layer"] == "security-group")
    assert sg_layer["detail"] == "admits tcp/8000-8100 from the internet"
    assert found.evidence["sensitive"] == ["tagged Tier=private", "private tier"]
    # the pieces: every rule boundary and every admin/database port on its own, nothing else
    reach = AwsReach(inv)
    host = reach.hosts()[0]
    pieces = sweep(reach, host, "tcp", (22, 5432))
    starts = [p.lo for p in pieces]
    assert starts == [1, 22, 23, 5432, 5433, 8000, 8101]
    assert pieces[-1].hi == 65535


def test_tag_values_match_case_insensitively_and_a_bare_key_matches_any_value() -> None:
    inv = tagged(estate(ingress=(sg_rule(8080, 8080),)), Sensitivity="HIGH", Owner="data")
    assert depth_of(inv).severity == Severity.MEDIUM
    assert depth_of(inv, sensitive_tags=("Sensitivity=low",)).evidence["port"] == 22
    assert depth_of(inv, sensitive_tags=("Owner",)).evidence["sensitive"] == ["tagged Owner"]


def test_udp_ports_are_judged_and_can_be_left_out() -> None:
    inv = tagged(estate(ingress=(sg_rule(53, 53, protocol="udp"),)), Sensitivity="high")
    found = depth_of(inv)
    assert found.status == Status.FAIL and found.severity == Severity.MEDIUM
    assert found.evidence["exposed_ports"] == "udp/53" and found.evidence["protocol"] == "udp"
    assert found.message.startswith("udp/53 on i-1 (tagged Sensitivity=high) is reachable")
    tcp_only = depth_of(inv, sensitive_protocols=("tcp",))
    assert tcp_only.severity == Severity.LOW and "udp/53" not in tcp_only.evidence["depth_by_port"]


def test_udp_replies_blocked_by_the_network_acl_is_the_single_layer() -> None:
    acl = default_acl(entry(90, "deny", egress=True, protocol="17", ports=(1024, 65535)))
    inv = tagged(estate(acl=acl, ingress=(sg_rule(0, 65535, protocol="udp"),)), Tier="private")
    found = depth_of(inv)
    # every port is one change away; the open udp (a latent exposure) is named first
    assert found.status == Status.FAIL and found.evidence["depth"] == 1
    assert found.evidence["protocol"] == "udp" and found.evidence["port_range"] == "1-65535"
    assert changes(found) == [("network-acl outbound", "acl-1")]
    assert found.message.startswith(
        "only network ACL acl-1 outbound (to port 1024: rule 90 deny udp/1024-65535 to "
        "0.0.0.0/0) keeps udp/1-65535 on i-1 from the internet; its security group sg-1 admits "
        "it from the internet"
    )
    assert found.message.endswith("Also below depth 2: tcp/1-65535.")


def test_a_port_a_load_balancer_serves_is_the_front_door_not_an_exposure() -> None:
    inv = tagged(
        registered_on(lb_estate(target_ingress=(sg_rule(8080, 8080, "10.0.9.0/24"),)), 8080),
        Sensitivity="high",
    )
    found = depth_of(inv)
    assert found.status == Status.PASS and found.evidence["depth"] == 2
    assert found.evidence["served"] == [{
        "ports": "tcp/8080",
        "via": "load balancer edge listener edge:2222 (default action) -> target group ssh "
               "(from subnet-lb)",
    }]
    assert found.evidence["depth_by_port"]["8080"] == 3  # its direct paths
    assert found.evidence["port_range"] == "1-8079, 8081-65535"
    assert {x["layer"] for x in found.evidence["changes"]} == {"target-group", "security-group"}


def test_a_directly_exposed_port_is_an_exposure_even_if_a_load_balancer_serves_it() -> None:
    inv = tagged(
        registered_on(lb_estate(target_ingress=(sg_rule(8080, 8080),)), 8080),
        Sensitivity="high",
    )
    # the target also gets a public address in a public subnet: a direct path besides the NLB
    inv = edited(edited(inv, "eni_id", "eni-1", public_ips=["54.1.2.3"]),
                 "route_table_id", "rtb-1", routes=list(PUBLIC_ROUTES))
    found = depth_of(inv)
    assert found.severity == Severity.MEDIUM and found.evidence["exposed_ports"] == "tcp/8080"
    assert found.evidence["via"] == "direct (IPv4) eni-1"


def edited(inv: Inventory, key: str, value: str, **attrs: Any) -> Inventory:
    return inventory(*(
        asset(a.type, a.uid, name=a.name, tags=dict(a.tags), **{**a.attrs, **attrs})
        if a.attrs.get(key) == value else a
        for a in inv.assets
    ), errors=inv.errors)


# -- private tiers --------------------------------------------------------------------------------


def test_private_tier_is_named_as_the_reason_in_the_depth_table() -> None:
    private = depth_of(estate(routes=PRIVATE_ROUTES, public_ip=None))
    assert private.evidence["sensitive"] == ["admin and database ports", "private tier"]
    # a public address, or an internet-gateway route, and it is no private tier
    assert "private tier" not in depth_of(estate(routes=PRIVATE_ROUTES)).evidence["sensitive"]
    assert "private tier" not in depth_of(estate(public_ip=None)).evidence["sensitive"]
    rows = depth_table([private])["rows"]
    assert rows[0]["sensitive"] == "admin and database ports, private tier"


# -- VPC endpoints --------------------------------------------------------------------------------


def endpoint_estate(
    ingress: Any = VPC_ONLY_443, routes: Any = PUBLIC_ROUTES, ipv6: tuple[str, ...] = ()
) -> Inventory:
    endpoint = eni("eni-e", instance=None, public_ip=None, ipv6=ipv6, sgs=("sg-e",),
                   interface_type="vpc_endpoint", requester_managed=True,
                   description="VPC Endpoint Interface vpce-0abc123")
    return estate(routes=routes, ingress=(), extra=(sg(ingress, "sg-e"), endpoint))


def test_endpoint_is_judged_on_443_and_not_by_the_exposure_checks() -> None:
    inv = endpoint_estate()
    assert ENDPOINT_UID not in by_uid(run_one(ADMIN, inv))
    found = depth_of(inv, ENDPOINT_UID)
    assert found.status == Status.PASS and found.evidence["depth"] == 2
    assert found.evidence["via"] == "direct (IPv6) eni-e"
    assert changes(found) == [("security-group", "sg-e"), ("public-address", "eni-e")]
    assert found.evidence["sensitive"] == ["VPC endpoint interface"]
    assert found.evidence["endpoint"] == "VPC Endpoint Interface vpce-0abc123"
    assert depth_of(inv, ENDPOINT_UID, endpoint_ports=()) is None


def test_endpoint_ipv4_path_cannot_be_opened_by_any_flip() -> None:
    reach = AwsReach(endpoint_estate(WORLD_443))
    host = reach.endpoints()[0]
    d = host_depth(reach, host, 443)
    ipv4 = [p for p in d.paths if p.family == 4]
    assert [(p.depth, p.at_least) for p in ipv4] == [(None, NEVER)]
    address = next(x for x in ipv4[0].layers if x.layer == "public-address")
    assert address.change == "" and "cannot be given one" in address.detail
    # an ordinary interface with the same configuration is one flip (a public IPv4) away
    assert d.depth == 1 and d.best is not None and d.best.family == 6


def test_endpoint_open_to_the_world_is_one_dualstack_change_away() -> None:
    found = depth_of(endpoint_estate(WORLD_443), ENDPOINT_UID)
    assert found.status == Status.FAIL and found.severity == Severity.LOW
    assert found.evidence["single_change"]["change"] == (
        "set the IP address type of vpce-0abc123 to dualstack"
    )


def test_endpoint_with_a_global_ipv6_address_open_to_the_world_is_exposed() -> None:
    found = depth_of(endpoint_estate(WORLD_443, ipv6=("2600:1f18::7",)), ENDPOINT_UID)
    assert found.status == Status.FAIL and found.severity == Severity.MEDIUM
    assert found.message.startswith(
        "tcp/443 on eni-e (VPC endpoint interface) is reachable from the internet: internet "
    )
    assert found.evidence["paths"][0]["family"] == "ipv6"


def test_endpoint_in_a_private_subnet_is_three_layers_deep() -> None:
    found = depth_of(endpoint_estate(routes=(LOCAL, route("0.0.0.0/0", "nat", "nat-1"))),
                     ENDPOINT_UID)
    assert found.evidence["depth"] == 3
    assert changes(found) == [
        ("security-group", "sg-e"), ("public-address", "eni-e"), ("route", "rtb-1"),
    ]


# -- the report ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("evidence", "port"),
    [
        ({"depth": 1, "port": 1, "port_range": "1-21, 23-65535"}, "tcp/1-21, 23-65535"),
        ({"depth": 0, "port": 53, "protocol": "udp"}, "udp/53"),
        ({"depth": 1, "port": 22}, "tcp/22"),
    ],
)
def test_depth_table_names_the_port_range_and_protocol(evidence: Any, port: str) -> None:
    row = depth_table([report_finding(evidence={**evidence, "sensitive": ["tagged A=b"]})])
    assert row["rows"][0]["port"] == port and row["rows"][0]["sensitive"] == "tagged A=b"


def test_ssh_world_estate_unchanged_by_tags_on_admin_ports() -> None:
    # an exposed admin port stays the exposure checks' finding, tagged or not
    assert depth_of(tagged(estate(ingress=SSH_WORLD), Sensitivity="high")) is None


def test_tagged_host_with_an_exposed_admin_port_still_reports_its_other_exposed_ports() -> None:
    found = depth_of(tagged(estate(ingress=(*SSH_WORLD, sg_rule(8080, 8080))), Tier="private"))
    assert found.severity == Severity.MEDIUM and found.evidence["exposed_ports"] == "tcp/8080"


def test_tagged_host_with_an_unresolvable_rule_on_a_range_is_inconclusive() -> None:
    ingress = (sg_rule(8000, 8100, "pl-missing", kind="prefix_list"),)
    found = depth_of(tagged(estate(ingress=ingress), Sensitivity="high"))
    assert found.status == Status.INCONCLUSIVE
    assert found.message.startswith("cannot decide the defense depth of tcp/8000-8100: cannot "
                                    "resolve pl-missing")
