"""What an organisation scan will do, as data: one frozen :class:`AccountTask` per account (an
AWS account, a GCP project, an Azure subscription).

A task says which account to read, how to reach it (its provider's *target*: :class:`Access`
for AWS, :class:`GcpAccess`, :class:`AzureAccess`) and what the organisation knows about it
(its OU / folder / management-group path and the context assets the coordinator collected once
for it: the AWS organisation, the GCP project's ancestors and their policies, the Azure
management groups and the Entra ID tenant). It never holds a credential: a worker builds its
own from its own chain (then, on AWS, assumes the member role;
:func:`posture.org.task.scan_account`), so nothing secret travels through the task graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from posture.model import Asset, CollectionError, Provider

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

    @property
    def provider(self) -> Provider:
        return Provider.AWS

    @property
    def endpoint(self) -> str | None:
        return self.endpoint_url


@dataclass(frozen=True, slots=True)
class GcpAccess:
    """How workers reach the projects (their own ADC, optionally impersonating a service
    account; ``key_file`` is a path read on the worker, never its content)."""

    api_endpoint: str | None = None
    impersonate: str | None = None
    key_file: str | None = None
    anonymous: bool = False  # emulators and local fakes only
    retry_initial: float = 0.5

    @property
    def provider(self) -> Provider:
        return Provider.GCP

    @property
    def endpoint(self) -> str | None:
        return self.api_endpoint


@dataclass(frozen=True, slots=True)
class AzureAccess:
    """How workers reach the subscriptions (their own ``DefaultAzureCredential``)."""

    arm_endpoint: str = "https://management.azure.com"
    authority_host: str | None = None
    ca_bundle: str | None = None  # a path on the worker
    retry_total: int = 6

    @property
    def provider(self) -> Provider:
        return Provider.AZURE

    @property
    def endpoint(self) -> str | None:
        return self.arm_endpoint


Target = Access | GcpAccess | AzureAccess
"""A provider's way to one of its accounts: picklable, secret-free."""


@dataclass(frozen=True, slots=True)
class AccountTask:
    """One account to scan: who it is, where it sits, how to reach it (no credentials)."""

    account_id: str
    account_name: str
    ou_path: tuple[OuStep, ...]
    management: bool  # AWS: scanned with the worker's own session, no role (unless elsewhere)
    access: Target
    context_assets: tuple[Asset, ...] = ()  # the organisation's view of this account
    context_errors: tuple[CollectionError, ...] = ()  # what the organisation could not read

    @property
    def provider(self) -> Provider:
        return self.access.provider

    @property
    def key(self) -> str:
        """A stable name for the task (progress lines, Dask keys)."""
        return f"{self.provider.value}-{self.account_id}"


@dataclass(frozen=True, slots=True)
class OrgPlan:
    """The organisation and the tasks of one run, sorted by account id."""

    organization_id: str
    organization_arn: str
    management_account_id: str
    tasks: tuple[AccountTask, ...]
    provider: Provider = Provider.AWS
    # parts of the organisation that could not be enumerated (a GCP folder whose projects
    # could not be listed): the run is partial, and the report names them
    unlisted: tuple[CollectionError, ...] = ()


def shared(seen: dict[tuple[str, str], Asset], asset: Asset) -> Asset:
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
    seen: dict[tuple[str, str], Asset] = {}  # one object per equal context asset
    for account in sorted(organization.accounts, key=lambda a: a.id):
        path = tuple(OuStep(ou.id, ou.name) for ou in account.parent_path)
        context = tuple(shared(seen, a) for a in organization.context_assets(account.id))
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
