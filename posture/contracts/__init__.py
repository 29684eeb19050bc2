"""The asset contracts of ``docs/*-assets.md`` as code: the type of each attribute, per asset type.

A snapshot is data from outside (a file, a collector's normalisation of an API answer); the graphs
and checks trust the types its contract names. :func:`misfits` finds every attribute that breaks
its contract. What happens to one is decided here, once:

* a *structural* attribute (network topology, identity documents: data the verdicts of *other*
  assets rest on) cannot be contained to its asset: a snapshot file holding one is rejected by
  :mod:`posture.snapshot`, naming the path; at collection :func:`conform` leaves the asset out
  and records a gap covering its type in its account and region, so no check reading that type
  there can PASS;
* any other attribute becomes unknown (``null``) and its asset gets a collection gap
  (``InvalidSnapshotData``), so the checks reading it say INCONCLUSIVE, never PASS.

Attributes a contract does not name, and asset types without a contract, are not typed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from posture.contracts import aws, azure, gcp
from posture.contracts.fields import Field, misfit
from posture.model import Asset, CollectionError, Inventory

CONTRACTS: Mapping[str, Mapping[str, Field]] = {
    **aws.CONTRACTS, **azure.CONTRACTS, **gcp.CONTRACTS,
}
INVALID = "InvalidSnapshotData"
SERVICE = "posture"


@dataclass(frozen=True, slots=True)
class Misfit:
    """One attribute that breaks its contract: ``message`` starts with its path (``attrs.x``)."""

    key: str
    message: str
    structural: bool


def misfits(asset_type: str, attrs: Mapping[str, object]) -> list[Misfit]:
    """Every attribute of ``attrs`` that breaks the contract of ``asset_type``."""
    contract = CONTRACTS.get(asset_type)
    if not contract:
        return []
    found = []
    for key, field in contract.items():
        if key in attrs:
            message = misfit(attrs[key], field, f"attrs.{key}")
            if message:
                found.append(Misfit(key, message, field.structural))
    return found


def contain(
    asset: Asset, found: Iterable[Misfit], operation: str
) -> tuple[Asset, tuple[CollectionError, ...]]:
    """``asset`` with the misfit attributes unknown (``null``), and one gap per misfit."""
    found = tuple(found)
    if not found:
        return asset, ()
    attrs = dict(asset.attrs)
    for m in found:
        attrs[m.key] = None
    gaps = tuple(_gap(asset, m, operation, asset.uid) for m in found)
    return dataclasses.replace(asset, attrs=attrs), gaps


def _gap(asset: Asset, m: Misfit, operation: str, uid: str | None) -> CollectionError:
    return CollectionError(
        provider=asset.provider,
        account=asset.account,
        region=asset.region,
        service=SERVICE,
        operation=operation,
        code=INVALID,
        message=f"invalid snapshot data on {asset.uid}: {m.message}",
        asset_types=(asset.type,),
        resource_uid=uid,
    )


def conform(
    inventory: Inventory, as_json: Callable[[Any], Any] | None = None
) -> Inventory:
    """The collected ``inventory`` with every misfit contained: a collector bug costs its data,
    never a PASS, and never the scan.

    An asset with a structural misfit is left out, and its gap covers its type in its account and
    region (no ``resource_uid``): which assets depend on it is not known here, so no check
    reading that type there can PASS. ``as_json`` turns attributes into the JSON values a
    snapshot would hold (datetimes as text) before they are judged.
    """
    assets: list[Asset] = []
    errors: list[CollectionError] = list(inventory.errors)
    for asset in inventory.assets:
        attrs = asset.attrs
        if as_json is not None and asset.type in CONTRACTS:
            attrs = as_json(attrs)
        found = misfits(asset.type, attrs)
        structural = [m for m in found if m.structural]
        if structural:
            errors.extend(_gap(asset, m, "ValidateAsset", None) for m in structural)
            continue
        if found:
            asset, gaps = contain(asset, found, "ValidateAsset")
            errors.extend(gaps)
        assets.append(asset)
    if len(errors) == len(inventory.errors):
        return inventory
    return Inventory(meta=inventory.meta, assets=tuple(assets), errors=tuple(errors))


__all__ = ["CONTRACTS", "INVALID", "Misfit", "conform", "contain", "misfits"]
