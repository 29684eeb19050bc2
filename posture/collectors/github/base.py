"""Shared plumbing of the GitHub collector: the owner scope, REST calls that record, uids.

Service modules follow the fetch → normalize split of the other providers: they read GitHub's
REST JSON through :meth:`OwnerScope.get` / :meth:`OwnerScope.listing`, which record every failed
call as a :class:`CollectionError` (service: the REST category, operation: the method and path
template, ``asset_types``: the facet of ``docs/github-assets.md``) and return ``None`` instead
of raising, and pure ``normalize_*`` functions turn the payloads into attributes. An error
GitHub uses to say that a feature is *off* (404 on most endpoints, 403 "…disabled…" on
Dependabot alerts) is an answer: the call returns :data:`OFF` and records nothing.

PyGithub is the client (:mod:`.clients`): its ``PaginatedList`` follows the ``Link`` headers.
Every endpoint is read as plain REST JSON through its requester (``requestJsonAndCheck``), also
those PyGithub has typed methods for: its lazy objects complete themselves with hidden GETs, and
the normalizers read the wire shape GitHub documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from itertools import islice
from typing import Any, ClassVar
from urllib.parse import quote

from posture.collectors.github.clients import Clients, payload_class
from posture.collectors.github.clients import GithubTarget as GithubTarget
from posture.collectors.github.clients import web_host_of as web_host_of
from posture.collectors.runner import Payload as Payload
from posture.collectors.runner import Scope
from posture.collectors.runner import parallel_map as parallel_map
from posture.github import ENVIRONMENT as ENVIRONMENT
from posture.github import ORGANIZATION as ORGANIZATION
from posture.github import REPOSITORY as REPOSITORY
from posture.model import Provider

Offness = Callable[[int, str], bool]
"""Whether an error (HTTP status, GitHub's message) says the feature is off or absent."""


class _Off:
    """GitHub's answer that a feature is off (or a thing absent): known, not a gap."""

    def __repr__(self) -> str:
        return "OFF"


OFF: Any = _Off()


def status_is(*statuses: int) -> Offness:
    return lambda status, _message: status in statuses


def says(status: int, text: str) -> Offness:
    """The error is ``status`` and GitHub's message contains ``text`` (case-insensitive)."""
    return lambda s, message: s == status and text.lower() in message.lower()


# --- errors ------------------------------------------------------------------------------------


def describe_error(exc: BaseException) -> tuple[int | None, str | None, str]:
    """(HTTP status, error code, message) of a failed GitHub call; code ``None`` = not an API
    failure (a bug: let it propagate)."""
    from github.GithubException import GithubException
    from requests import RequestException

    if isinstance(exc, GithubException):
        status = int(exc.status)
        data = exc.data
        text = data.get("message") if isinstance(data, dict) else data
        return status, _status_code(status), first_line(text or exc.message or exc)
    if isinstance(exc, RequestException | OSError):
        return None, type(exc).__name__, first_line(exc)
    return None, None, str(exc)


def _status_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return f"HTTP{status}"


def first_line(value: Any) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else "error"


def expand(template: str, args: Mapping[str, str]) -> str:
    """The path of ``template`` with ``{name}`` replaced by the quoted ``args`` (a branch keeps
    its slashes, as GitHub's own links do)."""
    path = template
    for name, value in args.items():
        safe = "/" if name == "branch" else ""
        path = path.replace("{" + name + "}", quote(str(value), safe=safe))
    return path


# --- scope -------------------------------------------------------------------------------------


@dataclass
class OwnerScope(Scope):
    """One organisation (or the owner of ``--repo`` repositories) being collected.

    ``repositories`` is the owner's repository listing (full ``GET /repos/{owner}/{repo}``
    payloads for ``--repo``: ``full_payloads``), ``None`` when it could not be read; the
    collector fills it in before the service modules run.
    """

    provider: ClassVar[Provider] = Provider.GITHUB

    login: str
    clients: Clients
    host: str
    organization: bool = True
    repositories: list[Payload] | None = None
    full_payloads: bool = False  # ``repositories`` are full GET payloads (``--repo``)
    detail_workers: int = 4

    @property
    def owner(self) -> str:
        return self.login.lower()

    def canonical_uid(self, uid: str) -> str:
        return uid.lower()

    def uid(self, *parts: str) -> str:
        """``<host>/<owner>[/<repo>...]`` in lower case."""
        return "/".join((self.host, self.owner, *parts)).lower()

    def repo_uid(self, repo: Payload) -> str:
        return self.uid(str(repo.get("name") or ""))

    def get(
        self,
        service: str,
        template: str,
        facets: str | tuple[str, ...],
        *,
        args: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        resource_uid: str | None = None,
        off: Offness | None = None,
    ) -> Any:
        """One REST resource as JSON (``{}`` for an empty answer: a 204); :data:`OFF` when
        ``off`` says the error means "feature off"; ``None`` (recorded) when the call failed."""
        path = expand(template, args or {})
        try:
            with self.clients.requester() as requester:
                _headers, data = requester.requestJsonAndCheck(
                    "GET", path, parameters=dict(params or {})
                )
            if isinstance(data, dict) and data.get("url") == path:
                del data["url"]  # PyGithub's own addition to GET answers
            return {} if data is None else data
        except Exception as exc:
            return self._failed(exc, service, template, facets, resource_uid, off)

    def listing(
        self,
        service: str,
        template: str,
        facets: str | tuple[str, ...],
        *,
        key: str = "items",
        args: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        resource_uid: str | None = None,
        off: Offness | None = None,
        limit: int | None = None,
    ) -> Any:
        """Every item of a paginated listing (``key``: the list's name in a wrapped answer,
        ``{"total_count": N, "secrets": [...]}``), at most ``limit``; :data:`OFF` or ``None``
        as :meth:`get`. A page that fails fails the whole listing."""
        from github.PaginatedList import PaginatedList

        path = expand(template, args or {})
        try:
            with self.clients.requester() as requester:
                pages = PaginatedList(
                    payload_class(), requester, path, dict(params or {}), list_item=key
                )
                return [item.raw_data for item in islice(pages, limit)]
        except Exception as exc:
            return self._failed(exc, service, template, facets, resource_uid, off)

    def _failed(
        self,
        exc: Exception,
        service: str,
        template: str,
        facets: str | tuple[str, ...],
        resource_uid: str | None,
        off: Offness | None,
    ) -> Any:
        status, code, message = describe_error(exc)
        if code is None:
            raise exc
        if off is not None and status is not None and off(status, message):
            return OFF
        asset_types = (facets,) if isinstance(facets, str) else facets
        self.record(service, f"GET {template}", code, message, asset_types,
                    resource_uid=resource_uid)
        return None

    def each_repository(
        self, fn: Callable[[Payload], Any], repos: list[Payload] | None = None
    ) -> list[Any]:
        """``fn`` of every listed repository (or of ``repos``), on the detail pool, in order."""
        todo = self.repositories or [] if repos is None else repos
        return parallel_map(fn, todo, self.detail_workers)


def without_links(payload: Any) -> Any:
    """A REST payload for evidence: no secret values (``secret``, ``temp_clone_token``,
    ``token``) and no API-link keys (``*_url`` but ``html_url``), recursively."""
    if isinstance(payload, Mapping):
        return {
            k: without_links(v)
            for k, v in payload.items()
            if k not in SECRET_KEYS and not (k.endswith("_url") and k != "html_url")
        }
    if isinstance(payload, list):
        return [without_links(v) for v in payload]
    return payload


SECRET_KEYS = frozenset({"secret", "temp_clone_token", "token"})


def default_branch(repo: Payload) -> str | None:
    value = repo.get("default_branch")
    return str(value) if value else None


def full_name(repo: Payload) -> tuple[str, str]:
    """(owner, name) of a repository payload."""
    owner = repo.get("owner") or {}
    login = owner.get("login") if isinstance(owner, Mapping) else None
    if not login and "/" in str(repo.get("full_name") or ""):
        login = str(repo["full_name"]).split("/", 1)[0]
    return str(login or ""), str(repo.get("name") or "")


def repo_args(repo: Payload, **more: str) -> dict[str, str]:
    owner, name = full_name(repo)
    return {"owner": owner, "repo": name, **more}
