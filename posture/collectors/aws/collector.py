"""The AWS collector: account and regions, then every service module concurrently.

Service modules live beside this file; each exposes ``collect(scope) -> list[Asset]`` and a
``PERMISSIONS`` tuple of read-only IAM actions. Regional modules run once per enabled region,
global ones once per account (their scope's region is ``global``). The jobs run on the shared
runner (:mod:`posture.collectors.runner`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from posture.collectors import runner
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.errors import CollectorError
from posture.model import ALL, GLOBAL, Inventory, Provider

REGIONAL_MODULES = (
    "ec2_network", "ec2", "elbv2", "rds", "kms", "secretsmanager", "cloudtrail", "peering",
    "ec2_snapshots", "flowlogs", "rds_data", "efs", "dynamodb", "acm", "awslambda", "ecs",
    "transit", "messaging",
    "ssm", "inspector", "ecr", "ami",
    "eks", "apigateway", "redshift", "elasticache", "opensearch",
)
GLOBAL_MODULES = ("iam", "iam_profiles", "s3", "cloudfront", "iam_certificates", "iam_providers",
                  "iam_report", "sso")
CORE_PERMISSIONS = ("sts:GetCallerIdentity", "ec2:DescribeRegions")
PACKAGE = "posture.collectors.aws"


@dataclass(frozen=True, slots=True)
class AwsTarget:
    """What to scan and how to connect. Credentials come from the standard boto3 chain."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    default_region: str = "us-east-1"
    max_workers: int = 16


def all_permissions() -> tuple[str, ...]:
    modules = REGIONAL_MODULES + GLOBAL_MODULES
    return tuple(sorted(set(CORE_PERMISSIONS) | runner.declared_permissions(PACKAGE, modules)))


def make_session(target: AwsTarget) -> boto3.session.Session:
    try:
        session = boto3.session.Session(profile_name=target.profile)
    except ProfileNotFound as exc:
        raise CollectorError(f"AWS profile not found: {exc.kwargs.get('profile')}") from None
    return session


def _identity(clients: ClientFactory, region: str) -> str:
    """The account id; fails fast (few retries) on missing credentials or a dead endpoint."""
    quick = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5,
                   read_timeout=30)
    try:
        sts = clients.session.client("sts", region_name=region, endpoint_url=clients.endpoint_url,
                                     config=quick)
        ident = sts.get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise CollectorError(
            "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY, or pass --profile)"
        ) from None
    except EndpointConnectionError as exc:
        raise CollectorError(f"cannot reach the AWS endpoint: {exc.kwargs.get('endpoint_url')}") \
            from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise CollectorError(
            f"AWS rejected the credentials ({err.get('Code')}: {err.get('Message')})"
        ) from None
    except (BotoCoreError, ValueError) as exc:
        raise CollectorError(f"cannot connect to AWS: {exc}") from None
    return str(ident["Account"])


def _regions(clients: ClientFactory, target: AwsTarget, scope: RegionScope) -> list[str]:
    """Enabled regions, or the requested ones after checking that they exist and are enabled."""
    try:
        resp = clients.client("ec2", target.default_region).describe_regions(AllRegions=True)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        if target.regions:
            scope.record("ec2", "DescribeRegions", code, "could not verify region opt-in status",
                         ("AWS::EC2::Region",))
            return list(target.regions)
        raise CollectorError(
            f"cannot list regions ({code}); pass the regions to scan with --region"
        ) from None
    except BotoCoreError as exc:
        raise CollectorError(f"cannot list regions: {exc}") from None
    status = {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required")
              for r in resp.get("Regions", [])}
    enabled = sorted(r for r, s in status.items() if s in ("opt-in-not-required", "opted-in"))
    if not target.regions:
        return enabled
    unknown = sorted(set(target.regions) - set(status))
    if unknown:
        raise CollectorError(
            f"unknown AWS region(s): {', '.join(unknown)} (known: {', '.join(sorted(status))})"
        )
    for region in sorted(set(target.regions) - set(enabled)):
        scope.record("ec2", "DescribeRegions", "RegionDisabled",
                     f"region {region} is not enabled for this account", (ALL,), region=region)
    return sorted(set(target.regions) & set(enabled))


def collect(
    target: AwsTarget,
    progress: runner.Progress | None = None,
    session: boto3.session.Session | None = None,
) -> Inventory:
    """Collect one AWS account. Raises :class:`CollectorError` only if nothing can be scanned.

    ``session`` overrides the credential chain (the demo and tests inject one).
    """
    started = runner.now()
    try:
        session = session or make_session(target)
        clients = ClientFactory(session=session, endpoint_url=target.endpoint_url)
        account = _identity(clients, target.default_region)
    except NoRegionError:
        raise CollectorError("no AWS region configured; pass --region") from None
    base = RegionScope(account=account, region=GLOBAL, clients=clients,
                       api_region=target.default_region)
    regions = _regions(clients, target, base)
    jobs = [
        runner.Job(name, RegionScope(account, GLOBAL, clients, api_region=target.default_region))
        for name in GLOBAL_MODULES
    ]
    jobs += [runner.Job(name, RegionScope(account, region, clients)) for region in regions
             for name in REGIONAL_MODULES]
    found = runner.run_jobs(PACKAGE, jobs, max_workers=target.max_workers, progress=progress)
    return runner.build_inventory(
        Provider.AWS,
        started=started,
        accounts=(account,),
        regions=regions,
        endpoint_url=target.endpoint_url,
        assets=found.assets,
        errors=(*base.errors, *found.errors),
    )


def policy_document() -> dict[str, Any]:
    """The scanner's own least-privilege, read-only IAM policy."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PostureReadOnly",
                "Effect": "Allow",
                "Action": list(all_permissions()),
                "Resource": "*",
            }
        ],
    }
