"""``posture scan gcp``: collect GCP projects (read-only), audit them and write the reports.
Needs the Google clients (``pip install 'posture[gcp]'``), imported only when it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posture.cli.options import (
    ReportOptions,
    SnapshotOut,
    report_command,
)
from posture.cli.report import scan_and_report
from posture.errors import CollectorError

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
    snapshot_out: SnapshotOut = None,
    *,
    options: ReportOptions,
) -> None:
    """Collect GCP projects (read-only), audit them and write the reports."""
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
    scan_and_report("GCP", lambda step: collect(target, progress=step), snapshot_out, options)
