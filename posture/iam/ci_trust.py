"""Cloud identities that GitHub Actions workflows can obtain through OIDC, the same shape for
every cloud: who the trust admits and what the identity can do.

One :class:`CiTrust` per identity a GitHub Actions token can become:

- AWS: an IAM role whose trust policy lets a ``token.actions.githubusercontent.com`` OIDC
  provider assume it (:func:`posture.iam.oidc_trust.github_trusts`: IAM condition semantics);
  its power is its path to administrator in the identity graph;
- Azure: a user-assigned managed identity with federated identity credentials whose issuer is
  GitHub Actions (Azure compares the ``sub`` claim exactly); its power is what its active role
  assignments give it (:class:`posture.iam.azure.RbacIndex`: Owner held or self-assignable);
- GCP: a service account granting ``roles/iam.workloadIdentityUser`` to the principals of a
  workload identity pool whose provider trusts GitHub Actions (the provider's attribute
  condition, a CEL subset, and the granted ``principal``/``principalSet`` members); its power is
  ``roles/owner`` / ``roles/editor`` on a project, held or reached by impersonation.

:attr:`CiTrust.admits` decides a workflow token given its claims (``sub`` and GitHub's other
claims: ``repository``, ``repository_owner``, ``ref``, ``environment``, ...), three-valued, so a
caller that knows which tokens a repository's workflows present (the GitHub snapshot) can ask
about exactly those. The per-cloud checks (``checks/*_cicd_trust.py``) judge the breadth of each
trust from the same helpers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from posture.gcp import SERVICE_ACCOUNT
from posture.iam.aws import IDENTITY_READS, path_evidence
from posture.iam.azure import RbacIndex
from posture.iam.azure_roles import ROLE_ASSIGNMENT, ROLE_DEFINITION, Power
from posture.iam.conditions import Truth
from posture.iam.gcp import build_impersonation_graph, reachable
from posture.iam.graph import IdentityGraph, build_identity_graph
from posture.iam.oidc_trust import (
    GITHUB_ISSUER_URL,
    Admission,
    Breadth,
    RoleTrust,
    breadth_of,
    cel_literals,
    cel_truth,
    classify,
    github_claims,
    github_trusts,
    mapped,
)
from posture.iam.principals import ROLE
from posture.model import Asset, CollectionError, Inventory, Provider

AWS_OIDC_PROVIDER = "AWS::IAM::OIDCProvider"
AZURE_IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
GCP_PROVIDER = "iam.googleapis.com/WorkloadIdentityPoolProvider"
WORKLOAD_USER = "roles/iam.workloadIdentityUser"

READS: Mapping[Provider, frozenset[str]] = {
    Provider.AWS: IDENTITY_READS | {AWS_OIDC_PROVIDER},
    Provider.AZURE: frozenset({AZURE_IDENTITY, f"{AZURE_IDENTITY}#federated_credentials",
                               ROLE_ASSIGNMENT, ROLE_DEFINITION}),
    Provider.GCP: frozenset({GCP_PROVIDER, f"{SERVICE_ACCOUNT}#iam_policy"}),
}
"""What each cloud's trusts and powers are read from (the per-cloud checks' ``reads``)."""

Claims = Mapping[str, str]


class Grade(IntEnum):
    """What a cloud identity can do, weakest first."""

    NONE = 0  # nothing privileged posture knows of
    PRIVILEGED = 1  # broad power short of administrator (Azure Contributor)
    CONDITIONAL = 2  # administrator under conditions posture cannot decide
    ADMIN = 3  # administrator-equivalent


@dataclass(frozen=True, slots=True)
class CloudPower:
    """An identity's power: its grade, in words (after "the role"), its proof, and the scopes
    (accounts, subscriptions, projects) it lands in."""

    grade: Grade
    words: str
    evidence: Any
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CiTrust:
    """One cloud identity a GitHub Actions workflow token can become."""

    provider: Provider
    account: str  # the account, subscription or project the identity lives in
    uid: str
    name: str
    kind: str  # "role", "managed identity", "service account"
    via: str  # the federation, in words
    admission: Admission  # the breadth the per-cloud check judges
    patterns: tuple[str, ...]  # the subject values the trust names
    power: CloudPower
    admits: Callable[[Claims], Truth] = field(compare=False, repr=False,
                                              default=lambda _: Truth.FALSE)

    def names(self, owner: str) -> bool:
        """Whether the trust may admit some repository of ``owner`` (a cheap pre-filter:
        a trust that names neither the owner nor admits any repository cannot)."""
        if self.admission.breadth in (Breadth.ANY_REPOSITORY, Breadth.WORKFLOW_CALLER):
            return True
        low = owner.lower()
        return any(low in p.lower() for p in self.patterns)


def ci_trusts(inventory: Inventory) -> tuple[CiTrust, ...]:
    """Every identity of a cloud snapshot that a GitHub Actions token can become."""
    build = {Provider.AWS: _aws, Provider.AZURE: _azure, Provider.GCP: _gcp}.get(
        inventory.meta.provider)
    return tuple(build(inventory)) if build else ()


def ci_gaps(inventory: Inventory) -> tuple[CollectionError, ...]:
    """The collection errors that leave a snapshot's GitHub trusts or their power unknown."""
    reads = READS.get(inventory.meta.provider, frozenset())
    return inventory.errors_affecting(reads) if reads else ()


