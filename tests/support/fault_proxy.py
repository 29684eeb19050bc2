"""A fault-injecting loopback front for the collector tests: a threaded HTTP/1.1 server on
127.0.0.1 that forwards every request to an upstream (the moto server, a loopback fake) and, by a
seeded deterministic :class:`Schedule`, answers some of them itself instead - HTTP 500, 503 with
``Retry-After``, the provider's throttling answer, each in the provider's real error shape
(:func:`aws_error`, :func:`google_error`, :func:`github_error`) - or drops the connection without
an answer (``DROP``: closed, ``RESET``: TCP reset).

Determinism: the fate of a request depends only on the seed, the request itself (method, path and
query, body, ``X-Amz-Target``) and how many times that same request came before - not on the
order in which concurrent threads arrive - so a collector that retries sees the same faults in
every run. Bounded: the upstream is given 30 s per request, the proxy stops with its block, and a
``Retry-After`` is whatever the schedule says (keep it small).

Every exchange is recorded (:class:`Record`: the request's fingerprint and operation, its attempt
number, the fault or the upstream's status, when it arrived and was answered), so a test can
count the attempts of a call, find calls whose last attempt failed, and measure waits.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from posture.demo.loopback import serving_handler

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailers", "transfer-encoding", "upgrade", "content-length"})
UPSTREAM_TIMEOUT = 30.0


class Fault(StrEnum):
    ERROR = "500"  # HTTP 500, the provider's internal error
    UNAVAILABLE = "503"  # HTTP 503 with Retry-After
    THROTTLE = "throttle"  # the provider's throttling answer (400/429/503 by protocol)
    DROP = "drop"  # the connection closed without an answer
    RESET = "reset"  # the connection reset (RST) without an answer


@dataclass(frozen=True)
class Exchange:
    """One request the proxy received."""

    method: str
    target: str  # path and query as sent
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.body).hexdigest()[:16]
        return f"{self.method} {self.target} {self.headers.get('x-amz-target', '')} {digest}"

    @property
    def form(self) -> dict[str, str]:
        if "x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return {}
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    @property
    def operation(self) -> str:
        """The AWS action (query or JSON protocol), else ``METHOD /path``."""
        target = self.headers.get("x-amz-target")
        if target:
            return target.rsplit(".", 1)[-1]
        return self.form.get("Action") or f"{self.method} {urlsplit(self.target).path}"

    @property
    def signing_service(self) -> str:
        """The service of a SigV4 ``Authorization`` header's credential scope (``s3``)."""
        auth = self.headers.get("authorization", "")
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0] if "Credential=" in auth else ""
        parts = scope.split("/")
        return parts[3] if len(parts) > 3 else ""


@dataclass(frozen=True)
class Schedule:
    """Which requests fail how: ``rates`` maps each fault to the share of matching attempts it
    answers (shares add up to at most 1); ``match`` picks the requests at risk (all by default),
    ``first`` only their first attempts (a fault that clears: ``first=1`` fails each matching
    request once); ``retry_after`` is the header sent with ``UNAVAILABLE`` and ``THROTTLE``."""

    rates: Mapping[Fault, float]
    seed: int = 20
    match: Callable[[Exchange], bool] = field(default=lambda _: True)
    first: int | None = None
    retry_after: str | None = "1"

    def fault(self, exchange: Exchange, attempt: int) -> Fault | None:
        if not self.match(exchange) or (self.first is not None and attempt > self.first):
            return None
        key = f"{self.seed}|{exchange.fingerprint}|{attempt}".encode()
        draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
        total = 0.0
        for fault, rate in sorted(self.rates.items()):
            total += rate
            if draw < total:
                return fault
        return None


def only(*operations: str) -> Callable[[Exchange], bool]:
    """A :attr:`Schedule.match` for the named operations (:attr:`Exchange.operation`)."""
    return lambda exchange: exchange.operation in operations


@dataclass(frozen=True)
class Record:
    fingerprint: str
    operation: str
    attempt: int
    fault: Fault | None
    status: int | None  # the upstream's status (None: a fault was answered instead)
    received: float
    answered: float


Answer = tuple[int, dict[str, str], bytes]
Style = Callable[[Exchange, Fault, "str | None"], Answer]
"""The provider's error answer for a fault: (status, headers, body)."""


