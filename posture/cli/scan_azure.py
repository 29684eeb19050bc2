"""``posture scan azure``: collect Azure subscriptions (named, below management groups, or every
one visible; read-only), audit them and write the reports. Needs the Azure SDKs
(``pip install 'posture[azure]'``), imported only when it runs."""

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

SubscriptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--subscription",
        "-s",
        help="Subscription id to scan (repeatable; default: every one visible).",
    ),
]
ManagementGroupOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--management-group",
        "-m",
        help="Management group id: scan every subscription below it (repeatable; combined "
        "with --subscription).",
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


@report_command
def scan_azure(
    subscription: SubscriptionOpt = None,
    management_group: ManagementGroupOpt = None,
    arm_endpoint: ArmEndpointOpt = "https://management.azure.com",
    authority_host: AuthorityOpt = None,
    ca_bundle: CaBundleOpt = None,
    snapshot_out: SnapshotOut = None,
    *,
    options: ReportOptions,
) -> None:
    """Collect Azure subscriptions (read-only), audit them and write the reports.

    Credentials come from DefaultAzureCredential: a service principal from AZURE_TENANT_ID,
    AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, a workload or managed identity, or the Azure CLI.
    """
    try:
        from posture.collectors.azure.collector import AzureTarget, collect
    except ImportError as exc:
        raise CollectorError(
            f"Azure scanning needs the Azure SDKs: pip install 'posture[azure]' "
            f"({exc.name} missing)"
        ) from None
    if ca_bundle is not None and not ca_bundle.is_file():
        raise CollectorError(f"CA bundle not found: {ca_bundle}")
    if not arm_endpoint.startswith("https://"):
        raise ValueError("--arm-endpoint must be an https:// URL (tokens never go over HTTP)")
    target = AzureTarget(
        subscriptions=tuple(subscription or ()),
        management_groups=tuple(management_group or ()),
        arm_endpoint=arm_endpoint,
        authority_host=authority_host,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
    )
    scan_and_report("Azure", lambda step: collect(target, progress=step), snapshot_out, options)
