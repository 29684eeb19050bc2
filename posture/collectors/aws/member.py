"""Sessions into member accounts of an organisation, through a role the scanner assumes.

What this module guarantees:

- :func:`member_session` makes no API call: it returns a boto3 session whose credentials are
  fetched by ``sts:AssumeRole`` (with the base session's own credentials, whatever they are: keys,
  SSO, or a profile that itself chains roles) on first use, and fetched again before they
  expire, so a scan longer than the role session keeps working. A role that cannot be assumed
  surfaces at first use as botocore's ``ClientError`` (operation ``AssumeRole``);
  :func:`check_access` turns that into a one-line :class:`~posture.errors.CollectorError`.
- STS is called on the regional endpoint of ``region`` even when the caller's configuration asks
  for the legacy global one (``sts_regional_endpoints = legacy``); with ``endpoint_url`` every
  call, STS included, goes to that endpoint (emulators).
- Credentials are never logged, stored on disk or put in an error message; they live only in the
  returned session's memory.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from posture.collectors.aws.retries import CREDENTIAL_CODES, install
from posture.collectors.retry import DEFAULT_BACKOFF, Backoff
from posture.errors import CollectorError

STS_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=10,
                    read_timeout=30, user_agent_extra="posture")
QUICK = Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=30,
               user_agent_extra="posture")  # retried per call (aws/retries.py)
METHOD = "posture-assume-role"
"""The ``method`` of the member credentials (botocore's label for where credentials came from)."""


def role_arn(account_id: str, role_name: str = "PostureAudit", partition: str = "aws") -> str:
    """``arn:{partition}:iam::{account}:role/{role_name}``; the name may carry a path
    (``audit/PostureAudit``)."""
    return f"arn:{partition}:iam::{account_id}:role/{role_name.strip('/')}"


class _Refreshing(DeferredRefreshableCredentials):
    """Deferred refreshable credentials whose refresh windows scale with the session length.

    botocore refreshes 15 minutes (advisory) and 10 minutes (mandatory) before expiry: with a
    15-minute role session that would assume the role again on every request. Here the windows
    are those defaults for sessions of an hour or more, and a quarter / a sixth of the session
    for shorter ones.
    """

    def __init__(self, fetch: Any, duration_seconds: int) -> None:
        super().__init__(refresh_using=fetch, method=METHOD)
        self._advisory_refresh_timeout = min(15 * 60, duration_seconds // 4)
        self._mandatory_refresh_timeout = min(10 * 60, duration_seconds // 6)


class _AssumeRoleProvider(CredentialProvider):
    """The only credential provider of a member session; knows which role it assumes."""

    METHOD = METHOD
    CANONICAL_NAME = "posture-member"

    def __init__(self, credentials: _Refreshing, role_arn: str, account_id: str) -> None:
        super().__init__()
        self.credentials = credentials
        self.role_arn = role_arn
        self.account_id = account_id

    def load(self) -> _Refreshing:
        return self.credentials


def _sts_client(base: boto3.session.Session, region: str, endpoint_url: str | None) -> Any:
    """STS of the base session on the regional endpoint of ``region`` (or on ``endpoint_url``)."""
    client = base.client("sts", region_name=region, endpoint_url=endpoint_url, config=STS_CONFIG)
    if endpoint_url is None and urlsplit(client.meta.endpoint_url).hostname == "sts.amazonaws.com":
        regional = f"https://sts.{region}.amazonaws.com"
        client = base.client("sts", region_name=region, endpoint_url=regional, config=STS_CONFIG)
    return client


def member_session(
    base: boto3.session.Session,
    account_id: str,
    *,
    role_name: str = "PostureAudit",
    external_id: str | None = None,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    partition: str = "aws",
    session_name: str = "posture-audit",
    duration_seconds: int = 3600,
) -> boto3.session.Session:
    """A session acting as ``role_name`` in ``account_id``, assumed with ``base``'s credentials.

    No call is made here; the first client call assumes the role, and later ones assume it
    again shortly before the credentials expire.
    """
    arn = role_arn(account_id, role_name, partition)
    sts = _sts_client(base, region, endpoint_url)
    params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": session_name,
                              "DurationSeconds": duration_seconds}
    if external_id:
        params["ExternalId"] = external_id

    def fetch() -> dict[str, str]:
        creds = sts.assume_role(**params)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    provider = _AssumeRoleProvider(_Refreshing(fetch, duration_seconds), arn, account_id)
    profile = base.profile_name if base.profile_name != "default" else None
    core = botocore.session.Session(profile=profile)
    core.register_component("credential_provider", CredentialResolver(providers=[provider]))
    return boto3.session.Session(botocore_session=core, region_name=region)


def assumed_role(session: boto3.session.Session) -> tuple[str, str] | None:
    """``(role arn, account id)`` of a session made by :func:`member_session`, else ``None``."""
    resolver = session._session.get_component("credential_provider")
    for provider in getattr(resolver, "providers", ()):
        if isinstance(provider, _AssumeRoleProvider):
            return provider.role_arn, provider.account_id
    return None


def check_access(session: boto3.session.Session, region: str = "us-east-1",
                 endpoint_url: str | None = None, backoff: Backoff = DEFAULT_BACKOFF) -> str:
    """The account id the session acts in (``sts:GetCallerIdentity``, retried under
    ``backoff``); a failure, the role assumption's included, raises :class:`CollectorError` with
    a one-line reason that blames the credentials only when AWS refused them."""
    role = assumed_role(session)
    who = f"{role[0].split(':role/', 1)[1]} in {role[1]}" if role else "the AWS credentials"
    try:
        sts = session.client("sts", region_name=region, endpoint_url=endpoint_url, config=QUICK)
        return str(install(sts, backoff).get_caller_identity()["Account"])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        lines = str(error.get("Message", "")).strip().splitlines()
        detail = f"{error.get('Code', 'ClientError')}: {lines[0] if lines else ''}".rstrip(": ")
        if role and exc.operation_name == "AssumeRole":
            raise CollectorError(f"cannot assume {who} ({detail})") from None
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if str(error.get("Code")) not in CREDENTIAL_CODES and (status >= 500 or status == 429):
            raise CollectorError(f"AWS STS did not answer for {who} ({detail}, HTTP {status}): "
                                 "not a credential problem; try again later") from None
        raise CollectorError(f"AWS rejected {who} ({detail})") from None
    except (NoCredentialsError, PartialCredentialsError):
        raise CollectorError(f"no AWS credentials to reach {who}") from None
    except EndpointConnectionError as exc:
        raise CollectorError(f"cannot reach the AWS endpoint for {who}: "
                             f"{exc.kwargs.get('endpoint_url')}") from None
    except (BotoCoreError, ValueError) as exc:
        text = str(exc).strip().splitlines()
        raise CollectorError(f"cannot use {who}: {text[0] if text else type(exc).__name__}") \
            from None