# --- AWS ------------------------------------------------------------------------------------


def aws_role_trusts(graph: IdentityGraph, role: Asset) -> list[RoleTrust]:
    """The role's trusts in GitHub Actions OIDC providers (none: not trusted, or not read)."""
    trust = role.attr("trust_policy")
    if trust is None:
        return []
    ev = graph.evaluator
    return github_trusts(ev.store.resource_policy(f"{role.uid}#trust", trust), ev.catalogue)


def aws_power(graph: IdentityGraph, role: Asset) -> CloudPower:
    found = path_evidence(graph, role.uid)
    grade = Grade.NONE if not found else Grade.CONDITIONAL if found["conditional"] else Grade.ADMIN
    words = {Grade.ADMIN: "is admin-equivalent",
             Grade.CONDITIONAL: "may be admin-equivalent (conditional)"}.get(
        grade, "is not admin-equivalent")
    return CloudPower(grade, words, found, (role.account,))


def _aws(inventory: Inventory) -> list[CiTrust]:
    graph = build_identity_graph(inventory)
    out = []
    for role in inventory.of(ROLE):
        trusts = aws_role_trusts(graph, role)
        if not trusts:
            continue
        worst = max(trusts, key=lambda t: t.admission.breadth)

        def admits(claims: Claims, trusts: list[RoleTrust] = trusts) -> Truth:
            sub = claims.get("sub", "")
            return max((t.admits(sub) for t in trusts), default=Truth.FALSE)

        out.append(CiTrust(
            Provider.AWS, role.account, role.uid, role.name, "role",
            "trust of " + ", ".join(t.provider for t in trusts), worst.admission,
            tuple(dict.fromkeys(p for t in trusts for p in t.patterns)),
            aws_power(graph, role), admits))
    return out


# --- Azure ----------------------------------------------------------------------------------


def azure_github_credentials(identity: Asset) -> list[dict[str, Any]]:
    """The identity's federated credentials issued by GitHub Actions."""
    return [c for c in identity.attr("federated_credentials") or ()
            if str(c.get("issuer") or "").rstrip("/") == GITHUB_ISSUER_URL]


def azure_power(rbac: RbacIndex, principal: str | None) -> tuple[Power, list[dict[str, Any]]]:
    """The most a principal's active role assignments give it, and those assignments."""
    found = [rbac.effective(g) for g in rbac.active(principal or "")]
    grants = [{"role": e.role.name if e.role else e.grant.role_guid, "scope": e.grant.scope,
               "power": e.power.name.lower(), "certain": e.certain} for e in found]
    return max((e.power for e in found), default=Power.NONE), grants


AZURE_POWER_WORDS = {Power.OWNER: "has Owner power", Power.ASSIGN: "can assign itself roles",
                     Power.CONTRIBUTOR: "has Contributor power"}
AZURE_NO_POWER = "holds no privileged role"


def _subscription(scope: str) -> str | None:
    m = re.match(r"/subscriptions/([^/]+)", scope, re.IGNORECASE)
    return m.group(1) if m else None


def _azure(inventory: Inventory) -> list[CiTrust]:
    rbac = RbacIndex(inventory)
    out = []
    for identity in inventory.of(AZURE_IDENTITY):
        creds = azure_github_credentials(identity)
        if not creds:
            continue
        subjects = {str(c.get("subject") or ""): Truth.TRUE for c in creds}
        power, grants = azure_power(rbac, identity.attr("principal_id"))
        grade = (Grade.ADMIN if power >= Power.ASSIGN else Grade.PRIVILEGED
                 if power is Power.CONTRIBUTOR else Grade.NONE)
        if grade is Grade.ADMIN and not any(g["certain"] for g in grants
                                            if g["power"] in ("owner", "assign")):
            grade = Grade.CONDITIONAL
        scopes = tuple(dict.fromkeys(
            s for g in grants if g["power"] != "none" and (s := _subscription(g["scope"]))))

        def admits(claims: Claims, subjects: dict[str, Truth] = subjects) -> Truth:
            return subjects.get(claims.get("sub", ""), Truth.FALSE)

        out.append(CiTrust(
            Provider.AZURE, identity.account, identity.uid, identity.name, "managed identity",
            "federated credential(s) " + ", ".join(str(c.get("name")) for c in creds),
            breadth_of(subjects), tuple(subjects),
            CloudPower(grade, AZURE_POWER_WORDS.get(power, AZURE_NO_POWER), grants,
                       scopes or (identity.account,)),
            admits))
    return out


