"""The loopback fake of the GitHub REST API (posture.demo.github_fake), one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from posture.demo.github_fake import FakeGithub, serving


@pytest.fixture(scope="module")
def github_fake() -> Iterator[FakeGithub]:
    with serving() as running:
        yield running


@pytest.fixture
def fresh_fake() -> Iterator[FakeGithub]:
    """A fake of its own (a test that changes routes or counts requests from zero)."""
    with serving() as running:
        yield running
