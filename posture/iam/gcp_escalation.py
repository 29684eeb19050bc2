"""Privilege escalation on GCP beyond impersonation: rewriting a project's IAM policy, and the
latent form of project-level impersonation grants.

**setIamPolicy.** A member holding ``resourcemanager.projects.setIamPolicy`` on a project can
grant itself ``roles/owner`` there. The predefined roles that carry it and can be granted on a
project are :data:`SET_IAM_POLICY` (and ``roles/owner``: a member already Owner gains nothing).
A grant bound by a condition of the *delegated role grants* form
(``api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([...])``, alone or
joined with ``&&``) may grant only the roles listed: no basic admin role among them removes the
escalation (custom roles listed are not expanded: undecided); any other condition leaves it
undecided. Custom roles are not expanded: a member holding one may hold the permission
(undecided, with the reason). A principal that can impersonate a service account holding such a
role (:mod:`posture.iam.gcp`, certain or possible steps) escalates through it. Grants are read
from the project's effective policy: a role granted on a folder or the organisation (Project IAM
Admin, or Folder (IAM) Admin, whose ``setIamPolicy`` on the folder grants Owner inherited by every
project below) counts on every project below it, and says where it was granted.

**Latent impersonation.** Token creator, key admin or (with a role that deploys workloads)
service account user granted *on the project* reaches every service account of the project,
present or future. While none of them holds a basic admin role, the member is
not admin-equivalent - but the moment one is granted Owner or Editor (or created with it), it
is, with nobody changing the member's own grants: one change away. As on AWS, a member with a
path to administrator today (impersonation or setIamPolicy, certain or possible, on any project)
is never also latent, and neither is an Owner or Editor of the project - so "no service account
of the project holds a basic admin role" is exact: one that did would give the member a path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.gcp import PROJECT, SERVICE_ACCOUNT, Grant, effective_grants
from posture.iam.gcp import (
    ACT_AS,
    BASIC_ADMIN,
    IMPERSONATE,
    ImpersonationGraph,
    Step,
    condition_title,
    edge_certainty,
    reachable,
)
from posture.model import Inventory

OWNER = "roles/owner"
SET_IAM_POLICY = frozenset(
    {
        "roles/resourcemanager.projectIamAdmin",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.organizationAdmin",
        "roles/resourcemanager.folderAdmin",
        "roles/resourcemanager.folderIamAdmin",
    }
)
_GRANTS_BY_ROLE = re.compile(
    r"""^\(?\s*api\.getAttribute\(\s*['"]iam\.googleapis\.com/modifiedGrantsByRole['"]\s*,
    \s*\[\s*\]\s*\)\s*\.hasOnly\(\s*\[(?P<roles>[^\]]*)\]\s*\)\s*\)?$""",
    re.VERBOSE,
)
VERB = {**IMPERSONATE, **ACT_AS}
HOW = {
    "roles/iam.serviceAccountTokenCreator": "minting its tokens",
    "roles/iam.serviceAccountKeyAdmin": "creating a key for it",
    "roles/iam.serviceAccountUser": "running a workload as it",
}


def is_custom(role: str) -> bool:
    return role.startswith(("projects/", "organizations/"))


def grantable_roles(cond: Any) -> tuple[str, ...] | None:
    """The roles a conditional grant may grant (delegated role grants), or None when the
    condition does not have that form."""
    expr = str(cond.get("expression") or "") if isinstance(cond, Mapping) else str(cond or "")
    if "||" in expr:
        return None
    for part in expr.split("&&"):
        m = _GRANTS_BY_ROLE.match(part.strip())
        if m:
            return tuple(r.strip().strip("'\"") for r in m["roles"].split(",") if r.strip())
    return None


@dataclass(frozen=True, slots=True)
class PolicyEscalation:
    """A member that can rewrite a project's IAM policy (itself, or through service accounts)."""

    member: str
    project: str
    role: str  # the role that carries setIamPolicy (or a custom role that may)
    holder: str  # the member holding it (the last service account of ``via``, or ``member``)
    certain: bool
    why: str = ""  # what cannot be decided
    becomes: str = OWNER
    via: tuple[Step, ...] = ()
    condition: Any = None
    granted_on: str | None = None  # the ancestor the role was granted on (None: the project)

    def evidence(self) -> dict[str, Any]:
        hops: list[dict[str, Any]] = [{"kind": "principal", "id": self.member}]
        hops += [
            {"kind": "service account", "id": s.service_account, "rule": s.role} for s in self.via
        ]
        hops.append({"kind": "project", "id": self.project, "rule": f"{self.role}: setIamPolicy"})
        hops.append({"kind": "", "id": self.becomes, "rule": "granted to itself"})
        out: dict[str, Any] = {
            "member": self.member,
            "role": self.role,
            "holder": self.holder,
            "becomes": self.becomes,
            "condition": self.condition,
            "steps": [s.evidence() for s in self.via],
            "path": hops,
            "certain": self.certain,
        }
        if self.granted_on:
            out["granted_on"] = self.granted_on
            out["inherited"] = True
        if self.why:
            out["undecided"] = self.why
        return out


