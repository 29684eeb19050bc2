"""``posture demo``: an embedded AWS emulator (moto's server on 127.0.0.1), a small but realistic
account with deliberate misconfigurations, scanned by the real collector over HTTP.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import boto3

from posture.collectors.aws.collector import AwsTarget, collect
from posture.demo.account import build_account as _build
from posture.demo.identity_center import emulate_missing_apis
from posture.model import Inventory

DEMO_REGIONS = ("us-east-1", "eu-west-1")
DEMO_KEY = "demo"  # moto accepts any credentials; these never leave the machine


def demo_session() -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=DEMO_KEY, aws_secret_access_key=DEMO_KEY, region_name=DEMO_REGIONS[0]
    )


@contextmanager
def running_emulator() -> Iterator[str]:
    """Start moto's server in-process on a free loopback port; yield its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        port = server._server.server_port  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        # moto's backends are process-wide: start from an empty account even if this process
        # has used moto before (an embedding program, a test session)
        request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass
        yield url
    finally:
        server.stop()


def build_account(endpoint: str) -> None:
    _build(demo_session(), endpoint)


def scan(endpoint: str, progress: Callable[[str], None] | None = None) -> Inventory:
    target = AwsTarget(regions=DEMO_REGIONS, endpoint_url=endpoint, max_workers=8)
    session = demo_session()
    emulate_missing_apis(session)
    return collect(target, progress=progress, session=session)
