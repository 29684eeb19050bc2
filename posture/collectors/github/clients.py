"""The GitHub collector's connection: what to scan (:class:`GithubTarget`) and the PyGithub
clients (imported only inside functions) that every call borrows.

PyGithub's ``Requester`` carries the authentication, the base URL (GitHub Enterprise Server's
``/api/v3`` prefix included) and ``GithubRetry`` (a urllib3 ``Retry``, new for every request:
secondary rate limits - 403/429 with ``retry-after`` or GitHub's message -, 5xx, connection
and read errors; ``Retry-After`` honoured; jittered here, :func:`retry_class`). A
``Requester`` is not thread-safe (one connection object holds the request being sent), so
:class:`Clients` lends one client per concurrent call from a pool; a GitHub App installation
token is fetched and refreshed once, under a lock, for all of them.
"""

from __future__ import annotations

import functools
import logging
import queue
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from posture.collectors.retry import DEFAULT_BACKOFF
from posture.collectors.secrets import quiet_logger
from posture.errors import CollectorError

PUBLIC_API = "https://api.github.com"
RESPONSE_LOG = "%s %s://%s%s %s %s ==> "
"""The start of PyGithub's DEBUG message for a request and its whole answer."""


@dataclass(frozen=True, slots=True)
class GithubTarget:
    """What to scan and how to connect.

    ``orgs``: organisations (every repository of each); ``repos``: ``owner/name`` repositories
    scanned alone. Credentials: ``token`` (a fine-grained or classic personal access token), or
    a GitHub App (``app_id``, ``app_private_key`` PEM text, ``installation_id``). ``api_url``
    is GitHub Enterprise Server's ``https://HOST/api/v3`` (``web_host`` then defaults to HOST).
    The retry fields tune PyGithub's ``GithubRetry`` (``retry_budget``: the longest wait for a
    rate limit to reset; a longer one ends the call, recorded); ``seconds_between_requests`` is
    PyGithub's pause between two requests of one client.
    """

    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    api_url: str = PUBLIC_API
    token: str | None = field(default=None, repr=False)
    app_id: str | None = None
    app_private_key: str | None = field(default=None, repr=False)
    installation_id: int | None = None
    web_host: str | None = None
    ca_bundle: str | None = None
    max_workers: int = 4
    detail_workers: int = 4
    per_page: int = 100
    timeout: int = 30
    retry_total: int = 10
    retry_backoff_factor: float = 1.0
    retry_backoff_max: float = 30.0
    retry_budget: float = 600.0
    secondary_rate_wait: float = 60.0
    seconds_between_requests: float = 0.25

    @property
    def host(self) -> str:
        """The web host of asset uids: ``github.com``, the GHES host, or ``web_host``."""
        if self.web_host:
            return self.web_host.lower()
        return web_host_of(self.api_url)


def web_host_of(api_url: str) -> str:
    """``https://api.github.com`` → ``github.com``; ``https://api.acme.ghe.com`` →
    ``acme.ghe.com``; ``https://ghe.example.com/api/v3`` → ``ghe.example.com``."""
    host = (urlsplit(api_url).hostname or "").lower()
    return host.removeprefix("api.") if host.startswith("api.") else host


def new_client(target: GithubTarget, auth: Any) -> Any:
    """A PyGithub client for ``target`` (retry, paging, TLS and throttling from the target)."""
    from github import Github

    retry = retry_class()(
        total=target.retry_total,
        connect=min(target.retry_total, DEFAULT_BACKOFF.short_attempts - 1),  # a dead endpoint
        backoff_factor=target.retry_backoff_factor,
        backoff_max=target.retry_backoff_max,
        secondary_rate_wait=target.secondary_rate_wait,
        max_rate_limit_wait=target.retry_budget,
    )
    return Github(
        auth=auth,
        base_url=target.api_url.rstrip("/"),
        per_page=target.per_page,
        timeout=target.timeout,
        retry=retry,
        verify=target.ca_bundle or True,
        seconds_between_requests=target.seconds_between_requests or None,
        user_agent="posture",
    )


