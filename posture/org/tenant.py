"""The tenant phase of an organisation run: an Azure tenant's Entra ID judged once.

Entra ID (users, conditional access, directory roles, applications: account
``tenants/<tenant id>``) belongs to the tenant, not to any subscription. In an organisation
run the coordinator reads it once (:func:`posture.org.azure.read_tenant`) and every
subscription's task carries it as context, so each subscription's snapshot holds what a
single-subscription scan would have collected and the subscription's own checks can name
principals by display name.

The tenant's *own* checks, though, are judged once, here, not once per subscription: a
*tenant check* is an Azure check whose every read is an Entra ID type (``microsoft.graph.*``),
so its verdicts are a function of the tenant alone. Where a subscription's snapshot holds a
tenant, its audit leaves the tenant checks out (:func:`local_checks`); the coordinator runs
them once on the tenant's assets and errors (:func:`tenant_findings`), with the run's
metadata from the manifest, so each tenant finding appears once in the merged report. Where
the tenant was not read (no Graph endpoint), the tenant checks run per subscription as in a
single scan: one INCONCLUSIVE finding per subscription saying so.

Why not run them per subscription and drop the duplicates in the merge: the copies are equal
only by accident (a credential's days left depend on each task's finish time, an error of one
task's own collection can touch a tenant type), and N identical audits of a 50,000-user tenant
are N times the work for one answer. Judged once, the answer has one input and one time.

The same functions run online (the tenant from the plan) and offline (``posture audit DIR``,
the tenant from the saved snapshots, where every subscription carries it), so both give the
same findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from posture.azure import TENANT
from posture.model import Asset, CollectionError, Finding, Inventory, Provider, ScanMeta
from posture.org.plan import AccountTask
from posture.pipeline import audit, prepare
from posture.registry import Catalogue

TENANT_ACCOUNT = "tenants/"
"""How tenant-scoped assets and errors name their account (``tenants/<tenant id>``)."""
TENANT_TYPES = "microsoft.graph."


def is_tenant(account: str) -> bool:
    return account.startswith(TENANT_ACCOUNT)


def tenant_checks(catalogue: Catalogue, chosen: Iterable[str]) -> tuple[str, ...]:
    """The chosen checks whose every read is an Entra ID type: judged once per tenant."""
    ids = set(chosen)
    return tuple(
        c.spec.id for c in catalogue.checks
        if c.spec.id in ids and c.spec.provider is Provider.AZURE and c.spec.reads
        and all(r.split("#", 1)[0].startswith(TENANT_TYPES) for r in c.spec.reads)
    )


def local_checks(
    inventory: Inventory, catalogue: Catalogue, chosen: Sequence[str]
) -> tuple[str, ...]:
    """The checks to run on one account's snapshot: the chosen ones, but the tenant checks
    when the snapshot holds a tenant (the tenant phase judges them)."""
    if not inventory.of(TENANT):
        return tuple(chosen)
    skip = set(tenant_checks(catalogue, chosen))
    return tuple(c for c in chosen if c not in skip)


class TenantPart:
    """The tenant assets and errors gathered from plans or snapshots (deduplicated: every
    subscription carries the same tenant)."""

    @classmethod
    def of_plan(cls, tasks: Iterable[AccountTask]) -> TenantPart:
        """The tenant context of a plan's tasks (every task of a plan shares one context
        tuple: each distinct tuple is read once)."""
        part = cls()
        contexts = {(id(t.context_assets), id(t.context_errors)): t for t in tasks}
        for task in contexts.values():
            part.add(task.context_assets, task.context_errors)
        return part

    def __init__(self) -> None:
        self.assets: dict[str, Asset] = {}
        self.errors: dict[CollectionError, None] = {}

    def add(self, assets: Iterable[Asset], errors: Iterable[CollectionError]) -> None:
        """The tenant part of one account's assets and errors."""
        for asset in assets:
            if is_tenant(asset.account):
                self.assets.setdefault(asset.uid, asset)
        for error in errors:
            if is_tenant(error.account):
                self.errors.setdefault(error)


def tenant_findings(
    catalogue: Catalogue, chosen: Iterable[str], meta: ScanMeta, part: TenantPart
) -> tuple[Finding, ...]:
    """The tenant checks run once on the tenants' assets and errors (``meta``: the merged
    run's, from the manifest; its accounts become the tenants')."""
    checks = tenant_checks(catalogue, chosen)
    if not part.assets or not checks:
        return ()
    accounts = tuple(sorted({a.account for a in part.assets.values()}))
    inventory = Inventory(
        meta=replace(meta, accounts=accounts),
        assets=tuple(sorted(part.assets.values(), key=lambda a: a.uid)),
        errors=tuple(sorted(part.errors, key=_error_order)),
    )
    return audit(prepare(inventory), catalogue, checks)


def _error_order(e: CollectionError) -> tuple[str, ...]:
    return (e.account, e.region, e.service, e.operation, e.resource_uid or "", e.code,
            e.message)
