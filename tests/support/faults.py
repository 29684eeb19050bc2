"""Fault injection for collector tests, through botocore's own event system.

A ``before-call`` handler that returns ``(http_response, parsed)`` replaces the HTTP round trip;
botocore then raises ``ClientError`` for a status >= 300 exactly as it would for a real reply, so
the collector's error handling runs unchanged. Handlers are registered on the cached client of a
:class:`ClientFactory`, so only the collector under test sees them.

``deny`` answers 403 with any code (optionally only for some parameters), ``refuse`` answers the
way AWS does when IAM denies the auditor (for JSON-protocol services whose denial moto answers in
a body botocore cannot parse), ``respond`` answers an operation moto does not implement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

from posture.collectors.aws.base import ClientFactory, RegionScope

from .collect import AUDITOR, scope


@dataclass
class FakeHttp:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)


def _event(factory: ClientFactory, service: str, operation: str, region: str) -> tuple[Any, str]:
    client = factory.client(service, region)
    service_id = client.meta.service_model.service_id.hyphenize()
    return client, f"before-call.{service_id}.{operation}"


def deny(
    factory: ClientFactory,
    service: str,
    operation: str,
    region: str = "us-east-1",
    code: str = "AccessDenied",
    when: dict[str, Any] | None = None,
) -> None:
    """Make ``operation`` fail with ``code`` (only for calls whose params include ``when``)."""
    client, event = _event(factory, service, operation, region)

    def handler(params: dict[str, Any], **_: Any) -> tuple[FakeHttp, dict[str, Any]] | None:
        sent = params.get("body")
        body = sent if isinstance(sent, dict) else {}
        if when and any(body.get(k) != v for k, v in when.items()):
            return None
        error = {"Code": code, "Message": f"User is not authorized to perform {operation}"}
        return FakeHttp(403), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    client.meta.events.register(event, handler)


def respond(
    factory: ClientFactory,
    service: str,
    operation: str,
    parsed: dict[str, Any],
    region: str = "us-east-1",
) -> None:
    """Answer ``operation`` with ``parsed`` (for operations the moto server does not implement)."""
    client, event = _event(factory, service, operation, region)

    def handler(**_: Any) -> tuple[FakeHttp, dict[str, Any]]:
        return FakeHttp(200), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}

    client.meta.events.register(event, handler)


def refuse(
    clients: ClientFactory, service: str, region: str, operation: str,
    code: str = "AccessDeniedException",
) -> None:
    """Make ``operation`` on ``clients``' client answer like AWS when IAM denies the call."""
    api, event = _event(clients, service, operation, region)
    message = (f"User: arn:aws:iam::123456789012:user/{AUDITOR} is not authorized to perform: "
               f"{api.meta.service_model.signing_name}:{operation}")

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"Error": {"Code": code, "Message": message},
                  "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://denied.invalid/", 400, {}, None), parsed

    api.meta.events.register(event, answer)


def refused_scope(
    endpoint: str, service: str, *operations: str, region: str = "us-east-1"
) -> RegionScope:
    """A scope in ``region`` on the moto server at ``endpoint`` whose ``service`` client is
    refused ``operations`` (:func:`refuse`)."""
    sc = scope(endpoint, region=region)
    for operation in operations:
        refuse(sc.clients, service, region, operation)
    return sc


def refusals(
    service: str, operation: str, asset_types: tuple[str, ...],
    uids: Iterable[str | None] = (None,), region: str = "us-east-1",
) -> set[tuple[object, ...]]:
    """The :func:`~support.collect.error_keys` a collector records when :func:`refuse` refuses
    ``operation``: one per resource of ``uids`` (None: a listing, recorded against the type)."""
    return {(region, service, operation, "AccessDeniedException", asset_types, uid)
            for uid in uids}