@dataclass(frozen=True, slots=True)
class Restricted:
    """A conditional setIamPolicy grant that may grant only non-admin roles."""

    member: str
    role: str
    grantable: tuple[str, ...]
    condition: Any

    def evidence(self) -> dict[str, Any]:
        return {
            "member": self.member,
            "role": self.role,
            "may_grant": list(self.grantable),
            "condition": self.condition,
        }


@dataclass(frozen=True, slots=True)
class LatentImpersonation:
    """A project-level impersonation grant waiting for a privileged service account."""

    member: str
    project: str
    role: str
    certain: bool
    why: str
    today: tuple[str, ...]  # the project's service accounts it reaches, short of admin
    condition: Any = None
    granted_on: str | None = None  # the ancestor the grant was inherited from (None: project)

    @property
    def missing(self) -> str:
        return f"no service account of project {self.project} holds a basic admin role today"

    @property
    def how(self) -> str:
        return HOW.get(self.role, "using it")

    def evidence(self) -> dict[str, Any]:
        counterpart = f"a service account of project {self.project} holding roles/owner or editor"
        return {
            "holder": self.member,
            "technique": self.role,
            "missing": counterpart,
            "detail": self.missing,
            "reachable_today": list(self.today),
            "conditional": not self.certain,
            "undecided": self.why or None,
            "grants": [
                {
                    "role": self.role,
                    "granted_on": (
                        f"{self.granted_on}, inherited" if self.granted_on
                        else f"project {self.project}"
                    ),
                    "condition": self.condition,
                }
            ],
            "path": [
                {"kind": "principal", "id": self.member},
                {"kind": "missing", "id": counterpart, "rule": f"{self.role} on the project"},
                {"kind": "", "id": "ADMIN", "rule": "the moment one does"},
            ],
        }


def _writers(
    project: str, effective: Sequence[Grant], owners: set[str]
) -> tuple[list[PolicyEscalation], list[Restricted]]:
    found: list[PolicyEscalation] = []
    restricted: list[Restricted] = []
    for g in effective:
        role, member, cond = g.role, g.member, g.condition
        src = g.source if g.inherited else None
        if member in owners:
            continue
        if role in SET_IAM_POLICY and cond is None:
            found.append(PolicyEscalation(member, project, role, member, True, granted_on=src))
        elif role in SET_IAM_POLICY:
            allowed = grantable_roles(cond)
            admin = [r for r in allowed or () if r in BASIC_ADMIN]
            if allowed is None:
                why = f"the grant is conditional ({condition_title(cond)})"
                found.append(PolicyEscalation(member, project, role, member, False, why,
                                              condition=cond, granted_on=src))
            elif admin:
                becomes = OWNER if OWNER in admin else admin[0]
                found.append(PolicyEscalation(member, project, role, member, True,
                                              becomes=becomes, condition=cond, granted_on=src))
            elif custom := [r for r in allowed if is_custom(r)]:
                why = f"its condition lets it grant custom roles that are not expanded: {custom}"
                found.append(PolicyEscalation(member, project, role, member, False, why,
                                              condition=cond, granted_on=src))
            else:
                restricted.append(Restricted(member, role, allowed, cond))
        elif is_custom(role):
            why = (
                f"custom role {role} is not expanded (it may include "
                "resourcemanager.projects.setIamPolicy)"
            )
            found.append(PolicyEscalation(member, project, role, member, False, why,
                                          condition=cond, granted_on=src))
    return found, restricted


