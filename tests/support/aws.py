"""Builders for small AWS inventories (attrs as in docs/aws-assets.md); boto3 on the moto server."""

from __future__ import annotations

import os
import urllib.request
from typing import Any

from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider

from .model import asset_of, error_of, inventory_of, scan_meta

ACCOUNT = "123456789012"


def aws_arn(service: str, resource: str, region: str = "us-east-1") -> str:
    """The ARN of ``resource`` (``key/k-1``, ``db:orders``) of ``service`` in the test account."""
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def reset_moto(endpoint: str) -> str:
    """Reset the moto server at ``endpoint`` to an empty account; return the endpoint."""
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=30):
        pass
    return endpoint


def client(service: str, endpoint: str, region: str = "us-east-1") -> Any:
    import boto3  # here, not above: the benchmarks build assets with this module, without boto3

    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )


def asset(
    type_: str,
    uid: str,
    name: str | None = None,
    region: str = "us-east-1",
    account: str = ACCOUNT,
    tags: dict[str, str] | None = None,
    **attrs: Any,
) -> Asset:
    """A hand-built AWS asset for check tests (attrs as in docs/aws-assets.md)."""
    name = name or uid.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return asset_of(Provider.AWS, type_, uid, account=account, region=region, name=name,
                    tags=tags, attrs=attrs)


def inventory(
    *assets: Asset,
    errors: tuple[CollectionError, ...] = (),
    regions: tuple[str, ...] = ("us-east-1",),
) -> Inventory:
    return inventory_of(scan_meta(Provider.AWS, (ACCOUNT,), regions), assets, errors)


def collection_error(
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
    region: str = "us-east-1",
    resource_uid: str | None = None,
    code: str = "AccessDenied",
) -> CollectionError:
    return error_of(
        Provider.AWS, ACCOUNT, service, operation, asset_types,
        code=code, message="User is not authorized to perform this operation",
        region=region if region else GLOBAL, resource_uid=resource_uid,
    )
