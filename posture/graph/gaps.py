"""Per-resource collection errors as the cloud adapters read them (provider-neutral).

See :mod:`posture.graph.neighbours`: an adapter asks which detail calls failed on which resources,
for the facets its paths read, and names the assets that depend on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from posture.model import CollectionError, Inventory, Provider


def failed_details(
    inventory: Inventory, provider: Provider, facets: Iterable[str]
) -> Iterator[tuple[CollectionError, str]]:
    """(error, resource uid) of every per-resource error of ``provider`` affecting ``facets``."""
    facets = tuple(facets)
    for e in inventory.errors:
        if e.provider == provider and e.resource_uid and e.affects_types(facets):
            yield e, e.resource_uid


__all__ = ["failed_details"]
