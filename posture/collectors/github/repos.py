"""Repositories of one owner (attrs as in ``docs/github-assets.md``): the listing, then per
repository its full payload and the facets of the modules beside this one (security features,
alert summaries, branch protection and rules, Actions settings).

One asset per repository, built here: the facet modules expose ``facets(scope, repo)`` (a dict
of attributes) because the runner keeps one asset per uid. A facet module that crashes on one
repository leaves its attributes null and records the crash for that repository.

Archived repositories keep the listing attributes and the security settings of their payload;
the detail calls that make no sense for a frozen repository (alert listings, code scanning,
vulnerability alerts, branch protection, rules, Actions settings and secrets, environments)
are not made and their attributes are absent (not null).
"""

from __future__ import annotations

from types import ModuleType

from posture.collectors.github import actions, alerts, protection, security
from posture.collectors.github.base import (
    ENVIRONMENT,
    REPOSITORY,
    OwnerScope,
    Payload,
    first_line,
    repo_args,
    without_links,
)
from posture.model import Asset

PERMISSIONS: tuple[str, ...] = ("metadata:read",)
FACET_MODULES: tuple[ModuleType, ...] = (security, alerts, protection, actions)


def collect(scope: OwnerScope) -> list[Asset]:
    if scope.repositories is None:
        return []
    return scope.each_repository(lambda repo: repository_asset(scope, repo))


# --- fetch -------------------------------------------------------------------------------------


def list_repositories(scope: OwnerScope) -> list[Payload] | None:
    """The organisation's repositories (every type), ``None`` (recorded) if the listing failed."""
    found = scope.listing(
        "repos", "/orgs/{org}/repos", (REPOSITORY, ENVIRONMENT), args={"org": scope.login},
        params={"type": "all"},
    )
    return None if found is None else sorted(found, key=lambda r: str(r.get("name")).lower())


def get_repositories(scope: OwnerScope, names: list[str]) -> list[Payload]:
    """The named repositories of the owner (``--repo``); one that cannot be read is recorded."""
    found = []
    for name in names:
        repo = scope.get("repos", "/repos/{owner}/{repo}", (REPOSITORY, ENVIRONMENT),
                         args={"owner": scope.login, "repo": name},
                         resource_uid=scope.uid(name))
        if isinstance(repo, dict):
            found.append(repo)
    return found


def fetch_repository(scope: OwnerScope, repo: Payload) -> tuple[Payload, bool]:
    """(the full payload of a listed repository, whether it was read): ``security_and_analysis``
    is only in the full payload; the listing entry when the GET fails (recorded)."""
    if scope.full_payloads:
        return repo, True  # ``--repo``: already read one by one
    full = scope.get("repos", "/repos/{owner}/{repo}", f"{REPOSITORY}#security",
                     args=repo_args(repo), resource_uid=scope.repo_uid(repo))
    return (full, True) if isinstance(full, dict) else (repo, False)


def facet_attrs(scope: OwnerScope, module: ModuleType, repo: Payload) -> dict[str, object]:
    """One facet module's attributes of ``repo``; a crash is recorded and leaves them null."""
    try:
        found: dict[str, object] = module.facets(scope, repo)
        return found
    except Exception as exc:
        name = module.__name__.rsplit(".", 1)[-1]
        scope.record(name, "facets", type(exc).__name__, first_line(exc) or repr(exc),
                     tuple(f"{REPOSITORY}#{f}" for f in module.FACETS),
                     resource_uid=scope.repo_uid(repo))
        return dict.fromkeys(module.ATTRS)


def repository_asset(scope: OwnerScope, listed: Payload) -> Asset:
    repo, fetched = fetch_repository(scope, listed)
    attrs = normalize_repository(repo)
    attrs.update(security.settings(scope, repo, fetched))
    for module in FACET_MODULES:
        if not repo.get("archived") or module.ON_ARCHIVED:
            attrs.update(facet_attrs(scope, module, repo))
    return scope.asset(scope.repo_uid(repo), REPOSITORY, str(repo.get("full_name")), attrs,
                       without_links(repo))


# --- normalize ---------------------------------------------------------------------------------


def normalize_repository(repo: Payload) -> dict[str, object]:
    owner = repo.get("owner") or {}
    visibility = repo.get("visibility") or ("private" if repo.get("private") else "public")
    return {
        "full_name": repo.get("full_name"),
        "owner": owner.get("login") if isinstance(owner, dict) else None,
        "visibility": visibility,
        "archived": bool(repo.get("archived")),
        "fork": bool(repo.get("fork")),
        "disabled": bool(repo.get("disabled")),
        "default_branch": repo.get("default_branch"),
        "pushed_at": repo.get("pushed_at"),
    }
