"""``posture demo [aws|azure|gcp|github]``: build a demo estate on an embedded emulator or
loopback fake, scan it with the real collector and write the reports (the GitHub demo audits the
GCP demo's projects beside it, for the CI-to-cloud join). Each cloud's emulator or SDKs are
imported only when its demo runs, and a missing one is named with the extra that installs it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from posture.cli.options import (
    Formats,
    FrameworkIds,
    OutputDir,
    ReportOptions,
    err,
    out,
    parse_frameworks,
    prepare_and_save,
    progress,
)
from posture.cli.report import audit_and_report
from posture.cli.selection import Chosen, selecting
from posture.errors import CollectorError
from posture.model import Inventory

CloudArg = Annotated[
    str,
    typer.Argument(
        help="aws (default: moto), azure (loopback fake of ARM), gcp (loopback fake of "
        "the Google APIs) or github (loopback fake of the GitHub API, joined with the gcp "
        "demo)."
    ),
]
DemoSnapshotOut = Annotated[
    Path | None, typer.Option(help="Also save the demo inventory to this file.")
]


@selecting(err)
def demo(
    cloud: CloudArg = "aws",
    output_dir: OutputDir = Path("posture-demo"),
    formats: Formats = "csv,json,html",
    snapshot_out: DemoSnapshotOut = None,
    framework: FrameworkIds = None,
    *,
    chosen: Chosen,
) -> None:
    """Build a demo estate on an embedded emulator or fake (AWS by default), scan it and report."""
    # the check selection is checked before this; a bad --framework fails before the emulator
    frameworks = parse_frameworks(framework)
    quiet = chosen.quiet
    demos: dict[str, Callable[[str, bool], Inventory]] = {
        "aws": demo_aws,
        "azure": demo_azure,
        "gcp": demo_gcp,
        "github": demo_github,
    }
    if cloud not in demos:
        raise ValueError(f"unknown demo cloud {cloud!r}: choose aws, azure, gcp or github")
    inventory = demos[cloud](formats, quiet)
    prepared = prepare_and_save(inventory, snapshot_out)
    if cloud == "github":
        from posture.pipeline import joined, prepare

        out.print("joining the GCP demo's projects (CI-to-cloud trust) ...", markup=False)
        gcp = prepare(demo_gcp(formats, quiet))
        prepared = joined(prepared, [("the GCP demo", gcp)])
    options = ReportOptions(output_dir, formats, check_ids=chosen.check_ids, quiet=quiet,
                            frameworks=frameworks, selection=chosen.selection)
    audit_and_report(prepared, options)
    from posture.reporters import OutputFormat, parse_formats

    if OutputFormat.HTML in parse_formats(formats):
        out.print(f"Open the HTML report: {(output_dir / 'report.html').resolve()}", markup=False)


def demo_aws(formats: str, quiet: bool) -> Inventory:
    """The demo account built on an embedded moto server, scanned by the AWS collector."""
    _require("demo", "the demo needs the emulator", "posture.demo", "moto.server")
    from posture import demo as aws_demo

    _check_formats(formats)
    with aws_demo.running_emulator() as endpoint:
        out.print(f"emulator: moto on {endpoint}; building the demo account ...", markup=False)
        aws_demo.build_account(endpoint)
        with progress("Collecting AWS (demo)", None, quiet) as step:
            return aws_demo.scan(endpoint, progress=step)


def demo_azure(formats: str, quiet: bool) -> Inventory:
    """The recorded subscriptions on the loopback fake of ARM, real collector and SDK clients."""
    # the azure-mgmt clients, and cryptography for the fake's certificate
    _require("azure", "the Azure demo needs the Azure SDKs", "posture.collectors.azure.collector",
             "posture.demo.azure_fake")
    from posture.demo import azure as azure_demo

    _check_formats(formats)
    out.print(
        "fake Azure Resource Manager (HTTPS, throw-away CA) on 127.0.0.1 serving subscriptions "
        f"{', '.join(azure_demo.DEMO_SUBSCRIPTIONS.values())} (the SQL provider of contoso-dev "
        "answers 403 on purpose: its checks are INCONCLUSIVE) ...",
        markup=False,
    )
    with progress("Collecting Azure (demo)", None, quiet) as step:
        return azure_demo.scan(progress=step)


def demo_gcp(formats: str, quiet: bool) -> Inventory:
    """The recorded demo projects on the loopback fake of the Google APIs, real collector."""
    _require("gcp", "the GCP demo needs the Google clients", "posture.collectors.gcp.collector")
    from posture.demo import gcp as gcp_demo

    _check_formats(formats)
    out.print(
        f"fake Google APIs on 127.0.0.1 serving projects {', '.join(gcp_demo.DEMO_PROJECTS)} "
        "(Cloud SQL in acme-dev answers 403 on purpose: its checks are INCONCLUSIVE) ...",
        markup=False,
    )
    with progress("Collecting GCP (demo)", None, quiet) as step:
        return gcp_demo.scan(progress=step)


def demo_github(formats: str, quiet: bool) -> Inventory:
    """The recorded organisation on the loopback fake of the GitHub API, real collector."""
    _require("github", "the GitHub demo needs PyGithub", "posture.collectors.github.collector")
    _require("gcp", "the GitHub demo joins the GCP demo, which needs the Google clients",
             "posture.collectors.gcp.collector")
    from posture.demo import github as github_demo

    _check_formats(formats)
    out.print(
        f"fake GitHub API on 127.0.0.1 serving organisation {github_demo.DEMO_ORG} (one 403 for "
        "a missing permission on purpose: its check is INCONCLUSIVE) ...",
        markup=False,
    )
    with progress("Collecting GitHub (demo)", None, quiet) as step:
        return github_demo.scan(progress=step)


def _require(extra: str, needs: str, *modules: str) -> None:
    """Import a demo's emulator or SDKs (``modules``), or fail naming the extra that installs
    them."""
    try:
        for module in modules:
            importlib.import_module(module)
    except ImportError as exc:
        message = f"{needs}: pip install 'posture[{extra}]' ({exc.name} missing)"
        raise CollectorError(message) from None


def _check_formats(formats: str) -> None:
    """Fail on a bad ``--format`` before the emulator starts."""
    from posture.reporters import parse_formats

    parse_formats(formats)
