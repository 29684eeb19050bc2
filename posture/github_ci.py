"""GitHub semantics that reach beyond the repository: which environments are production and how
much a repository weighs (by the words cloud accounts are classified by), and the path from a
change on GitHub to power in a cloud: which kinds of workflow run a repository has (a pull
request, a push to the default branch or to a new branch or tag, a job in an environment),
what gates each (a reviewed pull request, an environment's reviewers, or
nothing), which cloud identities the run's OIDC token can become (posture.iam.ci_trust, over the
cloud snapshots audited beside the GitHub one) and what those identities can do where.

**Production environments.** An environment is production when its name says so: the whole
name, or one of its words (split at spaces, ``-``, ``_``, ``.``, ``/``), is ``production``,
``prod``, ``prd`` or ``live``, and no word says non-production (``staging``, ``dev``, ``test``,
``non``, ... as :func:`posture.identity.environment.word_kind` decides for cloud accounts):
``production``, ``prod-eu``, ``live`` are; ``non-prod``, ``prod-staging``, ``preprod`` are not.

A repository weighs more when it is public or deploys to production (has a production
environment): its findings keep the check's severity, the others' are one lower.

**Gates.** A pull request is gated by nothing: whoever opens one runs the workflow (from a
branch; a fork's under ``pull_request_target``). A push to the default branch is gated by its
effective pull request requirement (posture.github.enforcement) with at least one approving
review that nobody but administrators may bypass; a new branch or tag by nothing (anyone with
write access pushes one); another named branch or tag is not known (only the default branch's
protection is collected). A job in an environment is gated by the environment's required
reviewers, else by the branches its deployment branch policy lets deploy (the default branch's
gate when only protected branches, or only the default branch, may deploy); an environment that
does not exist is created, unprotected, by the first workflow naming it.

**Tokens.** A run's token carries GitHub's claims for its context; its ``sub`` follows the
repository's (else the organisation's) custom template when there is one
(:func:`posture.github.subject_keys`); a template holding claims posture cannot know
(``job_workflow_ref``, ``actor``...) or a template that was not read leaves the admission
undecided. An environment job's ref is taken to be the default branch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from posture.github import (
    ADMIN_WORDS,
    Property,
    enforcement,
    environment_of,
    environments,
    organization_of,
    subject_keys,
)
from posture.iam.ci_trust import CiTrust, Grade, ci_trusts, workflow_claims
from posture.iam.conditions import Truth
from posture.identity.environment import (
    Env,
    any_production,
    aws_account_env,
    azure_subscription_env,
    gcp_project_env,
    word_kind,
)
from posture.identity.model import Production
from posture.model import Asset, Inventory, Provider, Severity

_WORDS = re.compile(r"[\s_.\-/]+")
LIVE = "live"


def production_environment(name: str) -> bool:
    """Whether an environment's name says production (see the module docstring)."""
    kind = word_kind(name)
    if kind is not None:
        return kind is Production.YES
    return LIVE in _WORDS.split(name.strip().lower())


def production_environments(inventory: Inventory, repo: Asset) -> tuple[Asset, ...]:
    return tuple(e for e in environments(inventory, repo)
                 if production_environment(str(e.attr("environment") or e.name)))


@dataclass(frozen=True, slots=True)
class Weight:
    """Why a repository's findings weigh more: it is public, or it deploys to production (it
    has a production environment); and whether it is a fork (judged, and said)."""

    reasons: tuple[str, ...]
    fork: bool = False

    def severity(self, declared: Severity) -> Severity:
        """The check's severity for a repository that weighs more, one lower otherwise."""
        return declared if self.reasons else Severity(max(int(declared) - 1, 0))

    @property
    def suffix(self) -> str:
        """`` (fork, public, deploys to production)``, or ""."""
        parts = (("fork",) if self.fork else ()) + self.reasons
        return f" ({', '.join(parts)})" if parts else ""


