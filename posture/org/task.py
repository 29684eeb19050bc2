"""One account of an organisation (an AWS account, a GCP project, an Azure subscription), scanned
where it runs (a Dask worker, or this process).

:func:`scan_account` is the task: the worker's own credential chain (on AWS then the member
role, :func:`posture.collectors.aws.member.member_session`; the management account with the
worker's own session when that session is the management account), then the account's
collection (:func:`collect_account`, by the task's provider), the organisation's context
assets added, the snapshot prepared exactly as a single-account scan prepares it, and the
account's checks run there, on the worker (an Azure tenant's own checks excepted: they are
judged once for the organisation, :mod:`posture.org.tenant`). What comes back is small: a
status, the reason when the account was not (fully) scanned, the snapshot as gzip-compressed
JSON, the findings and the collection errors.

Guarantees:

- An account that cannot be reached (the role cannot be assumed, the credentials are refused,
  the account answers as another one; a GCP project or Azure subscription none of whose reads
  succeeded) comes back ``failed`` with the reason; its snapshot holds one collection error
  covering every asset type and region, so each of its checks is INCONCLUSIVE, never PASS,
  here and when the snapshot is re-audited offline.
- An account whose collection lost a whole region (disabled, not opted in) or a whole service
  module comes back ``partial`` with the reason.
- Only an unexpected exception escapes (Dask then retries the task); a known failure is an
  outcome.
"""

from __future__ import annotations

import functools
import gzip
import os
import socket
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from posture.collectors import runner
from posture.errors import CollectorError
from posture.model import ALL, Asset, CollectionError, Finding, Inventory, Provider
from posture.org.crossaccount import organization_checks, projected_types, projection
from posture.org.plan import Access, AccountTask, AzureAccess, GcpAccess
from posture.org.tenant import local_checks
from posture.pipeline import Prepared, audit, prepare, select_checks
from posture.registry import Catalogue, load_catalogue

if TYPE_CHECKING:
    import boto3

ACCESS_SERVICE = "sts"
ACCESS_OPERATION = "AssumeRole"
ACCESS_CALLS = {  # the call that reads an account at all, per provider
    Provider.AWS: (ACCESS_SERVICE, ACCESS_OPERATION),
    Provider.GCP: ("cloudresourcemanager", "projects.get"),
    Provider.AZURE: ("resources", "Subscriptions_Get"),
}
NOUNS = {Provider.AWS: "account", Provider.GCP: "project", Provider.AZURE: "subscription"}
ACCESS_CODE = "AccountNotAccessible"
LOST_SERVICE = "posture"
LOST_OPERATION = "scan"
LOST_CODE = "AccountNotScanned"


class AccountStatus(StrEnum):
    """How completely an account was read.

    SCANNED  collected (per-call gaps, if any, are collection errors as in any scan).
    PARTIAL  collected, but a whole region or service module is missing (the reason says which).
    FAILED   nothing collected: the account could not be reached or its task was lost.
    """

    SCANNED = "scanned"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    """What a task returns to the coordinator (small; the snapshot is compressed)."""

    account_id: str
    status: AccountStatus
    reason: str
    snapshot_gz: bytes  # the prepared snapshot's UTF-8 text, gzip-compressed
    sha256: str  # of the uncompressed text, as for a single-account snapshot
    findings: tuple[Finding, ...]
    errors: tuple[CollectionError, ...]
    regions: tuple[str, ...]
    checks: tuple[str, ...]
    seconds: float = 0.0
    worker: str = ""
    # the assets the organisation-wide checks need from this account (empty unless the account
    # has a cross-account link): see posture.org.crossaccount
    projection: tuple[Asset, ...] = ()

    def snapshot_bytes(self) -> bytes:
        return gzip.decompress(self.snapshot_gz)


@functools.cache
def _catalogue() -> Catalogue:
    """The check catalogue, loaded once per worker process."""
    return load_catalogue()


