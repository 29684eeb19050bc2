"""Shared plumbing of the AWS collector: clients, paginated calls, error capture.

Service modules (``ec2.py``, ``iam.py``, ...) follow the fetch → normalize split: a
``collect_<service>(scope: RegionScope) -> list[Asset]`` function does the I/O through
:meth:`RegionScope.call` / :meth:`RegionScope.paginate`, which record every failed call as a
:class:`CollectionError` and return ``None`` instead of raising, and pure ``normalize_*``
functions turn payloads into assets. Each service module declares the read-only IAM actions it
uses in a module constant ``PERMISSIONS``.

:class:`RegionScope` is a :class:`posture.collectors.runner.Scope`: recording errors and building
assets are the runner's; an asset or error that names no region is in the scope's region.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from posture.collectors.aws.retries import install as install_retries
from posture.collectors.retry import DEFAULT_BACKOFF, Backoff
from posture.collectors.runner import DETAIL_WORKERS as DETAIL_WORKERS
from posture.collectors.runner import ClientCache, Scope
from posture.collectors.runner import Payload as Payload
from posture.collectors.runner import parallel_map as parallel_map
from posture.collectors.runner import pick as pick
from posture.collectors.secrets import quiet_logger
from posture.model import GLOBAL, Asset, Provider

RETRY_CONFIG = Config(
    retries={"mode": "standard"},  # its handler is replaced: per-call retries (aws/retries.py)
    connect_timeout=10,
    read_timeout=60,
    max_pool_connections=32,
    user_agent_extra="posture",
)


def protect_logs() -> None:
    """botocore logs every raw response body at DEBUG (``botocore.parsers``); the bodies of
    DescribeInstanceAttribute, ListFunctions and DescribeTaskDefinition carry the very secrets
    posture must not write anywhere, so with debug logging on those records are dropped."""
    quiet_logger("botocore.parsers", "Response body")


@dataclass
class ClientFactory:
    """Creates boto3 clients from one session; session.client() is not thread-safe, so lock it.
    Every client retries each call on its own under ``backoff`` (:mod:`.retries`)."""

    session: boto3.session.Session
    endpoint_url: str | None = None
    config: Config = RETRY_CONFIG
    backoff: Backoff = DEFAULT_BACKOFF
    _clients: ClientCache[tuple[str, str], Any] = field(default_factory=ClientCache, repr=False)

    def client(self, service: str, region: str) -> Any:
        return self._clients.get((service, region), lambda: self._make(service, region))

    def _make(self, service: str, region: str) -> Any:
        client = self.session.client(
            service, region_name=region, endpoint_url=self.endpoint_url, config=self.config
        )
        if self.endpoint_url and service == "s3control":
            client.meta.events.register("before-sign.s3-control", self._drop_host_prefix)
        return install_retries(client, self.backoff)

    def _drop_host_prefix(self, request: Any, **_: Any) -> None:
        """S3 Control prefixes the host with the account id (``<acct>.<endpoint>``); a custom
        endpoint (moto, LocalStack) cannot resolve that name, so send it to the endpoint itself."""
        want = urlsplit(str(self.endpoint_url)).netloc
        parts = urlsplit(request.url)
        if parts.netloc != want and parts.netloc.endswith("." + want):
            request.url = urlunsplit(parts._replace(netloc=want))


@dataclass
class RegionScope(Scope):
    """One (account, region) being collected; records failures instead of raising."""

    provider: ClassVar[Provider] = Provider.AWS

    account: str
    region: str  # GLOBAL for global services; the API region is then ``api_region``
    clients: ClientFactory
    api_region: str = "us-east-1"
    partition: str = "aws"

    @property
    def owner(self) -> str:
        return self.account

    @property
    def home_region(self) -> str:
        return self.region

    @property
    def where(self) -> str:
        return self.region

    def client(self, service: str) -> Any:
        region = self.api_region if self.region == GLOBAL else self.region
        return self.clients.client(service, region)

    def call(
        self,
        service: str,
        operation: str,
        asset_types: tuple[str, ...],
        resource_uid: str | None = None,
        ok_codes: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Call ``operation`` (PascalCase API name). Returns the response, or ``None`` on failure.

        Error codes in ``ok_codes`` (e.g. ``NoSuchBucketPolicy``) are an answer, not a failure:
        the call returns ``{"__error_code__": code}`` without recording anything.
        """
        client = self.client(service)
        method = getattr(client, _snake(operation))
        try:
            response: dict[str, Any] = method(**kwargs)
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            code, message = _failure(exc)
            if isinstance(exc, ClientError) and code in ok_codes:
                return {"__error_code__": code}
            self.record(service, operation, code, message, asset_types, resource_uid=resource_uid)
            return None
        response.pop("ResponseMetadata", None)
        return response

    def paginate(
        self,
        service: str,
        operation: str,
        result_key: str,
        asset_types: tuple[str, ...],
        resource_uid: str | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]] | None:
        """All items of a paginated listing, or ``None`` if any page failed (partial = unknown)."""
        client = self.client(service)
        name = _snake(operation)
        items: list[dict[str, Any]] = []
        try:
            if client.can_paginate(name):
                for page in client.get_paginator(name).paginate(**kwargs):
                    items.extend(page.get(result_key, []))
            else:
                items.extend(getattr(client, name)(**kwargs).get(result_key, []))
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            code, message = _failure(exc)
            self.record(service, operation, code, message, asset_types, resource_uid=resource_uid)
            return None
        return items

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        reg = self.region if region is None else region
        reg = "" if reg == GLOBAL else reg
        return f"arn:{self.partition}:{service}:{reg}:{self.account}:{resource}"