def weigh(inventory: Inventory, repo: Asset) -> Weight:
    reasons = ["public"] if repo.attr("visibility") == "public" else []
    prod = production_environments(inventory, repo)
    if prod:
        reasons.append(f"deploys to {prod[0].attr('environment') or prod[0].name}")
    return Weight(tuple(reasons), bool(repo.attr("fork")))


@dataclass(frozen=True, slots=True)
class Gate:
    """What stands between a change and a workflow run: TRUE an approval (a reviewed pull
    request, a deployment reviewer), FALSE nothing, UNKNOWN not known from the snapshot."""

    state: Truth
    words: str
    notes: tuple[str, ...] = ()  # weaknesses of a gate that exists

    def text(self) -> str:
        return self.words + (f" ({'; '.join(self.notes)})" if self.notes else "")


@dataclass(frozen=True, slots=True)
class Run:
    """A kind of workflow run of a repository: the token context it carries and its gate."""

    label: str  # "a pull request", "branch main", "environment production"
    event: str  # the first hop: "pull request", "push", "deployment"
    context: str  # the sub claim's context: pull_request, ref:refs/heads/B, environment:E
    gate: Gate
    ref: str | None = None  # the ref an environment job runs on


PROBE = "posture-probe"
PULL_REQUEST_GATE = Gate(Truth.FALSE, "nothing gates a pull request: whoever opens one (from "
                         "a branch, or a fork under pull_request_target) runs the workflow")


def branch_gate(repo: Asset, branch: str) -> Gate:
    """The review gate of a push to ``branch``: the default branch's effective pull request
    requirement; other branches' protection is not collected."""
    if branch != repo.attr("default_branch"):
        return Gate(Truth.UNKNOWN, f"branch {branch} is not the default branch, whose "
                    "protection alone is collected")
    e = enforcement(repo, Property.PULL_REQUEST)
    approving = [s for s in e.sources if (s.approvals or 0) >= 1]
    if approving:
        best = max(approving, key=lambda s: (not s.others_bypass, s.approvals or 0))
        words = (f"branch {branch} requires a pull request with {best.approvals} approving "
                 f"review(s) ({best.name})")
        if best.others_bypass:
            return Gate(Truth.FALSE, f"{words}, but {', '.join(best.others_bypass)} may "
                        "bypass it")
        admins = [b for s in approving for b in s.bypass if b in ADMIN_WORDS]
        return Gate(Truth.TRUE, words, (f"{admins[0]} exempt",) if len(admins) == len(
            approving) else ())
    if e.unknown:
        return Gate(Truth.UNKNOWN, f"the protection of branch {branch} was not read "
                    f"({', '.join(e.unknown)})")
    words = (f"branch {branch} requires a pull request but no approving review" if e.sources
             else f"branch {branch} does not require a reviewed pull request")
    return Gate(Truth.FALSE, words, tuple(f"{r} does not enforce" for r in e.inactive))


def environment_gate(inventory: Inventory, repo: Asset, name: str) -> Gate:
    """The gate of a job deploying to environment ``name``: its required reviewers, else the
    branches its deployment branch policy lets deploy (only the default branch's gate is
    known); a missing environment is created, unprotected, by the first workflow naming it."""
    env = environment_of(inventory, repo, name)
    if env is None:
        return Gate(Truth.FALSE, f"environment {name} does not exist: a workflow naming it "
                    "creates it without protection")
    reviewers = env.attr("required_reviewers") or []
    policy = env.attr("deployment_branch_policy")
    if reviewers:
        notes = []
        if not env.attr("prevent_self_review"):
            notes.append("reviewers may approve their own deployments")
        if env.attr("can_admins_bypass"):
            notes.append("administrators may bypass")
        if policy is None:
            notes.append("any branch may deploy")
        who = ", ".join(str(r.get("login")) for r in reviewers)
        return Gate(Truth.TRUE, f"environment {name} requires approval by {who}", tuple(notes))
    if policy is None:
        return Gate(Truth.FALSE, f"environment {name} has no required reviewers and any branch "
                    "may deploy to it")
    default = str(repo.attr("default_branch") or "")
    if policy.get("protected_branches"):
        inner = branch_gate(repo, default)
        return replace(inner, words=f"environment {name} has no required reviewers and deploys "
                       f"from protected branches: {inner.words}")
    names = env.attr("branch_policies")
    if names is None:
        return Gate(Truth.UNKNOWN, f"the deployment branch policies of environment {name} "
                    "were not read")
    allowed = [str(p.get("name")) for p in names]
    if not allowed:
        return Gate(Truth.TRUE, f"no branch or tag may deploy to environment {name}")
    if any(a.strip("*") == "" for a in allowed):
        return Gate(Truth.FALSE, f"environment {name} has no required reviewers and its "
                    "policy * lets every branch deploy")
    if set(allowed) == {default}:
        inner = branch_gate(repo, default)
        return replace(inner, words=f"environment {name} has no required reviewers and deploys "
                       f"from {default} only: {inner.words}")
    return Gate(Truth.UNKNOWN, f"environment {name} has no required reviewers and deploys from "
                f"{', '.join(allowed)}, whose protection is not collected")


