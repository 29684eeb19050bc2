"""What the platform collectors (VM Manager, registries, GKE, serverless, data services) share:
a paginated discovery listing that treats an API that is not enabled on the project as an
answer, and an IAM policy read at version 3.

An API that is not enabled answers 403 with the ``ErrorInfo`` reason ``SERVICE_DISABLED`` (or,
in the older error format, ``accessNotConfigured``): the project has none of that resource and
the feature is off - a known value, not a gap - so nothing is recorded and :class:`Listed` says
``disabled``. Every other failure is recorded on the scope (:meth:`ProjectScope.call`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from posture.collectors.gcp.base import ProjectScope
from posture.collectors.gcp.resourcemanager import bindings
from posture.model import GLOBAL

DISABLED_REASONS = frozenset({"SERVICE_DISABLED", "accessNotConfigured"})


def segment_after(name: str, collection: str, default: str = "global") -> str:
    """The id following ``collection`` in a resource name (``locations`` of
    ``projects/P/locations/L/services/S`` is ``L``), or ``default``."""
    parts = str(name).split("/")
    return parts[parts.index(collection) + 1] if collection in parts[:-1] else default


@dataclass(frozen=True, slots=True)
class Listed:
    """A listing's answer: its items (None: the call failed and was recorded), or ``disabled``
    (the API is not enabled on the project: no items, no error)."""

    items: tuple[dict[str, Any], ...] | None
    disabled: bool = False
    extra: Mapping[str, Any] | None = None  # the last page's other fields (``unreachable``)

    @property
    def found(self) -> tuple[dict[str, Any], ...]:
        return self.items or ()


class _Disabled(Exception):
    """Raised inside a listing when the API answers that it is not enabled."""


def service_disabled(exc: BaseException) -> bool:
    """Whether a failed call says the API is not enabled on the project."""
    from googleapiclient.errors import HttpError

    if not isinstance(exc, HttpError) or int(exc.resp.status) != 403:
        return False
    try:
        error = json.loads(exc.content).get("error") or {}
    except (TypeError, ValueError, AttributeError):
        return False
    reasons = {d.get("reason") for d in error.get("details") or () if isinstance(d, Mapping)}
    reasons |= {e.get("reason") for e in error.get("errors") or () if isinstance(e, Mapping)}
    return bool(reasons & DISABLED_REASONS)


def listing(
    scope: ProjectScope,
    collection: Callable[[], Any],
    key: str,
    *,
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
    region: str = GLOBAL,
    resource_uid: str | None = None,
    method: str = "list",
    **params: Any,
) -> Listed:
    """Every item under ``key`` of a discovery listing (``collection().<method>(**params)``,
    following ``nextPageToken``; each page retried on its own, :mod:`.retries`)."""
    extra: dict[str, Any] = {}

    def run() -> list[dict[str, Any]]:
        coll = collection()
        request = getattr(coll, method)(**params)
        out: list[dict[str, Any]] = []
        try:
            while request is not None:
                response = request.execute()
                out.extend(response.get(key) or ())
                extra.update({k: v for k, v in response.items() if k not in (key, "nextPageToken")})
                following = getattr(coll, f"{method}_next", None)
                request = following(request, response) if following else None
        except Exception as exc:
            if service_disabled(exc):
                raise _Disabled from None
            raise
        return out

    try:
        found = scope.call(service, operation, asset_types, run, region=region,
                           resource_uid=resource_uid)
    except _Disabled:
        return Listed((), disabled=True)
    return Listed(None if found is None else tuple(found), extra=extra)


def get(
    scope: ProjectScope,
    request: Callable[[], Any],
    *,
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
    region: str = GLOBAL,
    resource_uid: str | None = None,
    when_disabled: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """One discovery call's JSON answer (None: failed and recorded); ``when_disabled``, if
    given, is the answer of an API that is not enabled on the project (nothing recorded)."""

    def run() -> dict[str, Any]:
        try:
            answer: dict[str, Any] = request().execute()
        except Exception as exc:
            if when_disabled is not None and service_disabled(exc):
                return dict(when_disabled)
            raise
        return answer

    return scope.call(service, operation, asset_types, run, region=region,
                      resource_uid=resource_uid)


def iam_bindings(
    scope: ProjectScope,
    collection: Callable[[], Any],
    resource: str,
    *,
    service: str,
    operation: str,
    facet: str,
    resource_uid: str,
    region: str = GLOBAL,
) -> list[dict[str, Any]] | None:
    """A resource's IAM bindings (version 3: conditions visible), normalized as in
    ``resourcemanager.bindings``; None when the call failed (recorded on ``facet``)."""
    policy = get(
        scope,
        lambda: collection().getIamPolicy(resource=resource, options_requestedPolicyVersion=3),
        service=service, operation=operation, asset_types=(facet,), region=region,
        resource_uid=resource_uid,
    )
    return None if policy is None else bindings(policy)

