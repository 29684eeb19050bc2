"""GCP in an organisation run: the projects below an organisation or folders, one task each.

On the coordinator, :func:`discover` lists the active projects (folders walked breadth first),
then reads every ancestor (folders, the organisation, their IAM policies and audit configs)
*once*, however many projects sit below it, and gives each project's task its own lineage as
context: the ancestor assets and the errors recorded against them. On the worker,
:func:`collect_project` reads that one project with the worker's own credentials (ADC, a key
file path on the worker, or impersonation) and without the hierarchy; the task's context is
added afterwards (:func:`posture.org.task.with_context`), so the project's snapshot holds what a
single-project scan would have collected, and ``lineage()`` / ``effective_grants()`` see the
inherited grants and audit configs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from posture.errors import CollectorError
from posture.model import Asset, CollectionError, Inventory, Provider
from posture.org.plan import AccountTask, GcpAccess, OrgPlan, OuStep, shared

if TYPE_CHECKING:
    from posture.collectors.gcp.collector import GcpTarget, ProjectRecord


def access_of(target: GcpTarget) -> GcpAccess:
    """What the workers need of the command line's target (no credential)."""
    return GcpAccess(api_endpoint=target.api_endpoint, impersonate=target.impersonate,
                     key_file=target.key_file, anonymous=target.anonymous,
                     retry_initial=target.retry_initial)


def scope_id(target: GcpTarget) -> str:
    """The organisation run's name: ``organizations/42``, or the folders scanned."""
    if target.organization:
        org = target.organization
        return org if org.startswith("organizations/") else f"organizations/{org}"
    return ",".join(f if f.startswith("folders/") else f"folders/{f}" for f in target.folders)


def discover(
    target: GcpTarget, credentials: Any = None
) -> tuple[OrgPlan, tuple[CollectionError, ...]]:
    """The plan (one task per project, sorted by project id) and the errors of discovery (a
    folder whose projects could not be listed). Raises :class:`CollectorError` when there is
    no project to scan."""
    from posture.collectors.gcp.base import Clients
    from posture.collectors.gcp.collector import discover_below, make_credentials
    from posture.collectors.gcp.hierarchy import collect_ancestors

    if credentials is None:
        credentials, _ = make_credentials(target)
    clients = Clients(target=target, credentials=credentials)
    errors: list[CollectionError] = []
    records = {r.project_id: r for r in discover_below(clients, target, errors)}
    for project in target.projects:
        if project not in records:
            records[project] = _named(clients, project, errors)
    if not records:
        if errors:
            raise CollectorError(f"cannot list the projects to scan: {errors[0].describe()}")
        raise CollectorError(f"no active GCP project below {scope_id(target)}")
    ancestors, ancestor_errors = collect_ancestors(clients, [r.parent for r in records.values()])
    return plan(scope_id(target), list(records.values()), ancestors, ancestor_errors,
                access_of(target)), tuple(errors)


def _named(clients: Any, project: str, errors: list[CollectionError]) -> ProjectRecord:
    """A project named with ``--project`` beside the organisation: its name and parent."""
    from posture.collectors.gcp.base import ProjectScope
    from posture.collectors.gcp.collector import ProjectRecord
    from posture.model import ALL

    scope = ProjectScope(project, clients)
    got = scope.call("cloudresourcemanager", "projects.get", (ALL,),
                     lambda: clients.projects().get_project(name=f"projects/{project}",
                                                            retry=clients.retry))
    errors.extend(scope.errors)
    if got is None:
        return ProjectRecord(project, project, "")
    return ProjectRecord(project, str(got.display_name or project), str(got.parent or ""))


def plan(
    scope: str,
    projects: Sequence[ProjectRecord],
    ancestors: Sequence[Asset],
    ancestor_errors: Sequence[CollectionError],
    access: GcpAccess,
) -> OrgPlan:
    """One task per project; its path (organisation first) and context from ``ancestors``."""
    by_name = {str(a.attr("resource_name")): a for a in ancestors}
    errors_of: dict[str, list[CollectionError]] = {}
    for error in ancestor_errors:
        errors_of.setdefault(error.account, []).append(error)
    seen: dict[tuple[str, str], Asset] = {}
    tasks = []
    for record in sorted(projects, key=lambda r: r.project_id):
        chain = _chain(record.parent, by_name)
        path = tuple(OuStep(name, str(by_name[name].attr("display_name") or name)
                            if name in by_name else name) for name in reversed(chain))
        tasks.append(AccountTask(
            account_id=record.project_id,
            account_name=record.display_name or record.project_id,
            ou_path=path,
            management=False,
            access=access,
            context_assets=tuple(shared(seen, by_name[n]) for n in chain if n in by_name),
            context_errors=tuple(e for n in chain for e in errors_of.get(n, ())),
        ))
    return OrgPlan(organization_id=scope, organization_arn="", management_account_id="",
                   tasks=tuple(tasks), provider=Provider.GCP)


def _chain(parent: str, by_name: Mapping[str, Asset]) -> list[str]:
    """The ancestors' names from the project's parent up (as far as they were read)."""
    chain: list[str] = []
    node: Any = parent
    while node and node not in chain:
        chain.append(str(node))
        asset = by_name.get(str(node))
        node = asset.attr("parent") if asset is not None else None
    return chain


def collect_project(project: str, access: GcpAccess) -> Inventory:
    """One project, on the worker: its own credential chain, no hierarchy (the task's
    context)."""
    from posture.collectors.gcp.collector import GcpTarget, collect

    target = GcpTarget(projects=(project,), api_endpoint=access.api_endpoint,
                       key_file=access.key_file, impersonate=access.impersonate,
                       anonymous=access.anonymous, retry_initial=access.retry_initial)
    inventory = collect(target, ancestors=False)
    assert inventory.meta.provider is Provider.GCP
    return inventory
