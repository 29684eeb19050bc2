"""Defense depth of GCP instances: how many independent layers keep a sensitive port from the
internet (docs/gcp-assets.md, "Defense depth"; the AWS counterpart is
:mod:`posture.graph.depth`, whose result types and flip search this module shares).

Candidate paths of ``tcp/port`` on an instance: each network interface over IPv4 and over IPv6
(internet client -> external address -> firewall levels; the replies follow the routes), and
each external load balancer that delivers to the instance (:mod:`posture.graph.gcp.lb`).
Layers of a path, each with one *flip* - the single change that makes the layer let every
client through (texts: :mod:`posture.graph.gcp.depth_text`):

* ``external-address`` (direct paths): the interface has an external IPv4 / IPv6 address;
  flip: add one (an access config / an IPv6 access config);
* ``route`` (direct and passthrough load-balancer paths: the replies go to the client's own
  address): the routes of the network send the replies to the default internet gateway
  (:mod:`posture.graph.gcp.route`); flip: a route ``0.0.0.0/0`` (``::/0``) to the gateway
  ahead of every route capturing internet addresses;
* one layer per **firewall level** the packet walks, in evaluation order (hierarchical
  policies, system policies, the VPC firewall rules, the global and the regional network
  firewall policy); flip: a rule admitting the port from everywhere, evaluated before every
  other rule of that level. The implied deny is not a layer of its own: it is what the VPC
  rules (and the later policies) leave in place, and one VPC allow rule flips it;
* load-balancer paths: ``named-port`` (a proxy load balancer delivers to the instance group's
  named port; flip: map the named port to the port), ``iap`` (Identity-Aware Proxy on the
  backend service; flip: disable it) and ``cloud-armor`` (not evaluated: unknown). A
  passthrough load balancer is a candidate only for the ports of its forwarding rule (changing
  them means recreating the forwarding rule: not a flip).

The path is open when every non-firewall layer is open and the clients that the (partly
flipped) firewall chain admits and whose replies are routed are the *wide* internet (a /8 worth
of public IPv4, a /16 of global IPv6: :data:`posture.graph.gcp.clients.WIDE`; a proxy load
balancer's path: some proxy source gets through) - exactly the exposure checks' computation
(:mod:`posture.graph.gcp.clients`), so depth 0 is their FAIL and an allow-listed office range
is a layer (depth 1: its flip admits 0.0.0.0/0). Firewall levels are
evaluated as the chain, not as independent filters: an allow at an earlier level ends the
evaluation, so one flip of the first level opens the whole chain - a chain of levels is never
more than one change from open, and a hierarchical deny protects against changes in the VPC
rules, not against a change in itself. Flip sets are tried in increasing size (the non-firewall
layers first, then the VPC rules, network policies and hierarchical levels from the innermost
out, so that the change named is the most local one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from posture.gcp import BACKEND_SERVICE, INSTANCE_GROUP, TARGET_POOL
from posture.graph.depth import Depth, Layer, PathDepth, combine, min_flips, result
from posture.graph.gcp.clients import Clients, Reached, client_atoms, clients, flipped, gate
from posture.graph.gcp.depth_text import (
    armor_layer,
    entry_layer,
    iap_layer,
    named_port_layer,
    route_layer,
    stage_layers,
)
from posture.graph.gcp.exposure import Estate, nic_for
from posture.graph.gcp.fw import Net, Nic, Origin, Tri, nics_of
from posture.graph.gcp.lb import LbPath, frontend_text
from posture.graph.gcp.reach import Prepared
from posture.model import Asset, Inventory

_PREFERENCE = {"vpc": 0, "network": 1, "network-regional": 2, "system": 3, "hierarchy": 4}
NO_MEMBER = -1  # ``Candidate.member`` of load-balancer paths; interfaces count from 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way in: its clients, the interface it arrives on, its non-firewall layers."""

    via: str
    family: int
    nic: Nic
    origin: Origin
    sources: tuple[Net, ...] | None  # None: every internet client
    source_text: str
    needs_route: bool  # the replies go to the client's own address
    fixed: tuple[tuple[Layer, Tri], ...] = ()  # (layer, YES open / NO closed / MAYBE unknown)
    member: int = NO_MEMBER  # the interface index of a direct path
    lb: LbPath | None = None
    named: tuple[dict[str, Any], str] | None = None  # proxy LB: (instance group hop, port name)

    def carries(self, port: int) -> bool:
        """A passthrough load balancer delivers only the ports of its forwarding rule."""
        return self.lb is None or not self.needs_route or self.lb.reaches("tcp", port)

    def layers_for(self, port: int) -> list[tuple[Layer, Tri]]:
        out = list(self.fixed)
        if self.named is not None and self.lb is not None:
            group, port_name = self.named
            delivered = sorted({a for a, _b in self.lb.ports or ()})
            layer = named_port_layer(group, port_name, delivered, port)
            out.insert(0, (layer, Tri.NO if layer.blocking else Tri.YES))
        return out


