"""Defense depth through internet-facing load balancers (see :mod:`posture.graph.depth`).

A candidate path exists for every (internet-facing ALB/NLB, listener, forwarded target group
holding the asset - on any port -, load-balancer subnet). Its layers:

* ``target-group``: the asset is registered on the port (flip: register it on the port - one
  RegisterTargets call; the listener keeps its own port);
* ``listener-rule``: the only rule forwarding to the group has a ``source-ip`` condition that
  leaves out the wide internet (flip: drop the condition);
* ``route``: the load balancer subnet's route table sends internet addresses to a gateway;
* every filter on the way, per direction: the load balancer's security groups (inbound from the
  clients, outbound to the target), the network ACLs of its subnet and of the target's subnet
  (inbound and outbound; one ACL shared by both subnets is one layer per direction), the
  target's security groups (inbound). A flipped filter admits everything in that direction.

The path is evaluated with :func:`posture.graph.paths.internet_verdict` and the load-balancer
adapter's own ``_target`` on *flipped copies* of the two interface classes, so the semantics
(client-IP preservation, replies, listener rules) are exactly the exposure checks'. Flip sets
are tried in increasing size up to the bound the caller gives (the best direct depth minus
one), memoized per (load balancer, listener, group, subnet, asset, port, bound).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from posture.graph.aws import lb as aws_lb
from posture.graph.aws.depth_direct import port_atom, route_layer
from posture.graph.aws.reach import AwsReach, Iface
from posture.graph.core import ANY_PROTOCOL, Action, Direction, Filter, Hop, Mode, Rule
from posture.graph.depth import TCP, Layer, PathDepth, min_flips, result, wide
from posture.graph.intervals import ALL_PORTS, PUBLIC, IntervalSet, everything
from posture.graph.paths import Attachment, Pieces, Verdict, internet_verdict
from posture.model import Asset

_OPEN = Rule(
    Action.ALLOW,
    ANY_PROTOCOL,
    ALL_PORTS,
    {4: everything(4), 6: everything(6)},
    frozenset(),
    {"peer": "anywhere", "flipped": True},
)



@dataclass(frozen=True, slots=True)
class Forward:
    """An internet-facing listener forwarding (by ``label``) to a target group holding
    ``target`` on ``registered`` ports; ``restriction`` = a source-ip condition's clients."""

    lb: Asset
    listener: Asset
    group: Asset
    target: Asset
    iface: Iface
    registered: frozenset[int]
    restriction: IntervalSet | None
    label: str


def members(reach: AwsReach, protocol: str = TCP) -> dict[str, list[Forward]]:
    """Per asset uid: every internet-facing forward of ``protocol`` to a target group holding
    it (memoized)."""
    found: dict[str, list[Forward]] | None = reach.memo.get(f"depth.lb.members.{protocol}")
    if found is not None:
        return found
    out: dict[str, list[Forward]] = {}
    for lb, lst in aws_lb.internet_listeners(reach):
        if lst.attr("port") is None or protocol not in aws_lb._PROTOCOLS.get(
            str(lst.attr("protocol")), ()
        ):
            continue
        groups = aws_lb.forwards(lst)
        for arn in sorted(groups):
            tg = reach.inventory.get(arn)
            if tg is None:
                continue
            ports: dict[str, tuple[Asset, Iface, set[int]]] = {}
            for target, iface, t_port in aws_lb._targets(reach, tg):
                ports.setdefault(target.uid, (target, iface, set()))[2].add(t_port)
            restriction, label = groups[arn]
            for uid, (target, iface, registered) in ports.items():
                out.setdefault(uid, []).append(
                    Forward(lb, lst, tg, target, iface, frozenset(registered), restriction, label)
                )
    reach.memo[f"depth.lb.members.{protocol}"] = out
    return out


def lb_paths(
    reach: AwsReach, asset: Asset, port: int, limit: int, protocol: str = TCP
) -> list[PathDepth]:
    """Candidate paths of ``protocol/port`` on ``asset`` through internet-facing load
    balancers, each searched up to ``limit`` flips (a path needing more reports ``at_least``
    only)."""
    if limit < 0:
        return []
    out = []
    memo: dict[Any, PathDepth] = reach.memo.setdefault("depth.lb", {})
    for fw in members(reach, protocol).get(asset.uid, []):
        listener_port = int(fw.listener.attr("port"))
        for subnet_id, key, _ in aws_lb._fronts(reach, fw.lb, protocol, listener_port):
            k = (fw.lb.uid, fw.listener.uid, fw.group.uid, fw.label, subnet_id, asset.uid, port,
                 limit, protocol)
            if k not in memo:
                memo[k] = _path(reach, fw, subnet_id, key, port, limit, protocol)
            out.append(memo[k])
    return out


