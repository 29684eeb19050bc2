"""Shared fixtures: a real moto server on loopback, and builders for small inventories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider, ScanMeta

ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch a real AWS account: fake keys, no shared config files."""
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server (HTTP, 127.0.0.1, random port) for the whole test session.

    Tests that use it must reset it (``moto_reset``) or use distinct resource names.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port  # type: ignore[attr-defined]
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """The moto server, reset to an empty account before the test."""
    import urllib.request

    req = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=30):
        pass
    return moto_server


def client(service: str, endpoint: str, region: str = "us-east-1") -> Any:
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
    return Asset(
        uid=uid,
        provider=Provider.AWS,
        type=type_,
        account=account,
        region=region,
        name=name or uid.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
        tags=tags or {},
        attrs=attrs,
    )


def inventory(
    *assets: Asset,
    errors: tuple[CollectionError, ...] = (),
    regions: tuple[str, ...] = ("us-east-1",),
) -> Inventory:
    meta = ScanMeta(
        scan_id="test-scan",
        provider=Provider.AWS,
        tool_version="test",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        accounts=(ACCOUNT,),
        regions=regions,
    )
    return Inventory(meta=meta, assets=tuple(assets), errors=errors)


def collection_error(
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
    region: str = "us-east-1",
    resource_uid: str | None = None,
    code: str = "AccessDenied",
) -> CollectionError:
    return CollectionError(
        provider=Provider.AWS,
        account=ACCOUNT,
        region=region if region else GLOBAL,
        service=service,
        operation=operation,
        code=code,
        message="User is not authorized to perform this operation",
        asset_types=asset_types,
        resource_uid=resource_uid,
    )
