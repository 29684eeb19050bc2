"""The Azure commands of the command line: ``posture scan azure``, ``posture permissions
azure`` and the body of ``posture demo azure``.

Registered on the main app by :func:`register` (called once from :mod:`posture.cli`, after its
shared options are defined, so the Azure scan takes the same report and tracking options as AWS).
"""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from posture.errors import CollectorError

SubscriptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--subscription",
        "-s",
        help="Subscription id to scan (repeatable; default: every one visible).",
    ),
]
ArmEndpointOpt = Annotated[
    str, typer.Option(help="Azure Resource Manager endpoint (sovereign clouds, private links).")
]
AuthorityOpt = Annotated[
    str | None,
    typer.Option(
        help="Entra ID authority host, e.g. https://login.microsoftonline.us "
        "(turns off the public cloud's instance discovery)."
    ),
]
CaBundleOpt = Annotated[
    Path | None, typer.Option(help="PEM file of CA certificates to trust for ARM and tokens.")
]
SnapshotOpt = Annotated[
    Path | None, typer.Option(help="Also save the collected inventory to this file.")
]


def permissions_azure() -> None:
    """Print the scanner's minimal read-only custom role definition (JSON for
    `az role definition create --role-definition`)."""
    from posture.collectors.azure.collector import role_definition

    sys.stdout.write(json.dumps(role_definition(), indent=2) + "\n")


def demo_azure(output_dir: Path, formats: str, snapshot_out: Path | None, quiet: bool) -> None:
    """``posture demo azure``: the recorded subscriptions on the loopback fake of ARM, real
    collector and SDK clients."""
    from posture import cli

    try:
        # the azure-mgmt clients, and cryptography for the fake's certificate
        import posture.collectors.azure.collector
        import posture.demo.azure_fake  # noqa: F401
    except ImportError as exc:
        raise CollectorError(
            f"the Azure demo needs the Azure SDKs: pip install 'posture[azure]' "
            f"({exc.name} missing)"
        ) from None
    from posture.demo import azure as demo
    from posture.reporters import parse_formats

    parse_formats(formats)
    out = cli.out
    out.print(
        "fake Azure Resource Manager (HTTPS, throw-away CA) on 127.0.0.1 serving subscriptions "
        f"{', '.join(demo.DEMO_SUBSCRIPTIONS.values())} (the SQL provider of contoso-dev answers "
        "403 on purpose: its checks are INCONCLUSIVE) ...",
        markup=False,
    )
    with cli._progress("Collecting Azure (demo)", None, quiet) as step:
        inventory = demo.scan(progress=step)
    cli.report_demo(inventory, output_dir, formats, snapshot_out, quiet)


def register() -> None:
    """Add ``scan azure`` and ``permissions azure`` to the main app."""
    from posture import cli
    from posture.tracking import Tracking

    def scan_azure(
        subscription: SubscriptionOpt = None,
        arm_endpoint: ArmEndpointOpt = "https://management.azure.com",
        authority_host: AuthorityOpt = None,
        ca_bundle: CaBundleOpt = None,
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
        """Collect Azure subscriptions (read-only), audit them and write the reports.

        Credentials come from DefaultAzureCredential: a service principal from AZURE_TENANT_ID,
        AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, a workload or managed identity, or the Azure CLI.
        """
        from posture.pipeline import prepare
        from posture.reporters import parse_formats

        try:
            from posture.collectors.azure.collector import AzureTarget, collect
        except ImportError as exc:
            raise CollectorError(
                f"Azure scanning needs the Azure SDKs: pip install 'posture[azure]' "
                f"({exc.name} missing)"
            ) from None
        parse_formats(formats)  # fail on a bad --format before a long scan
        cli._parse_fail_on(fail_on)
        tracking = Tracking.parse(store, exceptions, fail_on_new)
        if ca_bundle is not None and not ca_bundle.is_file():
            raise CollectorError(f"CA bundle not found: {ca_bundle}")
        if not arm_endpoint.startswith("https://"):
            raise ValueError("--arm-endpoint must be an https:// URL (tokens never go over HTTP)")
        target = AzureTarget(
            subscriptions=tuple(subscription or ()),
            arm_endpoint=arm_endpoint,
            authority_host=authority_host,
            ca_bundle=str(ca_bundle) if ca_bundle else None,
        )
        with cli._progress("Collecting Azure", None, quiet) as step:
            inventory = collect(target, progress=step)
        prepared = prepare(inventory)
        if snapshot_out is not None:
            cli._write_snapshot(prepared, snapshot_out)
        code = cli._audit_and_report(prepared, output_dir, formats, fail_on, check, quiet, tracking)
        raise typer.Exit(int(code))

    cli.scan_app.command("azure")(cli.handled(scan_azure))
    cli.permissions_app.command("azure")(cli.handled(permissions_azure))
