"""Provider-neutral builders of the core types (posture.model): scan metadata, inventories,
assets and collection errors. The per-cloud modules (``support.aws``, ``support.azure``,
``support.gcp``) fix the provider, account and regions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider, ScanMeta

STARTED = "2026-01-01T00:00:00+00:00"
FINISHED = "2026-01-01T00:00:01+00:00"
"""When every test scan finished: ages (keys, certificates, rotations) are measured from here."""


def scan_meta(
    provider: Provider,
    accounts: tuple[str, ...],
    regions: tuple[str, ...],
    *,
    scan_id: str = "test-scan",
    tool_version: str = "test",
    finished_at: str = FINISHED,
) -> ScanMeta:
    return ScanMeta(
        scan_id=scan_id,
        provider=provider,
        tool_version=tool_version,
        started_at=STARTED,
        finished_at=finished_at,
        accounts=accounts,
        regions=regions,
    )


def inventory_of(
    meta: ScanMeta, assets: Iterable[Asset], errors: tuple[CollectionError, ...] = ()
) -> Inventory:
    return Inventory(meta=meta, assets=tuple(assets), errors=errors)


def asset_of(
    provider: Provider,
    type_: str,
    uid: str,
    *,
    account: str,
    region: str,
    name: str,
    tags: dict[str, str] | None,
    attrs: dict[str, Any],
) -> Asset:
    return Asset(
        uid=uid,
        provider=provider,
        type=type_,
        account=account,
        region=region,
        name=name,
        tags=tags or {},
        attrs=attrs,
    )


def error_of(
    provider: Provider,
    account: str,
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
    *,
    code: str,
    message: str,
    region: str = GLOBAL,
    resource_uid: str | None = None,
) -> CollectionError:
    return CollectionError(
        provider=provider,
        account=account,
        region=region,
        service=service,
        operation=operation,
        code=code,
        message=message,
        asset_types=asset_types,
        resource_uid=resource_uid,
    )


def refusal(
    provider: Provider, account: str, code: str, message: str
) -> Callable[..., CollectionError]:
    """The builder of the collection errors ``provider`` answers a refused read with (``code``,
    ``message``) in ``account``: ``(service, operation, asset_types, resource_uid=None,
    region=GLOBAL)``."""

    def refused(
        service: str,
        operation: str,
        asset_types: tuple[str, ...],
        resource_uid: str | None = None,
        region: str = GLOBAL,
    ) -> CollectionError:
        return error_of(provider, account, service, operation, asset_types, code=code,
                        message=message, region=region, resource_uid=resource_uid)

    return refused
