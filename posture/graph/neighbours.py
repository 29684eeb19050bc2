"""Failed neighbours: the assets whose network verdicts rest on a resource whose detail call failed.

A collection error recorded against one resource (its ``resource_uid``: the listeners of a load
balancer, the targets of a target group, the rule collection groups of a firewall policy, the
members of an instance group) leaves that resource's data unknown - not empty. The assets it may
expose are other resources: a host behind the load balancer, a VM a DNAT rule translates to. Each
cloud's adapter names, per such error, the assets whose verdicts depend on the missing data
(:data:`Dependents`); the engine turns their would-be PASS into INCONCLUSIVE naming the failed
call. A FAIL proven on other paths stays a FAIL.

The adapters over-approximate: an asset is a dependent when the missing data *could* change its
verdict (a target group whose targets are unknown may hold any host of its VPC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from posture.graph.aws import neighbours as aws
from posture.graph.azure import neighbours as azure
from posture.graph.gcp import neighbours as gcp
from posture.model import CollectionError, Inventory, Provider

Dependents = Mapping[CollectionError, frozenset[str]]

_ADAPTERS: Mapping[Provider, Callable[[Inventory], Dependents]] = {
    Provider.AWS: aws.dependents,
    Provider.AZURE: azure.dependents,
    Provider.GCP: gcp.dependents,
}


def dependents(inventory: Inventory) -> Dependents:
    """Per failed per-resource call: the uids of the assets whose network verdicts depend on it."""
    adapter = _ADAPTERS.get(inventory.meta.provider)
    if adapter is None or not any(e.resource_uid for e in inventory.errors):
        return {}
    return adapter(inventory)


def merge(*parts: Dependents) -> dict[CollectionError, frozenset[str]]:
    """The union of several adapters' dependents (network and identity)."""
    out: dict[CollectionError, frozenset[str]] = {}
    for part in parts:
        for error, uids in part.items():
            out[error] = out.get(error, frozenset()) | uids
    return out


__all__ = ["Dependents", "dependents", "merge"]