def workflow_runs(inventory: Inventory, repo: Asset, named: Iterable[str] = ()) -> list[Run]:
    """The kinds of workflow run of a repository, each with its gate: a pull request, a push to
    the default branch, to a new branch or tag, a job in each environment or in a new one, and
    the branches, tags and environments ``named`` (subject patterns of the trusts: their
    ``ref:refs/heads/B``, ``ref:refs/tags/T``, ``environment:E`` literals)."""
    default = str(repo.attr("default_branch") or "")
    head = f"refs/heads/{default}"
    new = Gate(Truth.FALSE, "anyone with write access can push a new branch or tag")
    runs = [Run("a pull request", "pull request", "pull_request", PULL_REQUEST_GATE),
            Run(f"branch {default}", "push", f"ref:{head}", branch_gate(repo, default)),
            Run("a new branch", "push", f"ref:refs/heads/{PROBE}", new),
            Run("a new tag", "push", f"ref:refs/tags/{PROBE}", new)]
    envs = [str(e.attr("environment") or e.name) for e in environments(inventory, repo)]
    found = re.findall(r"(?:^|:)(ref:refs/(?:heads|tags)/[^:*?\n]+|environment:[^:*?\n]+)",
                       "\n".join(named), re.MULTILINE)
    envs += [f.split(":", 1)[1] for f in found if f.startswith("environment:")]
    for name in dict.fromkeys(envs):
        runs.append(Run(f"environment {name}", "deployment", f"environment:{name}",
                        environment_gate(inventory, repo, name), head))
    runs.append(Run("a new environment", "deployment", f"environment:{PROBE}", Gate(
        Truth.FALSE, "a workflow naming a new environment creates it without protection"), head))
    for ref in dict.fromkeys(f[4:] for f in found if f.startswith("ref:")):
        if ref == head:
            continue
        kind, _, name = ref[len("refs/"):].partition("/")
        gate = (branch_gate(repo, name) if kind == "heads" else Gate(
            Truth.UNKNOWN, f"tag {name}: tag protection is not collected"))
        runs.append(Run(f"{'branch' if kind == 'heads' else 'tag'} {name}", "push", f"ref:{ref}",
                        gate))
    return runs


# --- from a run to a cloud identity -------------------------------------------------------

SCOPE = {Provider.AWS: "account", Provider.AZURE: "subscription", Provider.GCP: "project"}
_ENV = {Provider.AWS: aws_account_env, Provider.AZURE: azure_subscription_env,
        Provider.GCP: gcp_project_env}


@dataclass(frozen=True, slots=True)
class Reach:
    """A cloud identity a workflow token can become, with the environment its power lands in
    and the snapshot it was read from."""

    trust: CiTrust
    env: Env
    snapshot: str  # "aws snapshot <scan id>"

    @property
    def where(self) -> str:
        """``account 123456789012``, ``subscriptions a, b``."""
        scopes = self.trust.power.scopes
        word = SCOPE.get(self.trust.provider, "scope")
        return f"{word}{'s' if len(scopes) > 1 else ''} {', '.join(scopes)}"


