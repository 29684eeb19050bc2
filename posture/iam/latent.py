"""Latent privilege escalation and permissions management: power one change away.

A principal with no path to administrator today may still hold the *capability* of an
escalation technique whose counterpart does not exist yet, the way a security group open to the
world guards a host without a public address. The capability is decided by the evaluator on a
*future* resource: an ARN that no collected asset has, filled in from the resource patterns of
the principal's own Allow statements and of its permissions boundary (``*`` gives
``role/posture-future``, ``arn:aws:iam::1:role/app-*`` gives ``role/app-posture-future``; a
pattern naming an existing resource gives no future resource). Explicit denies, permissions
boundaries and conditions (``iam:PassedToService``, ``iam:PolicyARN``,
``iam:PermissionsBoundary``) apply as to any request; what they leave undecided is conditional.

The techniques of :mod:`posture.iam.escalation` with a latent form, and what each lacks today:

- ``iam:PassRole`` + a service's run-code actions: a role trusting that service that is (or can
  become) administrator;
- ``iam:CreatePolicyVersion`` (``iam:SetDefaultPolicyVersion``: conditional, versions are not
  collected): a customer-managed policy attached to the principal (void under a boundary it
  cannot remove);
- ``iam:CreateAccessKey`` / ``CreateLoginProfile`` / ``UpdateLoginProfile``: an administrator
  IAM user; ``iam:AddUserToGroup``: an administrator group;
- ``iam:UpdateAssumeRolePolicy``: an administrator role; ``sts:AssumeRole``: an administrator
  role that trusts the principal's account.

A principal is latent through its own capabilities or those of the nearest principal it can
become (assume, pass, join, mint credentials for); one with a path to administrator is not.

*Permissions management* (:meth:`LatentAnalysis.management`): a principal allowed to write the
policies (put, attach, new default version) or the trust policy of principals other than itself,
existing or future, can grant administrator to them. In a member account whose SCPs take
away the power to grant permissions (:meth:`~posture.iam.evaluate.Evaluator.capped`), no
principal is latent or manages permissions: whatever it writes stays under the same SCPs.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

import networkx as nx

from posture.iam import escalation as esc
from posture.iam.conditions import Value
from posture.iam.escalation import ADMIN, Edge
from posture.iam.evaluate import Evaluator, Verdict
from posture.iam.graph import IdentityGraph
from posture.iam.policy import substitute
from posture.iam.principals import Principal

FUTURE = "posture-future"  # the name a future resource takes in a filled-in pattern

# the actions that write another principal's permissions, and the kind of resource each names
MANAGEMENT_ACTIONS: dict[str, str] = {
    "iam:PutUserPolicy": "user",
    "iam:AttachUserPolicy": "user",
    "iam:PutRolePolicy": "role",
    "iam:AttachRolePolicy": "role",
    "iam:PutGroupPolicy": "group",
    "iam:AttachGroupPolicy": "group",
    "iam:CreatePolicyVersion": "policy",
    "iam:UpdateAssumeRolePolicy": "role",
}
# writes to a user or role that the target's permissions boundary caps
_WRITES = frozenset(esc.SELF_POLICY_ACTIONS["user"] + esc.SELF_POLICY_ACTIONS["role"])
_CREDENTIALS = {
    "iam:CreateAccessKey": "an access key",
    "iam:CreateLoginProfile": "a console password",
    "iam:UpdateLoginProfile": "a new console password",
}


@dataclass(frozen=True, slots=True)
class Capability:
    """One escalation technique a principal holds on a resource that does not exist today."""

    holder: str  # the principal holding it
    technique: str  # e.g. "iam:PassRole+ec2:RunInstances"
    action: str  # the action that names the missing counterpart (e.g. "iam:PassRole")
    counterpart: str  # what is missing, as a noun: "a role trusting ec2.amazonaws.com that ..."
    missing: str  # the sentence naming it: "no role trusting ... is ... administrator today"
    moment: str  # "the moment one exists"
    grants: tuple[tuple[str, Verdict], ...]  # (action on resource, verdict) that grant it
    today: tuple[str, ...] = ()  # existing counterparts it reaches that fall short
    conditional: bool = False

    def evidence(self) -> dict[str, object]:
        return {
            "holder": self.holder,
            "technique": self.technique,
            "missing": self.counterpart,
            "detail": self.missing,
            "reachable_today": list(self.today),
            "conditional": self.conditional,
            "grants": [{"request": req, **v.evidence()} for req, v in self.grants],
        }


@dataclass(frozen=True, slots=True)
class LatentEscalation:
    """A principal one change away from administrator: the edges to the capabilities' holder
    (none when it holds them itself) and the capabilities."""

    principal: str
    via: tuple[Edge, ...]
    capabilities: tuple[Capability, ...]

    @property
    def holder(self) -> str:
        return self.via[-1].target if self.via else self.principal

    @property
    def conditional(self) -> bool:
        return any(e.conditional for e in self.via) or all(
            c.conditional for c in self.capabilities
        )


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission to write the policies of one other principal or policy (or a future one)."""

    action: str
    target: str
    name: str
    future: bool
    verdict: Verdict

    def evidence(self) -> dict[str, object]:
        return {
            "request": f"{self.action} on {self.target}",
            "target": self.name,
            "future": self.future,
            **self.verdict.evidence(),
        }


