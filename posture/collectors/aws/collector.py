"""The AWS collector: account and regions, then every service module concurrently.

Service modules live beside this file; each exposes ``collect(scope) -> list[Asset]`` and a
``PERMISSIONS`` tuple of read-only IAM actions. Regional modules run once per enabled region,
global ones once per account (their scope's region is ``global``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from types import ModuleType
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

from posture import __version__
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.errors import CollectorError
from posture.model import ALL, GLOBAL, Asset, CollectionError, Inventory, Provider, ScanMeta

REGIONAL_MODULES = (
    "ec2_network", "ec2", "elbv2", "rds", "kms", "secretsmanager", "cloudtrail", "peering",
    "ec2_snapshots", "flowlogs", "rds_data", "efs", "dynamodb", "acm", "awslambda", "ecs",
    "transit", "messaging",
)
GLOBAL_MODULES = ("iam", "s3", "cloudfront", "iam_certificates")
CORE_PERMISSIONS = ("sts:GetCallerIdentity", "ec2:DescribeRegions")

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AwsTarget:
    """What to scan and how to connect. Credentials come from the standard boto3 chain."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    default_region: str = "us-east-1"
    max_workers: int = 16


def service_module(name: str) -> ModuleType:
    return importlib.import_module(f"posture.collectors.aws.{name}")


def all_permissions() -> tuple[str, ...]:
    actions = set(CORE_PERMISSIONS)
    for name in REGIONAL_MODULES + GLOBAL_MODULES:
        actions.update(getattr(service_module(name), "PERMISSIONS", ()))
    return tuple(sorted(actions))


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
        scope.errors.append(
            CollectionError(Provider.AWS, scope.account, region, "ec2", "DescribeRegions",
                            "RegionDisabled", f"region {region} is not enabled for this account",
                            (ALL,))
        )
    return sorted(set(target.regions) & set(enabled))


def _run_module(name: str, scope: RegionScope) -> list[Asset]:
    module = service_module(name)
    try:
        assets: list[Asset] = module.collect(scope)
    except Exception as exc:  # a module let an error escape: record it, keep the scan going
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        scope.record(name, "collect", type(exc).__name__, message, (ALL,))
        return []
    return assets


def collect(
    target: AwsTarget,
    progress: Progress | None = None,
    session: boto3.session.Session | None = None,
) -> Inventory:
    """Collect one AWS account. Raises :class:`CollectorError` only if nothing can be scanned.

    ``session`` overrides the credential chain (the demo and tests inject one).
    """
    started = _now()
    try:
        session = session or make_session(target)
        clients = ClientFactory(session=session, endpoint_url=target.endpoint_url)
        account = _identity(clients, target.default_region)
    except NoRegionError:
        raise CollectorError("no AWS region configured; pass --region") from None
    base = RegionScope(account=account, region=GLOBAL, clients=clients,
                       api_region=target.default_region)
    regions = _regions(clients, target, base)
    jobs: list[tuple[str, RegionScope]] = [
        (name, RegionScope(account, GLOBAL, clients, api_region=target.default_region))
        for name in GLOBAL_MODULES
    ]
    jobs += [(name, RegionScope(account, region, clients)) for region in regions
             for name in REGIONAL_MODULES]
    assets: list[Asset] = []
    errors: list[CollectionError] = list(base.errors)
    with ThreadPoolExecutor(max_workers=target.max_workers) as pool:
        futures = {pool.submit(_run_module, name, scope): (name, scope) for name, scope in jobs}
        for future in as_completed(futures):
            name, scope = futures[future]
            assets.extend(future.result())
            errors.extend(scope.errors)
            if progress:
                progress(f"{name} {scope.region}")
    meta = ScanMeta(
        scan_id=str(uuid.uuid4()),
        provider=Provider.AWS,
        tool_version=__version__,
        started_at=started,
        finished_at=_now(),
        accounts=(account,),
        regions=tuple(regions),
        endpoint_url=target.endpoint_url,
    )
    return Inventory(meta=meta, assets=tuple(_dedupe(assets)), errors=tuple(errors))


def _dedupe(assets: Sequence[Asset]) -> list[Asset]:
    seen: dict[str, Asset] = {}
    for a in assets:
        seen.setdefault(a.uid, a)
    return list(seen.values())


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def jobs_count(target: AwsTarget, regions: Sequence[str]) -> int:
    return len(GLOBAL_MODULES) + len(regions) * len(REGIONAL_MODULES)


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
