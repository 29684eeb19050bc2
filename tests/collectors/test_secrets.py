"""The provider-neutral plaintext-secret scanner (posture.collectors.secrets): verdicts only,
named values, public SSH keys, signed URLs, base64 scripts and the SDK log filter."""

from __future__ import annotations

import base64
import gzip
import logging

import pytest

from posture.collectors.secrets import (
    REDACTED,
    decode_base64_text,
    fingerprint,
    quiet_logger,
    redact_name_values,
    scan_text,
    scan_values,
)

SECRET = "Zq7vT3xK9mW2pL8r"
SSH_KEYS = (
    "alice:ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDhA8Ww3OLJ5yC1N9kXKb8C0H4m2l3eWq5bW1p0Pq"
    "VdJf3tRk8vG2Yh7sN6uLxZa9cQe4wPjT1oF5mB2nK8iU3rS0yX6vE7zD4hA9bC1gM5lP2qW8tY3uR6oI0pN7jK4f"
    "H5dS2aZ9xC8vB1nM3lK6jH0gF4dS7aQ2wE9rT5yU1iO8pL3kJ6hG0fD4sA7zX2cV5bN9mQ1wE8rT4y alice@laptop\n"
    "bob:ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEm3hQx7pZ1vG5k"
    "TqW9yR2sC4nL8uJ0aF6dH3iM1oE7bX5cV9gY2tK4wP8rN6jS0lA3qZ1xB7mD5fU9hT2eR4k= bob@ci"
)
SAS = (
    "https://st.blob.core.windows.net/c/install.sh?sv=2022-11-02&sp=r&se=2026-12-31T00:00:00Z"
    "&sig=k3Jf8%2FqP0xN2aZ7vL9mR4tW1yB6cD5eH8gK0sU3oI2Q%3D"
)


def test_scan_values_names_the_key_and_the_line_and_never_the_value() -> None:
    values = {
        "startup-script": f"#!/bin/bash\napt-get install -y nginx\nexport DB_PASSWORD={SECRET}\n",
        "db-password": SECRET,  # a one-line value: the key name counts (key=value)
        "enable-oslogin": "TRUE",
        "ssh-keys": SSH_KEYS,
    }
    hits = scan_values(values, "acme-prod")
    assert [(h["key"], h["type"], h["line"]) for h in hits] == [
        ("db-password", "Secret Keyword", None),
        ("startup-script", "Secret Keyword", 3),
    ]
    assert {h["fingerprint"] for h in hits} == {fingerprint(SECRET, "acme-prod")}
    assert SECRET not in repr(hits)


def test_public_ssh_keys_are_not_secrets() -> None:
    assert scan_values({"ssh-keys": SSH_KEYS}, "p") == []
    assert scan_text(SSH_KEYS, "p") == []


def test_fingerprints_are_keyed_per_account() -> None:
    [prod] = scan_text(f"DB_PASSWORD={SECRET}", "acme-prod")
    [dev] = scan_text(f"DB_PASSWORD={SECRET}", "acme-dev")
    assert prod["fingerprint"] != dev["fingerprint"]
    assert len(prod["fingerprint"]) == 8


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"curl -o install.sh '{SAS}'", "Azure Storage SAS Token"),
        (
            "gsutil cp 'https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256"
            "&X-Goog-Signature=8f2a0c9d4e1b7f3a' .",
            "Cloud Storage Signed URL",
        ),
        (
            "wget https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abcdef12",
            "S3 Pre-signed URL",
        ),
    ],
)
def test_signed_url_signatures_are_secrets(text: str, kind: str) -> None:
    [hit] = scan_text(text, "p")
    assert (hit["type"], hit["line"]) == (kind, 1)


def test_a_sig_parameter_alone_is_not_a_sas_token() -> None:
    assert scan_text("see https://example.com/page?sig=abc for the signature", "p") == []


def test_base64_scripts_are_decoded_strictly_or_left_alone() -> None:
    script = f"#!/bin/sh\nexport DB_PASSWORD={SECRET}\n"
    assert decode_base64_text(base64.b64encode(script.encode()).decode(), strict=True) == script
    zipped = base64.b64encode(gzip.compress(script.encode())).decode()
    assert decode_base64_text(zipped) == script
    plain = "#!/bin/sh\necho hello\n"
    assert decode_base64_text(plain, strict=True) == plain
    binary = base64.b64encode(b"\xff\xfe\x00\x81").decode()
    assert decode_base64_text(binary, strict=True) == binary


def test_redact_name_values_keeps_the_names() -> None:
    items = [{"key": "startup-script", "value": SECRET}, {"key": "empty"}]
    assert redact_name_values(items) == [
        {"key": "startup-script", "value": REDACTED},
        {"key": "empty"},
    ]


def test_quiet_logger_drops_response_bodies_only(caplog: pytest.LogCaptureFixture) -> None:
    name = "posture.tests.sdk.transport"
    quiet_logger(name, "Received response")
    quiet_logger(name, "Received response")  # idempotent
    assert len(logging.getLogger(name).filters) == 1
    with caplog.at_level(logging.DEBUG, logger=name):
        logger = logging.getLogger(name)
        logger.debug("Received response for X", extra={"httpResponse": {"payload": SECRET}})
        logger.debug("Sending request for X")
    assert [r.getMessage() for r in caplog.records] == ["Sending request for X"]
