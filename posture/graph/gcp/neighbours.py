"""GCP failed neighbours (:mod:`posture.graph.neighbours`): instances an external load balancer
may deliver to when the members of its instance group could not be listed.

``instanceGroups.listInstances`` failed on a group that an external load balancer reaches (the
load-balancing resolver reports it :class:`~posture.graph.gcp.lb.Unresolved`): any instance of the
group's network in its zone (a regional group: its region) may be a member, so every such
instance's verdict depends on the failed call. A group of size 0 holds nobody.
"""

from __future__ import annotations

from posture.gcp import INSTANCE, INSTANCE_GROUP
from posture.graph.gaps import failed_details
from posture.graph.gcp.lb import load_balancing
from posture.model import Asset, CollectionError, Inventory, Provider

MEMBERS = f"{INSTANCE_GROUP}#instances"


def dependents(inv: Inventory) -> dict[CollectionError, frozenset[str]]:
    failed = list(failed_details(inv, Provider.GCP, (MEMBERS,)))
    if not failed:
        return {}
    reached = {u.subject.uid for u in load_balancing(inv).unresolved}
    out: dict[CollectionError, frozenset[str]] = {}
    for error, uid in failed:
        group = inv.get(uid)
        if group is None or uid not in reached or group.attr("size") == 0:
            continue
        found = frozenset(i.uid for i in inv.of(INSTANCE) if _may_hold(group, i))
        if found:
            out[error] = found
    return out


def _may_hold(group: Asset, instance: Asset) -> bool:
    if instance.account != group.account:
        return False
    where = group.region
    if instance.region != where and not instance.region.startswith(f"{where}-"):
        return False
    network = group.attr("network")
    nets = {n.get("network") for n in instance.attr("network_interfaces") or ()}
    return network is None or network in nets


__all__ = ["dependents"]
