"""What the loopback fakes of HTTP JSON APIs share (:mod:`~posture.demo.gcp_fake`,
:mod:`~posture.demo.github_fake`): recorded responses read from ``fixtures/<api>/<name>/*.json``
with ``${DAYS_AGO:N}`` made relative to now, the record of each request, and a threaded
HTTP/1.1 server on 127.0.0.1 that hands every request to the fake and writes its JSON answer."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

_DAYS_AGO = re.compile(r"\$\{DAYS_AGO:(\d+)\}")

Answer = tuple[int, Mapping[str, str], Any]
"""HTTP status, extra headers, the JSON body (``None``: no body)."""


@dataclass
class Request:
    """One request a fake received."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None


class Fake(Protocol):
    base: str

    def respond(self, request: Request, raw_path: str, host: str) -> Answer:
        """The answer to ``request`` (``raw_path``: path and query as sent; ``host``: the Host
        header), recording it."""


def now_minus(days: int) -> str:
    """The time ``days`` before now, RFC 3339 in UTC to the second (``…Z``)."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def load_recorded(root: Path, names: Iterable[str]) -> dict[str, Any]:
    """The routes of ``root/<name>/*.json`` for each name (files in name order, later keys
    win), with every ``${DAYS_AGO:N}`` replaced."""
    routes: dict[str, Any] = {}
    for name in names:
        for file in sorted((root / name).glob("*.json")):
            text = _DAYS_AGO.sub(lambda m: now_minus(int(m.group(1))), file.read_text("utf-8"))
            routes.update(json.loads(text))
    return routes


def route_key(routes: Mapping[str, Any], method: str, path: str, query: Mapping[str, str],
              identifying: Iterable[str]) -> str | None:
    """The recorded route of a request: ``METHOD /path?name=value`` for the first identifying
    query parameter that has one, else ``METHOD /path``; None when neither is recorded."""
    for name in identifying:
        if name in query:
            candidate = f"{method} {path}?{name}={query[name]}"
            if candidate in routes:
                return candidate
    candidate = f"{method} {path}"
    return candidate if candidate in routes else None


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            parts = urlsplit(self.path)
            request = Request(self.command, unquote(parts.path),
                              {k: v[0] for k, v in parse_qs(parts.query).items()},
                              self.headers.get("authorization"))
            host = self.headers.get("host") or fake.base.removeprefix("http://")
            status, headers, body = fake.respond(request, self.path, host)
            data = b"" if body is None else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running(fake: Fake) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1 (a random port; ``fake.base`` is set) for the block."""
    with serving_handler(_handler(fake)) as base:
        fake.base = base
        yield base


@contextmanager
def serving_handler(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server of ``handler`` on 127.0.0.1 (a random port) for the block; yields
    its base URL (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
