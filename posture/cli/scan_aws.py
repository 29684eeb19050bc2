"""``posture scan aws``: collect an AWS account (read-only), audit it and write the reports."""

from __future__ import annotations

from typing import Annotated

import typer

from posture.cli.options import (
    ReportOptions,
    SnapshotOut,
    report_command,
)
from posture.cli.report import scan_and_report

ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile from the shared config.")]
RegionOpt = Annotated[
    list[str] | None,
    typer.Option("--region", "-r", help="Region to scan (repeatable; default: all enabled)."),
]
EndpointOpt = Annotated[
    str | None, typer.Option(help="Send every AWS API call to this endpoint (emulators).")
]


@report_command
def scan_aws(
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    snapshot_out: SnapshotOut = None,
    *,
    options: ReportOptions,
) -> None:
    """Collect an AWS account (read-only), audit it and write the reports."""
    from posture.collectors.aws.collector import AwsTarget, collect

    target = AwsTarget(profile=profile, regions=tuple(region or ()), endpoint_url=endpoint_url)
    scan_and_report("AWS", lambda step: collect(target, progress=step), snapshot_out, options)