def cloud_reach(companions: Sequence[Inventory]) -> tuple[Reach, ...]:
    """Every identity of the cloud snapshots that a GitHub Actions token can become."""
    out = []
    for inventory in companions:
        meta = inventory.meta
        for trust in ci_trusts(inventory):
            env_of = _ENV[trust.provider]
            env = any_production([(f"{SCOPE[trust.provider]} {s}", env_of(inventory, s))
                                  for s in trust.power.scopes])
            out.append(Reach(trust, env, f"{meta.provider.value} snapshot {meta.scan_id}"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class CiPath:
    """One kind of workflow run of a repository whose token a cloud identity admits."""

    repo: Asset
    run: Run
    reach: Reach
    sub: str | None  # None: the token's sub is not known (see ``undecided``)
    admitted: Truth  # TRUE, or UNKNOWN (conditions or the token undecided)
    undecided: str = ""  # why the admission is undecided

    def hops(self) -> list[dict[str, Any]]:
        """change → workflow → OIDC token → cloud identity → its power in its scope."""
        t, run, env = self.reach.trust, self.run, self.reach.env
        power = "administrator" if t.power.grade is Grade.ADMIN else "power"
        gate = {Truth.TRUE: "approval gate", Truth.FALSE: "no approval gate"}.get(
            run.gate.state, "gate unknown")
        where = {Production.YES: "production", Production.NO: "non-production"}.get(
            env.production, "environment unknown")
        target = self.repo.name if run.event == "pull request" else run.label.split(" ", 1)[-1]
        return [
            {"kind": run.event, "id": target, "rule": f"{gate}: {run.gate.text()}"},
            {"kind": "workflow", "id": self.repo.name, "rule": f"runs on {run.label}"},
            {"kind": "OIDC token", "id": self.sub or "sub unknown", "rule": self.undecided
             or "sub claim"},
            {"kind": t.kind, "id": t.name, "rule": t.via, "layer": "identity"},
            {"kind": power, "id": self.reach.where, "rule": f"{where}: {t.power.words}; "
             f"{env.basis}", "layer": "identity"},
        ]

    def evidence(self) -> dict[str, Any]:
        t = self.reach.trust
        return {"run": self.run.label, "gate": self.run.gate.text(),
                "gated": self.run.gate.state.name.lower(), "sub": self.sub,
                "admitted": self.admitted.name.lower(), "undecided": self.undecided or None,
                "cloud": t.provider.value, "identity": t.uid, "identity_name": t.name,
                "power": t.power.grade.name.lower(), "power_words": t.power.words,
                "scope": self.reach.where, "production": self.reach.env.production.value,
                "production_basis": self.reach.env.basis, "snapshot": self.reach.snapshot,
                "hops": self.hops()}


def ci_paths(inventory: Inventory, repo: Asset, reach: Iterable[Reach]) -> list[CiPath]:
    """Every kind of run of ``repo`` whose token one of the identities may admit."""
    owner = str(repo.attr("owner") or repo.account)
    relevant = [r for r in reach if r.trust.names(owner)]
    if not relevant:
        return []
    keys = subject_keys(repo, organization_of(inventory, repo))
    full = str(repo.attr("full_name") or repo.name)
    runs = workflow_runs(inventory, repo, [p for r in relevant for p in r.trust.patterns])
    out = []
    for r in relevant:
        for run in runs:
            claims, unknown = workflow_claims(full, run.context, ref=run.ref, keys=keys or (),
                                              visibility=repo.attr("visibility"))
            why = ("the OIDC subject template was not read" if keys is None else
                   f"the custom OIDC subject template holds {', '.join(unknown)}, which posture "
                   "cannot know" if unknown else "")
            truth = Truth.UNKNOWN if why else r.trust.admits(claims)
            if truth is Truth.UNKNOWN and not why:
                why = "the trust's conditions cannot be decided for this token"
            if truth is not Truth.FALSE:
                out.append(CiPath(repo, run, r, None if keys is None else claims.get("sub"),
                                  truth, why))
    return out
