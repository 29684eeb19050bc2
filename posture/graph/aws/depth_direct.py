"""Defense depth, part 2: the direct path from the internet to an interface class.

Layers (:mod:`posture.graph.depth`): the class's host filters (security groups), its public
address, the subnet's route to an internet gateway, the network filters inbound and - when
stateless - outbound for the replies. Their client sets come from the filters' memoized
admissions and the adapter's internet routes (the primitives
:func:`posture.graph.paths.internet_verdict` composes): the path is their intersection, so a flip
set opens it when the intersection of the unflipped layers is wide.
"""

from __future__ import annotations

import bisect
from typing import Any

from posture.graph.aws.reach import AwsReach
from posture.graph.core import Admission, Direction, Filter, describe_rule, lpm
from posture.graph.depth import (
    NEVER,
    TCP,
    Layer,
    PathDepth,
    min_flips,
    result,
    wide,
)
from posture.graph.intervals import EMPTY, PUBLIC, IntervalSet
from posture.net import ANYWHERE


def direct(
    reach: AwsReach,
    key: tuple[Any, ...],
    family: int,
    port: int,
    protocol: str = TCP,
    pinned: bool = False,
) -> PathDepth:
    """Depth of the direct path to ``protocol/port`` on the interface class ``key`` (memoized).

    ``pinned``: the interfaces can never be given a public IPv4 address (the requester-managed
    interface of a VPC endpoint): the IPv4 public-address layer cannot be flipped, so an IPv4
    path without one is never opened by any set of flips."""
    memo: dict[Any, PathDepth] = reach.memo.setdefault("depth.direct", {})
    k = (key, family, port, protocol, pinned)
    found = memo.get(k)
    if found is None:
        found = memo[k] = _direct(reach, key, family, port, protocol, pinned)
    return found


def _direct(
    reach: AwsReach, key: tuple[Any, ...], family: int, port: int, protocol: str, pinned: bool
) -> PathDepth:
    att = reach.classes[key]
    via = f"direct (IPv{family})"
    if att.unknown:
        return PathDepth(via, family, (), None, 0, (), att.unknown)
    pub = PUBLIC[family]
    pairs: list[tuple[Layer, IntervalSet]] = []
    for f in att.host_filters():
        adm = f.admit(Direction.IN, family, protocol, port)
        pairs.append(_host_layer(f, adm, family, protocol, port))
    has = att.public.get(family)
    fixed = pinned and family == 4
    pairs.append((_address_layer(family, has, fixed), pub if has else EMPTY))
    pairs.append(route_layer(reach, att.network, family))
    for f in att.net_filters():
        adm = f.admit(Direction.IN, family, protocol, port)
        pairs.append(_acl_in_layer(f, adm, family, protocol, port))
    for f in att.net_filters():
        if not f.stateful:
            pairs.append(_acl_return_layer(f, family, protocol))
    layers = [x for x, _ in pairs]
    if fixed and not has:  # no flip gives the interface a public IPv4 address
        return PathDepth(via, family, tuple(layers), None, NEVER)
    # layers letting every internet client through change nothing when flipped: leave them
    # out of the intersections
    sets = [(i, s, layers[i].unknown is None) for i, (_, s) in enumerate(pairs) if s != pub]
    unsure = any(not known for _, _, known in sets)

    def opens(flipped: frozenset[int]) -> bool | None:
        low = high = pub
        for i, s, known in sets:
            if i not in flipped:
                low = low & s
                if known:
                    high = high & s
        if wide(family, low):
            return True
        return None if unsure and wide(family, high) else False

    # ports that no rule of the class's filters tells apart have the same search result
    atom = (key, family, protocol,
            *(port_atom(f, Direction.IN, port, protocol) for f in att.filters))
    memo: dict[Any, tuple[int | None, int, frozenset[int]]] = reach.memo.setdefault(
        "depth.direct.search", {}
    )
    found = memo.get(atom)
    if found is None:
        found = memo[atom] = min_flips(len(layers), opens, NEVER)
    return result(via, family, layers, *found)