def _fill(pattern: str, p: Principal, kind: str) -> str | None:
    """The ARN of a ``kind`` resource in p's account that ``pattern`` names, wildcards filled."""
    if "${" in pattern:
        resolved = substitute(pattern, p.variables)
        if resolved is None or "\x00" in resolved:
            return None
        pattern = resolved
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    name = re.sub(r"\*+", FUTURE, parts[5]).replace("?", "x")
    return f"arn:aws:iam::{p.account}:{name}" if name.startswith(f"{kind}/") else None


def future_arns(ev: Evaluator, p: Principal, action: str, kind: str) -> list[str]:
    """ARNs of ``kind`` resources ("role", "user", "group", "policy") that do not exist today
    and that a statement of p (or of its boundary) allowing ``action`` could name."""
    bit = ev.catalogue.bit(action)
    stmts = [*p.allows, *(p.boundary.allows() if p.boundary is not None else ())]
    found = {f"arn:aws:iam::{p.account}:{kind}/{FUTURE}": None}
    for s in stmts:
        if s.not_resource or not s.matches_action(action, bit):
            continue
        for pattern in s.resources:
            arn = _fill(pattern, p, kind)
            if arn is not None:
                found[arn] = None
    return [a for a in found if a not in ev.principals and a not in ev.store.assets]


def _probe(
    ev: Evaluator,
    p: Principal,
    action: str,
    kind: str,
    extra: Mapping[str, Value] | None = None,
) -> tuple[str, Verdict] | None:
    """The first future resource ``action`` is allowed on (a definite grant first)."""
    if not ev.can_ever(p, action):
        return None
    best = None
    for arn in future_arns(ev, p, action, kind):
        verdict = esc.try_grant(ev, p, action, arn, extra=extra)
        if verdict is not None and verdict.allowed:
            return arn, verdict
        best = best or (None if verdict is None else (arn, verdict))
    return best


def _cap(
    p: Principal,
    technique: str,
    counterpart: str,
    missing: str,
    grants: list[tuple[str, Verdict]],
    moment: str = "the moment one exists",
    conditional: bool = False,
) -> Capability:
    cond = conditional or any(not v.allowed for _, v in grants)
    action = technique.split("+", 1)[0]
    return Capability(
        p.arn, technique, action, counterpart, missing, moment, tuple(grants), (), cond
    )


