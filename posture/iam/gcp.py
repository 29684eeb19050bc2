"""Who can act as which service account on GCP, and who becomes admin-equivalent that way.

Edges of the identity graph (principal -> service account):

- **impersonate**: ``roles/iam.serviceAccountTokenCreator`` (mint access tokens) or
  ``roles/iam.serviceAccountKeyAdmin`` (create a key) granted on the project (every service
  account of the project) or on the service account's own IAM policy;
- **act as**: ``roles/iam.serviceAccountUser`` (``iam.serviceAccounts.actAs``), the same scopes.
  Acting as an account needs a second permission that runs a workload under it (create a VM,
  a function, a Cloud Run service, a build...): the edge is certain when the principal holds
  one of the predefined roles that grant one on the account's project, possible when it holds
  one only on another project (cross-project use depends on an organisation policy), a
  conditional one, or any custom role (not expanded), and absent otherwise.

Grants are read from each project's *effective* policy (:func:`posture.gcp.effective_grants`):
a role granted on a folder or the organisation holds on every project below it, and a step or
an admin role inherited that way says where it was granted. A grant bound by an IAM condition
is a possible edge. A principal that reaches a service account
holding ``roles/owner`` or ``roles/editor`` on a project is admin-equivalent there. Group
membership is not expanded: the group is the principal.

Unlike AWS (:class:`posture.iam.graph.IdentityGraph`: one ADMIN node, admin anywhere in the
account), administrator power on GCP is per project and reached through service accounts, so
the graph is an :class:`ImpersonationGraph` of principal -> service account steps and its
answers are :class:`ImpersonationPath` s to a project's basic admin role. It keeps what
:mod:`posture.iam.gcp_escalation` needs for grants on accounts that do not exist yet: the
project-level grants, who holds roles that deploy workloads, who holds custom roles
(:func:`edge_certainty` decides an edge to any account of a project).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.gcp import PROJECT, SERVICE_ACCOUNT, effective_grants, grants
from posture.model import Asset, Inventory
from posture.values import parse_time

BASIC_ADMIN = ("roles/owner", "roles/editor")
IMPERSONATE = {
    "roles/iam.serviceAccountTokenCreator": "can mint access tokens for",
    "roles/iam.serviceAccountKeyAdmin": "can create keys for",
}
ACT_AS = {"roles/iam.serviceAccountUser": "can act as"}
DEPLOY_ROLES = frozenset(
    {
        "roles/owner",
        "roles/editor",
        "roles/compute.admin",
        "roles/compute.instanceAdmin",
        "roles/compute.instanceAdmin.v1",
        "roles/cloudfunctions.admin",
        "roles/cloudfunctions.developer",
        "roles/run.admin",
        "roles/run.developer",
        "roles/cloudbuild.builds.editor",
        "roles/dataflow.admin",
        "roles/dataflow.developer",
        "roles/dataproc.admin",
        "roles/dataproc.editor",
        "roles/composer.admin",
        "roles/container.admin",
        "roles/container.developer",
        "roles/cloudscheduler.admin",
        "roles/workflows.admin",
        "roles/workflows.editor",
        "roles/deploymentmanager.editor",
        "roles/notebooks.admin",
        "roles/aiplatform.admin",
    }
)


@dataclass(frozen=True, slots=True)
class Step:
    principal: str
    service_account: str  # email
    role: str
    granted_on: str
    certain: bool
    why: str  # for a possible step: what cannot be decided

    def evidence(self) -> dict[str, Any]:
        verb = IMPERSONATE.get(self.role) or ACT_AS.get(self.role, "can use")
        out: dict[str, Any] = {
            "principal": self.principal,
            "action": verb,
            "service_account": self.service_account,
            "role": self.role,
            "granted_on": self.granted_on,
        }
        if not self.certain:
            out["undecided"] = self.why
        return out


@dataclass(frozen=True, slots=True)
class ImpersonationPath:
    principal: str
    steps: tuple[Step, ...]
    admin_role: str
    project: str
    certain: bool

    def evidence(self) -> dict[str, Any]:
        hops: list[dict[str, Any]] = [{"kind": "principal", "id": self.principal}]
        hops += [
            {"kind": "service account", "id": s.service_account, "rule": s.role} for s in self.steps
        ]
        hops.append({"kind": "project", "id": self.project, "rule": self.admin_role})
        return {
            "principal": self.principal,
            "path": hops,
            "steps": [s.evidence() for s in self.steps],
            "admin_role": self.admin_role,
            "on_project": self.project,
            "certain": self.certain,
        }


@dataclass
class ImpersonationGraph:
    edges: dict[str, list[Step]] = field(default_factory=dict)
    admin_of: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # email -> (proj, role)
    direct_admins: dict[str, set[str]] = field(default_factory=dict)  # project -> members
    unknown_policies: dict[str, str] = field(default_factory=dict)  # email -> SA name
    # member -> (project, unconditional) of its roles that run workloads; members with custom roles
    deploy: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    custom: set[str] = field(default_factory=set)
    # project -> (role, member, condition) of its project-level impersonation and act-as grants
    project_grants: dict[str, list[tuple[str, str, Any]]] = field(default_factory=dict)
    # (project, role, member) -> the ancestor an inherited project-level grant was made on
    inherited_from: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def paths_to_admin(self) -> Iterator[ImpersonationPath]:
        for start in sorted(self.edges):
            found: dict[str, tuple[tuple[Step, ...], bool]] = {}
            for certain_only in (True, False):
                for email, steps in reachable(self.edges, start, certain_only):
                    if email not in found:
                        found[email] = (steps, certain_only)
            for email, (steps, certain) in sorted(found.items()):
                for project, role in self.admin_of.get(email, ()):
                    if start in self.direct_admins.get(project, set()):
                        continue
                    yield ImpersonationPath(start, steps, role, project, certain)


def reachable(
    edges: Mapping[str, list[Step]], start: str, certain_only: bool
) -> Iterator[tuple[str, tuple[Step, ...]]]:
    queue: deque[tuple[str, tuple[Step, ...]]] = deque([(start, ())])
    seen = {start}
    while queue:
        node, path = queue.popleft()
        for step in edges.get(node, ()):
            if certain_only and not step.certain:
                continue
            nxt = f"serviceAccount:{step.service_account}"
            if nxt in seen:
                continue
            seen.add(nxt)
            yield step.service_account, (*path, step)
            queue.append((nxt, (*path, step)))


def build_impersonation_graph(inv: Inventory) -> ImpersonationGraph:
    g = ImpersonationGraph()
    accounts: dict[str, list[Asset]] = {}
    for sa in inv.of(SERVICE_ACCOUNT):
        accounts.setdefault(sa.account, []).append(sa)
    deploy, custom = g.deploy, g.custom
    grants_on: list[tuple[str, str, Any, str, list[Asset]]] = []
    for project in inv.of(PROJECT):
        pid = str(project.attr("project_id") or project.account)
        for grant in effective_grants(inv, project) or ():
            role, member, cond = grant.role, grant.member, grant.condition
            if role in BASIC_ADMIN and member.startswith("serviceAccount:") and cond is None:
                email = member.removeprefix("serviceAccount:")
                held = g.admin_of.setdefault(email, [])
                if (pid, role) not in held:
                    held.append((pid, role))
            if role in BASIC_ADMIN and cond is None:
                g.direct_admins.setdefault(pid, set()).add(member)
            if role in DEPLOY_ROLES:
                deploy.setdefault(member, []).append((pid, cond is None))
            if role.startswith(("projects/", "organizations/")):
                custom.add(member)
            if role in IMPERSONATE or role in ACT_AS:
                where = f"project {pid}"
                if grant.inherited:
                    where = f"{grant.source}, inherited by project {pid}"
                    g.inherited_from.setdefault((pid, role, member), grant.source)
                grants_on.append((role, member, cond, where, accounts.get(pid, [])))
                g.project_grants.setdefault(pid, []).append((role, member, cond))
    for sa_list in accounts.values():
        for sa in sa_list:
            if sa.attr("iam_bindings") is None:
                g.unknown_policies[str(sa.attr("email"))] = sa.name
            for role, member, cond in grants(sa.attr("iam_bindings")):
                if role in IMPERSONATE or role in ACT_AS:
                    grants_on.append((role, member, cond, f"service account {sa.name}", [sa]))
    for role, member, cond, where, targets in grants_on:
        for sa in targets:
            step = _step(role, member, cond, where, sa, deploy, custom)
            if step is not None and member != f"serviceAccount:{sa.attr('email')}":
                g.edges.setdefault(member, []).append(step)
    for steps in g.edges.values():
        steps.sort(key=lambda s: (s.service_account, not s.certain, s.role, s.granted_on))
    return g


def _step(
    role: str,
    member: str,
    cond: Any,
    where: str,
    sa: Asset,
    deploy: Mapping[str, list[tuple[str, bool]]],
    custom: set[str],
) -> Step | None:
    found = edge_certainty(role, member, cond, sa.account, deploy, custom)
    if found is None:
        return None
    return Step(member, str(sa.attr("email")), role, where, *found)


def edge_certainty(
    role: str,
    member: str,
    cond: Any,
    project: str,
    deploy: Mapping[str, list[tuple[str, bool]]],
    custom: set[str],
) -> tuple[bool, str] | None:
    """(certain, what cannot be decided) of ``member``'s ``role`` on an account of ``project``;
    None when the grant gives no power (act-as without any way to run a workload)."""
    if role in IMPERSONATE:
        return cond is None, f"the grant is conditional ({condition_title(cond)})" if cond else ""
    held = deploy.get(member, [])
    same_plain = any(p == project and plain for p, plain in held)
    if cond is None and same_plain:
        return True, ""
    reasons = []
    if cond:
        reasons.append(f"the grant is conditional ({condition_title(cond)})")
    if not same_plain:
        if any(p == project for p, _plain in held):
            reasons.append("its role that deploys workloads is conditional")
        elif held:
            reasons.append(
                "it can deploy workloads only in another project (cross-project "
                "service-account use depends on an organisation policy)"
            )
        if member in custom:
            reasons.append("it holds custom roles that are not expanded")
        if not (held or member in custom):
            return None  # act-as without any way to run a workload
    return False, "; ".join(reasons)


def condition_title(cond: Any) -> str:
    if isinstance(cond, Mapping):
        return str(cond.get("title") or cond.get("expression"))
    return str(cond)


# -- IAM conditions that bound a grant in time --------------------------------------------------

_QUOTED = r"(?:\"(?P<{0}>[^\"]*)\"|'(?P<{0}q>[^']*)')"
_EXPIRY = (
    re.compile(r"^request\.time\s*<=?\s*timestamp\(\s*" + _QUOTED.format("t") + r"\s*\)$"),
    re.compile(r"^timestamp\(\s*" + _QUOTED.format("t") + r"\s*\)\s*>=?\s*request\.time$"),
)


def condition_expiry(cond: Any) -> dt.datetime | None:
    """When a conditional grant stops granting: the expression's ``request.time <
    timestamp("T")`` (or ``<=``, or ``timestamp("T") > request.time``) among the conjuncts
    (``&&``) at its top level, the earliest if several; with a top-level ``||``, every disjunct
    must carry one (then the latest). None = the condition does not bound the grant in time,
    whatever its title says: it tests resource names, tags, a start (``request.time >
    timestamp(...)`` only opens access), a time of day or day of week (a recurring window,
    standing every day), or an expression this reader does not follow. Only the expression is
    read (IAM Conditions, CEL: https://cloud.google.com/iam/docs/conditions-attribute-reference#date-time).
    """
    if not isinstance(cond, Mapping):
        return None
    expression = cond.get("expression")
    return _expiry(str(expression)) if expression else None


def time_bound(cond: Any) -> bool:
    """Whether a grant's condition ends it at a fixed time (:func:`condition_expiry`)."""
    return condition_expiry(cond) is not None


def _expiry(expression: str) -> dt.datetime | None:
    disjuncts = _split(_unwrap(expression), "||")
    if len(disjuncts) > 1:
        ends = [_expiry(d) for d in disjuncts]
        return None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    conjuncts = _split(disjuncts[0], "&&")
    if len(conjuncts) > 1:
        bounds = [e for e in (_expiry(c) for c in conjuncts) if e is not None]
        return min(bounds) if bounds else None
    clause = conjuncts[0]
    for pattern in _EXPIRY:
        found = pattern.match(clause)
        if found:
            return parse_time(found.group("t") or found.group("tq"))
    return None


def _scan(text: str) -> Iterator[tuple[int, int]]:
    """(index, parenthesis depth) of every character outside string literals."""
    depth, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            yield i, depth
            i += 1
            continue
        else:
            yield i, depth
        i += 1


def _split(text: str, op: str) -> list[str]:
    parts, start = [], 0
    for i, depth in _scan(text):
        if depth == 0 and i >= start and text.startswith(op, i):
            parts.append(text[start:i])
            start = i + len(op)
    parts.append(text[start:])
    return [_unwrap(p) for p in parts]


def _unwrap(text: str) -> str:
    """The expression without blanks and the parentheses that enclose all of it."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        closes = [i for i, depth in _scan(text) if depth == 0 and text[i] == ")"]
        if closes != [len(text) - 1]:
            break
        text = text[1:-1].strip()
    return text
