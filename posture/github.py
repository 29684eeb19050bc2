"""GitHub vocabulary (snapshot attrs as in docs/github-assets.md), over the core types only so
that collectors, checks and reporters share it: the asset type names, which repositories are
judged, the effective protection of a default branch, and which Actions secret names hold
long-lived cloud keys. What needs the identity layer (which environments are production, how
much a repository weighs, what gates a workflow run, where its token reaches) is in
posture.github_ci.

**Effective protection of the default branch.** Every source applies at once (a push or merge
must satisfy classic branch protection *and* every active ruleset), so a property is enforced
when one source enforces it. A ruleset in ``evaluate`` mode only reports (it enforces nothing),
a ``disabled`` one nothing. A source binds everyone but those who may bypass it: classic
protection with ``enforce_admins`` off exempts repository administrators and organisation
owners; a ruleset's bypass actors with mode ``always`` (or ``exempt``) skip it, with mode
``pull_request`` they may merge a pull request without meeting it (its review rules; its push
rules still hold). Administrators are organisation owners (``OrganizationAdmin``), enterprise
owners and the repository ``admin`` role (``RepositoryRole`` 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from posture.model import Asset, Inventory

ORGANIZATION = "GitHub::Organization"
REPOSITORY = "GitHub::Repository"
ENVIRONMENT = "GitHub::Environment"


def facet(type_: str, name: str) -> str:
    """``GitHub::Repository#alerts``: what a check reads (and what a collection error names)."""
    return f"{type_}#{name}"


# --- repositories, organisations, environments ---------------------------------------------


def judged(repo: Asset) -> bool:
    """Whether the code and change checks judge a repository: not archived nor disabled
    (read-only, no workflow runs)."""
    return not repo.attr("archived") and not repo.attr("disabled")


def organization_of(inventory: Inventory, repo: Asset) -> Asset | None:
    return next((o for o in inventory.of(ORGANIZATION) if o.account == repo.account), None)


_BY_REPOSITORY: list[tuple[Inventory, Mapping[str, tuple[Asset, ...]]]] = []


def environments(inventory: Inventory, repo: Asset) -> tuple[Asset, ...]:
    """The repository's environments (indexed once per inventory: every check asks)."""
    entry = _BY_REPOSITORY[0] if _BY_REPOSITORY else None
    if entry is None or entry[0] is not inventory:
        index: dict[str, list[Asset]] = {}
        for env in inventory.of(ENVIRONMENT):
            index.setdefault(str(env.attr("repository")), []).append(env)
        entry = (inventory, {k: tuple(v) for k, v in index.items()})
        _BY_REPOSITORY[:] = [entry]  # one inventory at a time; a thread's own entry is kept
    return entry[1].get(repo.uid, ())


def environment_of(inventory: Inventory, repo: Asset, name: str) -> Asset | None:
    """The repository's environment of that name (GitHub compares names case-insensitively)."""
    return next((e for e in environments(inventory, repo)
                 if str(e.attr("environment") or e.name).lower() == name.lower()), None)


def subject_keys(repo: Asset, org: Asset | None) -> tuple[str, ...] | None:
    """The OIDC ``sub`` template keys in effect for a repository's workflows: ``()`` GitHub's
    default, the repository's custom keys, else the organisation's; None unknown."""
    own = repo.attr("oidc_sub_claim_keys")
    if own is None:
        return None
    if own:
        return tuple(str(k) for k in own)
    if org is None:
        return ()
    inherited = org.attr("oidc_sub_claim_keys")
    return None if inherited is None else tuple(str(k) for k in inherited)


# --- effective protection of the default branch ---------------------------------------------


class Property(StrEnum):
    PULL_REQUEST = "pull request required"
    STALE_REVIEWS = "stale approvals dismissed"
    STATUS_CHECKS = "status checks required"
    FORCE_PUSH = "force pushes blocked"
    DELETION = "deletion blocked"


REVIEW_RULES = frozenset({Property.PULL_REQUEST, Property.STALE_REVIEWS, Property.STATUS_CHECKS})
ADMIN_ROLE = 5  # the repository "admin" role's id in ruleset bypass actors
_ROLES = {2: "maintain role", 4: "write role", ADMIN_ROLE: "repository admins"}


@dataclass(frozen=True, slots=True)
class Source:
    """One source enforcing a property: classic protection or one ruleset."""

    name: str
    bypass: tuple[str, ...] = ()  # who may bypass it, administrators included, in words
    admins_exempt: bool = False
    approvals: int | None = None  # pull request: approving reviews required
    checks: tuple[str, ...] = ()  # status checks: the required contexts

    @property
    def others_bypass(self) -> tuple[str, ...]:
        """Who, besides administrators, may bypass it."""
        return tuple(b for b in self.bypass if b not in ADMIN_WORDS)

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.name, "bypass": list(self.bypass)}
        if self.approvals is not None:
            out["approvals"] = self.approvals
        if self.checks:
            out["checks"] = list(self.checks)
        return out


ADMIN_WORDS = frozenset({"administrators", "organisation owners", "enterprise owners",
                         "repository admins"})


@dataclass(frozen=True, slots=True)
class Enforcement:
    """How one property is enforced on the default branch."""

    prop: Property
    branch: str
    sources: tuple[Source, ...]  # the sources enforcing it
    unknown: tuple[str, ...] = ()  # sources not read ("classic branch protection", "rulesets")
    inactive: tuple[str, ...] = ()  # rulesets that would enforce it but do not (evaluate mode)

    def evidence(self) -> dict[str, Any]:
        return {"branch": self.branch, "property": self.prop.value,
                "enforced_by": [s.evidence() for s in self.sources],
                "not_read": list(self.unknown), "not_enforcing": list(self.inactive)}


