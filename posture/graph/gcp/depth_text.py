"""The layers of a GCP defense-depth path in the state the inventory shows: what each one does,
the rule or route that decides, and the change that would flip it (:mod:`_gcp_depth`).

``blocking`` of a firewall level is what that level does *by itself* to the path's clients: a
policy blocks when its own rules deny every client, the VPC rules block when no VPC rule admits
a client (a deny, or the implied deny). Whether a level is reached at all depends on the levels
before it (said in ``detail``); the depth itself is computed on the whole chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from posture.graph.depth import Layer
from posture.graph.gcp.clients import Span, single
from posture.graph.gcp.fw import (
    IAP_RANGE,
    FirewallRule,
    Nic,
    Origin,
    Source,
    Stage,
    Tri,
    atoms,
    classify,
    wideness,
)
from posture.graph.gcp.fwpolicy import PolicyRule
from posture.graph.gcp.reach import Exit, Prepared
from posture.graph.gcp.route import ASSUMED, UNKNOWN, RouteTable, route_change
from posture.graph.intervals import IntervalSet
from posture.model import Asset

LAYER = {
    "hierarchy": "hierarchical-policy",
    "system": "system-policy",
    "vpc": "vpc-firewall",
    "network": "network-policy",
    "network-regional": "regional-network-policy",
}
IMPLIED = "no rule matches: implied deny"
_TITLE = {
    "hierarchy": "hierarchical firewall policy",
    "system": "system firewall policy",
    "network": "network firewall policy",
    "network-regional": "regional network firewall policy",
}


def short(path: str | None) -> str:
    return str(path).rsplit("/", 1)[-1]


# -- external address, route, load balancer ------------------------------------------------


def entry_layer(nic: Nic, label: str, family: int) -> Layer:
    """The external address of interface ``label`` (named without its instance: interfaces
    alike share one computation; the finding names the instance)."""
    has = nic.external(family)
    where = label
    if family == 4:
        change = f"add an external IPv4 address (a ONE_TO_ONE_NAT access config) to {where}"
    else:
        change = (
            f"add an external IPv6 address (an IPv6 access config; the subnet must be "
            f"dual-stack with external IPv6) to {where}"
        )
    detail = f"has an external IPv{family} address" if has else f"no external IPv{family} address"
    return Layer(
        ("external-address", label, str(family)),
        "external-address",
        where,
        not has,
        "",
        detail,
        change,
    )


def route_layer(table: RouteTable) -> Layer:
    key = ("route", str(table.network), str(table.family))
    name, change = short(table.network), route_change(table.network, table.family)
    if table.state == UNKNOWN:
        return Layer(key, "route", name, None, "", table.reason, change, table.reason)
    if table.state == ASSUMED:
        return Layer(key, "route", name, False, "", table.reason, change)
    if table.routes_wide_internet():
        piece, route = table.deciding(routed=True)
        rest = "" if table.everywhere else "; other internet ranges are routed elsewhere"
        detail = f"replies to {piece} leave through the default internet gateway{rest}"
        return Layer(key, "route", name, False, route.text() if route else "", detail, change)
    piece, route = table.deciding(routed=False)
    rule = route.text() if route is not None else "no route covers internet addresses"
    detail = "no route sends the replies to internet clients to the default internet gateway"
    if table.routes_any_internet() is Tri.YES:
        few, _route = table.deciding(routed=True)
        detail = (
            f"only the replies to a few internet ranges ({few}, less than the wide internet) "
            "leave through the default internet gateway"
        )
    return Layer(key, "route", name, True, rule, detail, change)


def named_port_layer(
    group: dict[str, Any], port_name: str, delivered: list[int], port: int
) -> Layer:
    ports = ", ".join(map(str, delivered))
    return Layer(
        ("named-port", str(group.get("uid")), port_name),
        "named-port",
        str(group.get("id")),
        port not in delivered,
        f"named port {port_name} = tcp/{ports}",
        f"the load balancer delivers to named port '{port_name}' (tcp/{ports})",
        f"set named port '{port_name}' of instance group {group.get('id')} to tcp/{port}",
    )


def iap_layer(service: Asset) -> Layer:
    return Layer(
        ("iap", service.uid),
        "iap",
        service.name,
        True,
        "Identity-Aware Proxy enabled",
        "only users authenticated by Identity-Aware Proxy are served",
        f"disable Identity-Aware Proxy on backend service {service.name}",
    )


def armor_layer(where: Asset | None, reason: str) -> Layer:
    name = where.name if where is not None else "?"
    return Layer(
        ("cloud-armor", where.uid if where is not None else reason),
        "cloud-armor",
        name,
        None,
        "",
        reason,
        f"detach the Cloud Armor policy from {name} (or admit every client ahead of its rules)",
        reason,
    )


# -- firewall levels -------------------------------------------------------------------------


def stage_layers(
    prepared: Prepared,
    pieces: Sequence[Span],
    family: int,
    origin: Origin,
    port: int,
    network: str | None,
    source_text: str,
    direct: bool,
) -> list[Layer]:
    """One layer per level of ``prepared`` (evaluation order) for clients in ``pieces``."""
    stages = [s for s, _ in prepared.stages]
    reached = 0  # the furthest level some client's walk of the unchanged chain may get to
    for lo, _hi in pieces:
        exits, _ = prepared.walk(lo, family, origin)
        reached = max([reached, *(_index(stages, e) for e in exits)])
    ctx = _Context(family, origin, port, network, source_text, direct, pieces)
    return [_stage_layer(prepared, i, ctx, i > reached) for i in range(len(stages))]


@dataclass(frozen=True, slots=True)
class _Context:
    family: int
    origin: Origin
    port: int
    network: str | None
    src: str
    direct: bool
    pieces: Sequence[Span]

    @property
    def who(self) -> str:
        return "the internet" if self.direct else self.src


def _index(stages: Sequence[Stage], exit_: Exit) -> int:
    if exit_.stage is None:
        return len(stages)
    return next((i for i, s in enumerate(stages) if s is exit_.stage), len(stages))


def _stage_layer(prepared: Prepared, i: int, ctx: _Context, unreached: bool) -> Layer:
    stage = prepared.stages[i][0]
    vpc = stage.kind == "vpc"
    name = LAYER.get(stage.kind, stage.kind)
    title = "the VPC firewall rules" if vpc else _title(stage)
    resource = short(ctx.network) if vpc else title.split(" firewall policy ", 1)[-1]
    key = ("firewall", stage.kind, stage.label, str(ctx.network) if vpc else "")
    if not stage.known:
        change = (
            f"insert a rule allowing ingress tcp/{ctx.port} from {ctx.src} ahead of every rule "
            f"of {stage.label}"
        )
        detail = f"could not be read: {stage.reason}"
        return Layer(key, name, stage.label, None, "", detail, change, stage.reason)
    alone = single(prepared, i)
    walks = [(lo, hi, *alone.walk(lo, ctx.family, ctx.origin)) for lo, hi in ctx.pieces]
    sure_allow = [(lo, hi, ex) for lo, hi, ex, _ in walks if all(e.action == "allow" for e in ex)]
    may_allow = [w for w in walks if any(e.action == "allow" for e in w[2])]
    stops = [w for w in walks if all(e.action == "deny" and e.rule is not None for e in w[2])]
    reasons = sorted({r for w in walks for r in w[3]})
    blocking: bool | None
    if vpc:  # the level admits the path's clients, or it keeps them out
        opened = _wide(ctx, sure_allow, [w for w in may_allow if w not in sure_allow])
    else:  # a policy blocks by denying; what it does not decide passes to the next level
        open_sure = [w for w in walks if all(e.action == "allow" or _passes(e) for e in w[2])]
        maybe_open = [w for w in walks if w not in stops and w not in open_sure]
        opened = _wide(ctx, open_sure, maybe_open)
    blocking = {Tri.YES: False, Tri.NO: True, Tri.MAYBE: None}[opened]
    denies = [e.rule for w in walks for e in w[2] if e.action == "deny" and e.rule is not None]
    first_deny = min(denies, key=lambda r: r.priority) if denies else None
    allow_list = None  # the allow rule of an allow-listed range that alone keeps the rest out
    if blocking is False and sure_allow:
        widest = max(sure_allow, key=_width)
        rule = _rule_text(widest[2][0].rule, ctx.port)
        detail = f"admits tcp/{ctx.port} from {_describe(sure_allow, ctx)}"
    elif blocking is False:
        rule = ""
        detail = f"no rule decides tcp/{ctx.port} from {ctx.who}: passes to the next level"
    elif sure_allow and first_deny is None:
        widest = max(sure_allow, key=_width)
        allow_list = widest[2][0].rule
        rule = _rule_text(allow_list, ctx.port)
        detail = (
            f"admits tcp/{ctx.port} only from {_describe(sure_allow, ctx, only=False)}: an "
            f"allow-list, not {ctx.who}"
        )
    else:
        closed = [w for w in walks if w not in sure_allow]
        widest_closed = max(closed, key=_width) if closed else None
        deny = _deny_of(widest_closed[2]) if widest_closed else None
        rule = _rule_text(deny, ctx.port) if deny is not None else (
            IMPLIED if vpc else "no rule matches"
        )
        detail = (
            f"no rule admits tcp/{ctx.port} from {ctx.who}" if vpc
            else f"denies tcp/{ctx.port} from {ctx.who}"
        )
        if ctx.direct and _admits_iap(alone, ctx):
            detail += (
                f"; it admits only Identity-Aware Proxy ({IAP_RANGE}), which is not the internet"
            )
    if unreached:
        detail += "; not reached: an earlier level decides first"
    change = _change(stage, title, first_deny, ctx)
    if allow_list is not None and first_deny is None and vpc:
        change = (
            f"widen the source ranges of VPC firewall rule {allow_list.name} (network "
            f"{short(ctx.network)}) to {ctx.src}"
        )
    return Layer(key, name, resource, blocking, rule, detail, change, "; ".join(reasons) or None)


def _title(stage: Stage) -> str:
    name = stage.label.split(" firewall policy ", 1)[-1]
    return f"{_TITLE.get(stage.kind, stage.kind)} {name}"


def _width(w: tuple[Any, ...]) -> tuple[int, int]:
    return (w[1] - w[0], -w[0])


def _deny_of(exits: Sequence[Exit]) -> FirewallRule | None:
    return next((e.rule for e in exits if e.action == "deny" and e.rule is not None), None)


def _describe(spans: Sequence[tuple[Any, ...]], ctx: _Context, only: bool = True) -> str:
    if len(spans) == len(ctx.pieces):
        return ctx.who
    merged = IntervalSet.from_spans((w[0], w[1]) for w in spans)
    return merged.describe(ctx.family, 2) + (" only" if only else "")


def _wide(ctx: _Context, sure: Sequence[tuple[Any, ...]], maybe: Sequence[tuple[Any, ...]]) -> Tri:
    """Whether clients of these pieces open the path: the wide internet for internet clients
    (direct, passthrough), any of them for a proxy load balancer's sources."""
    if ctx.origin is not Origin.INTERNET:
        return Tri.YES if sure else Tri.MAYBE if maybe else Tri.NO
    return wideness(_count(sure), _count(maybe), ctx.family)


