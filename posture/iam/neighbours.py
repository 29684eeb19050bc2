"""AWS identity failed neighbours: principals whose permissions rest on a policy, or a group,
that could not be read (the network ones: :mod:`posture.graph.neighbours`).

A policy that could not be read is not an empty policy:

* ``GetPolicyVersion`` failed on a managed policy: every user, group and role it is attached to,
  and every member of such a group, has unknown permissions;
* a group's policies could not be listed or read (``ListAttachedGroupPolicies``,
  ``ListGroupPolicies``, ``GetGroupPolicy``): its members' permissions are unknown.

Per failed call, the uids of those principals (the engine turns their would-be PASS into
INCONCLUSIVE naming the call).
"""

from __future__ import annotations

from collections.abc import Mapping

from posture.iam.principals import GROUP, POLICY, ROLE, USER
from posture.model import Asset, CollectionError, Inventory, Provider

DOCUMENT = f"{POLICY}#document"
GROUP_POLICIES = f"{GROUP}#policies"


def dependents(inv: Inventory) -> Mapping[CollectionError, frozenset[str]]:
    if inv.meta.provider != Provider.AWS:
        return {}
    failed = [e for e in inv.errors if e.provider == Provider.AWS and e.resource_uid
              and e.affects_types((DOCUMENT, GROUP_POLICIES))]
    if not failed:
        return {}
    out: dict[CollectionError, frozenset[str]] = {}
    for error in failed:
        uid = str(error.resource_uid)
        asset = inv.get(uid)
        if asset is None:
            continue
        if asset.type == POLICY and error.affects_types((DOCUMENT,)):
            found = _holders(inv, uid)
        elif asset.type == GROUP and error.affects_types((GROUP_POLICIES,)):
            found = _members(inv, asset)
        else:
            continue
        if found:
            out[error] = found
    return out


def _holders(inv: Inventory, arn: str) -> frozenset[str]:
    out: set[str] = set()
    for p in inv.of(USER, GROUP, ROLE):
        if arn in (p.attr("attached_policy_arns") or ()):
            out.add(p.uid)
            if p.type == GROUP:
                out |= _members(inv, p)
    return frozenset(out)


def _members(inv: Inventory, group: Asset) -> frozenset[str]:
    """Users listing ``group`` among their groups, or named by the group's members."""
    name = group.attr("group_name") or group.name
    names = set(group.attr("member_user_names") or ())
    return frozenset(
        u.uid for u in inv.of(USER)
        if u.attr("user_name") in names or name in (u.attr("group_names") or ())
    )


__all__ = ["dependents"]
