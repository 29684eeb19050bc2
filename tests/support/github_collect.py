"""Collecting GitHub with the real client (PyGithub) from the loopback fake of the REST API
(:mod:`posture.demo.github_fake`): a token or a GitHub App installation, fast retries."""

from __future__ import annotations

import functools
from typing import Any

from posture.collectors.github.base import GithubTarget
from posture.collectors.github.collector import collect
from posture.demo.github_fake import TOKEN, FakeGithub
from posture.model import Inventory

FAST = {"seconds_between_requests": 0.0, "retry_backoff_factor": 0.01,
        "secondary_rate_wait": 0.01}
"""No pause between requests, retries 10 ms apart (a secondary rate limit included)."""


def fake_target(fake: FakeGithub, **fields: Any) -> GithubTarget:
    """The organisation ``acme`` of ``fake`` with its token, uids on ``github.com``; ``fields``
    override any GithubTarget field (``orgs=()``, ``repos=(...)``, ``web_host=None`` ...)."""
    values: dict[str, Any] = {"orgs": ("acme",), "api_url": fake.api_url, "token": TOKEN,
                              "web_host": "github.com", **FAST}
    values.update(fields)
    return GithubTarget(**values)


def collect_fake(fake: FakeGithub, **fields: Any) -> Inventory:
    return collect(fake_target(fake, **fields))


@functools.cache
def app_private_key() -> str:
    """A throwaway RSA key (PEM) to sign GitHub App JWTs with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