def _actor(a: Mapping[str, Any]) -> str:
    kind, ident = str(a.get("actor_type") or ""), a.get("actor_id")
    if kind == "OrganizationAdmin":
        return "organisation owners"
    if kind == "EnterpriseOwner":
        return "enterprise owners"
    if kind == "RepositoryRole":
        return _ROLES.get(ident if isinstance(ident, int) else -1, f"repository role {ident}")
    if kind == "DeployKey":
        return "deploy keys"
    if kind == "Integration":
        return f"app {ident}"
    return f"{kind.lower() or 'actor'} {ident}".strip()


def _bypass(actors: Iterable[Mapping[str, Any]], review: bool) -> tuple[str, ...]:
    modes = ("always", "exempt", "pull_request") if review else ("always", "exempt")
    return tuple(dict.fromkeys(_actor(a) for a in actors if a.get("bypass_mode") in modes))


def _classic(bp: Mapping[str, Any], prop: Property) -> Source | None:
    if not bp.get("protected"):
        return None
    count = bp.get("required_approving_review_count")
    enforced = {
        Property.PULL_REQUEST: count is not None,
        Property.STALE_REVIEWS: count is not None and bool(bp.get("dismiss_stale_reviews")),
        Property.STATUS_CHECKS: bool(bp.get("required_status_checks")),
        Property.FORCE_PUSH: bp.get("allow_force_pushes") is False,
        Property.DELETION: bp.get("allow_deletions") is False,
    }[prop]
    if not enforced:
        return None
    exempt = not bp.get("enforce_admins")
    return Source("classic branch protection", ("administrators",) if exempt else (), exempt,
                  count if prop is Property.PULL_REQUEST else None,
                  tuple(bp.get("required_status_checks") or ())
                  if prop is Property.STATUS_CHECKS else ())


def _ruleset_enforces(rule: Mapping[str, Any], prop: Property) -> bool:
    kind, params = rule.get("type"), rule.get("parameters") or {}
    return {
        Property.PULL_REQUEST: kind == "pull_request",
        Property.STALE_REVIEWS: kind == "pull_request"
        and bool(params.get("dismiss_stale_reviews_on_push")),
        Property.STATUS_CHECKS: kind == "required_status_checks"
        and bool(params.get("required_status_checks")),
        Property.FORCE_PUSH: kind == "non_fast_forward",
        Property.DELETION: kind == "deletion",
    }[prop]


def _ruleset(rule: Mapping[str, Any], prop: Property) -> Source:
    params = rule.get("parameters") or {}
    name = f"ruleset {rule.get('ruleset_name') or rule.get('ruleset_id')}"
    if rule.get("source_type") == "Organization":
        name += f" (organisation {rule.get('source')})"
    bypass = _bypass(rule.get("bypass_actors") or (), prop in REVIEW_RULES)
    approvals = (int(params.get("required_approving_review_count") or 0)
                 if prop is Property.PULL_REQUEST else None)
    checks = tuple(str(c.get("context")) for c in params.get("required_status_checks") or ()
                   if isinstance(c, Mapping)) if prop is Property.STATUS_CHECKS else ()
    return Source(name, bypass, any(b in ADMIN_WORDS for b in bypass), approvals, checks)


def enforcement(repo: Asset, prop: Property) -> Enforcement:
    """How the default branch's classic protection and rulesets enforce ``prop``."""
    branch = str(repo.attr("default_branch") or "")
    bp, rules = repo.attr("branch_protection"), repo.attr("rules")
    sources: list[Source] = []
    unknown: list[str] = []
    if bp is None:
        unknown.append("classic branch protection")
    elif (found := _classic(bp, prop)) is not None:
        sources.append(found)
    inactive: list[str] = []
    if rules is None:
        unknown.append("rulesets")
    for rule in rules or ():
        if not _ruleset_enforces(rule, prop):
            continue
        source = _ruleset(rule, prop)
        if rule.get("enforcement", "active") == "active":
            sources.append(source)
        else:
            inactive.append(f"{source.name} ({rule.get('enforcement')} mode)")
    return Enforcement(prop, branch, tuple(sources), tuple(unknown), tuple(dict.fromkeys(inactive)))


# --- long-lived cloud keys in Actions secrets ----------------------------------------------

CLOUD_KEY_NAMES: Mapping[str, tuple[str, ...]] = {
    "aws": ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_KEY", "AWS_ACCESS_KEY"),
    "azure": ("AZURE_CLIENT_SECRET", "AZURE_CREDENTIALS", "ARM_CLIENT_SECRET",
              "AZURE_CLIENT_CERTIFICATE"),
    "gcp": ("GOOGLE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS", "GCP_SA_KEY",
            "GCP_CREDENTIALS", "GCLOUD_SERVICE_KEY", "GCP_SERVICE_ACCOUNT_KEY",
            "GOOGLE_SERVICE_ACCOUNT_KEY", "SERVICE_ACCOUNT_KEY", "SERVICE_ACCOUNT_JSON"),
}
"""Secret names that hold a long-lived cloud key (case-insensitive; a name matches when one of
these is a whole ``_``-separated part of it: ``PROD_AWS_SECRET_ACCESS_KEY``,
``AZURE_CREDENTIALS_STAGING``, ``DEPLOY_SERVICE_ACCOUNT_KEY``). Conservative: names that may
hold anything (``AWS_TOKEN``, ``GCP_KEY``) are not listed."""


def cloud_key(name: str) -> str | None:
    """The cloud whose long-lived key a secret's name shows, else None."""
    upper = f"_{name.strip().upper()}_"
    for cloud, names in CLOUD_KEY_NAMES.items():
        if any(f"_{n}_" in upper for n in names):
            return cloud
    return None
