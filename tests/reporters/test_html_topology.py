"""The topology pictures of report.html: the networks read from the snapshot (AWS, Azure, GCP),
the layered layout (deterministic, capped, names as plain text), and the picture of the demo
account rendered by a real headless Chromium that makes no network request."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support import DEMO, gcp
from support import azure as az
from support.aws import ACCOUNT, asset, inventory
from support.browser import Dom, chromium, needs_chromium
from support.reports import XSS_IMG, XSS_SCRIPT, report

from posture.model import Asset, Finding, Inventory, Provider, Severity, Status
from posture.reporters import OutputFormat, Report, write_reports
from posture.reporters.html_reporter import render_html
from posture.reporters.html_topology import MAX_HOSTS, MAX_NETWORKS, MAX_SUBNETS, topology_section
from posture.reporters.network_view import is_exposure, topology_of

ARN = f"arn:aws:ec2:us-east-1:{ACCOUNT}"


def vpc(vid: str, name: str | None = None) -> Asset:
    return asset("AWS::EC2::VPC", f"{ARN}:vpc/{vid}", name or vid, vpc_id=vid,
                 cidr_blocks=["10.0.0.0/16"])


def subnet(sid: str, vid: str = "vpc-1", name: str | None = None) -> Asset:
    return asset("AWS::EC2::Subnet", f"{ARN}:subnet/{sid}", name or sid, subnet_id=sid,
                 vpc_id=vid, cidr_block="10.0.1.0/24")


def host(iid: str, sid: str = "subnet-a", vid: str = "vpc-1", name: str | None = None) -> Asset:
    return asset("AWS::EC2::Instance", f"{ARN}:instance/{iid}", name or iid, subnet_id=sid,
                 vpc_id=vid)


def exposed(a: Asset, *, port: int = 22, entry: tuple[str, str] = ("internet-gateway", "igw-1"),
            status: Status = Status.FAIL, depth: int = 0,
            severity: Severity = Severity.HIGH) -> Finding:
    hops = [{"kind": "internet", "id": "0.0.0.0/0"}, {"kind": entry[0], "id": entry[1]},
            {"kind": "security-group", "id": "sg-1", "detail": f"allow tcp/{port}"},
            {"kind": "interface", "id": "eni-1", "detail": "54.1.2.3"},
            {"kind": "asset", "id": a.name, "detail": a.type}]
    return Finding("aws.network.admin_ports_not_internet_reachable", "t", status, severity,
                   Provider.AWS, a.uid, a.type, a.name, ACCOUNT, a.region, "m",
                   {"depth": depth, "paths": [{"hops": hops, "port": port, "protocol": "tcp"}]},
                   (), {}, "")


def estate() -> tuple[Inventory, list[Finding]]:
    web, db = host("i-web", name="web"), host("i-db", "subnet-b", name="db")
    assets = [
        vpc("vpc-1", "prod"), vpc("vpc-2", "dev"), subnet("subnet-a", name="public-a"),
        subnet("subnet-b", name="private-b"), subnet("subnet-c", "vpc-2"), web, db,
        asset("AWS::EC2::InternetGateway", f"{ARN}:internet-gateway/igw-1", "edge",
              igw_id="igw-1", vpc_ids=["vpc-1"]),
        asset("AWS::EC2::NatGateway", f"{ARN}:natgateway/nat-1", "nat-1", nat_gateway_id="nat-1",
              vpc_id="vpc-1", subnet_id="subnet-a"),
        asset("AWS::EC2::TransitGatewayAttachment", f"{ARN}:transit-gateway-attachment/a-1",
              "a-1", transit_gateway_id="tgw-1", vpc_id="vpc-1"),
        asset("AWS::EC2::RouteTable", f"{ARN}:route-table/rtb-1", "rtb-1", vpc_id="vpc-1",
              routes=[{"target_kind": "vgw", "target_id": "vgw-1"}]),
        asset("AWS::EC2::RouteTable", f"{ARN}:route-table/rtb-2", "rtb-2", vpc_id="vpc-1",
              routes=[{"target_kind": "vgw", "target_id": "vgw-1"}]),
        asset("AWS::EC2::VPCPeeringConnection", f"{ARN}:vpc-peering-connection/pcx-1",
              "prod-dev", requester_vpc_id="vpc-1", accepter_vpc_id="vpc-2", status="active"),
    ]
    findings = [exposed(web), exposed(web, port=3389, severity=Severity.CRITICAL),
                exposed(db, port=5432, entry=("load-balancer", "lb-1")),
                exposed(db, status=Status.PASS), exposed(web, depth=1)]
    return inventory(*assets), findings


def section(inv: Inventory, findings: list[Finding]) -> dict[str, Any]:
    out = topology_section(topology_of(inv, findings), findings)
    assert out is not None
    return out


def labels(picture: dict[str, Any], cls: str) -> list[tuple[str, str]]:
    return [(n["line1"], n["line2"]) for n in picture["nodes"] if n["cls"] == cls]


def edge_pairs(picture: dict[str, Any], cls: str = "exposed") -> set[tuple[str, str]]:
    at = {(n["x"] + n["w"] // 2, n["y"]): n["line2"] or n["line1"] for n in picture["nodes"]}
    below = {(n["x"] + n["w"] // 2, n["y"] + n["h"]): n["line2"] or n["line1"]
             for n in picture["nodes"]}
    return {(below[(e["x1"], e["y1"])], at[(e["x2"], e["y2"])])
            for e in picture["edges"] if e["cls"] == cls}


def test_only_fails_at_depth_zero_or_state_exposed_count() -> None:
    _, found = estate()
    assert [is_exposure(f) for f in found] == [True, True, True, False, False]
    assert is_exposure(replace(found[4], evidence={"depth": None, "state": "exposed"}))
    assert not is_exposure(replace(found[0], evidence={"depth": False}))


def test_aws_network_layers_gateways_and_the_paths_into_exposed_hosts() -> None:
    inv, found = estate()
    out = section(inv, found)
    prod, dev = out["networks"]
    assert prod["title"] == "VPC prod (vpc-1)" and prod["exposed"] == 2
    assert dev["title"] == "VPC dev (vpc-2)" and dev["exposed"] == 0
    assert labels(prod, "internet") == [("internet", "")]
    assert labels(prod, "gateway") == [("internet gateway", "edge"), ("NAT gateway", "nat-1"),
                                       ("VPN gateway", "vgw-1"), ("transit gateway", "tgw-1")]
    assert labels(prod, "entry") == [("load-balancer", "lb-1")]
    assert labels(prod, "peering") == [("peering active", "↔ dev")]
    assert labels(dev, "peering") == [("peering active", "↔ prod")]
    # subnets holding exposed hosts first; hosts worst first, labelled with their open ports
    assert [n[1] for n in labels(prod, "subnet")] == ["private-b", "public-a"]
    assert labels(prod, "host") == [("tcp/22, tcp/3389", "web"), ("tcp/5432", "db")]
    assert edge_pairs(prod) == {("internet", "edge"), ("internet", "lb-1"),
                                ("edge", "public-a"), ("public-a", "web"),
                                ("lb-1", "private-b"), ("private-b", "db")}
    assert edge_pairs(prod, "plain") == set()  # the internet gateway's own edge is on a path
    assert labels(dev, "host") == [] and edge_pairs(dev) == set()
    assert out["unplaced"] == 0 and out["left_out"] == [] and prod["left_out"] == []


def test_layout_is_deterministic_whatever_the_input_order() -> None:
    inv, found = estate()
    first = section(inv, found)
    rng = random.Random(7)
    for _ in range(3):
        assets, shuffled = list(inv.assets), list(found)
        rng.shuffle(assets)
        rng.shuffle(shuffled)
        again = section(Inventory(inv.meta, tuple(assets)), shuffled)
        assert json.dumps(again, sort_keys=True) == json.dumps(first, sort_keys=True)


def test_boxes_stay_inside_the_picture_and_do_not_overlap() -> None:
    inv, found = estate()
    for pic in section(inv, found)["networks"]:
        boxes = [(n["x"], n["y"], n["x"] + n["w"], n["y"] + n["h"]) for n in pic["nodes"]]
        assert all(x1 >= 0 and x2 <= pic["width"] and y1 >= 0 and y2 <= pic["height"]
                   for x1, y1, x2, y2 in boxes)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_a_large_estate_is_capped_and_says_what_was_left_out() -> None:
    subnets = [subnet(f"subnet-{i:03d}") for i in range(MAX_SUBNETS + 10)]
    hosts = [host(f"i-{i:03d}", f"subnet-{i:03d}") for i in range(MAX_HOSTS + 5)]
    vpcs = [vpc("vpc-1")] + [vpc(f"vpc-x{i:02d}") for i in range(MAX_NETWORKS + 2)]
    found = [exposed(h) for h in hosts]
    out = section(inventory(*vpcs, *subnets, *hosts), found)
    assert len(out["networks"]) == MAX_NETWORKS
    assert out["left_out"] == [f"3 of {MAX_NETWORKS + 3} networks not drawn"]
    big = out["networks"][0]  # the network with exposed hosts comes first
    assert big["title"] == "VPC vpc-1" and big["exposed"] == MAX_HOSTS + 5
    assert len(labels(big, "host")) == MAX_HOSTS and len(labels(big, "subnet")) == MAX_SUBNETS
    assert big["left_out"] == [f"10 of {MAX_SUBNETS + 10} subnets not drawn",
                               f"5 of {MAX_HOSTS + 5} exposed assets not drawn"]
    # the subnets of the drawn hosts are all drawn
    assert {n[1] for n in labels(big, "subnet")} >= {f"subnet-{i:03d}" for i in range(MAX_HOSTS)}


def test_an_exposed_asset_outside_the_networks_is_counted() -> None:
    inv, found = estate()
    bucket = asset("AWS::S3::Bucket", "arn:aws:s3:::open", "open")
    inv = Inventory(inv.meta, (*inv.assets, bucket))
    assert section(inv, [*found, exposed(bucket)])["unplaced"] == 1


def test_no_networks_no_section() -> None:
    assert topology_of(inventory(host("i-1")), []) is None
    assert topology_section(None, []) is None


def test_azure_vnets_subnets_peerings_and_a_vm_exposed_through_its_nic() -> None:
    net, sub, other = az.vnet("hub"), az.subnet("web", "10.0.1.0/24", vnet_name="hub"), az.vnet(
        "spoke", ("10.1.0.0/16",))
    card = az.nic("nic1", sub, "10.0.1.4")
    machine = az.vm("vm1", card)
    peerings = [az.az("Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
                      f"{a.uid}/virtualnetworkpeerings/to-{b.name}", vnet_id=a.uid,
                      remote_vnet_id=b.uid, peering_state="Connected")
                for a, b in ((net, other), (other, net))]
    inv = az.inventory(net, sub, other, card, machine, *peerings)
    hit = Finding("azure.network.admin_ports_not_internet_reachable", "t", Status.FAIL,
                  Severity.HIGH, Provider.AZURE, machine.uid, machine.type, "vm1", az.SUB,
                  "westeurope", "m", {"depth": 0, "paths": [{"port": 3389, "protocol": "tcp",
                  "hops": [{"kind": "internet", "id": "1.0.0.0"},
                           {"kind": "network-security-group", "id": "nsg"},
                           {"kind": "interface", "id": "nic1", "detail": "20.1.2.3"},
                           {"kind": "asset", "id": "vm1"}]}]}, (), {}, "")
    hub, spoke = section(inv, [hit])["networks"]
    assert hub["title"].startswith("VNet hub (") and hub["exposed"] == 1
    assert labels(hub, "entry") == [("public address", "20.1.2.3")]
    assert labels(hub, "host") == [("tcp/3389", "vm1")]
    assert labels(hub, "peering") == [("peering Connected", "↔ spoke")]  # one of the two halves
    assert labels(spoke, "peering") == [("peering Connected", "↔ hub")]
    assert edge_pairs(hub) == {("internet", "20.1.2.3"), ("20.1.2.3", "web"), ("web", "vm1")}


def test_gcp_network_with_its_default_internet_gateway() -> None:
    net = gcp.network()
    sub = gcp.subnetwork("web", "10.0.0.0/24")
    route = gcp.compute("Route", "routes", "default", route_name="default", network=gcp.NET,
                        dest_range="0.0.0.0/0", next_hop_kind="internet_gateway",
                        next_hop="default-internet-gateway")
    vm = gcp.instance("vm")
    inv = gcp.ginventory(net, sub, route, vm)
    hit = Finding("gcp.network.admin_ports_not_internet_reachable", "t", Status.FAIL,
                  Severity.HIGH, Provider.GCP, vm.uid, vm.type, "vm", gcp.PROJECT_ID, vm.region,
                  "m", {"depth": 0, "paths": [{"port": 22, "protocol": "tcp", "hops": [
                      {"kind": "internet", "id": "1.0.0.0"},
                      {"kind": "internet-gateway", "id": "default-internet-gateway"},
                      {"kind": "interface", "id": "nic0", "detail": "34.1.2.3"}]}]},
                  (), {}, "")
    (pic,) = section(inv, [hit])["networks"]
    assert pic["title"] == f"VPC network vpc ({gcp.NET})"
    assert labels(pic, "gateway") == [("internet gateway", "default-internet-gateway")]
    assert labels(pic, "host") == [("tcp/22", "vm")]  # no subnetwork on its interface
    assert edge_pairs(pic) == {("internet", "default-internet-gateway"),
                               ("default-internet-gateway", "vm")}


def test_names_are_text_in_the_page() -> None:
    hostile = host("i-evil", name=XSS_SCRIPT)
    inv = inventory(vpc("vpc-1", XSS_IMG), subnet("subnet-a", name=XSS_SCRIPT), hostile)
    found = [exposed(hostile, entry=("load-balancer", XSS_IMG))]
    rep = Report(findings=tuple(found), inventory_meta=inv.meta,
                 topology=topology_of(inv, found))
    html = render_html(rep)
    start = html.index('<section id="topology">')
    part = html[start: html.index("</section>", start)]
    assert "<script>" not in part and "<img" not in part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in part  # cut to the label width, escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in part
    elements = Dom(part).elements
    assert {tag for tag, _ in elements} >= {"svg", "g", "rect", "text", "line", "title"}
    assert {tag for tag, _ in elements} <= {"section", "h2", "p", "figure", "figcaption", "b",
                                            "span", "div", "svg", "g", "title", "rect", "text",
                                            "line"}
    keys = {k for _, attrs in elements for k in attrs}
    assert not [k for k in keys if k in ("href", "src", "xlink:href", "style") or
                k.startswith("on")]


def test_the_page_without_networks_has_no_topology_section() -> None:
    assert 'id="topology"' not in render_html(report())


# -- the demo account in a real browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from posture.pipeline import load_prepared, run_audit
    from posture.registry import load_catalogue

    catalogue = load_catalogue()
    _, rep = run_audit(load_prepared(DEMO / "snapshot.json"), catalogue,
                       lambda r: Report.of(r, catalogue.frameworks))
    out = tmp_path_factory.mktemp("topology")
    return write_reports(rep, out, [OutputFormat.HTML])[OutputFormat.HTML]


@needs_chromium
def test_demo_topology_renders_offline_and_names_the_exposed_host(
    demo_html: Path, tmp_path: Path
) -> None:
    netlog = tmp_path / "netlog.json"
    done = chromium(tmp_path / "profile", f"--log-net-log={netlog}", "--dump-dom",
                    demo_html.as_uri())
    dom = Dom(done.stdout, lambda a: a.get("class") in ("name", "kind"))
    figures = [a for a in dom.of("figure") if a.get("class") == "topology"]
    assert len(figures) == 4  # the demo's four VPCs (two default ones)
    assert figures[0].get("data-exposed") == "4"  # prod-vpc: its exposed assets first
    svgs = [a for a in dom.of("svg") if a.get("class") == "topology"]
    assert len(svgs) == 4 and all(a.get("role") == "img" for a in svgs)
    names = dom.texts
    for expected in ("prod-igw", "↔ dev-vpc", "↔ prod-vpc", "prod-public-b", "legacy-jumphost",
                     "reporting-db", "tcp/3306"):
        assert expected in names, expected
    assert "prod-vpc" in done.stdout and "dev-vpc" in done.stdout
    # the page asked the network for nothing (Chromium's own update and account pings are
    # initiated by "not an origin"; anything the page loads carries its opaque file origin)
    requests = [e["params"] for e in json.loads(netlog.read_text("utf-8"))["events"]
                if "url" in e.get("params", {}) and "initiator" in e["params"]]
    assert not [r["url"] for r in requests if r["initiator"] != "not an origin"]
    page = demo_html.read_text("utf-8")
    part = page.split('<section id="topology">')[1].split("</section>")[0]
    assert "http" not in part and "url(" not in part
