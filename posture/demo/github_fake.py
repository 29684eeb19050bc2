"""A loopback fake of the GitHub REST API, serving recorded responses in GitHub's JSON shapes
from ``fixtures/github/`` (installed as package data of ``posture.fixtures``; used by the tests
and a demo), driven through the real client (PyGithub).

Each ``fixtures/github/<org>/<area>.json`` maps ``"METHOD /path"`` (optionally with one
identifying query parameter, ``GET /repos/o/r/deployments?environment=production``) to the
response JSON. Conventions inside a response:

- ``{"__pages__": [page, ...]}`` - served page by page (``page`` query parameter, from 1) with
  GitHub's ``Link: <…?page=2>; rel="next", <…>; rel="last"`` header; a plain JSON list is cut
  into pages of ``per_page`` (default 30) the same way;
- ``{"__status__": 403, "message": ..., "documentation_url": ...}`` - answered with that status
  and GitHub's error body (a 204 without a body);
- ``"__fail_first__": 403`` - the first request is answered with that status and GitHub's
  secondary-rate-limit message and ``retry-after`` header (:attr:`FakeGithub.retry_after`
  seconds, none when ``None``), later ones normally;
- the string ``${DAYS_AGO:N}`` anywhere is replaced by the ISO 8601 time N days before now.

Requests need ``Authorization: token|Bearer <TOKEN or an installation token>`` (else 401 "Bad
credentials"). ``POST /app/installations/{INSTALLATION_ID}/access_tokens`` with a GitHub App
JWT returns an installation token. With ``prefix="/api/v3"`` every path is served below it, as
GitHub Enterprise Server does. ``hide_secret=true`` removes ``secret`` from secret scanning
alerts (as GitHub does); every request is recorded (method, path, query, authorization).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from posture.demo.loopback import Answer, Request, load_recorded, route_key, running

TOKEN = "ghp_postureFakeToken0000000000000000000000"
INSTALLATION_TOKEN = "ghs_postureFakeInstallation0000000000000"
INSTALLATION_ID = 4242
DOCS = "https://docs.github.com/rest"
SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID 0000:FAKE."
)
_KEY_QUERY = ("environment", "ref")
_TOKEN_PATH = re.compile(r"/app/installations/(\d+)/access_tokens")



@dataclass
class FakeGithub:
    routes: dict[str, Any]
    prefix: str = ""
    base: str = ""
    retry_after: int | None = 0
    hide_secrets: bool = True
    tokens: set[str] = field(default_factory=lambda: {TOKEN, INSTALLATION_TOKEN})
    requests: list[Request] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    jwts: list[dict[str, Any]] = field(default_factory=list)
    _failed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        """What a client's ``base_url`` is (``…/api/v3`` when serving below a prefix)."""
        return self.base + self.prefix

    def paths(self, start: str = "") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(start)]

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def respond(self, request: Request, raw_path: str, host: str) -> Answer:
        """Record the request and answer it (:class:`~posture.demo.loopback.Fake`)."""
        with self._lock:
            self.requests.append(request)
        status, headers, body = self.answer(request.method, raw_path, request.authorization, host)
        return status, {"x-github-api-version-selected": "2022-11-28", **headers}, \
            None if body is None else copy.deepcopy(body)

    def answer(self, method: str, raw_path: str, authorization: str | None,
               host: str) -> Answer:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return _error(404, "Not Found")
            path = path[len(self.prefix):]
        token = _TOKEN_PATH.fullmatch(path)
        if method == "POST" and token:
            return self._installation_token(int(token.group(1)), authorization)
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or credential not in self.tokens:
            return _error(401, "Bad credentials")
        key = self._key(method, path, query)
        if key is None:
            with self._lock:
                self.unmatched.append(f"{method} {path}")
            return _error(404, "Not Found")
        return self._respond(key, self.routes[key], path, query, host)

    def _respond(self, key: str, response: Any, path: str, query: dict[str, str],
                 host: str) -> Answer:
        if isinstance(response, dict) and "__fail_first__" in response:
            with self._lock:
                first = key not in self._failed
                self._failed.add(key)
            if first:
                status, _, body = _error(int(response["__fail_first__"]), SECONDARY_LIMIT)
                wait = {} if self.retry_after is None else {"retry-after": str(self.retry_after)}
                return status, wait, body
            response = {k: v for k, v in response.items() if k != "__fail_first__"}
            if set(response) == {"__body__"}:
                response = response["__body__"]
        if isinstance(response, dict) and "__status__" in response:
            body = {k: v for k, v in response.items() if k != "__status__"}
            status = int(response["__status__"])
            return status, {}, None if status == 204 else body
        page = max(int(query.get("page") or 1), 1)
        pages: list[Any] | None = None
        if isinstance(response, dict) and "__pages__" in response:
            pages = response["__pages__"]
        elif isinstance(response, list):
            size = min(max(int(query.get("per_page") or 30), 1), 100)
            pages = [response[i:i + size] for i in range(0, len(response), size)] or [[]]
        links: dict[str, str] = {}
        if pages is not None:
            response = pages[page - 1] if page <= len(pages) else []
            links = _links(host, self.prefix + path, query, page, len(pages))
        if query.get("hide_secret") == "true" and self.hide_secrets:
            response = _without_secrets(response)
        return 200, links, response

    def _installation_token(self, installation: int, authorization: str | None) -> Answer:
        scheme, _, jwt = (authorization or "").partition(" ")
        claims = _jwt_claims(jwt) if scheme == "Bearer" else None
        if claims is None or "iss" not in claims:
            return _error(401, "A JSON web token could not be decoded")
        with self._lock:
            self.jwts.append(claims)
        if installation != INSTALLATION_ID:
            return _error(404, "Not Found")
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        return 201, {}, {
            "token": INSTALLATION_TOKEN,
            "expires_at": expires.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "permissions": {"metadata": "read", "administration": "read"},
            "repository_selection": "all",
        }

    def _key(self, method: str, path: str, query: dict[str, str]) -> str | None:
        return route_key(self.routes, method, path, query, _KEY_QUERY)