def port_atom(f: Filter, direction: Direction, port: int, protocol: str = TCP) -> int:
    """Which piece of the port range, cut at every port boundary of ``f``'s ``protocol`` rules
    in ``direction``, holds ``port`` (ports in one piece are admitted alike)."""
    cuts: list[int] | None = f.memo.get(("depth.cuts", direction, protocol))
    if cuts is None:
        cuts = sorted(f.port_cuts(direction, protocol))
        f.memo[("depth.cuts", direction, protocol)] = cuts
    return bisect.bisect_right(cuts, port)


def _rule_text(adm: Admission, peer: int | None) -> str:
    if peer is None:
        return ""
    rule = adm.rule_for(peer)
    if rule is not None:
        return describe_rule(rule)
    found, deny = adm.denier_for(peer)
    if found and deny is not None:
        return describe_rule(deny)
    return "no rule matches (implicit deny)"


def _host_layer(
    f: Filter, adm: Admission, family: int, protocol: str, port: int
) -> tuple[Layer, IntervalSet]:
    pub = PUBLIC[family]
    admitted = adm.addresses & pub
    groups = f.id.replace("+", ", ")
    unknown = None
    if adm.unresolved:
        unknown = "cannot resolve " + ", ".join(sorted({str(r.unresolved) for r in adm.unresolved}))
    if not admitted:
        detail, rule = f"no rule admits {protocol}/{port} from the internet", ""
    elif wide(family, admitted):
        detail = f"admits {protocol}/{port} from the internet"
        rule = _rule_text(adm, admitted.widest())
    else:
        detail = f"admits {protocol}/{port} only from {admitted.describe(family)}"
        rule = _rule_text(adm, admitted.widest())
    first = f.id.split("+")[0]
    layer = Layer(
        (f.kind, f.id, Direction.IN.value),
        f.kind,
        groups,
        None if unknown and not wide(family, admitted) else not wide(family, admitted),
        rule,
        detail,
        f"add an inbound rule to {first} allowing {protocol}/{port} from {ANYWHERE[family]}",
        unknown,
    )
    return layer, admitted


def address_change(family: int, name: str, endpoint: bool = False) -> str:
    if endpoint:
        return "" if family == 4 else f"set the IP address type of {name} to dualstack"
    if family == 4:
        return f"associate a public IPv4 (or Elastic IP) address with {name}"
    return f"assign a global IPv6 address to {name}"


def _address_layer(family: int, has: str | None, fixed: bool = False) -> Layer:
    change = "" if fixed else address_change(family, "the interface")
    detail = f"public IPv{family} {has}" if has else f"no public IPv{family} address"
    if fixed and not has:
        detail += " (a requester-managed interface cannot be given one)"
    return Layer(("public-address", str(family)), "public-address", "", not has, "", detail, change)


def route_layer(reach: AwsReach, subnet_id: str, family: int) -> tuple[Layer, IntervalSet]:
    """The route layer of ``subnet_id`` (whatever the port: memoized per subnet and family)."""
    memo: dict[Any, tuple[Layer, IntervalSet]] = reach.memo.setdefault("depth.route", {})
    found = memo.get((subnet_id, family))
    if found is None:
        found = memo[(subnet_id, family)] = _route_layer(reach, subnet_id, family)
    return found