def _path(
    reach: AwsReach,
    fw: Forward,
    subnet_id: str,
    key: tuple[Any, ...],
    port: int,
    limit: int,
    protocol: str,
) -> PathDepth:
    lb, lst, tg, target, iface = fw.lb, fw.listener, fw.group, fw.target, fw.iface
    registered, restriction, label = fw.registered, fw.restriction, fw.label
    via = (
        f"load balancer {lb.name} listener {lst.name} ({label}) -> target group {tg.name} "
        f"(from {subnet_id})"
    )
    lb_att, dst_att = reach.classes[key], reach.classes[iface.key]
    if lb_att.unknown or dst_att.unknown:
        return PathDepth(via, 4, (), None, 0, (), lb_att.unknown or dst_att.unknown)
    ports = ", ".join(str(p) for p in sorted(registered))
    layers: list[Layer] = [
        Layer(
            ("target-group", tg.uid, target.uid),
            "target-group",
            tg.name,
            None,
            f"forwards listener {lst.attr('protocol')} :{lst.attr('port')} to port {ports}",
            f"{target.name} is registered on port {ports}",
            f"register {target.name} on port {port} in {tg.name}",
        )
    ]
    if restriction is not None:
        layers.append(
            Layer(
                ("listener-rule", lst.uid, tg.uid),
                "listener-rule",
                lst.name,
                None,
                label,
                f"forwards only clients from {restriction.describe(4)}",
                f"drop the source-ip condition of {label} on {lst.name}",
            )
        )
    route, _ = route_layer(reach, subnet_id, 4)
    layers.append(route)
    crossing = lb_att.network != dst_att.network
    uses: dict[tuple[str, ...], tuple[Filter, Direction, list[str]]] = {}
    sides = [("lb", f, d) for f in lb_att.filters for d in Direction]
    target_acls = dst_att.net_filters() if crossing else []
    sides += [("target", f, d) for f in target_acls for d in Direction]
    sides += [("target", f, Direction.IN) for f in dst_att.host_filters()]
    for side, f, d in sides:
        uses.setdefault((f.kind, f.id, d.value), (f, d, []))[2].append(side)
    for f, d, where in uses.values():
        layers.append(_filter_layer(f, d, where, protocol, port, int(lst.attr("port"))))
    member_port = frozenset({port}) <= registered

    def opens(flipped: frozenset[int]) -> bool | None:
        keys = {layers[i].key for i in flipped}
        if not member_port and layers[0].key not in keys:
            return False
        clients = restriction if restriction is not None and layers[1].key not in keys else None
        return _evaluate(reach, fw, subnet_id, key, protocol, port, keys, route.key, clients)

    def explain() -> tuple[Layer, ...]:
        every = frozenset(range(len(layers)))
        marked = []
        for i, x in enumerate(layers):
            alone = opens(every - {i})
            marked.append(replace(x, blocking=None if alone is None else not alone))
        return tuple(marked)

    # ports no rule on the path tells apart (same registration, same side of every port
    # boundary of every filter) have the same search result: search once per such atom
    atom = (member_port, protocol,
            *(port_atom(f, d, port, protocol) for f, d, _ in uses.values()))
    memo: dict[Any, tuple[int | None, int, frozenset[int]]] = reach.memo.setdefault(
        "depth.lb.search", {}
    )
    k = (lb.uid, lst.uid, tg.uid, label, subnet_id, target.uid, limit, atom)
    found = memo.get(k)
    if found is None:
        found = memo[k] = min_flips(len(layers), opens, limit)
    return replace(result(via, 4, layers, *found), explain=explain)


_ROLES = {
    ("lb", "security-group", Direction.IN): "internet clients to listener {p}/{listener}",
    ("lb", "security-group", Direction.OUT): "the load balancer to the target on {p}/{port}",
    ("lb", "network-acl", Direction.IN): "internet clients to {p}/{listener}, the target's replies",
    ("lb", "network-acl", Direction.OUT): "replies to the internet, the load balancer to "
    "{p}/{port}",
    ("target", "network-acl", Direction.IN): "the load balancer to {p}/{port}",
    ("target", "network-acl", Direction.OUT): "the target's replies to the load balancer",
    ("target", "security-group", Direction.IN): "{p}/{port} from the load balancer",
}