@dataclass
class GcpDepth:
    """The depth engine over one inventory (searches memoized per equivalence class)."""

    est: Estate
    inventory: Inventory
    memo: dict[Any, Any] = field(default_factory=dict)

    def host_depths(self, host: Asset, ports: Sequence[int]) -> tuple[Depth, ...]:
        """The depth of every port on ``host``: the minimum over its candidate paths. Hosts
        whose interfaces are alike (network, region, tags, service accounts, external
        addresses) and that no load balancer serves share one computation."""
        key = (self._class(host), tuple(int(p) for p in ports))
        memo: dict[Any, tuple[Depth, ...]] = self.memo.setdefault("hosts", {})
        found = memo.get(key)
        if found is None:
            cands = self.candidates(host)
            found = memo[key] = tuple(
                combine(int(p), [self.path(c, int(p)) for c in cands if c.carries(int(p))])
                for p in ports
            )
        return found

    def admitted_somewhere(self, host: Asset, port: int) -> bool:
        """Whether some allow rule of some level matches internet clients on the port (held
        back by a deny, a missing address or route): the more telling port to report."""
        memo: dict[Any, bool] = self.memo.setdefault("intended", {})
        key = (self._class(host), port)
        if key not in memo:
            memo[key] = any(
                prepared.allow_matches(lo, family, Origin.INTERNET)
                for nic in nics_of(host)
                for prepared in (self.est.prepared_for(nic, port),)
                for family in (4, 6)
                for lo, _hi in client_atoms(prepared, family, Origin.INTERNET, None)
            )
        return memo[key]

    def _class(self, host: Asset) -> tuple[Any, ...]:
        nics = tuple(
            (n.network, n.region, tuple(sorted(set(n.tags))),
             tuple(sorted(set(n.service_accounts))), n.has_external_ipv4, n.has_external_ipv6,
             n.name)
            for n in nics_of(host)
        )
        return (nics, host.uid if host.uid in self.est.lb.paths else None)

    def candidates(self, host: Asset) -> list[Candidate]:
        nics = nics_of(host)
        out: list[Candidate] = []
        for n, nic in enumerate(nics):
            label = nic.name or f"nic{n}"
            for family in (4, 6):
                entry = entry_layer(nic, label, family)
                out.append(
                    Candidate(
                        f"direct (IPv{family}) {label}",
                        family,
                        nic,
                        Origin.INTERNET,
                        None,
                        "0.0.0.0/0" if family == 4 else "::/0",
                        True,
                        ((entry, Tri.NO if entry.blocking else Tri.YES),),
                        n,
                    )
                )
        for path in self.est.lb.paths.get(host.uid, []):
            lb_nic = nic_for(nics, path.network)
            if lb_nic is not None and ("tcp" in path.protocols or "all" in path.protocols):
                out.append(self._lb_candidate(path, lb_nic))
        return out

    def _lb_candidate(self, path: LbPath, nic: Nic) -> Candidate:
        hops = {h["kind"]: h for h in path.hops}
        front, last = path.frontend, path.hops[-1]
        via = f"load balancer {front.name} ({frontend_text(front)}) -> {last['kind']} {last['id']}"
        passthrough = path.origin is Origin.INTERNET
        service = self.inventory.get(str(hops.get(_kind(BACKEND_SERVICE), {}).get("uid")))
        fixed: list[tuple[Layer, Tri]] = []
        if path.authenticated and service is not None:
            fixed.append((iap_layer(service), Tri.NO))
        pool = self.inventory.get(str(hops.get(_kind(TARGET_POOL), {}).get("uid")))
        for reason in path.undecided:
            fixed.append((armor_layer(service or pool, reason), Tri.MAYBE))
        named = None
        if not passthrough:
            port_name = str((service.attr("port_name") if service else None) or "http")
            named = (hops.get(_kind(INSTANCE_GROUP), last), port_name)
        sources = tuple(n for n in path.sources if n.version == path.family)
        return Candidate(
            via,
            path.family,
            nic,
            path.origin,
            sources,
            ", ".join(map(str, sources)) if passthrough else path.source_label,
            passthrough,
            tuple(fixed),
            NO_MEMBER,
            path,
            named,
        )

    # -- one path ---------------------------------------------------------------------------

    def path(self, cand: Candidate, port: int) -> PathDepth:
        """The depth of one candidate path of ``tcp/port`` and a least set of flips."""
        prepared = self.est.prepared_for(cand.nic, port)
        table = self.est.routes.table(cand.nic, cand.family) if cand.needs_route else None
        fixed = cand.layers_for(port)
        layers = [x for x, _ in fixed]
        if table is not None:
            layers.append(route_layer(table))
        first = len(layers)
        layers += self._stage_layers(cand, prepared, port)
        order = list(range(first)) + [first + i for i in _stage_order(prepared)]
        states = tuple(st for _, st in fixed)
        route_key = None if table is None else (table.state, table.segments)
        key = (prepared.signature(), cand.family, cand.origin, cand.sources, states, route_key)
        memo: dict[Any, tuple[int | None, int, frozenset[int]]] = self.memo.setdefault(
            "search", {}
        )
        found = memo.get(key)
        if found is None:
            route_at = first - 1 if table is not None else None

            def opens(chosen: frozenset[int]) -> bool | None:
                picked = {order[i] for i in chosen}
                state = min((st for i, st in enumerate(states) if i not in picked),
                            default=Tri.YES)
                if state is Tri.NO:
                    return False
                stages = frozenset(i - first for i in picked if i >= first)
                admitted = self._clients(prepared, cand, stages)
                reached = gate(admitted, None if route_at in picked else table, cand.family)
                state = min(state, _opened(reached, cand.origin))
                return None if state is Tri.MAYBE else state is Tri.YES

            depth, at_least, chosen = min_flips(len(layers), opens, len(layers))
            found = memo[key] = (depth, at_least, frozenset(order[i] for i in chosen))
        out = result(cand.via, cand.family, layers, *found)
        if out.depth is None and out.unknown is None:
            reasons = self._clients(prepared, cand, frozenset()).reasons
            out = replace(out, unknown="; ".join(reasons) or "undecided")
        return replace(out, member=cand.member)

    def _clients(self, prepared: Prepared, cand: Candidate, stages: frozenset[int]) -> Clients:
        memo: dict[Any, Clients] = self.memo.setdefault("clients", {})
        key = (prepared.signature(), cand.family, cand.origin, cand.sources, stages)
        found = memo.get(key)
        if found is None:
            found = memo[key] = clients(
                flipped(prepared, stages), cand.family, cand.origin, cand.sources
            )
        return found

    def _stage_layers(self, cand: Candidate, prepared: Prepared, port: int) -> list[Layer]:
        memo: dict[Any, list[Layer]] = self.memo.setdefault("stages", {})
        key = (prepared.signature(), cand.family, cand.origin, cand.sources, port,
               cand.nic.network, cand.source_text)
        found = memo.get(key)
        if found is None:
            atoms = client_atoms(prepared, cand.family, cand.origin, cand.sources)
            found = memo[key] = stage_layers(
                prepared, atoms, cand.family, cand.origin, port, cand.nic.network,
                cand.source_text, direct=cand.sources is None,
            )
        return found


def _opened(reached: Reached, origin: Origin) -> Tri:
    """Internet clients (direct, passthrough load balancer) open the path when they are the
    wide internet - an allow-listed office range is a layer, as on AWS; a proxy load balancer's
    sources (its proxies) open it when any of them gets through."""
    return reached.wide if origin is Origin.INTERNET else reached.any


def _kind(type_: str) -> str:
    return type_.rsplit("/", 1)[-1]


def _stage_order(prepared: Prepared) -> list[int]:
    kinds = [stage.kind for stage, _ in prepared.stages]
    return sorted(
        range(len(kinds)),
        key=lambda i: (_PREFERENCE.get(kinds[i], 5), -i if kinds[i] == "hierarchy" else i),
    )


__all__ = ["NO_MEMBER", "Candidate", "GcpDepth"]
