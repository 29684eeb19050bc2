"""The identity graph (networkx): principals, the roles they can assume, the escalation edges,
and the ADMIN node. A principal is *admin-equivalent* when a path leads it to ADMIN; the
shortest path is the evidence, each edge with the statements that grant it.

Built once per run (checks get it through ``ctx.derived("aws.identity", build_identity_graph)``).
Cost grows with the principals that hold the relevant actions at all: every technique first
asks the evaluator's bitset pre-filter whether an Allow statement names its action.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from posture.iam import escalation as esc
from posture.iam.escalation import ADMIN, Edge
from posture.iam.evaluate import POLICY_WRITE_ACTIONS, Evaluator
from posture.iam.principals import Principal
from posture.model import Inventory


@dataclass(frozen=True, slots=True)
class AdminPath:
    """How a principal reaches full administrative power."""

    principal: str
    edges: tuple[Edge, ...]
    conditional: bool  # some edge depends on a condition the inventory cannot decide

    @property
    def direct(self) -> bool:
        return len(self.edges) == 1 and self.edges[0].technique == "admin-policy"

    def steps(self) -> list[dict[str, object]]:
        return [e.evidence() for e in self.edges]

    def describe(self, names: dict[str, str]) -> str:
        parts = [names.get(self.principal, self.principal)]
        for e in self.edges:
            parts.append(f"-[{e.technique}]-> {names.get(e.target, e.target)}")
        return " ".join(parts)


class IdentityGraph:
    def __init__(self, evaluator: Evaluator, edges: Iterable[Edge]) -> None:
        self.evaluator = evaluator
        self.graph = nx.DiGraph()
        self.graph.add_node(ADMIN, kind="admin", name="ADMIN")
        for p in evaluator.principals.values():
            self.graph.add_node(p.arn, kind=p.kind, name=p.name)
        for e in edges:
            self._add(e)
        self._paths: dict[bool, dict[str, list[str]]] = {}

    def _add(self, e: Edge) -> None:
        """Keep, per node pair, one definite edge if there is one (else the first found)."""
        if self.graph.has_edge(e.source, e.target):
            current: Edge = self.graph.edges[e.source, e.target]["edge"]
            if not current.conditional or e.conditional:
                return
        self.graph.add_edge(e.source, e.target, edge=e, conditional=e.conditional)

    def names(self) -> dict[str, str]:
        return {n: str(d.get("name", n)) for n, d in self.graph.nodes(data=True)}

    def _to_admin(self, definite_only: bool) -> dict[str, list[str]]:
        if definite_only not in self._paths:
            full = self.graph
            g = (
                full.edge_subgraph((a, b) for a, b, c in full.edges(data="conditional") if not c)
                if definite_only
                else full
            )
            rev = g.reverse(copy=False)
            paths = nx.single_source_shortest_path(rev, ADMIN) if ADMIN in rev else {}
            self._paths[definite_only] = {n: list(reversed(p)) for n, p in paths.items()}
        return self._paths[definite_only]

    def admin_path(self, arn: str) -> AdminPath | None:
        """The shortest definite path to ADMIN, else the shortest conditional one, else None."""
        for definite in (True, False):
            nodes = self._to_admin(definite).get(arn)
            if nodes and len(nodes) > 1:
                edges = tuple(self.graph.edges[a, b]["edge"] for a, b in itertools.pairwise(nodes))
                return AdminPath(
                    arn, edges, conditional=not definite or any(e.conditional for e in edges)
                )
        return None

    def principal(self, arn: str) -> Principal | None:
        return self.evaluator.principals.get(arn)


def build_identity_graph(
    inventory: Inventory,
    evaluator: Evaluator | None = None,
) -> IdentityGraph:
    ev = evaluator or Evaluator(inventory)
    principals = list(ev.principals.values())
    users = [p for p in principals if p.kind == "user"]
    groups = [p for p in principals if p.kind == "group"]
    roles = [p for p in principals if p.kind == "role" and not p.asset.attr("service_linked")]
    by_service: dict[str, list[esc.Principal]] = {}
    for r in roles:
        for service in esc.trusted_services(esc.trust_policy(ev, r)):
            by_service.setdefault(service, []).append(r)
    edges: list[Edge] = []
    for p in principals:
        edges += esc.direct_admin(ev, p)
        if ev.admin(p).allowed:
            continue  # already an administrator: its escalation edges add no path
        if p.kind != "group":
            edges += esc.modify_policies(ev, p, p)
        edges += esc.credentials(ev, p, users)
        edges += esc.join_groups(ev, p, groups)
        edges += esc.rewrite_trust(ev, p, roles)
        edges += esc.pass_role(ev, p, by_service)
    edges += _assume_edges(ev, principals, roles)
    graph = IdentityGraph(ev, edges)
    # rewriting another principal's policies helps only a principal that can then act as it
    extra: list[Edge] = []
    for p in principals:
        if ev.admin(p).allowed or not _may_modify(ev, p):
            continue
        for target in nx.descendants(graph.graph, p.arn) - {ADMIN}:
            q = ev.principals[target]
            if q.kind != "group":
                extra += esc.modify_policies(ev, p, q)
    for e in extra:
        graph._add(e)
    graph._paths.clear()
    return graph


def _may_modify(ev: Evaluator, p: Principal) -> bool:
    return any(ev.can_ever(p, a) for a in POLICY_WRITE_ACTIONS)


def _assume_edges(
    ev: Evaluator,
    principals: list[Principal],
    roles: list[Principal],
) -> list[Edge]:
    """Roles whose trust names a principal directly, or its account (then the caller's own
    policies must allow sts:AssumeRole too), or everyone."""
    by_arn = {p.arn: p for p in principals}
    assumers = [p for p in principals if ev.can_ever(p, "sts:AssumeRole")]
    edges: list[Edge] = []
    for role in roles:
        candidates: dict[str, Principal] = {}
        for s in esc.trust_policy(ev, role).statements:
            spec = s.principal
            if spec is None or s.effect.value != "Allow":
                continue
            if spec.wildcard or s.not_principal:
                candidates.update((p.arn, p) for p in principals)
                continue
            for entry in spec.aws:
                if entry in by_arn:
                    candidates[entry] = by_arn[entry]
            roots = {
                e.split(":")[4] if e.startswith("arn:") else e
                for e in spec.aws
                if e.isdigit() or e.endswith(":root")
            }
            if roots:
                candidates.update((p.arn, p) for p in assumers if p.account in roots)
        for p in candidates.values():
            edges += esc.assume(ev, p, role)
    return edges
