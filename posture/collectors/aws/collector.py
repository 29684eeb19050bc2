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
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.parsers import ResponseParserError

from posture.collectors import runner
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.collectors.aws.retries import CREDENTIAL_CODES, attempts_made
from posture.collectors.retry import DEFAULT_BACKOFF, Backoff
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
    backoff: Backoff = DEFAULT_BACKOFF  # per-call retries of every API call (collectors/retry.py)


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
    """The account id (``sts:GetCallerIdentity``, retried like every other call). Only AWS's
    refusal of the credentials themselves is blamed on them (:data:`CREDENTIAL_CODES`); a
    throttle, a 5xx or dropped connections that outlast the retries say what they are."""
    try:
        ident = clients.client("sts", region).get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise CollectorError(
            "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY, or pass --profile)"
        ) from None
    except EndpointConnectionError as exc:
        raise CollectorError(f"cannot reach the AWS endpoint: {exc.kwargs.get('endpoint_url')}") \
            from None
    except ClientError as exc:
        raise _probe_failed(exc, clients.endpoint_url) from None
    except (ResponseParserError, KeyError):  # botocore could not read the answer (a web page)
        raise _not_aws(clients.endpoint_url, "its answer is not an AWS response") from None
    except (BotoCoreError, ValueError) as exc:
        raise CollectorError(f"cannot connect to AWS: {exc}") from None
    if not ident.get("Account"):
        raise _not_aws(clients.endpoint_url, "sts:GetCallerIdentity named no account")
    return str(ident["Account"])


def _probe_failed(exc: ClientError, endpoint_url: str | None) -> CollectorError:
    """The one-line reason a failed ``sts:GetCallerIdentity`` stops the scan."""
    err = exc.response.get("Error", {})
    code, message = str(err.get("Code") or ""), str(err.get("Message") or "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if not code or code == str(status):  # an HTTP error without an AWS error document
        return _not_aws(endpoint_url, f"HTTP {status}, no AWS error")
    if code in CREDENTIAL_CODES:
        return CollectorError(f"AWS rejected the credentials ({code}: {message})")
    tries = attempts_made(exc.response)
    if status >= 500 or status == 429 or tries > 1:
        return CollectorError(
            f"AWS STS did not answer sts:GetCallerIdentity ({code}: {message}, HTTP {status}, "
            f"{tries} attempt(s)): a fault or throttling on AWS's side, not a credential "
            "problem; try again later"
        )
    return CollectorError(f"AWS refused sts:GetCallerIdentity ({code}: {message})")


def _not_aws(endpoint_url: str | None, detail: str) -> CollectorError:
    where = endpoint_url or "the AWS endpoint"
    return CollectorError(f"{where} does not answer like AWS ({detail}): check --endpoint-url")


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
        clients = ClientFactory(session=session, endpoint_url=target.endpoint_url,
                                backoff=target.backoff)
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
