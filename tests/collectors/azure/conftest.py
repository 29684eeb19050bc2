"""Fixtures of the Azure collector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.azure_collect import collect_fresh

from posture.demo.azure_fake import FakeArm
from posture.model import Inventory


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeArm]:
    """A fresh loopback HTTPS fake of ARM and its token endpoint (throw-away CA in tmp_path)."""
    with FakeArm(tmp_path / "tls") as server:
        yield server


@pytest.fixture(scope="session")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    """The demo subscriptions collected once from a fresh fake (ARM only; read-only: a test
    that needs Graph or its own faults defines its own ``estate`` or uses ``fake``)."""
    return collect_fresh(tmp_path_factory.mktemp("tls"))
