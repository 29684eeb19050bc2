"""The GitHub collector: credentials, the owners to scan, then every service module concurrently.

One scope per organisation (``--org``) or per owner of ``--repo`` repositories. The owners'
repositories are read first (the organisation's listing, or each named repository), then the
service modules run once per owner on the shared runner (:mod:`posture.collectors.runner`):
``org`` (the organisation and its Actions settings), ``repos`` (each repository with the facets
of ``security``, ``alerts``, ``protection`` and ``actions``) and ``environments``.

Every module declares the fine-grained permissions it reads with (``PERMISSIONS``, GitHub App
permission names with ``:read``); ``posture permissions github`` prints them for a fine-grained
personal access token and for a GitHub App.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posture.collectors import runner
from posture.collectors.github import repos
from posture.collectors.github.base import (
    Clients,
    GithubTarget,
    OwnerScope,
    Payload,
    describe_error,
    expand,
    first_line,
)
from posture.errors import CollectorError
from posture.model import GLOBAL, CollectionError, Inventory, Provider

MODULES = ("org", "repos", "environments")
FACET_MODULES = ("security", "alerts", "protection", "actions")
PACKAGE = "posture.collectors.github"

PERMISSION_NAMES: dict[str, tuple[str, str]] = {
    "actions": ("repository", "Actions"),
    "administration": ("repository", "Administration"),
    "deployments": ("repository", "Deployments"),
    "environments": ("repository", "Environments"),
    "metadata": ("repository", "Metadata"),
    "secret_scanning_alerts": ("repository", "Secret scanning alerts"),
    "secrets": ("repository", "Secrets"),
    "security_events": ("repository", "Code scanning alerts"),
    "vulnerability_alerts": ("repository", "Dependabot alerts"),
    "organization_administration": ("organization", "Administration"),
    "organization_secrets": ("organization", "Secrets"),
}
"""GitHub App permission name → (level, name on the fine-grained token page)."""

__all__ = ["GithubTarget", "all_permissions", "collect", "permissions_document"]


def all_permissions() -> tuple[str, ...]:
    """Every ``name:read`` the modules declare, sorted."""
    return tuple(sorted(runner.declared_permissions(PACKAGE, (*MODULES, *FACET_MODULES))))


def permissions_document() -> dict[str, Any]:
    """The read-only permissions as a fine-grained token needs them and as a GitHub App
    manifest's ``default_permissions``."""
    app: dict[str, str] = {}
    token: dict[str, dict[str, str]] = {"repository": {}, "organization": {}}
    for permission in all_permissions():
        name, _, access = permission.partition(":")
        app[name] = access
        level, title = PERMISSION_NAMES[name]
        token[level][title] = "Read-only"
    return {
        "fine_grained_personal_access_token": {
            "resource_owner": "the organisation",
            "repository_access": "All repositories",
            "repository_permissions": dict(sorted(token["repository"].items())),
            "organization_permissions": dict(sorted(token["organization"].items())),
        },
        "github_app": {"default_permissions": app},
        "notes": [
            "Organisation settings (two-factor requirement, base permission) are shown to "
            "organisation owners only; the token's owner must be one.",
            "A ruleset's bypass actors are shown to who may edit the ruleset.",
        ],
    }


@dataclass(frozen=True, slots=True)
class Owner:
    """An owner to scan and its repositories (``None``: the listing failed)."""

    login: str
    organization: bool
    repositories: tuple[Payload, ...] | None
    full_payloads: bool


def split_repo(value: str) -> tuple[str, str]:
    owner, _, name = value.strip().strip("/").partition("/")
    if not owner or not name or "/" in name:
        raise ValueError(f"--repo {value!r}: expected OWNER/NAME")
    return owner, name


