"""Plaintext-secret detection in instance user data and environment variables (detect-secrets).

The collector runs the detector where the text is read and keeps only the detector's verdicts:
the secret's type, where it is (variable name or line number) and a short keyed fingerprint. The
value itself never leaves this module: it is not stored in the snapshot, not logged and not put
into an error message. Callers drop the scanned text from the asset's ``raw`` payload.

The fingerprint is the first 8 hex digits of HMAC-SHA256(key, value), where the key is derived
from the account id and the optional ``POSTURE_FINGERPRINT_KEY`` environment variable: the same
secret gives the same fingerprint wherever it appears in one account (so a reviewer can tell that
the password in a Lambda function and in a user-data script is the same one), and 32 bits of a
keyed hash do not help anyone recover the value.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import default_settings

FINGERPRINT_KEY_ENV = "POSTURE_FINGERPRINT_KEY"
REDACTED = "<redacted by posture>"

# detect-secrets picks its keyword rules by file name; the YAML/config rules accept unquoted
# ``KEY=value`` and ``key: value`` assignments, as written in shell scripts and env files.
_VIRTUAL_FILE = "posture-scan.yaml"

# detect-secrets keeps its plugin/filter settings in process-wide caches: one scan at a time.
_LOCK = threading.Lock()

Hit = dict[str, Any]


class _DropResponseBodies(logging.Filter):
    """botocore logs every raw response body at DEBUG (``botocore.parsers``); the bodies of
    DescribeInstanceAttribute, ListFunctions and DescribeTaskDefinition carry the very secrets
    posture must not write anywhere, so with debug logging on those records are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Response body")


_BODY_FILTER = _DropResponseBodies()


def protect_logs() -> None:
    """Install the response-body filter on botocore's parser logger (idempotent)."""
    logger = logging.getLogger("botocore.parsers")
    if _BODY_FILTER not in logger.filters:
        logger.addFilter(_BODY_FILTER)


def fingerprint(value: str, account: str) -> str:
    """First 8 hex digits of a keyed SHA-256 of ``value`` (never the value itself)."""
    key = f"posture-secret-fingerprint/{account}/{os.environ.get(FINGERPRINT_KEY_ENV, '')}"
    return hmac.new(key.encode(), value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:8]


@contextmanager
def _detector() -> Iterator[None]:
    with _LOCK, default_settings():
        yield


def _scan_lines(lines: list[tuple[int, str]], account: str) -> list[tuple[int, str, str]]:
    """(line number, secret type, fingerprint) of every finding, deduplicated."""
    found: set[tuple[int, str, str]] = set()
    with _detector():
        for secret in _process_line_based_plugins(lines=lines, filename=_VIRTUAL_FILE):
            value = secret.secret_value or ""
            found.add((int(secret.line_number), str(secret.type), fingerprint(value, account)))
    return sorted(found)


def scan_text(text: str, account: str) -> list[Hit]:
    """Findings in a script or document: ``[{type, key: null, line, fingerprint}]``."""
    lines = list(enumerate(text.splitlines(), start=1))
    if not lines:
        return []
    return [
        {"type": kind, "key": None, "line": line, "fingerprint": fp}
        for line, kind, fp in _scan_lines(lines, account)
    ]


def scan_variables(variables: Mapping[str, Any], account: str) -> list[Hit]:
    """Findings in environment variables: ``[{type, key (the variable name), line: null,
    fingerprint}]``. Each variable is scanned as a ``NAME=value`` assignment, so the detector's
    keyword rules see the name (``DB_PASSWORD=...``) as well as the value."""
    names = sorted(str(k) for k in variables)
    lines = [
        (i, f"{name}={variables[name]}")
        for i, name in enumerate(names, start=1)
        if variables[name] is not None
    ]
    if not lines:
        return []
    return [
        {"type": kind, "key": names[line - 1], "line": None, "fingerprint": fp}
        for line, kind, fp in _scan_lines(lines, account)
    ]


def redact_variables(variables: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The variable names with every value replaced: what ``raw`` may keep."""
    if variables is None:
        return None
    return {str(k): REDACTED for k in sorted(variables, key=str)}


def redact_name_values(entries: Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """ECS-style ``[{name, value}]`` with every value replaced."""
    return [{**dict(e), "value": REDACTED} if "value" in e else dict(e) for e in entries or []]
