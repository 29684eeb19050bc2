"""Fixtures of the AWS collector tests: one boto3 session per module, and a client factory on
the reset moto server for each test."""

from __future__ import annotations

import boto3
import pytest
from support.collect import client_factory

from posture.collectors.aws.base import ClientFactory


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    """One session for the module: a new one re-parses the service models (~0.3 s for EC2)."""
    return boto3.session.Session()


@pytest.fixture
def factory(session: boto3.session.Session, moto_endpoint: str) -> ClientFactory:
    """Clients of this module's session on the moto server, reset for the test."""
    return client_factory(moto_endpoint, session)
