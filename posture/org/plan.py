"""What an organisation scan will do, as data: one frozen :class:`AccountTask` per account.

A task says which account to read, how to reach it (role name, optional external id, regions,
endpoint) and what the organisation knows about it (its OU path and the context assets the
management account collected for it). It never holds a credential: a worker builds its own
session from its own credential chain and then assumes the member role
(:func:`posture.org.task.scan_account`), so nothing secret travels through the task graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from posture.model import Asset, CollectionError

if TYPE_CHECKING:
    from posture.collectors.aws.organizations import Organization

DEFAULT_ROLE = "PostureAudit"


@dataclass(frozen=True, slots=True)
class OuStep:
    """One step of an account's path below the organisation root (root first)."""

    id: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def ou_text(path: tuple[OuStep, ...]) -> str:
    """``Root/Prod/Web``: the names of the path, root first (``""`` when unknown)."""
    return "/".join(step.name or step.id for step in path)


@dataclass(frozen=True, slots=True)
class Access:
    """How workers reach the accounts: the same for every account of one run."""

    role_name: str = DEFAULT_ROLE
    external_id: str | None = None
    regions: tuple[str, ...] = ()  # empty: every enabled region of each account
    endpoint_url: str | None = None
    default_region: str = "us-east-1"
    profile: str | None = None  # a profile name of the workers' own config, never a key


@dataclass(frozen=True, slots=True)
class AccountTask:
    """One account to scan: who it is, where it sits, how to reach it (no credentials)."""

    account_id: str
    account_name: str
    ou_path: tuple[OuStep, ...]
    management: bool  # scanned with the worker's own session, no role (unless it is elsewhere)
    access: Access
    context_assets: tuple[Asset, ...] = ()  # the organisation's view of this account
    context_errors: tuple[CollectionError, ...] = ()  # what the organisation could not read

    @property
    def key(self) -> str:
        """A stable name for the task (progress lines, Dask keys)."""
        return f"account-{self.account_id}"


@dataclass(frozen=True, slots=True)
class OrgPlan:
    """The organisation and the tasks of one run, sorted by account id."""

    organization_id: str
    organization_arn: str
    management_account_id: str
    tasks: tuple[AccountTask, ...]


def _shared(seen: dict[tuple[str, str], Asset], asset: Asset) -> Asset:
    """The organisation asset (and an SCP on many paths) is the same for every account: keep
    one object, so the plan of a large organisation does not hold one copy per account."""
    key = (asset.uid, asset.account)
    kept = seen.setdefault(key, asset)
    return kept if kept == asset else asset


def plan(organization: Organization, access: Access) -> OrgPlan:
    """One task per ACTIVE (and selected) account of ``organization``, in account id order.

    The errors of discovery (an SCP listing denied, trails not readable) travel with every
    task: they are the organisation's context gaps for each account, so the checks that read
    that context are INCONCLUSIVE, never PASS.
    """
    tasks = []
    shared: dict[tuple[str, str], Asset] = {}  # one object per equal context asset
    for account in sorted(organization.accounts, key=lambda a: a.id):
        path = tuple(OuStep(ou.id, ou.name) for ou in account.parent_path)
        context = tuple(_shared(shared, a) for a in organization.context_assets(account.id))
        tasks.append(
            AccountTask(
                account_id=account.id,
                account_name=account.name,
                ou_path=path,
                management=bool(account.management),
                access=access,
                context_assets=context,
                context_errors=tuple(organization.errors),
            )
        )
    return OrgPlan(
        organization_id=organization.id,
        organization_arn=organization.arn,
        management_account_id=organization.management_account_id,
        tasks=tuple(tasks),
    )