@dataclass
class FaultProxy:
    upstream: str
    style: Style
    schedules: tuple[Schedule, ...]
    base: str = ""
    records: list[Record] = field(default_factory=list)
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, exchange: Exchange) -> int:
        with self._lock:
            n = self._seen.get(exchange.fingerprint, 0) + 1
            self._seen[exchange.fingerprint] = n
            return n

    def fault(self, exchange: Exchange, attempt: int) -> tuple[Fault | None, Schedule | None]:
        """The first fault any schedule gives this attempt, and that schedule."""
        for schedule in self.schedules:
            fault = schedule.fault(exchange, attempt)
            if fault is not None:
                return fault, schedule
        return None, None

    def record(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)

    def faults(self) -> list[Record]:
        return [r for r in self.records if r.fault is not None]

    def calls(self) -> dict[str, list[Record]]:
        """Every request fingerprint's records in attempt order."""
        out: dict[str, list[Record]] = {}
        for r in sorted(self.records, key=lambda r: (r.fingerprint, r.attempt)):
            out.setdefault(r.fingerprint, []).append(r)
        return out

    def given_up(self) -> list[str]:
        """The operations of the requests whose last attempt was a fault (never retried)."""
        return sorted(rs[-1].operation for rs in self.calls().values() if rs[-1].fault)

    def forward(self, exchange: Exchange, conn: http.client.HTTPConnection) -> Answer:
        """The upstream's answer to ``exchange`` over ``conn`` (kept alive between requests of
        one client connection)."""
        headers = {k: v for k, v in exchange.headers.items() if k not in HOP_BY_HOP}
        if exchange.body or exchange.method in ("POST", "PUT", "PATCH"):
            headers["content-length"] = str(len(exchange.body))
        conn.request(exchange.method, exchange.target, body=exchange.body or None,
                     headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        out = {k: v for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP}
        if exchange.method == "HEAD":
            out["content-length"] = resp.getheader("content-length") or "0"
        return resp.status, out, body

    def connect(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                          timeout=UPSTREAM_TIMEOUT)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK waits
        upstream: http.client.HTTPConnection | None = None

        def _serve(self) -> None:
            received = time.monotonic()
            exchange = Exchange(self.command, self.path,
                                {k.lower(): v for k, v in self.headers.items()}, self._body())
            attempt = proxy.attempt(exchange)
            fault, schedule = proxy.fault(exchange, attempt)
            status: int | None = None
            if fault in (Fault.DROP, Fault.RESET):
                self._drop(fault)
            elif fault is not None and schedule is not None:
                self._answer(*proxy.style(exchange, fault, schedule.retry_after))
            else:
                answer = self._forward(exchange)
                status = answer[0]
                self._answer(*answer)
            proxy.record(Record(exchange.fingerprint, exchange.operation, attempt, fault, status,
                                received, time.monotonic()))

        def _forward(self, exchange: Exchange) -> Answer:
            for again in (True, False):
                if self.upstream is None:
                    self.upstream = proxy.connect()
                try:
                    return proxy.forward(exchange, self.upstream)
                except (http.client.HTTPException, OSError):
                    self.upstream.close()
                    self.upstream = None
                    if not again:
                        raise
            raise AssertionError("unreachable")

        def finish(self) -> None:
            if self.upstream is not None:
                self.upstream.close()
            super().finish()

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def _answer(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "content-length" not in {k.lower() for k in headers}:
                self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _drop(self, fault: Fault) -> None:
            self.close_connection = True
            if fault is Fault.RESET:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def fault_proxy(upstream: str, style: Style, *schedules: Schedule) -> Iterator[FaultProxy]:
    """A :class:`FaultProxy` in front of ``upstream`` (``http://127.0.0.1:PORT``) answering
    faults in ``style`` by ``schedules`` (the first that picks a fault wins) for the block; its
    ``base`` is the address to give the client instead of the upstream's."""
    proxy = FaultProxy(upstream.rstrip("/"), style, schedules)
    with serving_handler(_handler(proxy)) as base:
        proxy.base = base
        yield proxy


# -- the providers' error answers ----------------------------------------------------------------

EC2_VERSION = "2016-11-15"
_AWS_CODES = {  # fault -> (status, code, message) by protocol family
    Fault.ERROR: (500, "InternalFailure", "We encountered an internal error. Please try again."),
    Fault.UNAVAILABLE: (503, "ServiceUnavailable", "Service is unavailable. Please try again."),
    Fault.THROTTLE: (400, "Throttling", "Rate exceeded"),
}
_AWS_OVERRIDES = {
    ("ec2", Fault.ERROR): (500, "InternalError", "An internal error has occurred"),
    ("ec2", Fault.THROTTLE): (503, "RequestLimitExceeded", "Request limit exceeded."),
    ("json", Fault.THROTTLE): (400, "ThrottlingException", "Rate exceeded"),
    ("rest-json", Fault.THROTTLE): (429, "TooManyRequestsException", "Too Many Requests"),
    ("s3", Fault.ERROR): (500, "InternalError", "We encountered an internal error. Please try "
                                                 "again."),
    ("s3", Fault.THROTTLE): (503, "SlowDown", "Please reduce your request rate."),
}
_REST_XML = frozenset({"cloudfront", "route53"})


def _aws_protocol(exchange: Exchange) -> str:
    if "x-amz-target" in exchange.headers:
        return "json"
    form = exchange.form
    if "Action" in form:
        return "ec2" if form.get("Version") == EC2_VERSION else "query"
    service = exchange.signing_service
    if service == "s3":
        return "s3"
    return "rest-xml" if service in _REST_XML else "rest-json"


def aws_error(exchange: Exchange, fault: Fault, retry_after: str | None) -> Answer:
    """``fault`` the way AWS answers it in the request's protocol: query (``ErrorResponse``),
    EC2 (``Response/Errors``), JSON (``__type``), REST-JSON (``x-amzn-ErrorType``), S3 and
    REST-XML (``Error``)."""
    protocol = _aws_protocol(exchange)
    status, code, message = _AWS_OVERRIDES.get((protocol, fault), _AWS_CODES[fault])
    request_id = hashlib.sha256(exchange.fingerprint.encode()).hexdigest()[:32]
    headers = {"x-amzn-RequestId": request_id}
    if retry_after is not None and fault in (Fault.UNAVAILABLE, Fault.THROTTLE):
        headers["Retry-After"] = retry_after
    kind = "Sender" if status < 500 else "Receiver"
    if protocol == "json":
        headers["Content-Type"] = "application/x-amz-json-1.1"
        return status, headers, json.dumps({"__type": code, "message": message}).encode()
    if protocol == "rest-json":
        headers.update({"Content-Type": "application/json", "x-amzn-ErrorType": code})
        return status, headers, json.dumps({"message": message}).encode()
    headers["Content-Type"] = "text/xml"
    if protocol == "ec2":
        xml = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
               f"</Errors><RequestID>{request_id}</RequestID></Response>")
    elif protocol == "s3":
        xml = (f"<Error><Code>{code}</Code><Message>{message}</Message>"
               f"<RequestId>{request_id}</RequestId></Error>")
    else:
        xml = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
               f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
               "</ErrorResponse>")
    return status, headers, ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()


