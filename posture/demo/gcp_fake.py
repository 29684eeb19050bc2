"""A loopback fake of the Google REST endpoints, serving recorded responses from ``fixtures/gcp/``
(installed as package data of ``posture.fixtures``; used by ``posture demo gcp`` and the tests).

Each ``fixtures/gcp/<project>/<api>.json`` maps ``"METHOD /path"`` (optionally with one
identifying query parameter, ``GET /storage/v1/b?project=p``) to the API's JSON response.
Conventions inside a response:

- ``{"__pages__": [page, ...]}`` - served page by page; the fake adds ``nextPageToken`` and
  reads ``pageToken`` (the clients' real paging);
- ``{"__status__": 403, "error": {...}}`` - answered with that HTTP status and body;
- ``"__fail_first__": 429`` - the first request is answered 429 RESOURCE_EXHAUSTED, later
  ones normally (the clients' retry);
- the string ``${DAYS_AGO:N}`` anywhere is replaced by the RFC 3339 time N days before now.

``POST /token`` is an OAuth token endpoint (for service-account key files whose ``token_uri``
points here). Every request is recorded (method, path, authorization header).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from posture.demo.loopback import Answer, Request, load_recorded, route_key, running

TOKEN = "ya29.fake-access-token"
_KEY_QUERY = ("project", "parent")


@dataclass
class FakeGoogle:
    routes: dict[str, Any]
    base: str = ""
    requests: list[Request] = field(default_factory=list)
    _failed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(prefix)]

    def respond(self, request: Request, raw_path: str, host: str) -> Answer:
        """Record the request and answer it (:class:`~posture.demo.loopback.Fake`)."""
        with self._lock:
            self.requests.append(request)
        status, body = self.answer(request.method, raw_path)
        return status, {}, body

    def answer(self, method: str, raw_path: str) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return self._answer(method, path, query)

    def _answer(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        if method == "POST" and path == "/token":
            return 200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"}
        key = self._key(method, path, query)
        if key is None:
            bucket = re.fullmatch(r"/storage/v1/b/([^/]+)", path)
            if method == "GET" and bucket:  # storage re-reads a bucket in the background
                return self._bucket(bucket.group(1))
            return 404, _error(404, "NOT_FOUND", f"fake: no fixture for {method} {path}")
        response = self.routes[key]
        if isinstance(response, dict) and "__fail_first__" in response:
            with self._lock:
                first = key not in self._failed
                self._failed.add(key)
            if first:
                status = int(response["__fail_first__"])
                return status, _error(status, "RESOURCE_EXHAUSTED", "Quota exceeded (fake).")
            response = {k: v for k, v in response.items() if k != "__fail_first__"}
        if isinstance(response, dict) and "__status__" in response:
            body = {k: v for k, v in response.items() if k != "__status__"}
            return int(response["__status__"]), body
        if isinstance(response, dict) and "__pages__" in response:
            pages = response["__pages__"]
            index = int(query.get("pageToken") or 0)
            page = dict(pages[index])
            if index + 1 < len(pages):
                page["nextPageToken"] = str(index + 1)
            response = page
        return 200, response

    def _key(self, method: str, path: str, query: dict[str, str]) -> str | None:
        return route_key(self.routes, method, path, query, _KEY_QUERY)

    def _bucket(self, name: str) -> tuple[int, Any]:
        for key, value in self.routes.items():
            if key.startswith("GET /storage/v1/b?"):
                for page in value.get("__pages__", [value]):
                    for item in page.get("items", []):
                        if item.get("name") == name:
                            return 200, item
        return 404, _error(404, "NOT_FOUND", f"fake: no bucket {name}")


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": code}}


def fixtures_root() -> Path:
    """``fixtures/gcp`` of the source tree, or the same files installed with the package."""
    from importlib import resources

    return Path(str(resources.files("posture.fixtures"))) / "gcp"


def load_routes(
    projects: tuple[str, ...] = ("acme-prod", "acme-dev"), root: Path | None = None
) -> dict[str, Any]:
    return load_recorded(fixtures_root() if root is None else root, projects)


@contextmanager
def serving(routes: dict[str, Any] | None = None) -> Iterator[FakeGoogle]:
    """Run the fake on 127.0.0.1 (random port) for the duration of the block."""
    fake = FakeGoogle(routes if routes is not None else load_routes())
    with running(fake):
        yield fake