def _count(spans: Sequence[tuple[Any, ...]]) -> int:
    return sum(w[1] - w[0] + 1 for w in spans)


def _passes(e: Exit) -> bool:
    """The level alone decides nothing for the packet: it reaches the implied deny."""
    return e.action == "deny" and e.rule is None and e.stage is None


def _admits_iap(alone: Prepared, ctx: _Context) -> bool:
    if ctx.family != 4:
        return False
    for lo, _hi in atoms(4, [*alone.nets(4), IAP_RANGE]):
        if classify(lo, 4) is Source.IAP:
            exits, _ = alone.walk(lo, 4, Origin.GOOGLE)
            if any(e.action == "allow" for e in exits):
                return True
    return False


def _rule_text(rule: FirewallRule | None, port: int) -> str:
    if rule is None:
        return ""
    ev = rule.evidence()
    src = ", ".join(ev.get("source_ranges") or ()) or "any source"
    if isinstance(rule, PolicyRule):
        named = f" ({rule.rule_name})" if rule.rule_name else ""
        return f"rule {rule.priority}{named}: {rule.action} tcp/{port} from {src}"
    return f"{rule.name} (priority {rule.priority}): {rule.action} tcp/{port} from {src}"


def _change(stage: Stage, title: str, deny: FirewallRule | None, ctx: _Context) -> str:
    allow = f"allowing ingress tcp/{ctx.port} from {ctx.src}"
    if stage.kind == "vpc":
        net = short(ctx.network)
        if deny is None:
            return f"add a VPC firewall rule to network {net} {allow} to the instance"
        if deny.priority == 0:
            return (
                f"delete or narrow VPC firewall rule {deny.name} (a priority-0 deny: no allow "
                "rule can be evaluated before it)"
            )
        return (
            f"add a VPC firewall rule to network {net} {allow} to the instance at a priority "
            f"number below {deny.priority} (ahead of {deny.name})"
        )
    if deny is None:
        return f"insert a rule {allow} at the top of {title}"
    if deny.priority == 0:
        return f"replace rule 0 of {title} by a rule {allow}"
    return (
        f"insert a rule {allow} in {title} at a priority number below {deny.priority} "
        f"(ahead of rule {deny.priority})"
    )


__all__ = [
    "IMPLIED",
    "LAYER",
    "armor_layer",
    "entry_layer",
    "iap_layer",
    "named_port_layer",
    "route_layer",
    "stage_layers",
]
