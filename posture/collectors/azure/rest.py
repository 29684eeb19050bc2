"""ARM reads through :class:`~posture.collectors.azure.graph.ArmRest` for the providers posture
reads without an SDK package (Defender for Cloud, AKS, App Service, Container Registry, the
flexible database servers, Cosmos DB): a subscription-wide listing, a listing below one resource
and one document below one resource, each recorded on the scope when it fails (the caller names
the asset types or facet it would have produced), as the SDK-backed modules do.

Not a service module: nothing here is collected on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from posture.collectors.azure.base import SubscriptionScope
from posture.collectors.azure.graph import ArmRest
from posture.model import GLOBAL
from posture.values import parse_time


def subscription_listing(
    scope: SubscriptionScope,
    provider_type: str,
    api_version: str,
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
) -> list[dict[str, Any]] | None:
    """Every item of ``/subscriptions/S/providers/<provider_type>`` (all pages), or ``None``
    (recorded) when any page failed."""
    client = scope.client(ArmRest)
    url = client.url(f"{scope.sub_uid}/providers/{provider_type}", {"api-version": api_version})
    return scope.listing(service, operation, asset_types, lambda: client.pages(url))


def below(
    scope: SubscriptionScope,
    uid: str,
    path: str,
    api_version: str,
    read: tuple[str, str, str],
    region: str = GLOBAL,
    *,
    listing: bool = False,
) -> Any:
    """``<uid>/<path>`` of one resource, ``read`` = (service, operation, facet): with
    ``listing`` every item of the collection (a server's firewall rules), else the one document
    (a site's configuration, a server parameter), :data:`~posture.collectors.azure.base.NOT_FOUND`
    on 404. ``None`` when it failed, recorded against the resource with the facet."""
    client = scope.client(ArmRest)
    url = client.url(f"{uid}/{path}", {"api-version": api_version})
    service, operation, facet = read
    if listing:
        return scope.listing(service, operation, (facet,), lambda: client.pages(url),
                             region=region, resource_uid=uid)
    return scope.get(service, operation, (facet,), lambda: client.get(url),
                     region=region, resource_uid=uid)


def iso(value: Any) -> str | None:
    """An ARM timestamp (up to seven fractional digits, ``Z``) as ISO 8601 in UTC; null if
    absent or unreadable."""
    stamp = parse_time(value)
    return None if stamp is None else stamp.astimezone(dt.UTC).isoformat()


def enabled(value: Any) -> bool | None:
    """ARM's many spellings of a switch (``true``, ``"True"``, ``"Enabled"``, ``"on"``) as a
    bool; ``None`` when absent or not a switch."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in ("true", "enabled", "on", "1"):
        return True
    if text in ("false", "disabled", "off", "0"):
        return False
    return None
