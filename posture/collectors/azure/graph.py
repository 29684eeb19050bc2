"""Microsoft Graph (Entra ID) and plain ARM REST through azure-core's own pipeline.

**Why not the official ``msgraph-sdk``** (measured on this project's Python 3.11, msgraph-sdk
1.65.0, kiota 1.16): its wheel is 29 MB and installs 392 MB in 16,741 files (the Azure extra
as a whole, every azure-mgmt package included, is about 110 MB), with 21 more distributions
(httpx, aiohttp, opentelemetry-sdk, seven kiota packages, ...); ``import msgraph`` takes
0.11-0.14 s warm on top of azure-identity (``-X importtime``: 0.43 s and 498 modules, half of it
httpx), building the client and nine request builders another 0.17-0.19 s. Start-up is
acceptable; the install size is not, and the SDK is async-only (kiota over httpx) with its own
retry, TLS and proxy settings, where every other Azure call of posture goes through
azure-core's pipeline. posture reads nine Graph collections: a :class:`RestClient` (azure-core
``PipelineClient`` with ``BearerTokenCredentialPolicy``, the same ``DefaultAzureCredential``,
scope ``<graph endpoint>/.default``) against the REST API costs nothing to install and behaves
like the management clients.

What :class:`RestClient` guarantees:

- paging: ``@odata.nextLink`` (Graph) or ``nextLink`` (ARM) followed to the end; a link to
  another origin than the endpoint is refused (the bearer token never leaves the endpoint);
- throttling: 429 and 5xx are retried by azure-core's ``RetryPolicy`` (the target's, see
  :mod:`.retries`), which sleeps for the ``Retry-After`` the service sent (not capped by the
  backoff maximum, only by the request's budget);
- errors: a failed call raises :class:`azure.core.exceptions.HttpResponseError` with Graph's
  OData error code (``Authorization_RequestDenied``) as ``exc.error.code``.

:class:`TenantScope` is the runner scope of tenant-level collection (account
``tenants/<tenant id>``): every failed call is recorded as a :class:`CollectionError`, a 403
naming the Graph application permission the call needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from azure.core.exceptions import AzureError, HttpResponseError, ODataV4Format
from azure.core.pipeline.policies import HTTPPolicy

from posture.collectors.azure.base import NOT_FOUND, AzureTarget, error_code, error_message
from posture.collectors.runner import Scope
from posture.model import Provider

GRAPH_VERSION = "v1.0"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class RestClient:
    """GET-only JSON REST client on azure-core's pipeline (bearer token, retries, TLS)."""

    def __init__(
        self,
        credential: Any,
        base_url: str,
        scope: str,
        *,
        retry: HTTPPolicy[Any, Any] | None = None,
        connection_verify: str | None = None,
        user_agent: str = "posture",
    ) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline import policies

        self.base_url = base_url.rstrip("/")
        chain = [
            policies.HeadersPolicy({"Accept": "application/json"}),
            policies.UserAgentPolicy(user_agent),
            retry or AzureTarget().retry_policy(),
            policies.BearerTokenCredentialPolicy(credential, scope),
            policies.ContentDecodePolicy(),
        ]
        kwargs: dict[str, Any] = {}
        if connection_verify:
            kwargs["connection_verify"] = connection_verify
        self._client = PipelineClient(self.base_url, policies=chain, **kwargs)

    def url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        query = "&".join(f"{k}={quote(str(v), safe='$,=/:')}" for k, v in (params or {}).items())
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def get(self, url: str) -> dict[str, Any]:
        """One JSON document; :class:`HttpResponseError` on any status but 200."""
        from azure.core.rest import HttpRequest

        if _origin(url) != _origin(self.base_url):
            raise ValueError(f"refusing to follow a link off {self.base_url}: {url}")
        response = self._client.send_request(HttpRequest("GET", url))
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ODataV4Format)
        body = response.json()
        return body if isinstance(body, dict) else {"value": body}

    def pages(self, url: str) -> list[dict[str, Any]]:
        """Every item of a paged collection (``value``), following the next links."""
        out: list[dict[str, Any]] = []
        next_url: str | None = url
        while next_url:
            body = self.get(next_url)
            out += [v for v in body.get("value") or () if isinstance(v, dict)]
            next_url = body.get("@odata.nextLink") or body.get("nextLink")
        return out

    def close(self) -> None:
        self._client.close()


