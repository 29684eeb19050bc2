"""Shared plumbing of the GCP collector: credentials, clients, retried calls, error capture.

Service modules (``compute.py``, ``kms.py``, ...) follow the fetch → normalize split: a
``collect(scope: ProjectScope) -> list[Asset]`` function does the I/O through
:meth:`ProjectScope.call`, which records every failed call as a :class:`CollectionError` and
returns ``None`` instead of raising, and pure ``normalize_*`` functions turn the APIs' REST JSON
(GAPIC messages are converted back to their REST JSON shape first) into assets. Each service
module declares the read-only IAM permissions it uses in a module constant ``PERMISSIONS``.

Every call is retried on its own (:mod:`.retries`: backoff with jitter, ``Retry-After``,
dropped connections and timeouts included). Every client uses its REST transport, so one
``api_endpoint`` (a Private Service Connect or restricted endpoint, or a local fake in tests)
serves all of them. An endpoint containing ``{service}`` is expanded per API
(``https://{service}-psc.p.googleapis.com``).

:class:`ProjectScope` is a :class:`posture.collectors.runner.Scope`: recording errors and building
assets (labels become the asset's tags) are the runner's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exc
from google.protobuf import json_format

from posture.collectors.gcp.retries import GoogleRetry, request_builder
from posture.collectors.retry import Backoff
from posture.collectors.runner import DETAIL_WORKERS as DETAIL_WORKERS
from posture.collectors.runner import ClientCache, Scope
from posture.collectors.runner import parallel_flat_map as parallel_flat_map
from posture.collectors.runner import parallel_map as parallel_map
from posture.model import GLOBAL, Asset, Provider

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
HOSTS = {
    "compute": "compute.googleapis.com",
    "cloudresourcemanager": "cloudresourcemanager.googleapis.com",
    "cloudkms": "cloudkms.googleapis.com",
    "storage": "storage.googleapis.com",
    "orgpolicy": "orgpolicy.googleapis.com",
    "sqladmin": "sqladmin.googleapis.com",
    "iam": "iam.googleapis.com",
    "iamcredentials": "iamcredentials.googleapis.com",
}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GcpTarget:
    """What to scan and how to connect. Credentials: ADC unless told otherwise."""

    projects: tuple[str, ...] = ()
    organization: str | None = None  # numeric id, "organizations/123" accepted
    folders: tuple[str, ...] = ()
    api_endpoint: str | None = None
    key_file: str | None = None  # a service-account (or other) credentials file
    impersonate: str | None = None  # a service-account email to impersonate
    anonymous: bool = False  # no credentials at all (emulators, fakes)
    max_workers: int = 16
    retry_initial: float = 0.5  # seconds: the backoff's base (:attr:`backoff`)
    retry_deadline: float = 60.0  # seconds: a call's retry budget
    discovery_retries: int = 5  # googleapiclient's own num_retries: ignored, see `backoff`

    @property
    def backoff(self) -> Backoff:
        """Every call's retries (:mod:`posture.collectors.retry`): full jitter from
        ``retry_initial`` (twice that for throttling), waits capped at 20 times it, within
        ``retry_deadline``."""
        base = self.retry_initial
        return Backoff(base=base, throttle_base=2 * base, cap=20 * base,
                       budget=self.retry_deadline)


def endpoint_for(base: str | None, service: str) -> str | None:
    if base is None:
        return None
    return base.replace("{service}", service).rstrip("/")


@dataclass
class Clients:
    """Creates the Google clients once per target; discovery clients once per thread (httplib2
    is not thread-safe)."""

    target: GcpTarget
    credentials: Any
    _clients: ClientCache[str, Any] = field(default_factory=ClientCache, repr=False)
    _local: threading.local = field(default_factory=threading.local)

    @property
    def retry(self) -> GoogleRetry:
        """The ``retry=`` of every GAPIC and storage call: per call, transport errors included
        (:mod:`.retries`)."""
        return GoogleRetry(self.target.backoff)

    def options(self, service: str) -> ClientOptions | None:
        ep = endpoint_for(self.target.api_endpoint, service)
        return ClientOptions(api_endpoint=ep) if ep else None

    def _rest(self, key: str, cls: Callable[..., Any], service: str) -> Any:
        """A GAPIC client of ``cls`` on its REST transport, created once."""
        return self._clients.get(
            key,
            lambda: cls(
                credentials=self.credentials,
                client_options=self.options(service),
                transport="rest",
            ),
        )

    def compute(self, name: str) -> Any:
        """A google-cloud-compute client by class name (``FirewallsClient``)."""
        from google.cloud import compute_v1

        def make() -> Any:
            return getattr(compute_v1, name)(
                credentials=self.credentials, client_options=self.options("compute")
            )

        return self._clients.get(f"compute.{name}", make)

    def projects(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._rest("rm.projects", resourcemanager_v3.ProjectsClient, "cloudresourcemanager")

    def folders(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._rest("rm.folders", resourcemanager_v3.FoldersClient, "cloudresourcemanager")

    def organizations(self) -> Any:
        from google.cloud import resourcemanager_v3

        return self._rest(
            "rm.organizations", resourcemanager_v3.OrganizationsClient, "cloudresourcemanager"
        )

    def kms(self) -> Any:
        from google.cloud import kms_v1

        return self._rest("kms", kms_v1.KeyManagementServiceClient, "cloudkms")

    def storage(self, project: str) -> Any:
        from google.cloud.storage import Client as StorageClient

        ep = endpoint_for(self.target.api_endpoint, "storage")
        return self._clients.get(
            f"storage.{project}",
            lambda: StorageClient(
                project=project,
                credentials=self.credentials,
                client_options={"api_endpoint": ep} if ep else None,
            ),
        )

    def discovery(self, api: str, version: str, service_path: str = "") -> Any:
        """A discovery client; ``service_path`` is appended to an overridden endpoint for APIs
        whose methods are relative to one (BigQuery: ``bigquery/v2/``)."""
        cache: dict[str, Any] = getattr(self._local, "cache", None) or {}
        self._local.cache = cache
        key = f"{api}.{version}"
        if key not in cache:
            from googleapiclient import discovery

            ep = endpoint_for(self.target.api_endpoint, api)
            if ep and service_path:
                ep = f"{ep}/{service_path}"
            cache[key] = discovery.build(
                api,
                version,
                credentials=self.credentials,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": ep} if ep else None,
                requestBuilder=request_builder(self.target.backoff),
            )
        return cache[key]


@dataclass
class ProjectScope(Scope):
    """One project being collected; records failures instead of raising."""

    provider: ClassVar[Provider] = Provider.GCP

    project: str
    clients: Clients

    @property
    def owner(self) -> str:
        return self.project

    def compute_asset(
        self, type_: str, item: Mapping[str, Any], attrs: Mapping[str, Any]
    ) -> Asset:
        """A Compute Engine resource: its uid from ``selfLink``, its zone or region (global
        otherwise), its labels as tags and the payload as evidence."""
        return self.asset(
            compute_uid(item["selfLink"]),
            type_,
            str(item.get("name")),
            attrs,
            item,
            region=region_of(item),
            tags=item.get("labels") or {},
        )

    def call(
        self,
        service: str,
        operation: str,
        asset_types: tuple[str, ...],
        fn: Callable[[], T],
        region: str = GLOBAL,
        resource_uid: str | None = None,
        ok_codes: tuple[int, ...] = (),
    ) -> T | None:
        """Run ``fn`` (one call, or a whole paginated listing); ``None`` if it failed.

        An HTTP status in ``ok_codes`` (e.g. 404 for "no such setting") is an answer: the call
        returns ``None`` without recording anything.
        """
        try:
            return fn()
        except Exception as exc:
            status, code, message = describe_error(exc)
            if status is not None and status in ok_codes:
                return None
            if code is None:
                raise
            self.record(
                service,
                operation,
                code,
                message,
                asset_types,
                region=region,
                resource_uid=resource_uid,
            )
            return None


def describe_error(exc: BaseException) -> tuple[int | None, str | None, str]:
    """(HTTP status, error code, message) of a failed Google call; code ``None`` = not an API
    failure (a bug: let it propagate)."""
    from googleapiclient.errors import Error as DiscoveryError
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        http = int(exc.resp.status)
        return http, _status_name(_json(exc.content), http), _first_line(exc.reason or exc)
    if isinstance(exc, gexc.GoogleAPICallError):
        code_ = exc.code
        api_status: int | None = int(code_) if isinstance(code_, int) else None
        body = None
        response = getattr(exc, "response", None)
        if response is not None and hasattr(response, "content"):
            body = _json(response.content)
        name = _status_name(body, api_status, type(exc).__name__)
        return api_status, name, _first_line(exc.message)
    if isinstance(exc, gexc.RetryError):
        cause = exc.cause
        if cause is not None and cause is not exc:
            status, code, message = describe_error(cause)
            return status, code, f"retries exhausted: {message}"
        return None, "RetryError", _first_line(exc)
    if isinstance(exc, auth_exc.GoogleAuthError | DiscoveryError | OSError):
        return None, type(exc).__name__, _first_line(exc)
    try:
        import requests

        if isinstance(exc, requests.RequestException):
            return None, type(exc).__name__, _first_line(exc)
    except ImportError:  # pragma: no cover - requests comes with google-auth[requests]
        pass
    return None, None, str(exc)


def _json(content: Any) -> Any:
    try:
        return json.loads(content)
    except (TypeError, ValueError):
        return None


def _status_name(body: Any, status: int | None, fallback: str | None = None) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        name = body["error"].get("status")
        if name:
            return str(name)
    return fallback or (f"HTTP{status}" if status else "Error")


def _first_line(value: Any) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else "error"


def to_json(message: Any) -> dict[str, Any]:
    """A GAPIC message (proto-plus or raw protobuf) as the API's REST JSON (camelCase names)."""
    pb = type(message).pb(message) if hasattr(type(message), "pb") else message
    out: dict[str, Any] = json_format.MessageToDict(pb)
    return out


def region_of(item: Mapping[str, Any]) -> str:
    """The zone or region a Compute Engine resource lives in (``global`` when neither)."""
    return last(item.get("zone")) or last(item.get("region")) or GLOBAL


def last(path: str | None) -> str:
    """The last segment of a resource name or URL (``.../zones/us-central1-a`` → zone)."""
    return (path or "").rstrip("/").rsplit("/", 1)[-1]


def short_path(url: str | None) -> str | None:
    """``https://www.googleapis.com/compute/v1/projects/p/global/networks/n`` →
    ``projects/p/global/networks/n`` (the form used to compare references)."""
    if not url:
        return None
    idx = url.find("projects/")
    return url[idx:] if idx >= 0 else url


def compute_uid(self_link_or_path: str) -> str:
    path = short_path(self_link_or_path) or self_link_or_path
    return f"//compute.googleapis.com/{path}"


def discovery_items(request: Any, collection: Any, key: str, retries: int) -> Iterator[Any]:
    """All items of a discovery listing, following ``nextPageToken``."""
    while request is not None:
        response = request.execute(num_retries=retries)
        yield from response.get(key, [])
        request = collection.list_next(request, response)