def _filter_layer(
    f: Filter, direction: Direction, sides: list[str], protocol: str, port: int, listener: int
) -> Layer:
    """A filter (one direction) on a load-balancer path; ``sides``: "lb" and/or "target"."""
    roles = [_ROLES.get((side, f.kind, direction), "") for side in sides]
    role = "; ".join(r.format(p=protocol, port=port, listener=listener) for r in roles if r)
    first = f.id.split("+")[0]
    if f.kind == "security-group" and direction is Direction.OUT:
        name, change = "security-group egress", f"allow egress to the target on {protocol}/{port}"
    elif f.kind == "security-group":
        name = "security-group"
        change = f"allow {role}" if role else f"allow {protocol}/{port}"
    else:
        name = f"{f.kind} {direction.value}"
        change = f"insert an {direction.value} allow-all entry ahead of every entry"
    return Layer(
        (f.kind, f.id, direction.value),
        name,
        f.id.replace("+", ", "),
        None,
        "",
        f"{direction.value}: {role}" if role else direction.value,
        f"{change} in {first}",
    )


def _opened(reach: AwsReach, f: Filter, keys: set[tuple[str, ...]]) -> Filter:
    dirs = tuple(d for d in Direction if (f.kind, f.id, d.value) in keys)
    if not dirs:
        return f
    memo: dict[Any, Filter] = reach.memo.setdefault("depth.open", {})
    k = (f.kind, f.id, dirs)
    found = memo.get(k)
    if found is None:
        def rules(rs: tuple[Rule, ...]) -> tuple[Rule, ...]:
            return (_OPEN, *rs) if f.mode is Mode.FIRST_MATCH else (*rs, _OPEN)

        found = memo[k] = Filter(
            f.id,
            f.kind,
            f.mode,
            f.stateful,
            f.boundary,
            rules(f.inbound) if Direction.IN in dirs else f.inbound,
            rules(f.outbound) if Direction.OUT in dirs else f.outbound,
        )
    return found


def _view(reach: AwsReach, att: Attachment, keys: set[tuple[str, ...]]) -> Attachment:
    filters = tuple(_opened(reach, f, keys) for f in att.filters)
    if all(a is b for a, b in zip(filters, att.filters, strict=True)):
        return att
    return replace(att, filters=filters)


def _evaluate(
    reach: AwsReach,
    fw: Forward,
    subnet_id: str,
    key: tuple[Any, ...],
    protocol: str,
    port: int,
    keys: set[tuple[str, ...]],
    route_key: tuple[str, ...],
    restriction: IntervalSet | None,
) -> bool | None:
    """Whether the wide internet reaches ``protocol/port`` on the target with ``keys``
    flipped."""
    iface = fw.iface
    lb_att = _view(reach, reach.classes[key], keys)
    dst_att = _view(reach, reach.classes[iface.key], keys)
    listener = int(fw.listener.attr("port"))
    front_keys = frozenset(k for k in keys if k == route_key or any(
        k == (f.kind, f.id, d.value) for f in lb_att.filters for d in Direction))
    memo: dict[Any, Verdict] = reach.memo.setdefault("depth.lb.front", {})
    front = memo.get((key, protocol, listener, front_keys))
    if front is None:
        routes: Pieces | None
        if route_key in keys:
            routes, problem = [(PUBLIC[4], (Hop("internet-gateway", "(flipped)"),))], ""
        else:
            routes, problem = reach.internet_routes(subnet_id, 4)
        front = internet_verdict(lb_att, 4, protocol, listener, routes, problem)
        memo[(key, protocol, listener, front_keys)] = front
    exp = aws_lb._target(
        reach, fw.lb, fw.listener, fw.group, [(subnet_id, key, front)], fw.target, iface,
        protocol, port, {key: lb_att, iface.key: dst_att},
    )
    if exp is None:
        return False
    if exp.unknown:
        return None
    clients = exp.clients if restriction is None else exp.clients & restriction
    return exp.path is not None and wide(4, clients)


__all__ = ["Forward", "lb_paths", "members"]