_GOOGLE = {
    Fault.ERROR: (500, "INTERNAL", "backendError", "Internal error encountered."),
    Fault.UNAVAILABLE: (503, "UNAVAILABLE", "backendError", "The service is currently "
                                                           "unavailable."),
    Fault.THROTTLE: (429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Quota exceeded for quota "
                                                                     "metric 'Read requests'."),
}


def google_error(exchange: Exchange, fault: Fault, retry_after: str | None) -> Answer:
    """``fault`` as a Google API answers it (``{"error": {code, message, status, errors}}``)."""
    status, name, reason, message = _GOOGLE[fault]
    body = {"error": {"code": status, "message": message, "status": name,
                      "errors": [{"message": message, "domain": "global", "reason": reason}]}}
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    if retry_after is not None and fault in (Fault.UNAVAILABLE, Fault.THROTTLE):
        headers["Retry-After"] = retry_after
    return status, headers, json.dumps(body).encode()


_GITHUB = {
    Fault.ERROR: (500, "Server Error"),
    Fault.UNAVAILABLE: (503, "Service Unavailable"),
    Fault.THROTTLE: (403, "You have exceeded a secondary rate limit. Please wait a few minutes "
                          "before you try again."),
}


def github_error(exchange: Exchange, fault: Fault, retry_after: str | None) -> Answer:
    """``fault`` as the GitHub REST API answers it (``{"message", "documentation_url"}``)."""
    status, message = _GITHUB[fault]
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if retry_after is not None and fault in (Fault.UNAVAILABLE, Fault.THROTTLE):
        headers["Retry-After"] = retry_after
    return status, headers, json.dumps(body).encode()
