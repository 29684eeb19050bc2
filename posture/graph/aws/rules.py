"""AWS adapter, part 1: security groups, network ACLs and routes as neutral rules/filters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from posture.graph.core import (
    ANY_PROTOCOL,
    Action,
    Boundary,
    Filter,
    Mode,
    Route,
    Rule,
)
from posture.graph.intervals import ALL_PORTS, EMPTY, IntervalSet, cidr_span

_PROTO_NAMES = {
    "-1": ANY_PROTOCOL,
    "all": ANY_PROTOCOL,
    "6": "tcp",
    "17": "udp",
    "1": "icmp",
    "58": "icmpv6",
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "icmpv6": "icmpv6",
}


def protocol_key(value: Any) -> str:
    text = str(value if value is not None else "-1").strip().lower()
    return _PROTO_NAMES.get(text, text)


def _ports(protocol: str, lo: Any, hi: Any) -> IntervalSet:
    """tcp/udp port range; ICMP: the type (``lo``); null or -1 = all."""
    if protocol in ("icmp", "icmpv6"):
        if lo is None or int(lo) < 0:
            return ALL_PORTS
        return IntervalSet.of((int(lo), int(lo)))
    if protocol not in ("tcp", "udp") or lo is None or hi is None or int(lo) < 0:
        return ALL_PORTS
    return IntervalSet.of((int(lo), int(hi)))


def _peers(cidrs: Iterable[Any]) -> dict[int, IntervalSet]:
    out: dict[int, IntervalSet] = {}
    for c in cidrs:
        parsed = cidr_span(c)
        if parsed is not None:
            fam, span = parsed
            out[fam] = out.get(fam, EMPTY) | span
    return out


def sg_rules(
    sg: Mapping[str, Any], prefix_lists: Mapping[str, list[str] | None], egress: bool
) -> list[Rule]:
    """One security group's ingress (or egress) rules as neutral allow rules."""
    group_id = str(sg.get("group_id"))
    out = []
    for raw in sg.get("egress" if egress else "ingress") or ():
        proto = protocol_key(raw.get("protocol"))
        kind, source = raw.get("source_kind"), raw.get("source")
        peers: dict[int, IntervalSet] = {}
        groups: frozenset[str] = frozenset()
        unresolved = None
        if kind in ("cidr4", "cidr6"):
            peers = _peers([source])
        elif kind == "prefix_list":
            entries = prefix_lists.get(str(source))
            if entries is None:
                unresolved = str(source)
            else:
                peers = _peers(entries)
        elif kind == "security_group":
            groups = frozenset({str(source)})
        ref = {
            "group": group_id,
            "protocol": raw.get("protocol"),
            "from_port": raw.get("from_port"),
            "to_port": raw.get("to_port"),
            "source_kind": kind,
            "peer": source,
            "peer_word": "to" if egress else "from",
        }
        if raw.get("description"):
            ref["description"] = raw.get("description")
        out.append(
            Rule(
                Action.ALLOW,
                proto,
                _ports(proto, raw.get("from_port"), raw.get("to_port")),
                peers,
                groups,
                ref,
                unresolved,
            )
        )
    return out


def sg_filter(group_ids: tuple[str, ...], ingress: list[Rule], egress: list[Rule]) -> Filter:
    return Filter(
        "+".join(group_ids) or "none",
        "security-group",
        Mode.UNION,
        True,
        Boundary.HOST,
        tuple(ingress),
        tuple(egress),
    )


def nacl_filter(acl: Mapping[str, Any]) -> Filter:
    acl_id = str(acl.get("network_acl_id"))
    inbound: list[tuple[int, Rule]] = []
    outbound: list[tuple[int, Rule]] = []
    for e in acl.get("entries") or ():
        proto = protocol_key(e.get("protocol"))
        lo, hi = e.get("port_from"), e.get("port_to")
        if proto in ("icmp", "icmpv6"):
            lo = e.get("icmp_type")
        egress = bool(e.get("egress"))
        number = int(e.get("rule_number") or 0)
        ref = {
            "network_acl": acl_id,
            "rule_number": number,
            "action": e.get("action"),
            "protocol": e.get("protocol"),
            "cidr": e.get("cidr"),
            "port_from": e.get("port_from"),
            "port_to": e.get("port_to"),
            "peer": e.get("cidr"),
            "peer_word": "to" if egress else "from",
        }
        action = Action.ALLOW if e.get("action") == "allow" else Action.DENY
        rule = Rule(action, proto, _ports(proto, lo, hi), _peers([e.get("cidr")]), frozenset(), ref)
        (outbound if egress else inbound).append((number, rule))
    return Filter(
        acl_id,
        "network-acl",
        Mode.FIRST_MATCH,
        False,
        Boundary.NETWORK,
        tuple(r for _, r in sorted(inbound, key=lambda x: x[0])),
        tuple(r for _, r in sorted(outbound, key=lambda x: x[0])),
    )


def routes_of(
    table: Mapping[str, Any], prefix_lists: Mapping[str, list[str] | None], association: str
) -> list[Route]:
    """A route table's routes (prefix-list destinations expanded to their CIDRs)."""
    rt_id = str(table.get("route_table_id"))
    out = []
    for r in table.get("routes") or ():
        dest = r.get("destination")
        cidrs = [dest]
        if r.get("destination_kind") == "prefix_list":
            cidrs = list(prefix_lists.get(str(dest)) or ())
        for cidr in cidrs:
            parsed = cidr_span(cidr)
            if parsed is None:
                continue
            fam, span = parsed
            prefixlen = (
                int(str(cidr).split("/")[1]) if "/" in str(cidr) else (32 if fam == 4 else 128)
            )
            ref = {
                "route_table": rt_id,
                "association": association,
                "destination": dest,
                "target_kind": r.get("target_kind"),
                "target_id": r.get("target_id"),
                "state": r.get("state"),
            }
            out.append(
                Route(
                    fam,
                    span,
                    prefixlen,
                    str(r.get("target_kind")),
                    str(r.get("target_id")),
                    r.get("state") == "active",
                    ref,
                )
            )
    return out
