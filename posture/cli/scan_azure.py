"""``posture scan azure``: collect Azure subscriptions (named, below management groups, or every
one visible; read-only), audit them and write the reports. With ``--management-group`` (or
several ``--subscription`` and ``--workers``/``--scheduler``), one task per subscription, in
this process or on a Dask cluster (:mod:`posture.org`). Needs the Azure SDKs
(``pip install 'posture[azure]'``), imported only when it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
SnapshotOutOpt = Annotated[Path | None, snapshot_out("--management-group", "subscription")]
GraphEndpointOpt = Annotated[
    str | None,
    typer.Option(
        help="Microsoft Graph endpoint Entra ID is read from (default: the one of the ARM "
        "endpoint's cloud, e.g. https://graph.microsoft.us for US Government; Entra ID is not "
        "read for an ARM endpoint of no known cloud without it)."
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
    graph_endpoint: GraphEndpointOpt = None,
    snapshot_out: SnapshotOutOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    replace_snapshots: ReplaceOpt = False,
    *,
    options: ReportOptions,
) -> None:
    """Collect Azure subscriptions (read-only), audit them and write the reports; with
    --management-group, every subscription below, one task per subscription.

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
    if graph_endpoint is not None and not graph_endpoint.startswith("https://"):
        raise ValueError("--graph-endpoint must be an https:// URL (tokens never go over HTTP)")
    target = AzureTarget(
        subscriptions=tuple(subscription or ()),
        management_groups=tuple(management_group or ()),
        arm_endpoint=arm_endpoint,
        authority_host=authority_host,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        graph_endpoint=graph_endpoint,
    )
    distributed = workers is not None or scheduler is not None
    if not (management_group or (distributed and len(set(subscription or ())) > 1)):
        refuse_organization_options("--management-group or several --subscription", workers,
                                    scheduler, replace_snapshots)
        scan_and_report("Azure", lambda step: collect(target, progress=step), snapshot_out,
                        options)
    from posture.cli.org_report import discover_and_run
    from posture.model import Provider
    from posture.org.azure import discover

    discover_and_run(Provider.AZURE, lambda: discover(target)[0], options, workers=workers,
                     scheduler=scheduler, snapshot_out=snapshot_out, replace=replace_snapshots)
