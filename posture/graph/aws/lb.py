"""AWS adapter, part 3: internet-facing load balancers -> listeners -> target groups -> targets.

A target is exposed through a load balancer when (1) internet clients reach the listener port on
the load balancer (its subnets' routes and network ACLs, its security groups if it has any) and
(2) the load balancer reaches the target port: routes inside the VPC, both subnets' network ACLs
(with return traffic) and the target's security groups admitting the load balancer (its security
groups, or its subnets' private addresses). A network load balancer without security groups
preserves the client address for instance targets, so such a target is also reached when its
own filters admit the internet clients themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from posture.graph.aws.reach import LISTENER, LOAD_BALANCER, AwsReach, Iface
from posture.graph.core import Hop, Path
from posture.graph.intervals import EMPTY, IntervalSet, cidr_span
from posture.graph.paths import Attachment, Flow, Pieces, Verdict, flow_verdict
from posture.model import Asset

_PROTOCOLS = {
    "HTTP": ("tcp",),
    "HTTPS": ("tcp",),
    "TCP": ("tcp",),
    "TLS": ("tcp",),
    "UDP": ("udp",),
    "TCP_UDP": ("tcp", "udp"),
}


@dataclass(frozen=True, slots=True)
class LbExposure:
    """Internet clients reaching ``protocol/port`` on ``target`` through a load balancer."""

    target: Asset
    protocol: str
    port: int
    load_balancer: Asset
    listener: Asset
    target_group: Asset
    clients: IntervalSet
    path: Path | None
    blocked: str = ""  # the listener is reachable but the target is not: why
    unknown: str | None = None


def internet_listeners(reach: AwsReach) -> Iterator[tuple[Asset, Asset]]:
    """(load balancer, listener) of every internet-facing ALB and NLB, in inventory order."""
    listeners: dict[str, list[Asset]] = {}
    for lst in reach.inventory.of(LISTENER):
        listeners.setdefault(str(lst.attr("load_balancer_arn")), []).append(lst)
    for lb in reach.inventory.of(LOAD_BALANCER):
        if lb.attr("scheme") != "internet-facing" or lb.attr("lb_type") not in (
            "application",
            "network",
        ):
            continue
        for lst in listeners.get(str(lb.attr("arn") or lb.uid), []):
            yield lb, lst


def lb_exposures(reach: AwsReach) -> dict[str, list[LbExposure]]:
    """Per target asset uid: its exposures through internet-facing load balancers (cached)."""
    cached: dict[str, list[LbExposure]] | None = reach.memo.get("lb")
    if cached is not None:
        return cached
    out: dict[str, list[LbExposure]] = {}
    for lb, lst in internet_listeners(reach):
        for exp in _listener(reach, lb, lst):
            out.setdefault(exp.target.uid, []).append(exp)
    reach.memo["lb"] = out
    return out


def forwards(lst: Asset) -> dict[str, tuple[IntervalSet | None, str]]:
    """Target group ARN -> (client restriction or None, the rule that forwards to it).

    The default actions and every listener rule (ALB) that forwards count; a rule's
    ``source-ip`` condition restricts the clients it forwards (other conditions - host, path,
    headers, method, query - are chosen by the client and restrict nothing). A group forwarded
    by several rules keeps the widest clients.
    """
    out: dict[str, tuple[IntervalSet | None, str]] = {}
    for act in lst.attr("default_actions") or ():
        if act.get("type") == "forward":
            for arn in act.get("target_group_arns") or ():
                out[str(arn)] = (None, "default action")
    for rule in lst.attr("rules") or ():
        restriction: IntervalSet | None = None
        if rule.get("source_ips") is not None:
            restriction = EMPTY
            for cidr in rule["source_ips"]:
                parsed = cidr_span(cidr)
                if parsed is not None and parsed[0] == 4:
                    restriction = restriction | parsed[1]
        label = f"rule priority {rule.get('priority')}" + "".join(
            f"; {c.get('field')} {', '.join(map(str, c.get('values') or ()))}"
            for c in rule.get("conditions") or ()
        )
        for act in rule.get("actions") or ():
            if act.get("type") != "forward":
                continue
            for arn in act.get("target_group_arns") or ():
                have = out.get(str(arn))
                if have is None or (have[0] is not None and (
                        restriction is None or restriction.size() > have[0].size())):
                    out[str(arn)] = (restriction, label)
    return out


def _listener(reach: AwsReach, lb: Asset, lst: Asset) -> list[LbExposure]:
    found = []
    port = lst.attr("port")
    if port is None:
        return []
    groups = forwards(lst)
    for proto in _PROTOCOLS.get(str(lst.attr("protocol")), ()):
        fronts = _fronts(reach, lb, proto, int(port))
        for arn in sorted(groups):
            tg = reach.inventory.get(arn)
            if tg is None:
                continue
            restriction, label = groups[arn]
            for target, iface, t_port in _targets(reach, tg):
                exp = _target(reach, lb, lst, tg, fronts, target, iface, proto, t_port)
                if exp is not None:
                    found.append(_restricted(exp, restriction, label))
    return found


def _restricted(exp: LbExposure, restriction: IntervalSet | None, label: str) -> LbExposure:
    """The exposure as the forwarding rule leaves it: clients narrowed, the rule in the path."""
    if label == "default action":
        return exp
    path = exp.path
    if path is not None:
        at = next((i + 1 for i, h in enumerate(path.hops) if h.kind == "listener"), 0)
        hops = (*path.hops[:at], Hop("listener-rule", exp.listener.name, label), *path.hops[at:])
        path = replace(path, hops=hops)
    clients = exp.clients if restriction is None else exp.clients & restriction
    return replace(exp, clients=clients, path=path if clients else None)


def _fronts(reach: AwsReach, lb: Asset, proto: str, port: int) -> list[tuple[str, Any, Verdict]]:
    out = []
    sgs = tuple(lb.attr("security_group_ids") or ())
    public = (lb.attr("public_ips") or [None])[0] or lb.attr("dns_name") or "internet-facing"
    for subnet_id in sorted(lb.attr("subnet_ids") or ()):
        key = reach.attachment(
            subnet_id,
            lb.attr("vpc_id") or reach.subnet_vpc(subnet_id),
            sgs,
            public,
            None,
            f"{lb.name}@{subnet_id}",
        )
        out.append((subnet_id, key, reach.internet(key, 4, proto, port)))
    return out


def _targets(reach: AwsReach, tg: Asset) -> list[tuple[Asset, Iface, int]]:
    out = []
    kind = tg.attr("target_type")
    for t in tg.attr("targets") or ():
        t_port = t.get("port") or tg.attr("port")
        if t_port is None:
            continue
        if kind == "instance":
            inst = reach.instances.get(str(t.get("id")))
            if inst is None:
                continue
            ifaces = reach.interfaces(inst)
            if ifaces:
                out.append((inst, ifaces[0], int(t_port)))
        elif kind == "ip":
            for eni in reach.enis.values():
                if t.get("id") in (eni.attr("private_ips") or ()):
                    owner = reach.instances.get(str(eni.attr("instance_id") or "")) or eni
                    iface = (
                        next(
                            (i for i in reach.interfaces(owner) if i.eni_id == eni.attr("eni_id")),
                            None,
                        )
                        if owner is not eni
                        else None
                    )
                    out.append((owner, iface or reach._eni_iface(eni), int(t_port)))
                    break
    return out


def _target(
    reach: AwsReach,
    lb: Asset,
    lst: Asset,
    tg: Asset,
    fronts: list[tuple[str, Any, Verdict]],
    target: Asset,
    iface: Iface,
    proto: str,
    port: int,
    classes: Mapping[tuple[Any, ...], Attachment] | None = None,
) -> LbExposure | None:
    """The target's exposure through ``fronts``; ``classes`` overrides the interface classes
    (``posture.graph.aws.depth_lb`` evaluates the same path with some layers flipped open)."""
    view = reach.classes if classes is None else classes
    preserve = (
        not lb.attr("security_group_ids")
        and lb.attr("lb_type") == "network"
        and tg.attr("target_type") == "instance"
    )
    best: LbExposure | None = None
    blocked = ""
    for subnet_id, key, front in fronts:
        if front.unknown:
            return LbExposure(target, proto, port, lb, lst, tg, EMPTY, None, "", front.unknown)
        if not front.reachable:
            continue
        lb_addrs = reach.subnet_addresses(subnet_id)
        dst = view[iface.key]
        dst_addrs = iface.private.get(4, EMPTY) or dst.private.get(4, EMPTY)
        forward = reach.route_fn(subnet_id, iface.key[0])
        back_route = reach.route_fn(dst.network, key[0], "return route")
        src_addrs = lb_addrs | front.reachable if preserve else lb_addrs

        def backward(family: int, addrs: IntervalSet, _b=back_route, _c=front.reachable) -> Pieces:
            pieces = _b(family, addrs - _c) if preserve else _b(family, addrs)
            if preserve and addrs & _c:
                pieces = [
                    *pieces,
                    (
                        addrs & _c,
                        (
                            Hop(
                                "load-balancer",
                                lb.name,
                                "replies return through the load balancer (client IP preservation)",
                            ),
                        ),
                    ),
                ]
            return pieces

        hops = (Hop("asset", target.name, target.type),)
        back = flow_verdict(
            Flow(
                view[key],
                dst,
                src_addrs,
                dst_addrs,
                forward,
                backward,
                f"{lb.name}@{subnet_id}",
                target.name,
            ),
            4,
            proto,
            port,
            hops,
        )
        if back.unknown:
            return LbExposure(target, proto, port, lb, lst, tg, EMPTY, None, "", back.unknown)
        if not back.reachable:
            stage = back.blocking(bool)
            blocked = stage.detail if stage else "the load balancer cannot reach the target"
            continue
        clients = front.reachable if (back.reachable & lb_addrs) else back.reachable
        path = _join(front, back, lb, lst, tg, target, port)
        exp = LbExposure(target, proto, port, lb, lst, tg, clients, path)
        if best is None or clients.size() > best.clients.size():
            best = exp
    if best is None and blocked:
        return LbExposure(target, proto, port, lb, lst, tg, EMPTY, None, blocked)
    return best


def _join(
    front: Verdict, back: Verdict, lb: Asset, lst: Asset, tg: Asset, target: Asset, port: int
) -> Path | None:
    if front.path is None or back.path is None:
        return None
    lb_hops = (
        Hop("load-balancer", lb.name, f"{lb.attr('lb_type')}, {lb.attr('scheme')}"),
        Hop("listener", lst.name, f"{lst.attr('protocol')} :{lst.attr('port')}"),
        Hop("target-group", tg.name, f"{tg.attr('target_type')} target port {port}"),
    )
    front_hops = tuple(h for h in front.path.hops if h.kind != "interface")
    back_hops = back.path.hops[1:]
    return Path(
        front.path.source, target.name, back.protocol, port, 4, front_hops + lb_hops + back_hops
    )


__all__ = ["LbExposure", "forwards", "lb_exposures"]