def graph_client(credential: Any, target: AzureTarget, endpoint: str) -> RestClient:
    """The Graph client of a target: ``<endpoint>/v1.0``, token scope ``<endpoint>/.default``."""
    base = endpoint.rstrip("/")
    return RestClient(
        credential,
        f"{base}/{GRAPH_VERSION}",
        f"{base}/.default",
        retry=target.retry_policy(),
        connection_verify=target.ca_bundle,
    )


class ArmRest(RestClient):
    """:class:`RestClient` on ARM, made by :class:`~posture.collectors.azure.base.ClientFactory`
    like a management client (``cls(credential, subscription, **target.client_kwargs())``), for
    the providers no installed SDK covers (Defender for Cloud)."""

    def __init__(self, credential: Any, subscription: str, **kwargs: Any) -> None:
        self.subscription = subscription
        super().__init__(
            credential,
            kwargs["base_url"],
            kwargs["credential_scopes"][0],
            retry=kwargs.get("retry_policy"),
            connection_verify=kwargs.get("connection_verify"),
            user_agent=kwargs.get("user_agent", "posture"),
        )


def denied(exc: Exception) -> bool:
    """Whether Graph (or ARM) refused the caller a permission (403 / access denied)."""
    status = getattr(exc, "status_code", None)
    return status == 403 or error_code(exc) in (
        "Authorization_RequestDenied", "AuthorizationFailed", "Forbidden", "accessDenied",
    )


@dataclass
class TenantScope(Scope):
    """The Entra ID tenant being collected through Graph; records failures instead of raising."""

    provider: ClassVar[Provider] = Provider.AZURE

    tenant: str
    graph: RestClient

    @property
    def owner(self) -> str:
        return f"tenants/{self.tenant}"

    @property
    def tenant_uid(self) -> str:
        return f"/tenants/{self.tenant}".lower()

    def canonical_uid(self, uid: str) -> str:
        return uid.lower()

    def listing(
        self,
        operation: str,
        asset_types: tuple[str, ...],
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        permission: str,
        resource_uid: str | None = None,
    ) -> list[dict[str, Any]] | None:
        """Every item of a Graph collection, or ``None`` (recorded) if any page failed."""
        return self._read(self.graph.pages, operation, asset_types, path, params, permission,
                          resource_uid)

    def document(
        self,
        operation: str,
        asset_types: tuple[str, ...],
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        permission: str,
        missing_ok: bool = False,
        resource_uid: str | None = None,
    ) -> Any:
        """One Graph object; ``None`` (recorded) on failure; with ``missing_ok``,
        :data:`~posture.collectors.azure.base.NOT_FOUND` on 404 (absent, not unknown)."""
        return self._read(self.graph.get, operation, asset_types, path, params, permission,
                          resource_uid, missing_ok)

    def _read(
        self,
        get: Callable[[str], Any],
        operation: str,
        asset_types: tuple[str, ...],
        path: str,
        params: Mapping[str, str] | None,
        permission: str,
        resource_uid: str | None,
        missing_ok: bool = False,
    ) -> Any:
        """``get`` of the Graph URL; ``None`` (recorded) on failure; with ``missing_ok``,
        :data:`~posture.collectors.azure.base.NOT_FOUND` on 404."""
        try:
            return get(self.graph.url(path, params))
        except (AzureError, ValueError) as exc:
            if missing_ok and getattr(exc, "status_code", None) == 404:
                return NOT_FOUND
            self.failed(exc, operation, asset_types, permission, resource_uid)
            return None

    def failed(
        self,
        exc: Exception,
        operation: str,
        asset_types: tuple[str, ...],
        permission: str,
        resource_uid: str | None = None,
    ) -> None:
        message = error_message(exc)
        if denied(exc):
            message = f"needs Graph application permission {permission}: {message}"
        self.record(
            "graph", operation, error_code(exc), message, asset_types, resource_uid=resource_uid
        )
