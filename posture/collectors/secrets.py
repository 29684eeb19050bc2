"""Plaintext-secret detection for every cloud: instance user data and metadata, extension
settings, environment variables (detect-secrets, plus signed-URL signatures).

The collector runs the detector where the text is read and keeps only the detector's verdicts:
the secret's type, where it is (key or variable name, line number) and a short keyed
fingerprint. The value itself never leaves this module: it is not stored in the snapshot, not
logged and not put into an error message. Callers drop the scanned text from the asset's ``raw``
payload (:data:`REDACTED` in its place) and silence the SDK loggers that would print the API's
response bodies (:func:`quiet_logger`).

The fingerprint is the first 8 hex digits of HMAC-SHA256(key, value), where the key is derived
from the account (AWS account id, GCP project id, Azure subscription id) and the optional
``POSTURE_FINGERPRINT_KEY`` environment variable: the same secret gives the same fingerprint
wherever it appears in one account (so a reviewer can tell that the password in a Lambda function
and in a user-data script is the same one), and 32 bits of a keyed hash do not help anyone
recover the value.

Besides detect-secrets' own detectors, the signature of a signed URL is reported: an Azure
Storage SAS token (``sig=`` with ``sv=``/``se=``), a Cloud Storage signed URL
(``X-Goog-Signature``) or an S3 pre-signed URL (``X-Amz-Signature``) grants whoever reads it the
access it was signed for, as CustomScript ``fileUris`` and startup scripts often show.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hashlib
import hmac
import logging
import os
import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

FINGERPRINT_KEY_ENV = "POSTURE_FINGERPRINT_KEY"
REDACTED = "<redacted by posture>"
MAX_TEXT = 1 << 20  # decoded bytes scanned at most per value

# detect-secrets picks its keyword rules by file name; the YAML/config rules accept unquoted
# ``KEY=value`` and ``key: value`` assignments, as written in shell scripts and env files.
_VIRTUAL_FILE = "posture-scan.yaml"

# detect-secrets keeps its plugin/filter settings in process-wide caches: one scan at a time.
_LOCK = threading.Lock()

_URL = re.compile(r"https?://[^\s\"'<>`]+")
_SIGNED = (  # (query parameter, other parameters of which one must be present, type)
    ("sig", ("sv", "se", "sp"), "Azure Storage SAS Token"),
    ("x-goog-signature", (), "Cloud Storage Signed URL"),
    ("x-amz-signature", (), "S3 Pre-signed URL"),
)

Hit = dict[str, Any]


class _DropRecords(logging.Filter):
    """Drops the records of one logger whose message starts with a prefix."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


_FILTERS: dict[tuple[str, str], _DropRecords] = {}


def quiet_logger(name: str, prefix: str) -> None:
    """Drop the records of logger ``name`` whose message starts with ``prefix`` (idempotent).

    For SDK loggers that print whole API responses at DEBUG (botocore's parser, the Google
    GAPIC REST transports): a filter on the logger that creates the record applies before any
    handler, wherever the handlers are attached."""
    with _LOCK:
        drop = _FILTERS.setdefault((name, prefix), _DropRecords(prefix))
    logger = logging.getLogger(name)
    if drop not in logger.filters:
        logger.addFilter(drop)


def fingerprint(value: str, account: str) -> str:
    """First 8 hex digits of a keyed SHA-256 of ``value`` (never the value itself)."""
    key = f"posture-secret-fingerprint/{account}/{os.environ.get(FINGERPRINT_KEY_ENV, '')}"
    return hmac.new(key.encode(), value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:8]


def decode_base64_text(encoded: str, strict: bool = False) -> str:
    """Base64 text (user data as the APIs return it), gunzipped when compressed (cloud-init);
    the input itself if it is not base64. ``strict``: only well-formed base64 of UTF-8 text is
    decoded (for a field that may hold either a script or its base64)."""
    try:
        data = base64.b64decode(encoded, validate=strict)
    except (binascii.Error, ValueError):
        return encoded
    if data[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError, zlib.error):
            data = gzip.decompress(data)[:MAX_TEXT]
    try:
        return data[:MAX_TEXT].decode("utf-8", errors="strict" if strict else "replace")
    except UnicodeDecodeError:
        return encoded


@contextmanager
def _detector() -> Iterator[Any]:
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    with _LOCK, default_settings():
        yield _process_line_based_plugins


def _signed_urls(line: str) -> Iterator[tuple[str, str]]:
    """(type, signature) of every signed URL on a line."""
    for url in _URL.findall(line):
        query = {k.lower(): v for k, v in parse_qs(urlsplit(url).query).items()}
        for name, companions, kind in _SIGNED:
            if query.get(name) and (not companions or any(c in query for c in companions)):
                yield kind, query[name][0]


def _scan_lines(lines: list[tuple[int, str]], account: str) -> list[tuple[int, str, str]]:
    """(line number, secret type, fingerprint) of every finding, deduplicated."""
    found: set[tuple[int, str, str]] = set()
    with _detector() as process:
        for secret in process(lines=lines, filename=_VIRTUAL_FILE):
            value = secret.secret_value or ""
            found.add((int(secret.line_number), str(secret.type), fingerprint(value, account)))
    for number, line in lines:
        for kind, signature in _signed_urls(line):
            found.add((number, kind, fingerprint(signature, account)))
    return sorted(found)


def scan_text(text: str, account: str, key: str | None = None) -> list[Hit]:
    """Findings in a script or document: ``[{type, key, line, fingerprint}]`` (``key``: what
    the text is, e.g. a metadata key; null for user data)."""
    lines = list(enumerate(text.splitlines(), start=1))
    if not lines:
        return []
    return [
        {"type": kind, "key": key, "line": line, "fingerprint": fp}
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


def scan_values(values: Mapping[str, str], account: str) -> list[Hit]:
    """Findings in named values (instance metadata, extension settings): a one-line value is
    scanned as a ``key=value`` assignment (``line`` null), so a key such as ``db-password``
    counts; a multi-line value (a script) line by line (``line`` within the value)."""
    single = {k: v for k, v in values.items() if len(v.splitlines()) <= 1}
    hits = scan_variables(single, account)
    for key in sorted(set(values) - set(single)):
        hits += scan_text(values[key], account, key=key)
    return sorted(hits, key=lambda h: (h["key"] or "", h["line"] or 0, h["type"], h["fingerprint"]))


def redact_variables(variables: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The variable names with every value replaced: what ``raw`` may keep."""
    if variables is None:
        return None
    return {str(k): REDACTED for k in sorted(variables, key=str)}


def redact_name_values(
    entries: Iterable[Mapping[str, Any]] | None, field: str = "value"
) -> list[dict[str, Any]]:
    """``[{name|key, value}]`` (ECS environments, GCP metadata items) with every value
    replaced."""
    return [{**dict(e), field: REDACTED} if field in e else dict(e) for e in entries or []]
