"""A loopback HTTPS fake of Azure Resource Manager and of the Entra ID token endpoint, used by
``posture demo azure`` and the tests.

It serves recorded ARM responses (the REST API's JSON shapes) from ``fixtures/azure/arm`` (package
data of ``posture.fixtures``, see :func:`fixtures_root`), so the real SDK clients do their own
paging and deserialization against it:

* ``GET /a/b/C`` answers the file ``<root>/a/b/c.json`` (paths are case-insensitive, as in
  ARM); a request with ``$skiptoken=N`` answers ``c.pageN.json``. ``{base}`` in a file is
  replaced by the server's own address, so ``nextLink`` values are absolute as in ARM.
* A subscription-level listing (``/subscriptions/S/providers/NS/type``), a diagnostic-settings
  listing or a VM's extension listing without a file answers an empty list, as ARM does when
  there is nothing. A GET of one resource (``/subscriptions/S/resourceGroups/G/providers/NS/
  type/name``) without a file of its own answers that resource's item of the subscription-level
  listing (ARM's GET and list return the same model); any other missing file is a 404
  ``ResourceNotFound``. A VM's ``userData`` is answered only to ``$expand=userData``, as in ARM.
* ``POST /<tenant>/oauth2/v2.0/token`` issues a bearer token (``/<tenant>/v2.0/.well-known/
  openid-configuration`` points at it); every ARM request must carry that token.
* Microsoft Graph (``/v1.0/...``: the fake's base is also the Graph endpoint) is answered the
  same way from ``fixtures/azure/graph`` (``graph_root``): ``/v1.0/users`` is
  ``<graph root>/v1.0/users.json``, ``$skiptoken=N`` its ``.pageN.json`` (``@odata.nextLink``
  built with ``{base}``), a missing file a 404 ``Request_ResourceNotFound``.
* :meth:`FakeArm.fail` injects ARM (or Graph) errors (403 ``AuthorizationFailed``, 429 with
  ``Retry-After``) on a path prefix, a given number of times.

The TLS certificate of ``127.0.0.1`` is signed by a throw-away CA made here
(:func:`make_ca`); clients trust it through ``connection_verify=<ca.pem>`` / ``--ca-bundle``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TOKEN = "posture-fake-token"

_SUB_LIST = re.compile(r"^/subscriptions/[^/]+/providers/[^/]+/[^/]+$")
_DIAG_LIST = re.compile(r"/providers/microsoft\.insights/diagnosticsettings$")
_EXTENSION_LIST = re.compile(r"/providers/microsoft\.compute/virtualmachines/[^/]+/extensions$")
GRAPH_PREFIXES = ("/v1.0/", "/beta/")
_RESOURCE = re.compile(
    r"^/(subscriptions/[^/]+)/resourcegroups/[^/]+/(providers/[^/]+/[^/]+)/[^/]+$"
)


def fixtures_root() -> Path:
    """``fixtures/azure/arm`` of the source tree, or the same files installed with the package."""
    from importlib import resources

    return Path(str(resources.files("posture.fixtures"))) / "azure" / "arm"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a ``127.0.0.1``/``localhost`` server certificate: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("posture test CA"))
        .issuer_name(_name("posture test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_pem, key_pem = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_pem, cert_pem, key_pem


@dataclass
class Fault:
    prefix: str
    status: int
    code: str
    message: str
    times: int  # -1 = always
    headers: dict[str, str] = field(default_factory=dict)


class FakeArm:
    """The fake server; use as a context manager. ``base`` is ``https://127.0.0.1:PORT``.

    ``folder`` receives the throw-away CA, certificate and key (a private temporary directory);
    ``root`` defaults to the packaged recordings (:func:`fixtures_root`).
    """

    def __init__(
        self, folder: Path, root: Path | None = None, graph_root: Path | None = None
    ) -> None:
        self.root = fixtures_root() if root is None else root
        self.graph_root = fixtures_root().parent / "graph" if graph_root is None else graph_root
        self.ca, cert, key = make_ca(folder)
        self.requests: list[tuple[str, str]] = []
        self.token_requests = 0
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeArm:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(
        self,
        prefix: str,
        status: int,
        code: str,
        message: str = "",
        times: int = -1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer requests whose path starts with ``prefix`` with an ARM error."""
        self.faults.append(
            Fault(prefix.lower(), status, code, message or code, times, dict(headers or {}))
        )

    def paths(self) -> list[str]:
        with self._lock:
            return [p for _, p in self.requests]

    # -- request handling ----------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query)
        with self._lock:
            self.requests.append((method, path))
        if path.endswith("/.well-known/openid-configuration"):
            return self._json(200, self._openid(path.strip("/").split("/")[0]))
        if path.endswith("/oauth2/v2.0/token") and method == "POST":
            with self._lock:
                self.token_requests += 1
            return self._json(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "ext_expires_in": 3600,
                    "access_token": TOKEN,
                },
            )
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._error(401, "InvalidAuthenticationToken", "missing or invalid token")
        fault = self._fault(path.lower())
        if fault is not None:
            status, hdrs, payload = self._error(fault.status, fault.code, fault.message)
            return status, {**hdrs, **fault.headers}, payload
        if path.lower().startswith(GRAPH_PREFIXES):
            return self._graph_file(path, query)
        return self._file(path, query)

    def _graph_file(
        self, path: str, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], bytes]:
        rel = path.lower().lstrip("/")
        token = next(iter(query.get("$skiptoken") or ()), None)
        candidate = self.graph_root / (rel + (f".page{token}" if token else "") + ".json")
        if candidate.resolve().is_relative_to(self.graph_root.resolve()) and candidate.is_file():
            text = candidate.read_text(encoding="utf-8").replace("{base}", self.base)
            return 200, {"Content-Type": "application/json"}, text.encode("utf-8")
        return self._error(404, "Request_ResourceNotFound",
                           f"Resource '{path.rsplit('/', 1)[-1]}' does not exist.")

    def _fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if path.startswith(fault.prefix) and fault.times != 0:
                    fault.times -= 1 if fault.times > 0 else 0
                    return fault
        return None

    def _file(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        rel = path.lower().lstrip("/")
        token = next(iter(query.get("$skiptoken") or ()), None)
        candidate = self.root / (rel + (f".page{token}" if token else "") + ".json")
        inside = candidate.resolve().is_relative_to(self.root.resolve())  # no ../ escapes
        if inside and candidate.is_file():
            text = candidate.read_text(encoding="utf-8").replace("{base}", self.base)
            if '"userData"' in text and not _expands_user_data(query):
                return self._json(200, _without_user_data(json.loads(text)))
            return 200, {"Content-Type": "application/json"}, text.encode("utf-8")
        lower = path.lower()
        if _SUB_LIST.match(lower) or _DIAG_LIST.search(lower) or _EXTENSION_LIST.search(lower):
            return self._json(200, {"value": []})
        listed = self._listed(lower)
        if listed is not None:
            return self._json(200, listed)
        return self._error(404, "ResourceNotFound", f"The resource '{path}' was not found.")

    def _listed(self, path: str) -> dict[str, Any] | None:
        """The item with id ``path`` of its subscription-level listing (every page), if any."""
        match = _RESOURCE.match(path)
        if match is None:
            return None
        listing = self.root / match.group(1) / match.group(2)
        for page in sorted(listing.parent.glob(f"{listing.name}.json")) + sorted(
            listing.parent.glob(f"{listing.name}.page*.json")
        ):
            text = page.read_text(encoding="utf-8").replace("{base}", self.base)
            for item in json.loads(text).get("value") or []:
                if str(item.get("id", "")).lower() == path:
                    return dict(item)
        return None

    def _openid(self, tenant: str) -> dict[str, Any]:
        base = f"{self.base}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "response_types_supported": ["code", "id_token", "token"],
        }

    @staticmethod
    def _json(status: int, doc: Any) -> tuple[int, dict[str, str], bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(doc).encode("utf-8")

    def _error(self, status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
        return self._json(status, {"error": {"code": code, "message": message}})


def _expands_user_data(query: dict[str, list[str]]) -> bool:
    return any("userdata" in v.lower() for v in query.get("$expand") or ())


def _without_user_data(doc: Any) -> Any:
    """A VM as ARM returns it without ``$expand=userData``."""
    if isinstance(doc, dict) and isinstance(doc.get("properties"), dict):
        doc["properties"].pop("userData", None)
    return doc


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake: FakeArm = self.server.fake  # type: ignore[attr-defined]
        status, headers, payload = fake.answer(method, self.path, self.headers, body)
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass
