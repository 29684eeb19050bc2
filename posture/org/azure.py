"""Azure in an organisation run: the subscriptions below management groups (and those named),
one task each.

On the coordinator, :func:`discover` reads each requested management group's descendants once
(:func:`posture.collectors.azure.management.expand`): the subscriptions below, their display
names and direct parent groups, and the groups themselves as assets. Every task carries those
group assets as context, so an assignment made at a management group is known to cover exactly
the subscriptions below it (:func:`posture.iam.azure_roles.covers`), as in a single
``--management-group`` scan. On the worker, :func:`collect_subscription` reads that one
subscription with the worker's own ``DefaultAzureCredential``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from posture.errors import CollectorError
from posture.model import Asset, CollectionError, Inventory, Provider
from posture.org.plan import AccountTask, AzureAccess, OrgPlan, OuStep

if TYPE_CHECKING:
    from posture.collectors.azure.base import AzureTarget


def access_of(target: AzureTarget) -> AzureAccess:
    """What the workers need of the command line's target (no credential)."""
    return AzureAccess(arm_endpoint=target.arm_endpoint, authority_host=target.authority_host,
                       ca_bundle=target.ca_bundle, retry_total=target.retry_total)


def scope_id(target: AzureTarget) -> str:
    """The run's name: the management groups, else ``subscriptions``."""
    return ",".join(target.management_groups) or "subscriptions"


def discover(
    target: AzureTarget, credential: Any = None
) -> tuple[OrgPlan, tuple[CollectionError, ...]]:
    """The plan (one task per subscription, sorted by id) and the errors of discovery (a
    management group that could not be read: they travel with every task, as a single scan
    records them). Raises :class:`CollectorError` when there is nothing to scan."""
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    from posture.collectors.azure import management
    from posture.collectors.azure.collector import make_credential, subscriptions

    credential = credential or make_credential(target)
    errors: list[CollectionError] = []
    client = SubscriptionClient(credential, **target.client_kwargs())
    below, groups = management.expand(client, target, errors)
    if target.management_groups and not below and not target.subscriptions:
        if errors:
            raise CollectorError(f"cannot read the management group: {errors[0].describe()}")
        raise CollectorError(
            f"no subscription below management group(s) {', '.join(target.management_groups)}"
        )
    listed = management.subscriptions_listed(groups)
    named = tuple(s.lower() for s in target.subscriptions if s.lower() not in listed)
    if named:  # names of the subscriptions asked for outside the groups (404: stop, as today)
        only = dataclasses.replace(target, subscriptions=named, management_groups=())
        for sub in subscriptions(credential, only, [], ()):
            sid = str(sub["subscriptionId"]).lower()
            listed[sid] = (str(sub.get("displayName") or sid), None)
    return plan(scope_id(target), listed, groups, errors, access_of(target)), tuple(errors)


def plan(
    scope: str,
    listed: Mapping[str, tuple[str, str | None]],
    groups: Sequence[Asset],
    errors: Sequence[CollectionError],
    access: AzureAccess,
) -> OrgPlan:
    """One task per subscription of ``listed`` (id → (name, parent group uid)); its path from
    the top group down; every group asset and group error as context."""
    by_uid = {g.uid: g for g in groups}
    tasks = []
    for sub in sorted(listed):
        name, parent = listed[sub]
        chain: list[Asset] = []
        node = by_uid.get(parent or "")
        while node is not None and node not in chain:
            chain.append(node)
            node = by_uid.get(str(node.attr("parent") or ""))
        path = tuple(OuStep(str(g.attr("management_group")), g.name) for g in reversed(chain))
        tasks.append(AccountTask(
            account_id=sub, account_name=name, ou_path=path, management=False, access=access,
            context_assets=tuple(groups), context_errors=tuple(errors),
        ))
    return OrgPlan(organization_id=scope, organization_arn="", management_account_id="",
                   tasks=tuple(tasks), provider=Provider.AZURE)


def collect_subscription(subscription: str, access: AzureAccess) -> Inventory:
    """One subscription, on the worker, with its own ``DefaultAzureCredential``."""
    from posture.collectors.azure.collector import AzureTarget, collect

    target = AzureTarget(subscriptions=(subscription,), arm_endpoint=access.arm_endpoint,
                         authority_host=access.authority_host, ca_bundle=access.ca_bundle,
                         retry_total=access.retry_total)
    return collect(target)
