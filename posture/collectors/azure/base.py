"""Shared plumbing of the Azure collector: clients, ARM ids, listings that record failures.

Service modules (``network.py``, ``storage.py``, ...) follow the fetch → normalize split: a
``collect(scope: SubscriptionScope) -> list[Asset]`` function does the I/O through
:meth:`SubscriptionScope.listing` / :meth:`SubscriptionScope.get`, which record every failed call
as a :class:`CollectionError` and return ``None`` instead of raising, and pure ``normalize_*``
functions turn ARM's JSON (the REST shape: camelCase, ``properties``) into assets. Each module
declares the read-only ARM actions it uses in ``PERMISSIONS``.

Normalizers read the wire JSON, not SDK model attributes: the SDK models are turned back into
the REST payload with :func:`wire` (``serialize`` for msrest models, ``as_dict`` for the newer
mapping models), so one normalizer works whatever model generation a package ships.

:class:`SubscriptionScope` is a :class:`posture.collectors.runner.Scope`: recording errors and
building assets are the runner's. Azure's own part: asset uids are lower-case ARM ids (ARM
compares ids case-insensitively), and :meth:`SubscriptionScope.arm_asset` reads the uid, name,
tags and region of a top-level resource from its ARM payload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from azure.core.exceptions import AzureError, HttpResponseError

from posture.collectors.azure.retries import JitteredRetryPolicy, retry_policy
from posture.collectors.runner import DETAIL_WORKERS as DETAIL_WORKERS
from posture.collectors.runner import ClientCache, Scope
from posture.collectors.runner import parallel_flat_map as parallel_flat_map
from posture.collectors.runner import parallel_map as parallel_map
from posture.model import GLOBAL, Asset, Provider

PUBLIC_ARM = "https://management.azure.com"
PUBLIC_GRAPH = "https://graph.microsoft.com"
GRAPH_OF_ARM = {
    PUBLIC_ARM: PUBLIC_GRAPH,
    "https://management.usgovcloudapi.net": "https://graph.microsoft.us",
    "https://management.chinacloudapi.cn": "https://microsoftgraph.chinacloudapi.cn",
}
"""The Microsoft Graph endpoint of each national cloud's ARM endpoint (Entra ID is read there
unless ``graph_endpoint`` says otherwise)."""


@dataclass(frozen=True, slots=True)
class AzureTarget:
    """What to scan and how to connect.

    ``subscriptions`` and ``management_groups`` both empty = every subscription the credential
    can see; otherwise the union of the subscriptions named and those below the groups.
    ``arm_endpoint`` and ``authority_host`` serve sovereign clouds and private endpoints;
    ``ca_bundle`` is a PEM file of CAs to trust (a TLS-inspecting proxy, a private endpoint, a
    test server). ``retry_*`` tune each request's retries (:mod:`.retries`): ``retry_total``
    retries of a 5xx, throttling or dropped answer, jittered waits from ``retry_backoff_factor``
    up to ``retry_backoff_max`` seconds, at most ``retry_budget`` seconds in all.
    """

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()  # every subscription below them, with the above
    arm_endpoint: str = PUBLIC_ARM
    authority_host: str | None = None
    ca_bundle: str | None = None
    retry_total: int = 10
    retry_backoff_factor: float = 0.8
    retry_backoff_max: int = 60
    retry_budget: float = 120.0
    max_workers: int = 8
    graph_endpoint: str | None = None  # Microsoft Graph; None: the one of a known ARM cloud

    @property
    def graph(self) -> str | None:
        """The Graph endpoint Entra ID is read from; ``None`` (not read) for an ARM endpoint of
        no known cloud without ``graph_endpoint``."""
        if self.graph_endpoint:
            return self.graph_endpoint.rstrip("/")
        return GRAPH_OF_ARM.get(self.arm_endpoint.rstrip("/").lower())

    @property
    def scope(self) -> str:
        """The OAuth scope of the ARM endpoint (``https://management.azure.com/.default``)."""
        return self.arm_endpoint.rstrip("/") + "/.default"

    def retry_policy(self) -> JitteredRetryPolicy:
        """A new retry policy of this target (per request: nothing shared between calls)."""
        return retry_policy(self.retry_total, self.retry_backoff_factor, self.retry_backoff_max,
                            self.retry_budget)

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "base_url": self.arm_endpoint.rstrip("/"),
            "credential_scopes": [self.scope],
            "retry_policy": self.retry_policy(),
            "user_agent": "posture",
        }
        if self.ca_bundle:
            kwargs["connection_verify"] = self.ca_bundle
        return kwargs


@dataclass
class ClientFactory:
    """Management clients per (client class, subscription), created once, shared by threads."""

    credential: Any
    target: AzureTarget
    _clients: ClientCache[tuple[type, str], Any] = field(default_factory=ClientCache, repr=False)

    def client(self, cls: type, subscription: str) -> Any:
        return self._clients.get(
            (cls, subscription),
            lambda: cls(self.credential, subscription, **self.target.client_kwargs()),
        )


def wire(model: Any) -> dict[str, Any]:
    """An SDK model as ARM's REST JSON (camelCase keys, ``properties`` nesting)."""
    if model is None:
        return {}
    if hasattr(model, "serialize"):  # msrest models (authorization, monitor, subscriptions)
        return dict(model.serialize(keep_readonly=True))
    if hasattr(model, "as_dict"):  # the newer MutableMapping models keep the wire names
        return dict(model.as_dict())
    if isinstance(model, Mapping):
        return dict(model)
    raise TypeError(f"cannot read {type(model).__name__} as ARM JSON")


