"""The GCP collector: credentials, the projects to scan, then every service module concurrently.

Service modules live beside this file; each exposes ``collect(scope) -> list[Asset]`` and a
``PERMISSIONS`` tuple of read-only IAM permissions. Every module runs once per project, on the
shared runner (:mod:`posture.collectors.runner`). The projects' ancestors (folders, organisation)
and their IAM policies are collected once afterwards (:mod:`.hierarchy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posture.collectors import runner
from posture.collectors.gcp.base import SCOPES, Clients, GcpTarget, ProjectScope, describe_error
from posture.collectors.gcp.hierarchy import collect_ancestors
from posture.errors import CollectorError
from posture.gcp import PROJECT
from posture.model import ALL, CollectionError, Inventory, Provider

MODULES = (
    "resourcemanager", "compute_network", "compute", "compute_lb", "kms", "storage", "orgpolicy",
    "sql", "iam", "oslogin", "orgpolicy_identity", "pam", "wif", "serviceusage", "osconfig",
    "artifacts", "gke", "run", "functions", "bigquery", "secretmanager", "compute_images",
)
PACKAGE = "posture.collectors.gcp"

__all__ = [
    "GcpTarget", "ProjectRecord", "all_permissions", "collect", "custom_role", "discover_below",
    "make_credentials",
]


def all_permissions() -> tuple[str, ...]:
    discovery = runner.service_module(PACKAGE, "resourcemanager").DISCOVERY_PERMISSIONS
    modules = (*MODULES, "hierarchy")
    return tuple(sorted(set(discovery) | runner.declared_permissions(PACKAGE, modules)))


def custom_role() -> str:
    """The scanner's minimal custom role as YAML for ``gcloud iam roles create --file``."""
    lines = [
        "title: posture read-only auditor",
        "description: Read-only permissions used by the posture GCP collector",
        "stage: GA",
        "includedPermissions:",
    ]
    lines += [f"- {p}" for p in all_permissions()]
    return "\n".join(lines) + "\n"


def make_credentials(target: GcpTarget) -> tuple[Any, str | None]:
    """(credentials, default project) from the target: anonymous, a key file, or ADC; then
    service-account impersonation if asked."""
    import google.auth
    from google.auth import exceptions as auth_exc
    from google.auth.credentials import AnonymousCredentials

    if target.anonymous:
        return AnonymousCredentials(), None
    try:
        if target.key_file:
            creds, project = _from_file(target.key_file)
        else:
            creds, project = google.auth.default(scopes=list(SCOPES))
    except auth_exc.DefaultCredentialsError as exc:
        hint = (
            ""
            if target.key_file
            else (
                " (run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS"
                " or pass --key-file)"
            )
        )
        raise CollectorError(f"no usable GCP credentials: {_one_line(exc)}{hint}") from None
    if target.impersonate:
        from google.auth import impersonated_credentials

        override = None
        if target.api_endpoint:
            base = target.api_endpoint.replace("{service}", "iamcredentials").rstrip("/")
            override = (
                f"{base}/v1/projects/-/serviceAccounts/{target.impersonate}:generateAccessToken"
            )
        creds = impersonated_credentials.Credentials(
            source_credentials=creds,
            target_principal=target.impersonate,
            target_scopes=list(SCOPES),
            lifetime=3600,
            iam_endpoint_override=override,
        )
    return creds, project