@functools.cache
def retry_class() -> type[Any]:
    """``GithubRetry`` with full jitter: before retry ``n`` it waits a random time below
    ``min(backoff_max, backoff_factor * 2**(n - 1))`` (urllib3 waits exactly that, and not at all
    before the first retry, so calls that failed together retry together). A rate limit's own
    wait (``Retry-After``, the reset time, ``secondary_rate_wait``) is GithubRetry's, unchanged."""
    from github import GithubRetry

    class JitteredGithubRetry(GithubRetry):
        def get_backoff_time(self) -> float:
            errors = 0
            for attempt in reversed(self.history):
                if attempt.redirect_location is not None:
                    break
                errors += 1
            ceiling = min(self.backoff_max, self.backoff_factor * 2 ** (max(errors, 1) - 1))
            return float(random.random() * ceiling)

    return JitteredGithubRetry


def make_auth(target: GithubTarget) -> tuple[Any, Any]:
    """(auth shared by every client, the client that fetches App tokens or ``None``)."""
    from github import Auth

    if target.token:
        return Auth.Token(target.token), None
    if target.app_id and target.app_private_key and target.installation_id is not None:
        app = Auth.AppAuth(target.app_id, target.app_private_key)
        installation = app.get_installation_auth(int(target.installation_id))
        token_client = new_client(target, installation)  # binds the token requests to it
        return _locked(installation), token_client
    raise CollectorError(
        "no GitHub credentials: set GITHUB_TOKEN, pass --token-file, or --app-id with "
        "--app-key-file and --installation-id"
    )


def _locked(inner: Any) -> Any:
    """``inner`` (an App installation auth) shared by threads: its token fetched and refreshed
    under a lock."""
    from github.Auth import Auth

    class LockedAuth(Auth):
        def __init__(self) -> None:
            self._lock = threading.Lock()

        @property
        def token_type(self) -> str:
            return str(inner.token_type)

        @property
        def token(self) -> str:
            with self._lock:
                return str(inner.token)

        @property
        def _masked_token(self) -> str:
            return "token (installation token removed)"

    return LockedAuth()


@dataclass
class Clients:
    """PyGithub clients lent one per concurrent call (a ``Requester`` is not thread-safe)."""

    target: GithubTarget
    auth: Any
    token_client: Any = None
    _idle: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue, repr=False)
    _made: list[Any] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, target: GithubTarget) -> Clients:
        quiet_pygithub()
        auth, token_client = make_auth(target)
        return cls(target, auth, token_client)

    @contextmanager
    def requester(self) -> Iterator[Any]:
        """A client's ``Requester``, this thread's alone until the block ends."""
        try:
            client = self._idle.get_nowait()
        except queue.Empty:
            client = new_client(self.target, self.auth)
            with self._lock:
                self._made.append(client)
        try:
            yield client.requester
        finally:
            self._idle.put(client)

    def close(self) -> None:
        with self._lock:
            made, self._made = self._made, []
        for client in (*made, self.token_client):
            if client is not None:
                client.close()


def quiet_pygithub() -> None:
    """PyGithub logs every 403 and retry at INFO on stderr (its import-time default): keep it
    to warnings unless someone chose a level. Its DEBUG record of each answer (whole bodies: a
    repository's ``temp_clone_token``, a secret scanning alert on a server that ignores
    ``hide_secret``) is dropped at any level."""
    import github  # noqa: F401 - sets that default on first import

    logger = logging.getLogger("github")
    if logger.level == logging.INFO:
        logger.setLevel(logging.WARNING)
    quiet_logger("github.Requester", RESPONSE_LOG)


@functools.cache
def payload_class() -> type[Any]:
    """A PyGithub object that keeps the REST JSON as it came (for ``PaginatedList``)."""
    from github.GithubObject import NonCompletableGithubObject

    class RestPayload(NonCompletableGithubObject):
        def _initAttributes(self) -> None:
            pass

        def _useAttributes(self, attributes: Any) -> None:
            pass

    return RestPayload
