"""Provider-neutral path evaluation: internet -> attachment, and attachment -> attachment.

An :class:`Attachment` is an equivalence class of interfaces: same network (subnet), same
filters, same peer groups, same presence of a public address. Everything is computed with
interval sets over addresses, so "some client gets through" is decided exactly without
enumerating clients, and one evaluation serves every member of the class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from posture.graph.core import (
    PORTED,
    Admission,
    Boundary,
    Direction,
    Filter,
    Hop,
    Path,
    describe_rule,
    representatives,
    rule_hop,
)
from posture.graph.intervals import ALL_PORTS, EMPTY, EPHEMERAL, PUBLIC, IntervalSet, format_address

Pieces = list[tuple[IntervalSet, tuple[Hop, ...]]]
RouteFn = Callable[[int, IntervalSet], Pieces]
"""``(family, addresses) -> [(delivered piece, hops)]``; pieces not listed are not delivered."""


class Reach(StrEnum):
    """How the internet reaches a port, on every cloud (the ``state`` of a verdict's evidence)."""

    EXPOSED = "exposed"  # a wide range of internet clients reaches the port
    LATENT = "latent"  # the filters admit the wide internet, but no entry point delivers it
    NARROW = "allow-listed"  # only narrow (allow-listed) internet ranges are admitted
    IAP_ONLY = "iap-only"  # only an identity-aware proxy reaches the port (GCP IAP)
    BLOCKED = "blocked"
    UNKNOWN = "unknown"  # the data that decides it was not collected


@dataclass(frozen=True, slots=True)
class Attachment:
    key: tuple[Any, ...]
    network: str
    filters: tuple[Filter, ...]
    groups: frozenset[str] = frozenset()
    public: Mapping[int, str | None] = field(default_factory=dict)  # family -> example address
    private: Mapping[int, IntervalSet] = field(default_factory=dict)
    interface: str = ""
    unknown: str | None = None  # why this class cannot be evaluated (missing data)

    def net_filters(self) -> list[Filter]:
        return [f for f in self.filters if f.boundary is Boundary.NETWORK]

    def host_filters(self) -> list[Filter]:
        return [f for f in self.filters if f.boundary is Boundary.HOST]


@dataclass(frozen=True, slots=True)
class Stage:
    layer: str
    passing: IntervalSet  # peers still admitted after this layer
    detail: str = ""  # why peers were dropped here (for a representative peer)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Reachability of one (family, protocol, port) on one attachment, with its explanation."""

    family: int
    protocol: str
    port: int
    reachable: IntervalSet
    stages: tuple[Stage, ...] = ()
    path: Path | None = None
    unknown: str | None = None

    @property
    def admitted(self) -> IntervalSet:
        """Peers the host filters admit, whatever the rest of the path (the first stage)."""
        return self.stages[0].passing if self.stages else self.reachable

    def blocking(self, enough: Callable[[IntervalSet], bool]) -> Stage | None:
        """The first stage after which the passing peers are no longer ``enough``."""
        for stage in self.stages:
            if not enough(stage.passing):
                return stage
        return None


def _returns(
    flt: Filter, direction: Direction, family: int, protocol: str, groups: frozenset[str]
) -> tuple[IntervalSet, list[tuple[int, Admission]]]:
    per_port = flt.returnable(direction, family, protocol, groups)
    out = EMPTY
    for _, a in per_port:
        out = out | a.addresses
    return out, per_port


def _return_hop(flt: Filter, per_port: list[tuple[int, Admission]], peer: int) -> Hop:
    for p, a in per_port:
        rule = a.rule_for(peer)
        if rule is not None:
            return Hop(
                f"{flt.kind} (return traffic)",
                flt.id,
                f"outbound to port {p}: {describe_rule(rule)}",
                rule.ref,
            )
    return Hop(f"{flt.kind} (return traffic)", flt.id, "no rule")


def _deny_detail(flt: Filter, adm: Admission, peer: int | None, what: str) -> str:
    if peer is None:
        return f"{flt.kind} {flt.id} admits no {what}"
    _, rule = adm.denier_for(peer)
    if rule is None:
        return f"{flt.kind} {flt.id} denies {what} (no allow rule)"
    return f"{flt.kind} {flt.id} denies {what} ({describe_rule(rule)})"


def internet_verdict(
    att: Attachment,
    family: int,
    protocol: str,
    port: int,
    routes: Pieces | None,
    route_problem: str = "",
    target_hops: Sequence[Hop] = (),
    source_label: str = "internet",
) -> Verdict:
    """Which internet clients reach ``protocol/port`` on ``att`` over ``family``, and how.

    ``routes`` are the client pieces whose replies leave the network towards the internet
    (the adapter's routing, with the gateway and route hops); None when routing is unknown.
    """
    if att.unknown:
        return Verdict(family, protocol, port, EMPTY, unknown=att.unknown)
    host = PUBLIC[family]
    host_adm = []
    for f in att.host_filters():
        a = f.admit(Direction.IN, family, protocol, port)
        host_adm.append((f, a))
        host = host & a.addresses
    unresolved = [r for _, a in host_adm for r in a.unresolved]
    kinds = "/".join(sorted({f.kind for f in att.host_filters()})) or "host filter"
    ids = ", ".join(f.id for f in att.host_filters())
    stages = [
        Stage(
            kinds,
            host,
            f"no {kinds} rule admits the port from the internet" + (f" ({ids})" if ids else ""),
        )
    ]
    passing = host
    if not att.public.get(family):
        passing = EMPTY
    stages.append(Stage("address", passing, f"no public IPv{family} address"))
    rep = passing.widest()
    unknown = None
    route_set = EMPTY
    if routes is None:
        unknown = (route_problem or "routing unknown") if passing else None
        route_set = passing
    else:
        for piece, _ in routes:
            route_set = route_set | piece
    passing = passing & route_set
    stages.append(Stage("route", passing, route_problem if rep is not None else ""))
    net_in: list[tuple[Filter, Admission]] = []
    net_ret: list[tuple[Filter, list[tuple[int, Admission]]]] = []
    for f in att.net_filters():
        rep = passing.widest()
        a = f.admit(Direction.IN, family, protocol, port)
        net_in.append((f, a))
        passing = passing & a.addresses
        stages.append(
            Stage(
                f"{f.kind} inbound",
                passing,
                _deny_detail(f, a, rep, f"inbound {protocol}/{port} from the internet"),
            )
        )
    for f in att.net_filters():
        if f.stateful:
            continue
        rep = passing.widest()
        ret_set, per_port = _returns(f, Direction.OUT, family, protocol, frozenset())
        net_ret.append((f, per_port))
        passing = passing & ret_set
        detail = (
            f"{f.kind} {f.id} denies the return traffic to the internet "
            f"({_ephemeral_text(protocol)})"
        )
        if rep is not None and per_port:
            found, rule = per_port[0][1].denier_for(rep)
            if found and rule is not None:
                detail += f"; first match: {describe_rule(rule)}"
        stages.append(Stage(f"{f.kind} outbound (return)", passing, detail))
    if unknown is None and unresolved and not passing:
        unknown = "cannot resolve " + ", ".join(sorted({str(r.unresolved) for r in unresolved}))
    path = None
    client = passing.widest()
    if client is not None and unknown is None:
        hops: list[Hop] = [Hop(source_label, format_address(family, client))]
        hops.extend(_hops_for(routes or [], client))
        for f, a in net_in:
            hops.append(rule_hop(f, a.rule_for(client), Direction.IN))
        for f, a in host_adm:
            hops.append(rule_hop(f, a.rule_for(client), Direction.IN))
        hops.append(Hop("interface", att.interface, att.public.get(family) or ""))
        hops.extend(target_hops)
        for f, per_port in net_ret:
            hops.append(_return_hop(f, per_port, client))
        path = Path(source_label, att.interface, protocol, port, family, tuple(hops))
    reachable = passing if unknown is None else EMPTY
    return Verdict(family, protocol, port, reachable, tuple(stages), path, unknown)


def _ephemeral_text(protocol: str) -> str:
    return "ephemeral ports 1024-65535" if protocol in PORTED else f"{protocol} replies"


def _hops_for(pieces: Pieces, value: int) -> tuple[Hop, ...]:
    for piece, hops in pieces:
        if value in piece:
            return hops
    return ()


@dataclass(frozen=True, slots=True)
class Flow:
    """A between-attachments question: from ``src`` (addresses ``src_addrs``) to ``dst``."""

    src: Attachment
    dst: Attachment
    src_addrs: IntervalSet
    dst_addrs: IntervalSet
    forward: RouteFn  # src network -> dst addresses
    backward: RouteFn  # dst network -> src addresses (the replies)
    source_label: str = ""
    target_label: str = ""


def flow_verdict(
    flow: Flow, family: int, protocol: str, port: int, target_hops: Sequence[Hop] = ()
) -> Verdict:
    """Whether some source address of ``flow.src`` reaches ``protocol/port`` on ``flow.dst``.

    Forward: route, source host filters (egress), source and destination network filters
    (skipped inside one network). Replies: route back, and stateless network filters on the
    client's ephemeral port (the same port on both sides).
    """
    src, dst = flow.src, flow.dst
    if src.unknown or dst.unknown:
        return Verdict(family, protocol, port, EMPTY, unknown=src.unknown or dst.unknown)
    crossing = src.network != dst.network
    stages: list[Stage] = []
    d_set, s_set = flow.dst_addrs, flow.src_addrs
    fwd = flow.forward(family, d_set)
    d_set = _union(fwd)
    stages.append(Stage("route", d_set, "no route delivers the traffic"))
    d_checks: list[tuple[Filter, Admission, Direction]] = []
    s_checks: list[tuple[Filter, Admission, Direction]] = []
    for f in src.host_filters() + (src.net_filters() if crossing else []):
        a = f.admit(Direction.OUT, family, protocol, port, dst.groups)
        d_checks.append((f, a, Direction.OUT))
        d_set = d_set & a.addresses
        stages.append(Stage(f"{f.kind} outbound", d_set, f"{f.kind} {f.id} denies the traffic"))
    back = flow.backward(family, s_set)
    s_set = _union(back)
    stages.append(Stage("return route", s_set if d_set else EMPTY, "no route delivers the replies"))
    for f in (dst.net_filters() if crossing else []) + dst.host_filters():
        a = f.admit(Direction.IN, family, protocol, port, src.groups)
        s_checks.append((f, a, Direction.IN))
        s_set = s_set & a.addresses
        stages.append(
            Stage(
                f"{f.kind} inbound",
                s_set if d_set else EMPTY,
                f"{f.kind} {f.id} denies the traffic",
            )
        )
    stateless = [
        (f, Direction.OUT, src.groups, True)
        for f in dst.net_filters()
        if crossing and not f.stateful
    ]
    stateless += [
        (f, Direction.IN, dst.groups, False)
        for f in src.net_filters()
        if crossing and not f.stateful
    ]
    ok, reply_hops = _reply(stateless, family, protocol, s_set, d_set)
    if not ok and s_set and d_set:
        stages.append(
            Stage(
                "return traffic",
                EMPTY,
                "stateless filters deny the replies on every ephemeral port",
            )
        )
    if not ok:
        return Verdict(family, protocol, port, EMPTY, tuple(stages))
    s_rep, d_rep = ok
    hops: list[Hop] = [
        Hop("source", flow.source_label or src.interface, format_address(family, s_rep))
    ]
    hops.extend(_hops_for(fwd, d_rep))
    for f, a, direction in d_checks:
        hops.append(rule_hop(f, a.rule_for(d_rep), direction))
    for f, a, direction in s_checks:
        hops.append(rule_hop(f, a.rule_for(s_rep), direction))
    hops.append(Hop("interface", dst.interface, format_address(family, d_rep)))
    hops.extend(target_hops)
    hops.extend(_hops_for(back, s_rep))
    hops.extend(reply_hops)
    path = Path(
        flow.source_label or src.interface,
        flow.target_label or dst.interface,
        protocol,
        port,
        family,
        tuple(hops),
    )
    reach = s_set if d_set else EMPTY
    return Verdict(family, protocol, port, reach, tuple(stages), path)


def _reply(
    stateless: list[tuple[Filter, Direction, frozenset[str], bool]],
    family: int,
    protocol: str,
    s_set: IntervalSet,
    d_set: IntervalSet,
) -> tuple[tuple[int, int] | None, list[Hop]]:
    """A (source, destination) pair whose replies pass every stateless filter on one port."""
    if not s_set or not d_set:
        return None, []
    if not stateless:
        return (s_set.widest() or 0, d_set.widest() or 0), []
    ports = EPHEMERAL if protocol in PORTED else ALL_PORTS
    cuts: set[int] = set()
    for f, direction, _, _ in stateless:
        cuts |= f.port_cuts(direction, protocol)
    for p in representatives(ports, cuts):
        s_ok, d_ok = s_set, d_set
        hops: list[tuple[Filter, Admission, bool]] = []
        for f, direction, groups, toward_src in stateless:
            a = f.admit(direction, family, protocol, p, groups)
            if toward_src:
                s_ok = s_ok & a.addresses
            else:
                d_ok = d_ok & a.addresses
            hops.append((f, a, toward_src))
        if s_ok and d_ok:
            s_rep, d_rep = s_ok.widest() or 0, d_ok.widest() or 0
            out = []
            for f, a, toward_src in hops:
                rule = a.rule_for(s_rep if toward_src else d_rep)
                word = "outbound" if toward_src else "inbound"
                text = describe_rule(rule) if rule else "no rule"
                out.append(
                    Hop(
                        f"{f.kind} (return traffic)",
                        f.id,
                        f"{word} port {p}: {text}",
                        rule.ref if rule else None,
                    )
                )
            return (s_rep, d_rep), out
    return None, []


def _union(pieces: Pieces) -> IntervalSet:
    out = EMPTY
    for piece, _ in pieces:
        out = out | piece
    return out