def _from_file(path: str) -> tuple[Any, str | None]:
    """A service-account key or an authorized-user file, loaded by its declared type only."""
    import json

    from google.auth import exceptions as auth_exc

    try:
        with open(path, encoding="utf-8") as fh:
            info = json.load(fh)
    except (OSError, ValueError) as exc:
        raise auth_exc.DefaultCredentialsError(f"cannot read {path}: {exc}") from None
    kind = info.get("type") if isinstance(info, dict) else None
    try:
        if kind == "service_account":
            from google.oauth2 import service_account

            creds = service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
            return creds, info.get("project_id")
        if kind == "authorized_user":
            from google.oauth2 import credentials

            return credentials.Credentials.from_authorized_user_info(info, list(SCOPES)), info.get(
                "quota_project_id"
            )
    except (ValueError, KeyError) as exc:
        raise auth_exc.DefaultCredentialsError(f"{path}: {exc}") from None
    raise auth_exc.DefaultCredentialsError(
        f"{path}: unsupported credentials type {kind!r} (expected service_account or "
        "authorized_user; use ADC for workload identity federation)"
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fatal(exc: BaseException) -> str | None:
    """A reason to stop the whole scan (bad credentials, dead endpoint), or None."""
    from google.auth import exceptions as auth_exc

    if isinstance(exc, auth_exc.RefreshError):
        if getattr(exc, "retryable", False):  # the token endpoint's 5xx / 429, not a refusal
            return f"the GCP token endpoint failed (not a credential problem): {_one_line(exc)}"
        return f"GCP rejected the credentials: {_one_line(exc)}"
    if isinstance(exc, auth_exc.TransportError | ConnectionError):
        return f"cannot reach the GCP API endpoint: {_one_line(exc)}"
    try:
        import requests

        if isinstance(exc, requests.ConnectionError):
            return f"cannot reach the GCP API endpoint: {_one_line(exc)}"
    except ImportError:  # pragma: no cover
        pass
    status, _code, message = describe_error(exc)
    if status == 401:
        return f"GCP rejected the credentials: {message}"
    return None


def discover_projects(
    clients: Clients, target: GcpTarget, errors: list[CollectionError]
) -> list[str]:
    """The projects asked for, plus the active projects under the organisation / folders."""
    found = [*target.projects, *(p.project_id for p in discover_below(clients, target, errors))]
    return sorted(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """An active project found below the organisation / folders: id, display name, parent."""

    project_id: str
    display_name: str
    parent: str


def discover_below(
    clients: Clients, target: GcpTarget, errors: list[CollectionError]
) -> list[ProjectRecord]:
    """The active projects under the target's organisation and folders (not ``projects``),
    walking the folders breadth first; a listing that fails is recorded in ``errors``."""
    found: list[ProjectRecord] = []
    parents: list[str] = []
    if target.organization:
        org = target.organization
        parents.append(org if org.startswith("organizations/") else f"organizations/{org}")
    parents += [f if f.startswith("folders/") else f"folders/{f}" for f in target.folders]
    retry = clients.retry
    seen: set[str] = set()
    while parents:
        parent = parents.pop(0)
        if parent in seen:
            continue
        seen.add(parent)
        scope = ProjectScope(parent, clients)

        def list_folders(p: str = parent) -> list[str]:
            return [str(f.name) for f in clients.folders().list_folders(parent=p, retry=retry)]

        def list_projects(p: str = parent) -> list[ProjectRecord]:
            return [
                ProjectRecord(str(pr.project_id), str(pr.display_name), str(pr.parent or p))
                for pr in clients.projects().list_projects(parent=p, retry=retry)
                if str(pr.state.name) == "ACTIVE"
            ]

        folders = scope.call("cloudresourcemanager", "folders.list", (ALL,), list_folders)
        projects = scope.call("cloudresourcemanager", "projects.list", (ALL,), list_projects)
        parents += folders or []
        found += projects or []
        errors.extend(scope.errors)
    return found


def _preflight(clients: Clients, project: str) -> None:
    """One cheap call, retried like every other (an endpoint that cannot be reached fails in a
    few attempts), that stops the scan on bad credentials or an unreachable endpoint."""
    try:
        clients.projects().get_project(name=f"projects/{project}", retry=clients.retry)
    except Exception as exc:
        reason = _fatal(exc) or (_fatal(exc.__cause__) if exc.__cause__ else None)
        if reason:
            raise CollectorError(reason) from None


def collect(
    target: GcpTarget,
    progress: runner.Progress | None = None,
    credentials: Any = None,
    *,
    ancestors: bool = True,
) -> Inventory:
    """Collect the target's projects. Raises :class:`CollectorError` only if nothing can be
    scanned. ``credentials`` overrides the credential chain (tests inject them).
    ``ancestors=False`` skips the folders and organisation (an organisation scan collects
    them once for all its projects, :mod:`posture.org.gcp`)."""
    started = runner.now()
    default_project = None
    if credentials is None:
        credentials, default_project = make_credentials(target)
    clients = Clients(target=target, credentials=credentials)
    errors: list[CollectionError] = []
    if target.projects or target.organization or target.folders:
        projects = discover_projects(clients, target, errors)
    else:
        projects = [default_project] if default_project else []
    if not projects:
        if errors:
            raise CollectorError(f"cannot list the projects to scan: {errors[0].describe()}")
        raise CollectorError("no GCP project to scan: pass --project, --folder or --organization")
    _preflight(clients, projects[0])
    jobs = [runner.Job(name, ProjectScope(p, clients)) for p in projects for name in MODULES]
    found = runner.run_jobs(PACKAGE, jobs, max_workers=target.max_workers, progress=progress)
    parents = [a.attr("parent") for a in found.assets if a.type == PROJECT] if ancestors else []
    above, ancestor_errors = collect_ancestors(clients, parents)
    if progress is not None and above:
        progress(f"hierarchy {len(above)} folder(s) / organisation")
    return runner.build_inventory(
        Provider.GCP,
        started=started,
        accounts=projects,
        regions=runner.regions_of(found.assets),
        endpoint_url=target.api_endpoint,
        assets=(*found.assets, *above),
        errors=(*errors, *found.errors, *ancestor_errors),
    )
