"""``posture scan gcp``: collect GCP projects (read-only), audit them and write the reports; with
``--organization`` / ``--folder``, every active project below, one task per project, in this
process or on a Dask cluster (:mod:`posture.org`). Needs the Google clients
(``pip install 'posture[gcp]'``), imported only when it runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from posture.cli.options import ReportOptions, report_command
from posture.cli.org_options import (
    ReplaceOpt,
    SchedulerOpt,
    WorkersOpt,
    refuse_organization_options,
    snapshot_out,
)
from posture.cli.report import scan_and_report
from posture.errors import CollectorError

if TYPE_CHECKING:
    from posture.collectors.gcp.collector import GcpTarget
    from posture.org.plan import OrgPlan

ProjectOpt = Annotated[
    list[str] | None, typer.Option("--project", "-p", help="Project id to scan (repeatable).")
]
OrganizationOpt = Annotated[
    str | None, typer.Option(help="Scan every active project under this organisation id.")
]
FolderOpt = Annotated[
    list[str] | None,
    typer.Option(help="Scan every active project under this folder id (repeatable)."),
]
KeyFileOpt = Annotated[
    Path | None, typer.Option(help="Credentials file (service-account key) instead of ADC.")
]
ImpersonateOpt = Annotated[
    str | None, typer.Option(help="Impersonate this service account (email).")
]
AnonymousOpt = Annotated[
    bool, typer.Option(help="Send no credentials (emulators and local fakes only).")
]
SnapshotOutOpt = Annotated[Path | None, snapshot_out("--organization/--folder", "project")]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        help="Send every Google API call to this endpoint (Private Service Connect, restricted "
        "VIP, a fake); `{service}` is replaced by the API name, e.g. "
        "https://{service}-myep.p.googleapis.com."
    ),
]


@report_command
def scan_gcp(
    project: ProjectOpt = None,
    organization: OrganizationOpt = None,
    folder: FolderOpt = None,
    key_file: KeyFileOpt = None,
    impersonate_service_account: ImpersonateOpt = None,
    anonymous: AnonymousOpt = False,
    api_endpoint: EndpointOpt = None,
    snapshot_out: SnapshotOutOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    replace_snapshots: ReplaceOpt = False,
    *,
    options: ReportOptions,
) -> None:
    """Collect GCP projects (read-only), audit them and write the reports; with --organization
    or --folder, every active project below, one task per project."""
    try:
        from posture.collectors.gcp.collector import GcpTarget, collect
    except ImportError as exc:
        raise CollectorError(
            f"GCP scanning needs the Google clients: pip install 'posture[gcp]' "
            f"({exc.name} missing)"
        ) from None
    if key_file is not None and anonymous:
        raise ValueError("--key-file and --anonymous exclude each other")
    if key_file is not None and not key_file.is_file():
        raise CollectorError(f"credentials file not found: {key_file}")
    target = GcpTarget(
        projects=tuple(project or ()),
        organization=organization,
        folders=tuple(folder or ()),
        api_endpoint=api_endpoint,
        key_file=str(key_file) if key_file else None,
        impersonate=impersonate_service_account,
        anonymous=anonymous,
    )
    if not (organization or folder):
        refuse_organization_options("--organization or --folder", workers, scheduler,
                                    replace_snapshots)
        scan_and_report("GCP", lambda step: collect(target, progress=step), snapshot_out,
                        options)
    from posture.cli.org_report import discover_and_run
    from posture.model import Provider

    discover_and_run(Provider.GCP, lambda: _discover(target), options, workers=workers,
                     scheduler=scheduler, snapshot_out=snapshot_out, replace=replace_snapshots)


def _discover(target: GcpTarget) -> OrgPlan:
    """The plan; a warning for each folder whose projects could not be listed (recorded in the
    manifest as not enumerated: the run is partial, exit code 4, and the report names it)."""
    from dataclasses import replace

    from posture.cli.options import say
    from posture.org.gcp import discover

    chosen, errors = discover(target)
    for error in errors:
        say(f"warning: {error.describe()} (projects below it are not scanned)")
    return replace(chosen, unlisted=tuple(errors))
