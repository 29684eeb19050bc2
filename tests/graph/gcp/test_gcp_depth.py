"""GCP defense depth (checks/gcp_network_depth.py): depth 0, 1 and 2+ with the blocking layers
named, the traps (a deny shadowing an allow, IAP-only SSH, a target tag no instance has, a
hierarchical deny over an open VPC rule), routes on the reply path, load-balancer paths,
undecidable layers, and the depth in the HTML report and the CSV."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from support.checks import run_one
from support.gcp import (
    backend_service,
    depth_of,
    epolicy,
    firewall,
    forwarding_rule,
    gcp_error,
    ginventory,
    instance,
    instance_group,
    network,
    network_policy,
    proxy,
    prule,
    results,
    route,
    target_pool,
)

from posture.model import Finding, Inventory, Severity, Status

DEPTH = "gcp.network.sensitive_ports_defense_in_depth"
ADMIN = "gcp.network.admin_ports_not_internet_reachable"
DB = "gcp.network.db_ports_not_internet_reachable"
IAP = "35.235.240.0/20"
LB_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
ROUTE = "compute.googleapis.com/Route"


SUBNET_ROUTE = route("subnet", "10.0.0.0/24", "network", priority=0)
DEFAULT_ROUTE = route("default-route", "0.0.0.0/0")


def changes(f: Finding) -> list[tuple[str, str]]:
    return [(x["layer"], x["resource"]) for x in f.evidence["changes"]]


def layer(f: Finding, kind: str) -> dict[str, Any]:
    return next(x for x in f.evidence["layers"] if x["layer"] == kind)


# -- depth 0: the exposure checks' finding ----------------------------------------------------


def test_exposed_instance_is_left_to_the_exposure_check_which_says_depth_zero() -> None:
    assets = (firewall("ssh"), instance("vm"))
    assert "vm" not in results(DEPTH, *assets)
    fail = results(ADMIN, *assets)["vm"]
    assert fail.status is Status.FAIL and fail.evidence["depth"] == 0
    assert depth_of(*assets).depth == 0


# -- depth 1: one change exposes it -----------------------------------------------------------


def test_priority_shadowing_by_a_deny_is_depth_one_naming_the_deny() -> None:
    got = results(
        DEPTH,
        firewall("ssh-app", target_tags=("app",)),
        firewall("deny-ssh", priority=900, action="deny", target_tags=("app",)),
        instance("vm", tags=("app",)),
    )["vm"]
    assert got.status is Status.FAIL and got.severity is Severity.LOW
    assert got.evidence["depth"] == 1 and got.evidence["port"] == 22
    assert changes(got) == [("vpc-firewall", "vpc")]
    single = got.evidence["single_change"]
    assert single["rule"] == "deny-ssh (priority 900): deny tcp/22 from 0.0.0.0/0"
    assert "at a priority number below 900 (ahead of deny-ssh)" in single["change"]
    assert got.message.startswith("only the VPC firewall rules of network vpc (deny-ssh")
    assert "one change exposes it: add a VPC firewall rule" in got.message
    assert got.evidence["via"] == "direct (IPv4) nic0"


def test_iap_only_ssh_is_not_internet_and_counts_what_an_internet_client_lacks() -> None:
    iap = firewall("iap", source_ranges=(IAP,))
    got = results(DEPTH, iap, instance("vm"))["vm"]
    assert got.status is Status.FAIL and got.evidence["depth"] == 1
    vpc = got.evidence["single_change"]
    assert vpc["layer"] == "vpc-firewall" and vpc["rule"] == "no rule matches: implied deny"
    assert "only Identity-Aware Proxy (35.235.240.0/20)" in vpc["detail"]
    # no external IP: two changes (an address and a VPC rule): passes at the default min_depth
    deep = results(DEPTH, iap, instance("vm", external=False))["vm"]
    assert deep.status is Status.PASS and deep.evidence["depth"] == 2
    assert [k for k, _ in changes(deep)] == ["external-address", "vpc-firewall"]


def test_rule_whose_target_tag_matches_no_instance_leaves_the_implied_deny() -> None:
    rule = firewall("ssh-web", target_tags=("web",))
    got = results(DEPTH, rule, instance("vm", tags=("app",)), instance("web", tags=("web",)))
    assert got["vm"].status is Status.FAIL and got["vm"].evidence["depth"] == 1
    assert got["vm"].evidence["single_change"]["rule"] == "no rule matches: implied deny"
    assert "web" not in got  # exposed: the admin check's FAIL, not a depth finding
    # the port the VPC rule names is the weakest: something admits it, a deny is all it lacks
    assert got["vm"].evidence["port"] == 22


def test_hierarchical_deny_over_an_open_vpc_rule_is_the_single_layer() -> None:
    org = epolicy("org", prule(100, "deny", ports=("22",)))
    assets = (network(policies=[org]), firewall("ssh-open"))
    assert results(ADMIN, *assets, instance("vm"))["vm"].status is Status.PASS
    got = results(DEPTH, *assets, instance("vm"))["vm"]
    assert got.status is Status.FAIL and got.evidence["depth"] == 1
    assert changes(got) == [("hierarchical-policy", "org")]
    single = got.evidence["single_change"]
    assert single["rule"] == "rule 100: deny tcp/22 from 0.0.0.0/0" and single["blocking"]
    assert "in hierarchical firewall policy org at a priority number below 100" in (
        single["change"]
    )
    vpc = layer(got, "vpc-firewall")
    assert vpc["blocking"] is False and vpc["rule"].startswith("ssh-open")
    assert "not reached: an earlier level decides first" in vpc["detail"]
    assert [x["layer"] for x in got.evidence["layers"]] == [
        "external-address", "route", "hierarchical-policy", "vpc-firewall"
    ]
    # without the external IP the deny and the address are the two layers
    deep = results(DEPTH, *assets, instance("vm", external=False))["vm"]
    assert deep.status is Status.PASS and deep.evidence["depth"] == 2
    assert [k for k, _ in changes(deep)] == ["external-address", "hierarchical-policy"]


def test_one_allow_at_the_first_level_opens_the_whole_chain() -> None:
    """A hierarchical deny over VPC rules that admit nothing is still one change from open:
    an allow inserted ahead of the deny ends the evaluation before the VPC rules."""
    org = epolicy("org", prule(100, "deny", ports=("22",)))
    d = depth_of(network(policies=[org]), instance("vm"))
    assert d.depth == 1 and d.best is not None
    assert [x.layer for x in d.best.changes] == ["hierarchical-policy"]
    # the VPC rules alone would not do: their flip is never reached
    vpc = next(x for x in d.best.layers if x.layer == "vpc-firewall")
    assert vpc.blocking is True and vpc not in d.best.changes


def test_network_policy_after_the_vpc_rules_and_before_them() -> None:
    deny = [epolicy("np", prule(100, "deny", ports=("22",)), type_="NETWORK")]
    ssh = firewall("ssh")
    # AFTER_CLASSIC_FIREWALL (default): the VPC allow decides first: exposed
    assert depth_of(network(policies=deny), ssh, instance("vm")).depth == 0
    # BEFORE_CLASSIC_FIREWALL: the policy's deny decides first: one change in the policy
    before = network(policies=deny, order="BEFORE_CLASSIC_FIREWALL")
    d = depth_of(before, ssh, instance("vm"))
    assert d.depth == 1 and d.best is not None
    assert [(x.layer, x.resource) for x in d.best.changes] == [("network-policy", "np")]


# -- routes ------------------------------------------------------------------------------------


def test_deleted_default_route_is_a_layer_and_not_exposure() -> None:
    assets = (firewall("ssh"), SUBNET_ROUTE, instance("vm"))
    admin = results(ADMIN, *assets)["vm"]
    assert admin.status is Status.PASS and "no route sends the replies" in admin.message
    assert admin.evidence["unrouted"][0]["route"]["detail"].startswith("no route covers")
    got = results(DEPTH, *assets)["vm"]
    assert got.status is Status.FAIL and changes(got) == [("route", "vpc")]
    assert "create a route 0.0.0.0/0 -> default-internet-gateway" in got.message
    # the default route back: exposed
    assert depth_of(*assets, DEFAULT_ROUTE).depth == 0
    # no external IP either: the address and the route (the firewall is open)
    deep = depth_of(firewall("ssh"), SUBNET_ROUTE, instance("vm", external=False))
    assert deep.depth == 2 and deep.best is not None
    assert [x.layer for x in deep.best.changes] == ["external-address", "route"]


def test_routes_for_a_tag_and_routes_diverting_the_internet() -> None:
    tagged = route("egress", "0.0.0.0/0", tags=("egress",))
    assert depth_of(firewall("ssh"), SUBNET_ROUTE, tagged, instance("vm")).depth == 1
    assert depth_of(firewall("ssh"), SUBNET_ROUTE, tagged,
                    instance("vm", tags=("egress",))).depth == 0
    halves = (route("nat-a", "0.0.0.0/1", "instance"), route("nat-b", "128.0.0.0/1", "instance"))
    d = depth_of(firewall("ssh"), SUBNET_ROUTE, DEFAULT_ROUTE, *halves, instance("vm"))
    assert d.depth == 1 and d.best is not None
    assert d.best.changes[0].layer == "route" and "nat-" in d.best.changes[0].rule
    # only a /8 is admitted (just the wide internet) and it is the part sent elsewhere: not
    # exposed; routed, it is
    partner = firewall("partner", source_ranges=("8.0.0.0/8",))
    nat = route("to-nat", "8.0.0.0/8", "instance", priority=900)
    assert depth_of(partner, SUBNET_ROUTE, DEFAULT_ROUTE, nat, instance("vm")).depth == 1
    assert depth_of(partner, SUBNET_ROUTE, DEFAULT_ROUTE, instance("vm")).depth == 0
    # an office /16 is an allow-list, not the internet, routed or not
    office = firewall("office", source_ranges=("8.8.0.0/16",))
    assert depth_of(office, SUBNET_ROUTE, DEFAULT_ROUTE, instance("vm")).depth == 1


def test_unlisted_routes_are_undecided_never_pass() -> None:
    err = gcp_error("compute", "routes.list", (ROUTE,))
    open_ = (firewall("ssh"), instance("vm"))
    assert results(ADMIN, *open_, errors=(err,))["vm"].status is Status.INCONCLUSIVE
    got = results(DEPTH, *open_, errors=(err,))["vm"]
    assert got.status is Status.INCONCLUSIVE and "could not be listed" in got.message
    # the route does not matter when two other layers already block
    deep = results(DEPTH, instance("vm", external=False), errors=(err,))["vm"]
    assert deep.status is Status.PASS and deep.evidence["depth"] is None
    assert deep.evidence["depth_at_least"] == 2


# -- load balancers ----------------------------------------------------------------------------


def test_passthrough_load_balancer_is_a_candidate_path() -> None:
    nlb = (
        forwarding_rule("ssh-nlb", target="regions/us-central1/targetPools/pool", ports="22-22",
                        region="us-central1"),
        target_pool("pool", "vm"),
        instance("vm", external=False),
    )
    got = results(DEPTH, *nlb)["vm"]
    assert got.status is Status.FAIL and got.evidence["depth"] == 1
    assert got.evidence["via"].startswith("load balancer ssh-nlb (tcp/22) -> TargetPool pool")
    assert changes(got) == [("vpc-firewall", "vpc")]
    # its replies need the route too
    d = depth_of(*nlb, SUBNET_ROUTE, firewall("ssh"))
    assert d.depth == 1 and d.best is not None and d.best.changes[0].layer == "route"


def test_proxy_load_balancer_named_port_and_identity_aware_proxy() -> None:
    ig = "zones/us-central1-a/instanceGroups/ig"
    web = (
        forwarding_rule("web-lb", target="global/targetTcpProxies/p"),
        proxy("targetTcpProxies", "p", service="global/backendServices/bs"),
        instance_group("ig", "vm", named_ports=(("http", 80),)),
        firewall("gfe", source_ranges=LB_RANGES, rules=(("tcp", ()),)),
        instance("vm", external=False),
    )
    got = results(DEPTH, backend_service("bs", ig), *web)["vm"]
    assert got.status is Status.FAIL and got.evidence["port"] == 22
    assert changes(got) == [("named-port", "ig")]
    assert got.evidence["single_change"]["change"] == (
        "set named port 'http' of instance group ig to tcp/22"
    )
    # Identity-Aware Proxy on the backend service is a second layer on that path
    iap = results(DEPTH, backend_service("bs", ig, iap=True), *web)["vm"]
    assert iap.status is Status.PASS and iap.evidence["depth"] == 2
    d = depth_of(backend_service("bs", ig, iap=True), *web)
    lb = next(p for p in d.paths if p.via.startswith("load balancer web-lb"))
    assert lb.depth == 2 and [x.layer for x in lb.changes] == ["named-port", "iap"]
    assert lb.changes[1].change == "disable Identity-Aware Proxy on backend service bs"


# -- undecidable, parameters ------------------------------------------------------------------


def test_secure_tag_rule_is_inconclusive_never_pass() -> None:
    tagged = prule(100, "allow", target_tags=(("tagValues/1", "EFFECTIVE"),))
    pol = network_policy("np", tagged, region="us-central1")
    got = results(DEPTH, network(), pol, instance("vm"))["vm"]
    assert got.status is Status.INCONCLUSIVE and "secure tag" in got.message


def test_class_severity_and_min_depth_are_parameters() -> None:
    assets = (firewall("iap", source_ranges=(IAP,)), instance("vm"))
    high = results(DEPTH, *assets, class_severity={"admin": "high", "database": "low"})["vm"]
    assert high.status is Status.FAIL and high.severity is Severity.HIGH
    deep = (firewall("iap", source_ranges=(IAP,)), instance("vm", external=False))
    assert results(DEPTH, *deep)["vm"].status is Status.PASS
    assert results(DEPTH, *deep, min_depth=3)["vm"].status is Status.FAIL


# -- the report --------------------------------------------------------------------------------


def test_html_depth_table_and_csv_depth_column_show_gcp_findings() -> None:
    from posture.reporters import OutputFormat, Report, reporter_for

    inv = ginventory(
        firewall("ssh-web", target_tags=("web",)),
        firewall("iap", source_ranges=(IAP,)),
        instance("web", tags=("web",)),
        instance("vm"),
        instance("private", external=False),
    )
    found = [*run_one(ADMIN, inv), *run_one(DEPTH, inv)]
    rep = Report(findings=tuple(found), inventory_meta=inv.meta, collection_errors=(),
                 snapshot_sha256=None, frameworks=())
    html = reporter_for(OutputFormat.HTML).render(rep).decode("utf-8")
    section = html[html.index('<section id="defense-depth">'):]
    section = section[: section.index("</section>")]
    assert re.findall(r'<tr data-depth="([^"]+)">', section) == ["0", "1", "2+"]
    assert "compute.googleapis.com/Instance" in section
    assert "vpc-firewall vpc: no rule matches: implied deny" in section
    assert "One change exposes it:</b> add a VPC firewall rule to network vpc" in section
    rows = list(csv.DictReader(io.StringIO(
        reporter_for(OutputFormat.CSV).render(rep).decode("utf-8-sig"))))
    cells = {(r["check_id"], r["resource_name"]): r["depth"] for r in rows}
    assert cells[(ADMIN, "web")] == "0" and cells[(ADMIN, "vm")] == ""
    assert cells[(DEPTH, "vm")] == "1" and cells[(DEPTH, "private")] == "2"


def test_depth_is_deterministic() -> None:
    def run() -> list[tuple[str, str, str]]:
        inv: Inventory = ginventory(
            network(policies=[epolicy("org", prule(100, "deny", ports=("5432",)))]),
            firewall("pg", rules=(("tcp", ("5432",)),)),
            firewall("iap", source_ranges=(IAP,)),
            instance("a"),
            instance("b", external=False),
        )
        return [(f.resource_name, f.message, repr(f.evidence)) for f in run_one(DEPTH, inv)]

    assert run() == run()
