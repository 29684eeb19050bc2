"""Azure in an organisation run: the subscriptions below management groups (and those named),
one task each.

On the coordinator, :func:`discover` reads each requested management group's descendants once
(:func:`posture.collectors.azure.management.expand`): the subscriptions below, their display
names and direct parent groups, and the groups themselves as assets. Every task carries those
group assets as context, so an assignment made at a management group is known to cover exactly
the subscriptions below it (:func:`posture.iam.azure_roles.covers`), as in a single
``--management-group`` scan. On the worker, :func:`collect_subscription` reads that one
subscription with the worker's own ``DefaultAzureCredential``, without Entra ID.

Entra ID (Microsoft Graph) is the tenant's, not a subscription's: the coordinator reads it
*once* (:func:`read_tenant`, the Graph endpoint of ``--graph-endpoint`` or of the ARM
endpoint's cloud; none for an ARM endpoint of no known cloud without it) and every task carries
the tenant's assets and errors as context, so each subscription's snapshot holds what a
single-subscription scan would have collected (the principals' display names included). The
tenant's own checks are judged once for the organisation (:mod:`posture.org.tenant`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from posture.errors import CollectorError
from posture.model import Asset, CollectionError, Inventory, Provider
from posture.org.plan import AccountTask, AzureAccess, OrgPlan, OuStep

if TYPE_CHECKING:
    from posture.collectors.azure.base import AzureTarget


@dataclass(frozen=True, slots=True)
class Tenant:
    """The Entra ID tenant as the coordinator read it: its assets (account ``tenants/<id>``)
    and the errors of reading it; both empty when Graph was not read."""

    assets: tuple[Asset, ...] = ()
    errors: tuple[CollectionError, ...] = ()


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
    payloads: list[dict[str, Any]] = []
    if named:  # names of the subscriptions asked for outside the groups (404: stop, as today)
        only = dataclasses.replace(target, subscriptions=named, management_groups=())
        payloads = subscriptions(credential, only, [], ())
        for sub in payloads:
            sid = str(sub["subscriptionId"]).lower()
            listed[sid] = (str(sub.get("displayName") or sid), None)
    tenant = read_tenant(credential, target, client, sorted(listed), payloads)
    return plan(scope_id(target), listed, groups, errors, access_of(target),
                tenant=tenant), tuple(errors)


def read_tenant(
    credential: Any,
    target: AzureTarget,
    client: Any,
    subs: Sequence[str],
    payloads: Sequence[Mapping[str, Any]] = (),
) -> Tenant:
    """Entra ID, read once for the organisation: the tenant of the subscriptions (their
    ``tenantId``: from the payloads already read, else ``Subscriptions_Get`` on the first
    subscription that answers; every subscription below a management group is in its tenant),
    then the Graph modules; nothing without a Graph endpoint (:attr:`AzureTarget.graph`)."""
    from posture.collectors.azure.collector import collect_tenant, tenant_of

    if not target.graph:
        return Tenant()
    found = [dict(p) for p in payloads if p.get("tenantId")]
    for sub in () if found else subs:
        if tenant := _tenant_id(client, sub):
            found.append({"tenantId": tenant})
            break
    assets, errors = collect_tenant(credential, target, tenant_of(found))
    return Tenant(assets, errors)


def _tenant_id(client: Any, subscription: str) -> str:
    """The ``tenantId`` of one subscription (``""`` when it cannot be read: its own task then
    records why)."""
    from azure.core.exceptions import AzureError

    from posture.collectors.azure.base import wire

    try:
        payload = wire(client.subscriptions.get(subscription))
    except (AzureError, ValueError):
        return ""
    return str(payload.get("tenantId") or "").lower()


def plan(
    scope: str,
    listed: Mapping[str, tuple[str, str | None]],
    groups: Sequence[Asset],
    errors: Sequence[CollectionError],
    access: AzureAccess,
    *,
    tenant: Tenant | None = None,
) -> OrgPlan:
    """One task per subscription of ``listed`` (id → (name, parent group uid)); its path from
    the top group down; every group asset and group error, and the tenant's assets and errors
    (one tuple shared by every task), as context."""
    tenant = tenant or Tenant()
    context = (*groups, *tenant.assets)
    gaps = (*errors, *tenant.errors)
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
            context_assets=context, context_errors=gaps,
        ))
    return OrgPlan(organization_id=scope, organization_arn="", management_account_id="",
                   tasks=tuple(tasks), provider=Provider.AZURE)


def collect_subscription(subscription: str, access: AzureAccess) -> Inventory:
    """One subscription, on the worker, with its own ``DefaultAzureCredential``; no Entra ID
    (the task's context)."""
    from posture.collectors.azure.collector import AzureTarget, collect

    target = AzureTarget(subscriptions=(subscription,), arm_endpoint=access.arm_endpoint,
                         authority_host=access.authority_host, ca_bundle=access.ca_bundle,
                         retry_total=access.retry_total)
    return collect(target, tenant=False)
