"""The GCP commands of the command line: ``posture scan gcp`` and ``posture permissions gcp``.

Registered on the main app by :func:`register` (called once from :mod:`posture.cli`, after its
shared options are defined, so the GCP scan takes the same report and tracking options as AWS).
"""

import sys
from pathlib import Path
from typing import Annotated

import typer

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
SnapshotOpt = Annotated[
    Path | None, typer.Option(help="Also save the collected inventory to this file.")
]


def permissions_gcp() -> None:
    """Print the scanner's minimal custom role (YAML for `gcloud iam roles create --file`)."""
    from posture.collectors.gcp.collector import custom_role

    sys.stdout.write(custom_role())


def demo_gcp(output_dir: Path, formats: str, snapshot_out: Path | None, quiet: bool) -> None:
    """``posture demo gcp``: the recorded demo projects on the loopback fake, real collector."""
    from posture import cli

    try:
        import posture.collectors.gcp.collector  # noqa: F401  (the google-cloud clients)
    except ImportError as exc:
        raise CollectorError(
            f"the GCP demo needs the Google clients: pip install 'posture[gcp]' "
            f"({exc.name} missing)"
        ) from None
    from posture.demo import gcp as demo
    from posture.reporters import parse_formats

    parse_formats(formats)
    out = cli.out
    out.print(
        f"fake Google APIs on 127.0.0.1 serving projects {', '.join(demo.DEMO_PROJECTS)} "
        "(Cloud SQL in acme-dev answers 403 on purpose: its checks are INCONCLUSIVE) ...",
        markup=False,
    )
    with cli._progress("Collecting GCP (demo)", None, quiet) as step:
        inventory = demo.scan(progress=step)
    cli.report_demo(inventory, output_dir, formats, snapshot_out, quiet)


def register() -> None:
    """Add ``scan gcp`` and ``permissions gcp`` to the main app."""
    from posture import cli
    from posture.tracking import Tracking

    def scan_gcp(
        project: ProjectOpt = None,
        organization: OrganizationOpt = None,
        folder: FolderOpt = None,
        key_file: KeyFileOpt = None,
        impersonate_service_account: ImpersonateOpt = None,
        anonymous: AnonymousOpt = False,
        api_endpoint: EndpointOpt = None,
        snapshot_out: SnapshotOpt = None,
        output_dir: cli.OutputDir = Path("posture-report"),
        formats: cli.Formats = "csv,json,html",
        fail_on: cli.FailOn = None,
        check: cli.CheckIds = None,
        quiet: cli.Quiet = False,
        store: cli.Store = None,
        exceptions: cli.ExceptionsOpt = None,
        fail_on_new: cli.FailOnNew = None,
    ) -> None:
        """Collect GCP projects (read-only), audit them and write the reports."""
        from posture.pipeline import prepare
        from posture.reporters import parse_formats

        try:
            from posture.collectors.gcp.collector import GcpTarget, collect
        except ImportError as exc:
            raise CollectorError(
                f"GCP scanning needs the Google clients: pip install 'posture[gcp]' "
                f"({exc.name} missing)"
            ) from None
        parse_formats(formats)  # fail on a bad --format before a long scan
        cli._parse_fail_on(fail_on)
        tracking = Tracking.parse(store, exceptions, fail_on_new)
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
        with cli._progress("Collecting GCP", None, quiet) as step:
            inventory = collect(target, progress=step)
        prepared = prepare(inventory)
        if snapshot_out is not None:
            cli._write_snapshot(prepared, snapshot_out)
        code = cli._audit_and_report(prepared, output_dir, formats, fail_on, check, quiet, tracking)
        raise typer.Exit(int(code))

    cli.scan_app.command("gcp")(cli.handled(scan_gcp))
    cli.permissions_app.command("gcp")(cli.handled(permissions_gcp))
