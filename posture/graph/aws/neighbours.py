"""AWS failed neighbours (:mod:`posture.graph.neighbours`): hosts behind a load balancer whose
listeners, or a target group whose targets, could not be read.

* ``DescribeListeners`` failed on an internet-facing (or unknown-scheme) load balancer: which
  ports it serves and which of its target groups it forwards to are unknown, so every target of
  every group attached to it depends on the failed call (a group whose targets are unknown too:
  every host of its VPC).
* ``DescribeTargetHealth`` failed on a target group attached to such a load balancer (or to one
  not in the inventory): the group may hold any instance, interface or database of its VPC.

Internal load balancers expose nothing to the internet and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable

from posture.graph.aws.reach import (
    ENI,
    INSTANCE,
    LISTENER,
    LOAD_BALANCER,
    RDS_INSTANCE,
    TARGET_GROUP,
)
from posture.graph.gaps import failed_details
from posture.model import Asset, CollectionError, Inventory, Provider

TARGETS = f"{TARGET_GROUP}#targets"
_HOSTS = (INSTANCE, ENI, RDS_INSTANCE)


def dependents(inv: Inventory) -> dict[CollectionError, frozenset[str]]:
    out: dict[CollectionError, frozenset[str]] = {}
    for error, uid in failed_details(inv, Provider.AWS, (LISTENER, TARGETS)):
        asset = inv.get(uid)
        if asset is None:
            continue
        if asset.type == LOAD_BALANCER and error.affects_types((LISTENER,)) and _public(asset):
            found = frozenset().union(*(_members(inv, tg) for tg in _groups_of(inv, asset)))
        elif asset.type == TARGET_GROUP and error.affects_types((TARGETS,)) and _exposed(
            inv, asset
        ):
            found = _vpc_hosts(inv, asset.attr("vpc_id"))
        else:
            continue
        if found:
            out[error] = found
    return out


def _public(lb: Asset) -> bool:
    return lb.attr("scheme") != "internal"


def _exposed(inv: Inventory, tg: Asset) -> bool:
    """Whether ``tg`` is attached to an internet-facing load balancer (or one not collected)."""
    for arn in tg.attr("load_balancer_arns") or ():
        lb = inv.get(str(arn))
        if lb is None or _public(lb):
            return True
    return False


def _groups_of(inv: Inventory, lb: Asset) -> list[Asset]:
    arn = str(lb.attr("arn") or lb.uid)
    return [tg for tg in inv.of(TARGET_GROUP) if arn in (tg.attr("load_balancer_arns") or ())]


def _members(inv: Inventory, tg: Asset) -> frozenset[str]:
    """The hosts registered in ``tg`` (unknown targets: every host of its VPC)."""
    targets = tg.attr("targets")
    if targets is None:
        return _vpc_hosts(inv, tg.attr("vpc_id"))
    ids = {str(t.get("id")) for t in targets}
    found = {a.uid for a in inv.of(INSTANCE) if a.attr("instance_id") in ids}
    for eni in inv.of(ENI):
        if ids & set(eni.attr("private_ips") or ()):
            owner = _instance(inv, eni.attr("instance_id"))
            found.add(owner.uid if owner is not None else eni.uid)
    return frozenset(found)


def _instance(inv: Inventory, instance_id: object) -> Asset | None:
    if not instance_id:
        return None
    return next((a for a in inv.of(INSTANCE) if a.attr("instance_id") == instance_id), None)


def _vpc_hosts(inv: Inventory, vpc_id: object) -> frozenset[str]:
    hosts: Iterable[Asset] = inv.of(*_HOSTS)
    return frozenset(a.uid for a in hosts if vpc_id is None or a.attr("vpc_id") == vpc_id)


__all__ = ["dependents"]
