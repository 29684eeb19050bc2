"""The topology picture of ``report.html``: one layered diagram per network.

Top to bottom: the internet, the network's gateways (internet, NAT, VPN, transit; firewalls and
bastions of a VNet; peerings; and the entries an exposure path names that are not gateways, such
as a load balancer or a public address), its subnets, and the assets exposed today (a FAIL with
depth 0, :func:`~posture.reporters.network_view.is_exposure`). The paths into the exposed assets
are drawn as highlighted edges internet → entry → subnet → asset, the asset labelled with the
ports that are open to the internet. A large estate is capped (networks, gateways, subnets and
assets per network) and each picture says what it leaves out.

This module only computes geometry and plain-text labels (deterministic: everything is sorted);
the template draws them as inline SVG, autoescaped, with no link, image or font to load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.model import Finding
from posture.reporters.network_view import Network, Topology, is_exposure

NODE_W = 168
NODE_H = 40
GAP_X = 14
GAP_Y = 12
LAYER_GAP = 34
PAD = 8
PER_ROW = 8
LABEL_CHARS = 25
MAX_NETWORKS = 24
MAX_GATEWAYS = 16
MAX_SUBNETS = 40
MAX_HOSTS = 20
ENTRY_KINDS = ("gateway", "load-balancer", "peering", "endpoint", "public-ip", "public ip")
# entries that lead into the network's subnets (a public endpoint of a managed service does not)
THROUGH_SUBNETS = ("gateway", "load-balancer", "peering", "public address")
_PORT = re.compile(r"^(tcp|udp|icmp|all)/[0-9*-]+$")


@dataclass(slots=True)
class _Exposure:
    severity: int = 0
    ports: set[str] = field(default_factory=set)
    entries: set[tuple[str, str]] = field(default_factory=set)  # (kind, id)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _hop_lists(ev: Mapping[str, Any]) -> list[list[Mapping[str, Any]]]:
    found = []
    if isinstance(ev.get("path"), list):
        found.append(ev["path"])
    for p in ev.get("paths") or ():
        if isinstance(p, Mapping) and isinstance(p.get("hops"), list):
            found.append(p["hops"])
    return [[h for h in hops if isinstance(h, Mapping)] for hops in found]


def _entry(hops: list[Mapping[str, Any]]) -> tuple[str, str] | None:
    """The first hop after the source that traffic enters the network through: a gateway, a
    load balancer, a public endpoint or peering; else the public address of the interface."""
    for hop in hops[1:]:
        kind, ident = str(hop.get("kind") or ""), str(hop.get("id") or "")
        if any(word in kind for word in ENTRY_KINDS):
            return kind, ident.removeprefix("https://").removeprefix("http://")
        if kind == "interface":
            return "public address", str(hop.get("detail") or ident)
    return None


def _ports(ev: Mapping[str, Any], hop_lists: list[list[Mapping[str, Any]]]) -> set[str]:
    ports = set()
    for p in [ev, *(p for p in ev.get("paths") or () if isinstance(p, Mapping))]:
        if isinstance(p.get("port"), int):
            ports.add(f"{p.get('protocol') or 'tcp'}/{p['port']}")
    for hops in hop_lists:  # a path whose source hop names the port (``tcp/443``)
        rule = str(hops[0].get("rule") or "") if hops else ""
        if not ports and _PORT.match(rule):
            ports.add(rule)
    return ports


def exposures(findings: Iterable[Finding]) -> dict[str, _Exposure]:
    """Per exposed asset: its worst severity, the ports open to the internet, the entries."""
    out: dict[str, _Exposure] = {}
    for f in findings:
        if not is_exposure(f):
            continue
        one = out.setdefault(f.resource_uid, _Exposure())
        one.severity = max(one.severity, int(f.severity))
        hop_lists = _hop_lists(f.evidence)
        one.ports |= _ports(f.evidence, hop_lists)
        one.entries |= {e for e in map(_entry, hop_lists) if e}
    return out


def _node(key: str, cls: str, line1: str, line2: str, title: str) -> dict[str, Any]:
    return {"key": key, "cls": cls, "line1": _short(line1), "line2": _short(line2),
            "title": title}


def _place(layers: list[list[dict[str, Any]]]) -> tuple[int, int]:
    """Give every node its box: layers top to bottom, at most PER_ROW a row, rows centred."""
    cols = max(1, min(PER_ROW, max(len(layer) for layer in layers)))
    width = 2 * PAD + cols * NODE_W + (cols - 1) * GAP_X
    y = PAD
    for layer in layers:
        for start in range(0, len(layer), PER_ROW):
            row = layer[start: start + PER_ROW]
            x = (width - (len(row) * NODE_W + (len(row) - 1) * GAP_X)) // 2
            for node in row:
                node.update(x=x, y=y, w=NODE_W, h=NODE_H, tx=x + 7, ty1=y + 16, ty2=y + 32)
                x += NODE_W + GAP_X
            y += NODE_H + GAP_Y
        y += LAYER_GAP - GAP_Y
    return width, y - LAYER_GAP + PAD


def _edges(pairs: dict[tuple[str, str], bool], nodes: dict[str, dict[str, Any]]) -> list[Any]:
    out = []
    for (a, b), hot in sorted(pairs.items()):
        if a in nodes and b in nodes:
            s, t = nodes[a], nodes[b]
            out.append({"x1": s["x"] + NODE_W // 2, "y1": s["y"] + NODE_H,
                        "x2": t["x"] + NODE_W // 2, "y2": t["y"],
                        "cls": "exposed" if hot else "plain"})
    return out


def _left_out(what: str, shown: int, total: int) -> list[str]:
    return [f"{total - shown} of {total} {what} not drawn"] if total > shown else []


def _picture(net: Network, view: Topology, exp: dict[str, _Exposure],
             names: Mapping[str, str]) -> dict[str, Any]:
    subnets = {s.key: s for s in view.subnets if s.network == net.key}
    hosts = sorted((p for p in view.placed if p.network == net.key and p.uid in exp),
                   key=lambda p: (-exp[p.uid].severity, p.name, p.uid))
    shown_hosts = hosts[:MAX_HOSTS]
    used = {s for h in shown_hosts for s in h.subnets if s in subnets}
    order = sorted(subnets.values(), key=lambda s: (s.key not in used, s.name, s.key))
    shown_subnets = order[:MAX_SUBNETS]
    gws = sorted({g for g in view.gateways if g.network == net.key},
                 key=lambda g: (not g.internet, g.kind, g.name, g.ref))
    gw_nodes = [_node(f"gw:{g.ref}", "gateway", g.kind, g.name, f"{g.kind} {g.name}")
                for g in gws]
    refs = {g.ref for g in gws}
    entries = sorted({e for h in shown_hosts for e in exp[h.uid].entries if e[1] not in refs})
    gw_nodes += [_node(f"gw:{i}", "entry", k, i, f"{k} {i}") for k, i in entries]
    for p in view.peerings:
        if net.key in p.networks:
            other = p.networks[1] if p.networks[0] == net.key else p.networks[0]
            far = names.get(other, other.rsplit("/", 1)[-1])
            gw_nodes.append(_node(f"peer:{p.name}:{other}", "peering", f"peering {p.state}",
                                  f"↔ {far}", f"peering {p.name} with {far} ({p.state})"))
    shown_gw = gw_nodes[:MAX_GATEWAYS]
    sub_nodes = [_node(f"sub:{s.key}", "subnet", "subnet " + ", ".join(s.cidrs), s.name,
                       " ".join(["subnet", s.name, f"({s.key})" if s.key != s.name else "",
                                 *s.cidrs]).replace("  ", " "))
                 for s in shown_subnets]
    host_nodes = []
    for h in shown_hosts:
        ports = ", ".join(sorted(exp[h.uid].ports)) or "exposed"
        host_nodes.append(_node(f"host:{h.uid}", "host", ports, h.name,
                                f"{h.name} ({h.type}) {h.uid}\nopen to the internet: {ports}"))
    internet = _node("internet", "internet", "internet", "", "the internet")
    width, height = _place([[internet], shown_gw, sub_nodes, host_nodes])
    pairs: dict[tuple[str, str], bool] = {("internet", f"gw:{g.ref}"): False
                                          for g in gws if g.internet}
    for h in shown_hosts:
        subs = [f"sub:{s}" for s in h.subnets if s in used]
        for kind, ident in sorted(exp[h.uid].entries):
            pairs[("internet", f"gw:{ident}")] = True
            inside = any(word in kind for word in THROUGH_SUBNETS)
            for s in (subs if inside else []) or [f"host:{h.uid}"]:
                pairs[(f"gw:{ident}", s)] = True
        for s in subs:
            pairs[(s, f"host:{h.uid}")] = pairs.get((s, f"host:{h.uid}"), False) or any(
                any(word in k for word in THROUGH_SUBNETS) for k, _ in exp[h.uid].entries)
    nodes = {n["key"]: n for n in [internet, *shown_gw, *sub_nodes, *host_nodes]}
    head = f"{net.kind} {net.name}" + (f" ({net.key})" if net.key != net.name else "")
    return {
        "title": head,
        "where": " · ".join(x for x in (", ".join(net.cidrs), net.region, net.account) if x),
        "width": width,
        "height": height,
        "nodes": list(nodes.values()),
        "edges": _edges(pairs, nodes),
        "exposed": len(hosts),
        "exposed_names": [h.name for h in shown_hosts],
        "label": _short(f"topology of {head}: {len(subnets)} subnets, {len(hosts)} exposed", 300),
        "left_out": _left_out("gateways and peerings", len(shown_gw), len(gw_nodes))
        + _left_out("subnets", len(shown_subnets), len(subnets))
        + _left_out("exposed assets", len(shown_hosts), len(hosts)),
    }


def topology_section(view: Topology | None, findings: Iterable[Finding]) -> dict[str, Any] | None:
    """The pictures of the networks (those with exposed assets first), or None without any."""
    if view is None or not view.networks:
        return None
    exp = exposures(findings)
    names = {n.key: n.name for n in view.networks}
    count = {n.key: sum(1 for p in view.placed if p.network == n.key and p.uid in exp)
             for n in view.networks}
    order = sorted(view.networks, key=lambda n: (-count[n.key], n.account, n.region, n.name,
                                                 n.key))
    placed = {p.uid for p in view.placed if p.network in names}
    return {
        "networks": [_picture(n, view, exp, names) for n in order[:MAX_NETWORKS]],
        "left_out": _left_out("networks", min(MAX_NETWORKS, len(order)), len(order)),
        "unplaced": len(set(exp) - placed),
    }


__all__ = ["exposures", "topology_section"]