def _error(status: int, message: str) -> Answer:
    return status, {}, {"message": message, "documentation_url": DOCS}


def _links(host: str, path: str, query: dict[str, str], page: int, last: int) -> dict[str, str]:
    """GitHub's ``Link`` header for ``page`` of ``last`` pages (none on a single page)."""
    if last <= 1:
        return {}

    def url(n: int) -> str:
        return f"http://{host}{path}?{urlencode({**query, 'page': n})}"

    links = []
    if page > 1:
        links += [f'<{url(page - 1)}>; rel="prev"', f'<{url(1)}>; rel="first"']
    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    return {"link": ", ".join(links)}


def _without_secrets(response: Any) -> Any:
    if isinstance(response, list):
        return [{k: v for k, v in a.items() if k != "secret"} if isinstance(a, dict) else a
                for a in response]
    return response


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT (not verified: the fake trusts any App)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def fixtures_root() -> Path:
    """``fixtures/github`` of the source tree, or the same files installed with the package."""
    from importlib import resources

    return Path(str(resources.files("posture.fixtures"))) / "github"


def load_routes(orgs: tuple[str, ...] = ("acme",), root: Path | None = None) -> dict[str, Any]:
    return load_recorded(fixtures_root() if root is None else root, orgs)


@contextmanager
def serving(routes: dict[str, Any] | None = None, *, prefix: str = "") -> Iterator[FakeGithub]:
    """Run the fake on 127.0.0.1 (random port) for the duration of the block; ``prefix``
    ``/api/v3`` serves it as GitHub Enterprise Server does."""
    fake = FakeGithub(routes if routes is not None else load_routes(), prefix=prefix)
    with running(fake):
        yield fake