def _through(
    graph: ImpersonationGraph, writers: list[PolicyEscalation], owners: set[str]
) -> list[PolicyEscalation]:
    """Principals that reach a writing service account by impersonation."""
    by_email = {
        w.member.removeprefix("serviceAccount:"): w
        for w in writers
        if w.member.startswith("serviceAccount:")
    }
    out: list[PolicyEscalation] = []
    for start in sorted(graph.edges):
        if start in owners:
            continue
        for certain_only in (True, False):
            for email, steps in reachable(graph.edges, start, certain_only):
                w = by_email.get(email)
                if w is not None and start != w.member:
                    certain = w.certain and all(s.certain for s in steps)
                    why = "; ".join(x for x in (w.why, *(s.why for s in steps)) if x)
                    out.append(
                        PolicyEscalation(
                            start,
                            w.project,
                            w.role,
                            w.member,
                            certain,
                            why,
                            w.becomes,
                            steps,
                            w.condition,
                            w.granted_on,
                        )
                    )
    return out


def _best(found: list[PolicyEscalation]) -> list[PolicyEscalation]:
    """One escalation per member: certain first, then the shortest."""
    best: dict[str, PolicyEscalation] = {}
    for e in sorted(found, key=lambda e: (not e.certain, len(e.via), e.role)):
        best.setdefault(e.member, e)
    return [best[m] for m in sorted(best)]


@dataclass(frozen=True, slots=True)
class ProjectEscalations:
    project: str
    writers: tuple[PolicyEscalation, ...]  # can (or may) grant themselves Owner
    restricted: tuple[Restricted, ...]
    owners: tuple[str, ...]
    latent: tuple[LatentImpersonation, ...]
    not_latent: tuple[str, ...]  # project-level grantees already administrator or with a path


def _latent(
    graph: ImpersonationGraph, pid: str, accounts: list[str], skip: set[str]
) -> tuple[tuple[LatentImpersonation, ...], tuple[str, ...]]:
    """The latent grants of a project, and the members whose grant is not latent because they
    are administrator or have a path today."""
    found: dict[str, LatentImpersonation] = {}
    skipped: set[str] = set()
    for role, member, cond in graph.project_grants.get(pid, ()):
        certainty = edge_certainty(role, member, cond, pid, graph.deploy, graph.custom)
        if certainty is None:
            continue
        if member in skip:
            skipped.add(member)
            continue
        today = tuple(sorted(e for e in accounts if f"serviceAccount:{e}" != member))
        source = graph.inherited_from.get((pid, role, member))
        x = LatentImpersonation(member, pid, role, *certainty, today, cond, source)
        best = found.get(member)
        if best is None or (x.certain, best.role) > (best.certain, x.role):
            found[member] = x
    return tuple(found[m] for m in sorted(found)), tuple(sorted(skipped))


def project_escalations(inv: Inventory, graph: ImpersonationGraph) -> dict[str, ProjectEscalations]:
    """The setIamPolicy escalations and latent impersonation grants of every project whose IAM
    policy is known, by project id."""
    accounts: dict[str, list[str]] = {}
    for sa in inv.of(SERVICE_ACCOUNT):
        accounts.setdefault(sa.account, []).append(str(sa.attr("email")))
    found: dict[str, tuple[list[PolicyEscalation], list[Restricted], set[str]]] = {}
    for project in inv.of(PROJECT):
        pid = str(project.attr("project_id") or project.account)
        effective = effective_grants(inv, project)
        if effective is not None:
            owners = {g.member for g in effective if g.role == OWNER and g.condition is None}
            direct, restricted = _writers(pid, effective, owners)
            found[pid] = (_best(direct + _through(graph, direct, owners)), restricted, owners)
    # a member with a path to administrator today, anywhere, is never latent
    real = {p.principal for p in graph.paths_to_admin()}
    real |= {w.member for writers, _, _ in found.values() for w in writers}
    out: dict[str, ProjectEscalations] = {}
    for pid, (writers, restricted, owners) in found.items():
        skip = real | owners | graph.direct_admins.get(pid, set())
        latent, not_latent = _latent(graph, pid, accounts.get(pid, []), skip)
        out[pid] = ProjectEscalations(
            pid, tuple(writers), tuple(restricted), tuple(sorted(owners)), latent, not_latent
        )
    return out
