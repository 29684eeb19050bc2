"""``posture scan aws``: collect an AWS account (read-only), audit it and write the reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posture.cli.options import (
    CheckIds,
    ExceptionsOpt,
    FailOn,
    FailOnNew,
    Formats,
    OutputDir,
    Quiet,
    ReportOptions,
    SnapshotOut,
    Store,
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


def scan_aws(
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    snapshot_out: SnapshotOut = None,
    output_dir: OutputDir = Path("posture-report"),
    formats: Formats = "csv,json,html",
    fail_on: FailOn = None,
    check: CheckIds = None,
    quiet: Quiet = False,
    store: Store = None,
    exceptions: ExceptionsOpt = None,
    fail_on_new: FailOnNew = None,
) -> None:
    """Collect an AWS account (read-only), audit it and write the reports."""
    from posture.collectors.aws.collector import AwsTarget, collect

    options = ReportOptions.parse(
        output_dir, formats, fail_on, check, quiet, store, exceptions, fail_on_new
    )
    target = AwsTarget(profile=profile, regions=tuple(region or ()), endpoint_url=endpoint_url)
    scan_and_report("AWS", lambda step: collect(target, progress=step), snapshot_out, options)