def owners_of(target: GithubTarget) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(organisations by lower-case login, --repo names by owner) with the repositories of an
    organisation that is scanned whole left out."""
    orgs: dict[str, str] = {}
    for org in (o.strip() for o in target.orgs):
        if org:
            orgs.setdefault(org.lower(), org)
    spelled: dict[str, str] = {}  # the owner as first written (logins compare case-insensitively)
    named: dict[str, list[str]] = {}
    for value in target.repos:
        owner, name = split_repo(value)
        if owner.lower() in orgs:
            continue
        owner = spelled.setdefault(owner.lower(), owner)
        names = named.setdefault(owner, [])
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return orgs, named


def _fatal(exc: BaseException, what: str, target: GithubTarget) -> CollectorError | None:
    status, code, message = describe_error(exc)
    if status == 401:
        return CollectorError(f"GitHub rejected the credentials ({message})")
    if status == 404:
        return CollectorError(f"unknown GitHub {what} (or not visible to the credentials)")
    if status is None and code is not None:
        return CollectorError(f"cannot reach the GitHub API at {target.api_url}: {message}")
    return None


def _probe(clients: Clients, path: str, what: str) -> Payload | None:
    """GET ``path``; raises :class:`CollectorError` on bad credentials, an unknown owner or an
    unreachable endpoint, ``None`` on another failure (the modules record it)."""
    try:
        with clients.requester() as requester:
            _headers, data = requester.requestJsonAndCheck("GET", path)
    except Exception as exc:
        fatal = _fatal(exc, what, clients.target)
        if fatal is not None:
            raise fatal from None
        if describe_error(exc)[1] is None:
            raise
        return None
    return data if isinstance(data, dict) else None


def _installation_token(clients: Clients) -> None:
    """Fetch the App installation token once, up front (a clear error instead of one per call)."""
    if clients.token_client is None:
        return
    try:
        clients.auth.token  # noqa: B018 - the property fetches the token
    except Exception as exc:  # a rejected JWT, an unknown installation, an unusable key
        _status, code, message = describe_error(exc)
        reason = message if code is not None else f"{type(exc).__name__}: {first_line(exc)}"
        raise CollectorError(
            f"cannot get a GitHub App installation token for installation "
            f"{clients.target.installation_id}: {reason}"
        ) from None


def discover(clients: Clients, target: GithubTarget, errors: list[CollectionError]
             ) -> list[Owner]:
    """The owners to scan with their repositories; listing failures go to ``errors``."""
    orgs, named = owners_of(target)
    if not orgs and not named:
        raise CollectorError("nothing to scan: pass --org ORG or --repo OWNER/NAME")
    _installation_token(clients)
    found = []
    for org in orgs.values():
        _probe(clients, expand("/orgs/{org}", {"org": org}), f"organisation {org}")
        scope = _scope(clients, target, org, True)
        listed = repos.list_repositories(scope)
        errors.extend(scope.errors)
        found.append(Owner(org, True, None if listed is None else tuple(listed), False))
    for owner, names in named.items():
        got = [_probe(clients, expand("/repos/{owner}/{repo}", {"owner": owner, "repo": n}),
                      f"repository {owner}/{n}") for n in names]
        scope = _scope(clients, target, owner, False)
        missing = [n for n, payload in zip(names, got, strict=True) if payload is None]
        fetched = [p for p in got if p is not None] + repos.get_repositories(scope, missing)
        errors.extend(scope.errors)
        fetched.sort(key=lambda r: str(r.get("name")).lower())
        found.append(Owner(owner, False, tuple(fetched), True))
    return found


def _scope(clients: Clients, target: GithubTarget, login: str, organization: bool,
           owner: Owner | None = None) -> OwnerScope:
    return OwnerScope(
        login, clients, target.host, organization=organization,
        repositories=None if owner is None or owner.repositories is None
        else list(owner.repositories),
        full_payloads=bool(owner and owner.full_payloads),
        detail_workers=target.detail_workers,
    )


def collect(target: GithubTarget, progress: runner.Progress | None = None) -> Inventory:
    """Collect the target's organisations and repositories. Raises :class:`CollectorError`
    only if nothing can be scanned (no credentials, rejected credentials, unknown owner,
    unreachable API)."""
    started = runner.now()
    clients = Clients.of(target)
    try:
        errors: list[CollectionError] = []
        owners = discover(clients, target, errors)
        jobs = [
            runner.Job(name, _scope(clients, target, o.login, o.organization, o))
            for o in owners for name in MODULES
        ]
        found = runner.run_jobs(PACKAGE, jobs, max_workers=target.max_workers,
                                progress=progress)
    finally:
        clients.close()
    return runner.build_inventory(
        Provider.GITHUB,
        started=started,
        accounts=sorted(o.login.lower() for o in owners),
        regions=(GLOBAL,),
        endpoint_url=target.api_url,
        assets=found.assets,
        errors=(*errors, *found.errors),
    )