# --- GCP ------------------------------------------------------------------------------------


def gcp_member_truth(member: str, pool: str, values: Claims,
                     mapped_keys: frozenset[str] | None = None) -> Truth:
    """Whether a ``principal://`` / ``principalSet://`` member of ``pool`` covers the token
    (an attribute the provider's mapping, ``mapped_keys``, does not produce is never on it)."""
    prefix = f"//iam.googleapis.com/{pool}/"
    kind, _, rest = member.partition(":")
    if kind not in ("principal", "principalSet") or not rest.startswith(prefix):
        return Truth.FALSE
    rest = rest[len(prefix):]
    if rest == "*":
        return Truth.TRUE
    key, _, value = rest.partition("/")
    name = "google.subject" if key == "subject" else key
    if mapped_keys is not None and name not in mapped_keys:
        return Truth.FALSE
    known = values.get(name)
    return Truth.UNKNOWN if known is None else Truth.TRUE if known == value else Truth.FALSE


def gcp_workload_grants(inventory: Inventory, pool: str) -> list[tuple[Asset, list[str]]]:
    """Service accounts granting workloadIdentityUser to members of ``pool``, with them."""
    out = []
    for sa in inventory.of(SERVICE_ACCOUNT):
        members = [m for b in sa.attr("iam_bindings") or () if b.get("role") == WORKLOAD_USER
                   for m in b.get("members") or () if f"/{pool}/" in m]
        if members:
            out.append((sa, members))
    return out


def gcp_admits(provider: Asset, members: list[str]) -> Callable[[Claims], Truth]:
    """Whether the provider's attribute condition and one of ``members`` admit a token (no
    member: the pool's tokens for direct resource access, admitted by the condition alone)."""
    pool = str(provider.attr("pool_name"))
    condition = provider.attr("attribute_condition")
    mapping = provider.attr("attribute_mapping") or {}
    keys = frozenset(mapping)

    def admits(claims: Claims) -> Truth:
        values = mapped(mapping, claims)
        through = max((gcp_member_truth(m, pool, values, keys) for m in members),
                      default=Truth.TRUE)
        return min(cel_truth(condition, values), through)

    return admits


def by_subject(admits: Callable[[Claims], Truth]) -> Callable[[str], Truth]:
    """``admits`` asked about the default-format token whose ``sub`` is a subject (a probe)."""

    def on(subject: str) -> Truth:
        return admits(github_claims(subject))

    return on


def gcp_patterns(provider: Asset, members: list[str]) -> tuple[str, ...]:
    """The subject patterns a provider's condition and grants name (the probes' seeds)."""
    return cel_literals(provider.attr("attribute_condition")) + tuple(
        f"repo:{m.rsplit('/attribute.repository/', 1)[1]}:ref:refs/heads/main"
        for m in members if "/attribute.repository/" in m)


def gcp_github_providers(inventory: Inventory) -> list[Asset]:
    return [p for p in inventory.of(GCP_PROVIDER)
            if str(p.attr("issuer_uri") or "").rstrip("/") == GITHUB_ISSUER_URL]


def _gcp_power(graph: Any, sa: Asset) -> CloudPower:
    email = str(sa.attr("email") or sa.name)
    held = list(graph.admin_of.get(email, ()))
    if held:
        return CloudPower(Grade.ADMIN, f"is admin-equivalent ({held[0][1]} on project "
                          f"{held[0][0]})", {"admin_of": held}, tuple(p for p, _ in held))
    return _reach_power(graph, f"serviceAccount:{email}", sa.account)