def _pass_role(ev: Evaluator, p: Principal) -> Iterator[Capability]:
    if not ev.can_ever(p, "iam:PassRole"):
        return
    for service, actions, resource in esc.PASSROLE_TECHNIQUES:
        run = esc.run_grants(ev, p, actions, resource)
        if run is None:
            continue
        found = _probe(ev, p, "iam:PassRole", "role", {"iam:passedtoservice": (service,)})
        if found is not None:
            yield _cap(
                p,
                "iam:PassRole+" + "+".join(actions),
                f"a role trusting {service} that is or can become administrator",
                f"no role trusting {service} that {p.name} can pass is or can become "
                "administrator today",
                [(f"iam:PassRole on {found[0]}", found[1]), *run],
            )


def _policy_version(ev: Evaluator, p: Principal) -> Iterator[Capability]:
    if p.kind == "group" or esc.boundary_stays(ev, p, p):
        return
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"):
        found = _probe(ev, p, action, "policy")
        if found is not None:
            switch = action == "iam:SetDefaultPolicyVersion"
            yield _cap(
                p,
                action,
                f"a customer-managed policy attached to {p.name}"
                + (" with a version granting administrator" if switch else ""),
                f"no customer-managed policy that {p.name} can "
                f"{'switch to another version' if switch else 'rewrite'} is attached to it "
                "today" + (" (policy versions are not collected)" if switch else ""),
                [(f"{action} on {found[0]}", found[1])],
                moment="the moment one is",
                conditional=switch,
            )
            return


def _on_future(ev: Evaluator, p: Principal) -> Iterator[Capability]:
    """Credentials, group membership, trust rewriting and assuming: on a future principal."""
    for action, what in _CREDENTIALS.items():
        found = _probe(ev, p, action, "user")
        if found is not None:
            yield _cap(
                p,
                action,
                "an IAM user that is or can become administrator",
                f"no IAM user that {p.name} can create {what} for is or can become "
                "administrator today",
                [(f"{action} on {found[0]}", found[1])],
            )
            break
    found = _probe(ev, p, "iam:AddUserToGroup", "group") if p.kind != "role" else None
    if found is not None:
        yield _cap(
            p,
            "iam:AddUserToGroup",
            "a group that is or can become administrator",
            f"no group that {p.name} can join is or can become administrator today",
            [(f"iam:AddUserToGroup on {found[0]}", found[1])],
        )
    found = _probe(ev, p, "iam:UpdateAssumeRolePolicy", "role")
    if found is not None:
        yield _cap(
            p,
            "iam:UpdateAssumeRolePolicy",
            "a role that is or can become administrator",
            f"no role whose trust policy {p.name} can rewrite is or can become administrator "
            "today",
            [(f"iam:UpdateAssumeRolePolicy on {found[0]}", found[1])],
        )
    found = _probe(ev, p, "sts:AssumeRole", "role")
    if found is not None:
        yield _cap(
            p,
            "sts:AssumeRole",
            f"a role trusting account {p.account} that is or can become administrator",
            f"no role trusting account {p.account} that {p.name} may assume is or can become "
            "administrator today",
            [(f"sts:AssumeRole on {found[0]}", found[1])],
        )


def capabilities(ev: Evaluator, p: Principal) -> list[Capability]:
    """Every latent technique p holds on a future counterpart (whether or not it has a path);
    none when its organisation's SCPs cap it (a counterpart in its account would be capped too)."""
    if ev.capped(p):
        return []
    return [*_pass_role(ev, p), *_policy_version(ev, p), *_on_future(ev, p)]


def _targets(ev: Evaluator, p: Principal, kind: str) -> Iterator[tuple[str, str, Principal | None]]:
    """(arn, name, principal) of the existing principals and policies other than p's own."""
    mine = {p.arn, *esc.group_arns(ev, p)}
    if kind == "policy":
        for arn, asset in ev.store.assets.items():
            if asset.attr("aws_managed") is False and any(
                h.arn not in mine for h in ev.holders(arn)
            ):
                yield arn, asset.name, None
        return
    for q in ev.principals.values():
        if q.kind == kind and q.arn not in mine and not q.asset.attr("service_linked"):
            yield q.arn, q.name, q