def _route_layer(reach: AwsReach, subnet_id: str, family: int) -> tuple[Layer, IntervalSet]:
    pub = PUBLIC[family]
    rt, assoc = reach.route_table(subnet_id)
    rt_id = str(rt.attr("route_table_id")) if rt is not None else "?"
    key = ("route", rt_id if rt is not None else f"?{subnet_id}")
    change = (
        f"route {ANYWHERE[family]} in {rt_id} to an internet gateway "
        "(and no more specific route capturing internet addresses)"
    )
    pieces, problem = reach.internet_routes(subnet_id, family)
    if pieces is None:
        return Layer(key, "route", rt_id, None, "", problem, change, problem), EMPTY
    routed = EMPTY
    for piece, _ in pieces:
        routed = routed | piece
    routes, _ = reach.routes(subnet_id)
    if wide(family, routed):
        rep = routed.widest() or 0
        hops = next(h for p, h in pieces if rep in p)
        detail = f"sends internet replies to {hops[0].id}"
        return Layer(key, "route", rt_id, False, hops[-1].detail, detail, change), routed
    # the route that decides for the widest part of the internet not sent to a gateway
    rest = [(p, r) for p, r in lpm(routes, family, pub) if not (r and r.target_kind == "igw"
                                                                     and r.active)]
    piece, route = max(rest, key=lambda pr: pr[0].size())
    if route is None:
        rule = f"no route for internet addresses, {assoc} association"
    else:
        state = "" if route.active else f", {route.ref.get('state')}"
        rule = f"{route.ref.get('destination')} -> {route.target_id}, {assoc} association{state}"
    detail = problem or f"{rt_id} sends no internet replies to an internet gateway"
    return Layer(key, "route", rt_id, True, rule, detail, change), routed


def _acl_in_layer(
    f: Filter, adm: Admission, family: int, protocol: str, port: int
) -> tuple[Layer, IntervalSet]:
    pub = PUBLIC[family]
    admitted = adm.addresses & pub
    blocking = not wide(family, admitted)
    peer = (pub - admitted).widest() if blocking else admitted.widest()
    rule = _rule_text(adm, peer)
    if not admitted:
        detail = f"denies inbound {protocol}/{port} from the internet"
    elif blocking:
        detail = f"admits inbound {protocol}/{port} only from {admitted.describe(family, 2)}"
    else:
        detail = f"admits inbound {protocol}/{port} from the internet"
    change = (
        f"insert an inbound allow for {protocol}/{port} from {ANYWHERE[family]} ahead of every "
        f"entry of {f.id}"
    )
    key = (f.kind, f.id, Direction.IN.value)
    return Layer(key, f"{f.kind} inbound", f.id, blocking, rule, detail, change), admitted


def _acl_return_layer(f: Filter, family: int, protocol: str) -> tuple[Layer, IntervalSet]:
    """The replies' layer of a stateless filter (whatever the port: memoized on the filter)."""
    found: tuple[Layer, IntervalSet] | None = f.memo.get(("depth.return", family, protocol))
    if found is None:
        found = _acl_return(f, family, protocol)
        f.memo[("depth.return", family, protocol)] = found
    return found


def _acl_return(f: Filter, family: int, protocol: str) -> tuple[Layer, IntervalSet]:
    pub = PUBLIC[family]
    per_port = f.returnable(Direction.OUT, family, protocol)
    admitted = EMPTY
    for _, a in per_port:
        admitted = admitted | a.addresses
    admitted = admitted & pub
    blocking = not wide(family, admitted)
    rule = ""
    if per_port:
        if blocking:
            peer = (pub - admitted).widest()
            rule = _rule_text(per_port[0][1], peer)
            rule = f"to port {per_port[0][0]}: {rule}" if rule else ""
        else:
            peer = admitted.widest()
            for p, a in per_port:
                if peer is not None and a.rule_for(peer) is not None:
                    rule = f"to port {p}: {_rule_text(a, peer)}"
                    break
    detail = (
        "denies the replies to the internet on every ephemeral port (1024-65535)"
        if blocking
        else "lets the replies reach the internet's ephemeral ports"
    )
    change = (
        f"insert an outbound allow for {protocol}/1024-65535 to {ANYWHERE[family]} ahead of every "
        f"entry of {f.id}"
    )
    key = (f.kind, f.id, Direction.OUT.value)
    return Layer(key, f"{f.kind} outbound", f.id, blocking, rule, detail, change), admitted


__all__ = ["address_change", "direct", "port_atom", "route_layer"]
