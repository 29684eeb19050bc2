"""The reachability graph as a networkx DiGraph, exported as GraphML and JSON.

Nodes: ``internet``, VPCs, subnets, route tables, gateways, network ACLs, security-group
sets, interface classes, hosts, load balancers / listeners / target groups, peerings and
transit gateways. Edges carry ``relation``; ``reaches`` edges (internet -> host) carry the
exposed ``ports`` (tcp) with the first path as ``path``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from posture.graph.aws.lb import lb_exposures
from posture.graph.aws.reach import LISTENER, LOAD_BALANCER, TARGET_GROUP, AwsReach
from posture.graph.intervals import FAMILIES

DEFAULT_PORTS = (22, 80, 443, 1433, 3306, 3389, 5432, 5985, 5986, 6379, 9200, 27017)


def _node(g: nx.DiGraph, node: str, kind: str, **attrs: Any) -> None:
    g.add_node(node, kind=kind, **{k: "" if v is None else str(v) for k, v in attrs.items()})


def build_graph(reach: AwsReach, ports: Iterable[int] = DEFAULT_PORTS) -> nx.DiGraph:
    g: nx.DiGraph = nx.DiGraph()
    _node(g, "internet", "internet")
    for vpc_id in sorted(reach.vpcs):
        _node(g, vpc_id, "vpc")
    for subnet_id, subnet in sorted(reach.subnets.items()):
        _node(g, subnet_id, "subnet", cidr=subnet.attr("cidr_block"))
        g.add_edge(subnet_id, str(subnet.attr("vpc_id")), relation="in")
        rt, assoc = reach.route_table(subnet_id)
        if rt is not None:
            rt_id = str(rt.attr("route_table_id"))
            _node(g, rt_id, "route-table")
            g.add_edge(subnet_id, rt_id, relation="routes", association=assoc)
            for r in rt.attr("routes") or ():
                target = str(r.get("target_id"))
                if r.get("target_kind") in ("igw", "nat", "pcx", "tgw"):
                    _node(g, target, str(r.get("target_kind")))
                    g.add_edge(
                        rt_id,
                        target,
                        relation="route",
                        destination=str(r.get("destination")),
                        state=str(r.get("state")),
                    )
                    if r.get("target_kind") == "igw":
                        g.add_edge(target, "internet", relation="gateway")
        acl = reach.nacls.get(subnet_id)
        if acl is not None:
            _node(g, str(acl.attr("network_acl_id")), "network-acl")
            g.add_edge(subnet_id, str(acl.attr("network_acl_id")), relation="filtered-by")
    for pcx_id, pcx in sorted(reach.peerings.items()):
        _node(g, pcx_id, "pcx", status=pcx.attr("status"))
        for end in ("requester_vpc_id", "accepter_vpc_id"):
            g.add_edge(pcx_id, str(pcx.attr(end)), relation="connects")
    for host in reach.hosts():
        _node(g, host.asset.uid, "host", name=host.asset.name, type=host.asset.type)
        for iface in host.interfaces:
            cls = f"class:{'|'.join(map(str, iface.key))}"
            att = reach.classes[iface.key]
            _node(
                g, cls, "interface-class", network=att.network, groups=",".join(sorted(att.groups))
            )
            g.add_edge(host.asset.uid, cls, relation="attached", interface=iface.eni_id)
            g.add_edge(cls, att.network, relation="in")
            for f in att.host_filters():
                _node(g, f.id, f.kind)
                g.add_edge(cls, f.id, relation="filtered-by")
        _exposure(g, reach, host, ports)
    _load_balancers(g, reach)
    return g


def _exposure(g: nx.DiGraph, reach: AwsReach, host: Any, ports: Iterable[int]) -> None:
    open_ports, first = [], ""
    for port in ports:
        for iface in host.interfaces:
            for fam in FAMILIES:
                v = reach.internet(iface.key, fam, "tcp", int(port))
                if v.reachable and v.path is not None:
                    open_ports.append(f"tcp/{port}")
                    first = first or v.path.text()
                    break
            else:
                continue
            break
    if open_ports:
        g.add_edge(
            "internet",
            host.asset.uid,
            relation="reaches",
            ports=",".join(sorted(set(open_ports))),
            path=first,
        )


def _load_balancers(g: nx.DiGraph, reach: AwsReach) -> None:
    for lb in reach.inventory.of(LOAD_BALANCER):
        _node(g, lb.uid, "load-balancer", name=lb.name, scheme=lb.attr("scheme"))
        for subnet_id in lb.attr("subnet_ids") or ():
            g.add_edge(lb.uid, str(subnet_id), relation="in")
    for lst in reach.inventory.of(LISTENER):
        _node(g, lst.uid, "listener", name=lst.name, port=lst.attr("port"))
        g.add_edge(str(lst.attr("load_balancer_arn")), lst.uid, relation="listens")
        for act in lst.attr("default_actions") or ():
            for arn in act.get("target_group_arns") or ():
                g.add_edge(lst.uid, str(arn), relation="forwards")
    for tg in reach.inventory.of(TARGET_GROUP):
        _node(g, tg.uid, "target-group", name=tg.name)
    for uid, exposures in lb_exposures(reach).items():
        for e in exposures:
            g.add_edge(e.target_group.uid, uid, relation="targets", port=str(e.port))
            if e.clients and e.path is not None:
                g.add_edge(
                    "internet",
                    uid,
                    relation="reaches",
                    ports=f"{e.protocol}/{e.port}",
                    path=e.path.text(),
                    via=e.load_balancer.name,
                )


def write(g: nx.DiGraph, output_dir: Path) -> tuple[Path, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    graphml, js = output_dir / "reachability.graphml", output_dir / "reachability.json"
    nx.write_graphml(g, graphml)
    data = nx.node_link_data(g, edges="links")
    js.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return graphml, js
