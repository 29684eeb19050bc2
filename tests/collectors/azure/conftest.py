"""Fixtures of the Azure collector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from posture.demo.azure_fake import FakeArm


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeArm]:
    """A fresh loopback HTTPS fake of ARM and its token endpoint (throw-away CA in tmp_path)."""
    with FakeArm(tmp_path / "tls") as server:
        yield server