def where() -> str:
    """This process, as a progress line names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def scan_account(task: AccountTask, check_ids: tuple[str, ...] = ()) -> AccountOutcome:
    """Collect and audit one account (the Dask task). Known failures come back as outcomes."""
    clock = time.monotonic()
    started = runner.now()
    try:
        inventory = collect_account(task)
    except CollectorError as exc:
        return failed_outcome(task, str(exc), check_ids, started=started, clock=clock)
    if task.provider is not Provider.AWS and (why := unreadable(inventory, task)):
        return failed_outcome(task, why, check_ids, started=started, clock=clock)
    inventory = with_context(inventory, task)
    status, reason = status_of(inventory)
    return _outcome(task, prepare(inventory), status, reason, check_ids, clock)


def collect_account(task: AccountTask) -> Inventory:
    """The account's own inventory, read with this process's credentials (the provider's
    collector; GCP without the ancestors and Azure without the management groups: those are the
    task's context). Raises :class:`CollectorError` when nothing can be read."""
    access = task.access
    if isinstance(access, GcpAccess):
        from posture.org.gcp import collect_project

        return collect_project(task.account_id, access)
    if isinstance(access, AzureAccess):
        from posture.org.azure import collect_subscription

        return collect_subscription(task.account_id, access)
    return _collect_aws(task, access)


def _collect_aws(task: AccountTask, access: Access) -> Inventory:
    from posture.collectors.aws.collector import AwsTarget, collect

    session = account_session(task)
    target = AwsTarget(profile=access.profile, regions=access.regions,
                       endpoint_url=access.endpoint_url, default_region=access.default_region)
    return collect(target, session=session)


def unreadable(inventory: Inventory, task: AccountTask) -> str:
    """Why a GCP project / Azure subscription counts as not read (``""`` if it was): the call
    that reads the project or subscription itself (``projects.get``, ``Subscriptions_Get``) was
    refused. The credential then has no usable access there; whatever else answered is not
    trusted for a verdict (the collectors still record placeholder assets for what they tried)."""
    service, operation = ACCESS_CALLS[task.provider]
    refused = [e for e in inventory.errors if e.account == task.account_id]
    access = [e for e in refused if (e.service, e.operation) == (service, operation)]
    if not access:
        return ""
    first = access[0]
    more = f" (and {len(refused) - 1} other call(s) failed)" if len(refused) > 1 else ""
    return (f"{NOUNS[task.provider]} {task.account_id} cannot be read: {first.service}:"
            f"{first.operation} {first.code} ({first.message}){more}")


def account_session(task: AccountTask) -> boto3.session.Session:
    """The session that reads ``task``'s account: the worker's own chain for the management
    account when that chain is the management account, the member role otherwise.

    Raises :class:`CollectorError` naming the account and the reason when it cannot be read.
    """
    from posture.collectors.aws.collector import AwsTarget, make_session
    from posture.collectors.aws.member import check_access, member_session

    access = task.access
    assert isinstance(access, Access)
    base = make_session(AwsTarget(profile=access.profile))
    region, endpoint = access.default_region, access.endpoint_url
    if task.management and check_access(base, region, endpoint) == task.account_id:
        return base
    try:
        session = member_session(
            base, task.account_id, role_name=access.role_name, external_id=access.external_id,
            region=region, endpoint_url=endpoint,
        )
        answered = check_access(session, region, endpoint)
    except CollectorError as exc:
        raise CollectorError(
            f"account {task.account_id}: role {access.role_name} cannot be assumed: {exc}"
        ) from None
    if answered != task.account_id:
        raise CollectorError(
            f"account {task.account_id}: role {access.role_name} answered as account {answered}"
        )
    return session


def with_context(inventory: Inventory, task: AccountTask) -> Inventory:
    """The account's inventory with the organisation's context assets and gaps added (a
    context asset whose uid the account's own collection already holds is not added twice)."""
    if not task.context_assets and not task.context_errors:
        return inventory
    held = {a.uid for a in inventory.assets}
    extra = tuple(a for a in task.context_assets if a.uid not in held)
    return replace(inventory, assets=(*inventory.assets, *extra),
                   errors=(*inventory.errors, *task.context_errors))


def status_of(inventory: Inventory) -> tuple[AccountStatus, str]:
    """PARTIAL when a collection error leaves every asset type of a region (or of a whole
    service module) unread, with those errors as the reason; SCANNED otherwise."""
    whole = [e for e in inventory.errors if ALL in e.asset_types]
    if not whole:
        return AccountStatus.SCANNED, ""
    reasons = sorted({f"{e.region}: {e.service}:{e.operation} {e.code} ({e.message})"
                      for e in whole})
    return AccountStatus.PARTIAL, "; ".join(reasons)


def failed_inventory(task: AccountTask, reason: str, *, lost: bool = False,
                     started: str | None = None) -> Inventory:
    """The snapshot of an account that was not read: the organisation's context and one
    collection error covering every asset type in every region of the account."""
    provider = task.provider
    service, operation = ACCESS_CALLS[provider]
    error = CollectionError(
        provider=provider,
        account=task.account_id,
        region=ALL,
        service=LOST_SERVICE if lost else service,
        operation=LOST_OPERATION if lost else operation,
        code=LOST_CODE if lost else ACCESS_CODE,
        message=reason[: runner.MESSAGE_LIMIT],
        asset_types=(ALL,),
    )
    access = task.access
    return runner.build_inventory(
        provider,
        started=started or runner.now(),
        accounts=(task.account_id,),
        regions=access.regions if isinstance(access, Access) else (),
        endpoint_url=access.endpoint,
        assets=list(task.context_assets),
        errors=[error, *task.context_errors],
    )


def failed_outcome(
    task: AccountTask,
    reason: str,
    check_ids: tuple[str, ...] = (),
    *,
    lost: bool = False,
    started: str | None = None,
    clock: float | None = None,
) -> AccountOutcome:
    """The outcome of an account that was not read (``lost``: its task, not its access,
    failed); audited like any other, so its checks are INCONCLUSIVE."""
    prepared = prepare(failed_inventory(task, reason, lost=lost, started=started))
    return _outcome(task, prepared, AccountStatus.FAILED, reason, check_ids,
                    time.monotonic() if clock is None else clock)


def _outcome(
    task: AccountTask,
    prepared: Prepared,
    status: AccountStatus,
    reason: str,
    check_ids: tuple[str, ...],
    clock: float,
) -> AccountOutcome:
    catalogue = _catalogue()
    checks = select_checks(prepared, catalogue, check_ids)
    inventory = prepared.inventory
    here = local_checks(inventory, catalogue, checks)  # the tenant's are judged once
    findings = audit(prepared, catalogue, here) if here else ()
    types = projected_types(organization_checks(catalogue, checks))
    return AccountOutcome(
        account_id=task.account_id,
        status=status,
        reason=reason,
        snapshot_gz=gzip.compress(prepared.snapshot_text.encode("utf-8"), mtime=0),
        sha256=prepared.snapshot_sha256,
        findings=findings,
        errors=inventory.errors,
        regions=inventory.meta.regions,
        checks=checks,
        seconds=round(time.monotonic() - clock, 3),
        worker=where(),
        projection=projection(inventory, types),
    )