def rid(value: Any) -> str | None:
    """An ARM resource id as posture's uid: lower-case (ARM compares ids case-insensitively)."""
    if not value:
        return None
    return str(value).rstrip("/").lower()


def rids(values: Iterable[Any]) -> list[str]:
    return sorted({r for r in (rid(v) for v in values) if r})


def ref(obj: Any) -> str | None:
    """The lower-case id of an ARM sub-resource reference ``{"id": ...}``."""
    return rid(obj.get("id")) if isinstance(obj, Mapping) else None


def refs(items: Any) -> list[str]:
    return sorted({r for r in (ref(i) for i in items or ()) if r})


def props(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    value = payload.get("properties")
    return value if isinstance(value, Mapping) else {}


def ip_addresses(config: Mapping[str, Any]) -> dict[str, Any]:
    """What an ARM IP configuration (of a NIC, a firewall, a bastion, a load-balancer frontend)
    says about addresses: its ``name``, ``subnet_id``, ``public_ip_id`` and ``private_ip``."""
    p = props(config)
    return {
        "name": config.get("name"),
        "subnet_id": ref(p.get("subnet")),
        "public_ip_id": ref(p.get("publicIPAddress")),
        "private_ip": p.get("privateIPAddress"),
    }


def resource_group(resource_id: Any) -> str | None:
    """The resource group named in an ARM id, lower-case."""
    parts = str(resource_id or "").strip("/").split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1].lower()
    return None


def id_name(resource_id: Any) -> str:
    """The last segment of an ARM id (the resource's own name, display case)."""
    return str(resource_id or "").rstrip("/").rsplit("/", 1)[-1]


def region_of(payload: Mapping[str, Any]) -> str:
    location = payload.get("location")
    return str(location).lower().replace(" ", "") if location else GLOBAL


def tags_of(payload: Mapping[str, Any]) -> dict[str, str]:
    tags = payload.get("tags") or {}
    return {str(k): "" if v is None else str(v) for k, v in sorted(tags.items())}


def error_code(exc: Exception) -> str:
    """ARM's error code (``AuthorizationFailed``), else the HTTP status, else the type name."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    if code:
        return str(code)
    status = getattr(exc, "status_code", None)
    if status:
        return f"HTTP{status}"
    return type(exc).__name__


def error_message(exc: Exception) -> str:
    err = getattr(exc, "error", None)
    text = str(getattr(err, "message", None) or getattr(exc, "message", None) or exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:500]


class _Missing:
    """The answer of a detail call that ARM answered with 404 (absent, not unknown)."""

    def __repr__(self) -> str:
        return "NOT_FOUND"


NOT_FOUND: Any = _Missing()


@dataclass
class SubscriptionScope(Scope):
    """One subscription being collected; records failures instead of raising."""

    provider: ClassVar[Provider] = Provider.AZURE

    subscription: str
    clients: ClientFactory
    info: dict[str, Any] = field(default_factory=dict)  # the subscription's ARM payload

    @property
    def owner(self) -> str:
        return self.subscription

    def canonical_uid(self, uid: str) -> str:
        return uid.lower()

    def client(self, cls: type) -> Any:
        return self.clients.client(cls, self.subscription)

    @property
    def sub_uid(self) -> str:
        return f"/subscriptions/{self.subscription}".lower()

    def listing(
        self,
        service: str,
        operation: str,
        asset_types: tuple[str, ...],
        fetch: Callable[[], Iterable[Any]],
        region: str = GLOBAL,
        resource_uid: str | None = None,
    ) -> list[dict[str, Any]] | None:
        """Every item of a (paged) listing as ARM JSON, or ``None`` if any page failed."""
        try:
            return [wire(item) for item in fetch()]
        except (AzureError, ValueError) as exc:
            self._failed(exc, service, operation, asset_types, region, resource_uid)
            return None

    def get(
        self,
        service: str,
        operation: str,
        asset_types: tuple[str, ...],
        fetch: Callable[[], Any],
        region: str = GLOBAL,
        resource_uid: str | None = None,
    ) -> Any:
        """One resource as ARM JSON; :data:`NOT_FOUND` on 404; ``None`` (recorded) on failure."""
        try:
            return wire(fetch())
        except (AzureError, ValueError) as exc:
            if isinstance(exc, HttpResponseError) and exc.status_code == 404:
                return NOT_FOUND
            self._failed(exc, service, operation, asset_types, region, resource_uid)
            return None

    def _failed(
        self,
        exc: Exception,
        service: str,
        operation: str,
        asset_types: tuple[str, ...],
        region: str,
        resource_uid: str | None,
    ) -> None:
        self.record(
            service,
            operation,
            error_code(exc),
            error_message(exc),
            asset_types,
            region=region,
            resource_uid=resource_uid,
        )

    def arm_asset(
        self,
        type_: str,
        item: Mapping[str, Any],
        attrs: Mapping[str, Any],
        *,
        name: str | None = None,
        raw: Any = None,
    ) -> Asset:
        """The asset of a top-level ARM resource: uid (its lower-case id), name, tags and region
        read from ``item``; ``raw`` (default: ``item``) is kept as evidence."""
        return self.asset(
            str(rid(item["id"])),
            type_,
            str(item.get("name")) if name is None else name,
            attrs,
            item if raw is None else raw,
            tags_of(item),
            region_of(item),
        )
