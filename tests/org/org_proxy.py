"""A fault-injecting HTTP proxy in front of the moto server, seen by every process (Dask
workers included): it answers ``sts:AssumeRole`` into chosen accounts with AccessDenied, as AWS
does when the role's trust does not allow the caller (moto itself never refuses), and can hold
the first ``AssumeRole`` into one account until the test releases it (a task that is provably
running when a worker is killed). Everything else is forwarded unchanged."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DENIED = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/auditor is not "
    "authorized to perform: sts:AssumeRole on resource: {arn}</Message></Error>"
    "<RequestId>c0ffee00-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)
SKIP = {"transfer-encoding", "connection", "content-length", "keep-alive"}


@dataclass
class Faults:
    deny: set[str] = field(default_factory=set)  # account ids whose role cannot be assumed
    hold: str | None = None  # account id whose first AssumeRole waits for ``release``
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    assumed: list[str] = field(default_factory=list)  # accounts, in order of AssumeRole calls


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


@contextmanager
def proxy(upstream: str, faults: Faults) -> Iterator[str]:
    """Serve the proxy on 127.0.0.1 (a free port); yields its endpoint URL."""
    target = urlsplit(upstream)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            form = parse_qs(body.decode("utf-8", "replace")) if body else {}
            if form.get("Action") == ["AssumeRole"]:
                arn = form.get("RoleArn", [""])[0]
                account = _account(arn)
                with lock:
                    first = account == faults.hold and not faults.held.is_set()
                    faults.assumed.append(account)
                    if first:
                        faults.held.set()
                if first:
                    faults.release.wait(timeout=60)
                if account in faults.deny:
                    self._answer(403, DENIED.format(arn=arn).encode(), "text/xml")
                    return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in SKIP}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in SKIP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the caller is gone (a killed worker)
            finally:
                conn.close()

        def _answer(self, status: int, data: bytes, kind: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        faults.release.set()
        server.shutdown()
        server.server_close()