def _reach_power(graph: Any, member: str, home: str) -> CloudPower:
    """The power ``member`` reaches by impersonating service accounts (the graph's edges)."""
    for certain in (True, False):
        for target, steps in reachable(graph.edges, member, certain):
            found = graph.admin_of.get(target)
            if found:
                grade = Grade.ADMIN if certain else Grade.CONDITIONAL
                verb = "is" if certain else "may be"
                return CloudPower(grade, f"{verb} admin-equivalent through {target} "
                                  f"({found[0][1]} on project {found[0][0]})",
                                  {"admin_of": found, "steps": [s.evidence() for s in steps]},
                                  tuple(p for p, _ in found))
    return CloudPower(Grade.NONE, "holds no basic admin role", {}, (home,))


def _gcp(inventory: Inventory) -> list[CiTrust]:
    providers = [p for p in gcp_github_providers(inventory)
                 if not (p.attr("disabled") or p.attr("pool_disabled"))]
    if not providers:
        return []
    graph = build_impersonation_graph(inventory)
    out = []
    for provider in providers:
        pool = str(provider.attr("pool_name"))
        for sa, members in gcp_workload_grants(inventory, pool):
            admits = gcp_admits(provider, members)
            admission = classify(by_subject(admits), gcp_patterns(provider, members))
            out.append(CiTrust(
                Provider.GCP, sa.account, sa.uid, sa.name, "service account",
                f"workload identity provider {provider.name}", admission,
                gcp_patterns(provider, members), _gcp_power(graph, sa), admits))
        out.extend(_gcp_direct(graph, provider))
    return out


def _pool_members(graph: Any, pool: str) -> list[str]:
    """Members of ``pool`` granted roles directly on projects (direct resource access: no
    service account in between), from the effective project policies."""
    prefix = f"//iam.googleapis.com/{pool}/"
    found = {m for members in graph.direct_admins.values() for m in members} | set(graph.edges)
    return sorted(m for m in found if m.partition(":")[2].startswith(prefix))


def gcp_direct_trusts(inventory: Inventory, provider: Asset) -> list[CiTrust]:
    """:func:`_gcp_direct` on the snapshot's impersonation graph."""
    return _gcp_direct(build_impersonation_graph(inventory), provider)


def _gcp_direct(graph: Any, provider: Asset) -> list[CiTrust]:
    """The pool's own principals holding roles on projects: a token the provider admits *and*
    the member names acts on the project directly (Workload Identity Federation's direct
    resource access), whichever provider of the pool issued it."""
    pool = str(provider.attr("pool_name"))
    out = []
    for member in _pool_members(graph, pool):
        admits = gcp_admits(provider, [member])
        admission = classify(by_subject(admits), gcp_patterns(provider, [member]))
        projects = sorted(pid for pid, members in graph.direct_admins.items() if member in members)
        if projects:
            power = CloudPower(Grade.ADMIN, f"is admin-equivalent (a basic admin role on project "
                               f"{projects[0]}, granted to the pool's principals directly)",
                               {"admin_of": projects}, tuple(projects))
        else:
            power = _reach_power(graph, member, provider.account)
        out.append(CiTrust(
            Provider.GCP, provider.account, f"{provider.uid}#{member}", member,
            "workload identity principal", f"workload identity provider {provider.name}, direct "
            "resource access", admission, gcp_patterns(provider, [member]), power, admits))
    return out



# --- the tokens a repository's workflows present -------------------------------------------


def workflow_claims(
    repository: str,
    context: str,
    *,
    ref: str | None = None,
    visibility: str | None = None,
    keys: tuple[str, ...] = (),
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The claims of a workflow token of ``repository`` (``OWNER/NAME``) run in ``context``
    (``pull_request``, ``ref:refs/heads/B``, ``ref:refs/tags/T``, ``environment:E``), with its
    ``sub`` built from the custom template ``keys`` (GitHub's ``include_claim_keys``; empty: the
    default ``repo:OWNER/NAME:CONTEXT``), and the template keys whose value posture cannot know
    (``job_workflow_ref``, ``actor``, ids...: then the token has no ``sub`` here). ``ref`` is the
    ref an environment job runs on (GitHub's claim; any branch by default)."""
    claims = github_claims(f"repo:{repository}:{context}")
    if ref is not None:
        claims["ref"] = ref
    if "ref" in claims:
        claims["ref_type"] = "tag" if claims["ref"].startswith("refs/tags/") else "branch"
    if visibility:
        claims["repository_visibility"] = visibility
    if not keys:
        return claims, ()
    parts, unknown = [], []
    for key in keys:
        if key == "repo":
            parts.append(f"repo:{repository}")
        elif key == "context":
            parts.append(context)
        elif key in claims and key != "sub":
            parts.append(f"{key}:{claims[key]}")
        else:
            unknown.append(key)
    if unknown:
        del claims["sub"]
        return claims, tuple(unknown)
    claims["sub"] = ":".join(parts)
    return claims, ()
