"""``posture scan aws``: collect an AWS account (read-only), audit it and write the reports; with
``--organization``, every account of the AWS organisation, one task per account, in this
process or on a Dask cluster (:mod:`posture.org`)."""

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

ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile from the shared config.")]
RegionOpt = Annotated[
    list[str] | None,
    typer.Option("--region", "-r", help="Region to scan (repeatable; default: all enabled)."),
]
EndpointOpt = Annotated[
    str | None, typer.Option(help="Send every AWS API call to this endpoint (emulators).")
]
SnapshotOutOpt = Annotated[Path | None, snapshot_out("--organization", "account")]
OrgOpt = Annotated[
    bool,
    typer.Option(
        "--organization",
        help="Scan every ACTIVE account of the AWS organisation (run from the management "
        "account or a delegated administrator; members are read through --role-name).",
    ),
]
OuOpt = Annotated[
    str | None, typer.Option("--ou", help="Only the accounts below this OU (or root) id.")
]
AccountsOpt = Annotated[
    list[str] | None,
    typer.Option("--accounts", help="Only these account ids (comma-separated, repeatable)."),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude-accounts",
                 help="Skip these account ids (comma-separated, repeatable)."),
]
RoleOpt = Annotated[
    str, typer.Option("--role-name", help="The audit role to assume in each member account.")
]
ExternalIdOpt = Annotated[
    str | None, typer.Option("--external-id", help="External id the role's trust requires.")
]


@report_command
def scan_aws(
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    snapshot_out: SnapshotOutOpt = None,
    organization: OrgOpt = False,
    ou: OuOpt = None,
    accounts: AccountsOpt = None,
    exclude_accounts: ExcludeOpt = None,
    role_name: RoleOpt = "PostureAudit",
    external_id: ExternalIdOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    replace_snapshots: ReplaceOpt = False,
    *,
    options: ReportOptions,
) -> None:
    """Collect an AWS account (read-only), audit it and write the reports; with
    --organization, every account of the organisation."""
    from posture.collectors.aws.collector import AwsTarget, collect

    if not organization:
        others = {"--ou": ou, "--accounts": accounts, "--exclude-accounts": exclude_accounts,
                  "--external-id": external_id}
        refuse_organization_options("--organization", workers, scheduler, replace_snapshots,
                                    others)
        target = AwsTarget(profile=profile, regions=tuple(region or ()),
                           endpoint_url=endpoint_url)
        scan_and_report("AWS", lambda step: collect(target, progress=step), snapshot_out,
                        options)
    _scan_organization(
        profile, tuple(region or ()), endpoint_url, snapshot_out, ou, accounts,
        exclude_accounts, role_name, external_id, workers, scheduler, replace_snapshots,
        options,
    )


def _scan_organization(
    profile: str | None,
    regions: tuple[str, ...],
    endpoint_url: str | None,
    snapshot_out: Path | None,
    ou: str | None,
    accounts: list[str] | None,
    exclude_accounts: list[str] | None,
    role_name: str,
    external_id: str | None,
    workers: int | None,
    scheduler: str | None,
    replace: bool,
    options: ReportOptions,
) -> None:
    from posture.cli.org_report import prepare_organization, run_organization, split_ids
    from posture.collectors.aws.collector import AwsTarget, make_session
    from posture.collectors.aws.organizations import discover
    from posture.model import Provider
    from posture.org.plan import Access, plan

    include, exclude = split_ids(accounts), split_ids(exclude_accounts)
    if not role_name.strip():
        raise ValueError("--role-name must not be empty")
    catalogue = prepare_organization(Provider.AWS, options, snapshot_out, replace)
    target = AwsTarget(profile=profile, endpoint_url=endpoint_url)
    org = discover(make_session(target), endpoint_url=endpoint_url,
                   region=target.default_region, ou=ou, include=include, exclude=exclude)
    access = Access(role_name=role_name.strip(), external_id=external_id, regions=regions,
                    endpoint_url=endpoint_url, default_region=target.default_region,
                    profile=profile)
    chosen = plan(org, access)
    if not chosen.tasks:
        raise ValueError(f"organization {org.id}: no ACTIVE account selected to scan")
    run_organization(chosen, catalogue, options, workers=workers, scheduler=scheduler,
                     snapshot_out=snapshot_out)