def _failure(exc: Exception) -> tuple[str, str]:
    """(error code, message) of a failed botocore call."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "ClientError")), str(error.get("Message", "")) or str(exc)
    return type(exc).__name__, _first_line(exc)


def tag_map(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    """AWS ``[{"Key": k, "Value": v}]`` (any key case) to a dict."""
    out: dict[str, str] = {}
    for t in tags or []:
        key = t.get("Key", t.get("key", t.get("TagKey")))
        value = t.get("Value", t.get("value", t.get("TagValue", "")))
        if key is not None:
            out[str(key)] = "" if value is None else str(value)
    return out


def parse_policy(document: Any) -> dict[str, Any] | None:
    """A policy document as a dict: botocore already decodes IAM's URL-encoded documents; S3, KMS
    and Secrets Manager return JSON text. ``None`` stays ``None`` (no policy). Text that is not
    JSON (AWS validates policies, so this should not happen) is kept as ``{"Unparsed": text}``."""
    if document is None or isinstance(document, dict):
        return document
    text = str(document)
    for candidate in (text, unquote(text)):
        try:
            parsed = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {"Unparsed": text}


def name_from_tags(tags: dict[str, str], default: str) -> str:
    return tags.get("Name") or default


def ec2_asset(
    scope: RegionScope,
    type_: str,
    resource: str,
    id_: str,
    attrs: dict[str, Any],
    raw: dict[str, Any],
) -> Asset:
    """An EC2 asset whose uid is ``arn:…:ec2:<region>:<account>:<resource>``, named by its tag."""
    tags = tag_map(raw.get("Tags"))
    uid = scope.arn("ec2", resource)
    return scope.asset(uid, type_, name_from_tags(tags, id_), attrs, raw=raw, tags=tags)


def _snake(operation: str) -> str:
    return str(xform_name(operation))


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _first_line(exc: Exception) -> str:
    """An error's message without the multi-line payload some botocore errors carry."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def listed(
    scope: RegionScope,
    service: str,
    operation: str,
    key: str,
    type_: str,
    normalize: Callable[[RegionScope, Payload], Asset],
) -> list[Asset]:
    """One paginated listing, each item normalized; a failed listing is recorded against
    ``type_`` (and nothing of that type is returned)."""
    items = scope.paginate(service, operation, key, (type_,))
    return [normalize(scope, item) for item in items or []]