class LatentAnalysis:
    """Latent escalation and permissions management over one identity graph (built once per
    run; capabilities computed on first use and kept)."""

    def __init__(self, graph: IdentityGraph, limit: int = 5) -> None:
        self.graph = graph
        self.evaluator = graph.evaluator
        self.limit = limit  # existing targets kept per management action (definite ones)
        self._caps: dict[str, tuple[Capability, ...]] = {}
        self._managed: dict[str, tuple[Grant, ...]] = {}

    def capabilities(self, arn: str) -> tuple[Capability, ...]:
        if arn not in self._caps:
            p = self.evaluator.principals.get(arn)
            found = capabilities(self.evaluator, p) if p is not None else []
            self._caps[arn] = tuple(self._with_today(c) for c in found)
        return self._caps[arn]

    def _with_today(self, cap: Capability) -> Capability:
        """The existing counterparts the holder reaches with the technique (graph edges)."""
        g = self.graph.graph
        names = sorted(
            str(g.nodes[t].get("name", t))
            for _, t, e in g.out_edges(cap.holder, data="edge")
            if t != ADMIN and e.technique == cap.technique
        )
        return replace(cap, today=tuple(names))

    def escalation(
        self, arn: str, exclude: frozenset[str] = frozenset()
    ) -> LatentEscalation | None:
        """The nearest latent escalation of a principal with no path to administrator (its own
        capabilities first; ``exclude``: actions of its own not to count), definite first."""
        if arn not in self.graph.graph or self.graph.admin_path(arn) is not None:
            return None
        g = self.graph.graph
        for definite in (True, False):
            view = (
                nx.subgraph_view(g, filter_edge=lambda a, b: not g.edges[a, b]["conditional"])
                if definite
                else g
            )
            paths = nx.single_source_shortest_path(view, arn)
            for node in sorted(paths, key=lambda n: (len(paths[n]), n)):
                if node == ADMIN:
                    continue
                caps = [
                    c
                    for c in self.capabilities(node)
                    if not (node == arn and c.action in exclude)
                    and not (definite and c.conditional)
                ]
                if caps:
                    hops = itertools.pairwise(paths[node])
                    edges = tuple(g.edges[a, b]["edge"] for a, b in hops)
                    return LatentEscalation(arn, edges, tuple(caps))
        return None

    def management(self, arn: str) -> tuple[Grant, ...]:
        """What p may write of other principals' permissions: per action, up to ``limit``
        existing targets with a definite grant (conditional ones too until then), and the
        first future target."""
        if arn not in self._managed:
            p = self.evaluator.principals.get(arn)
            self._managed[arn] = () if p is None else tuple(self._grants(p))
        return self._managed[arn]

    def _grants(self, p: Principal) -> Iterator[Grant]:
        ev = self.evaluator
        if ev.capped(p):
            return  # the SCPs cap every principal it could write for, as they cap it
        for action, kind in MANAGEMENT_ACTIONS.items():
            if not ev.can_ever(p, action):
                continue
            definite = 0
            for target, name, q in _targets(ev, p, kind):
                if q is not None and action in _WRITES and esc.boundary_stays(ev, q, p):
                    continue  # what it writes stays capped by the target's boundary
                extra = esc.policy_context(action, q)
                verdict = esc.try_grant(ev, p, action, target, extra=extra)
                if verdict is None:
                    continue
                yield Grant(action, target, name, False, verdict)
                definite += verdict.allowed
                if definite >= self.limit:
                    break
            future = _probe(ev, p, action, kind, esc.policy_context(action, None))
            if future is not None:
                yield Grant(action, future[0], future[0].rsplit(":", 1)[-1], True, future[1])

