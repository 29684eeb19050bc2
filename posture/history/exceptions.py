"""Accepted risks: a version-controlled TOML file of exceptions, applied to findings.

The file (``--exceptions FILE``) lists one ``[[exception]]`` table per accepted risk::

    [[exception]]
    check = "aws.encryption.ebs_volume_encrypted"      # a check id (glob allowed)
    resource = "arn:aws:ec2:*:123456789012:volume/*"   # glob on the resource uid
    reason = "scratch volumes of the build farm hold no customer data"
    owner = "platform-team@example.com"
    expires = 2026-06-30                               # last day it applies (TOML date)

A FAIL finding matched by an exception that has not expired becomes EXCEPTED: the finding is
kept, its message names the reason, its evidence records the exception. An exception whose
``expires`` date has passed no longer applies (the finding stays FAIL, its evidence names the
expired exception) and is reported itself. Dates are compared with an injected ``today``
(:func:`today`: the UTC date, or ``POSTURE_TODAY=YYYY-MM-DD`` for reproducible runs).

An entry with ``check = "*"`` and ``resource = "*"`` would except every finding and let any
``--fail-on`` pass: it is refused unless the entry also says ``allow_all = true``. An entry whose
check pattern names no check of the catalogue covers nothing; :func:`unknown_checks` finds them
(the command line warns: such a typo fails closed, the finding stays FAIL).

A malformed file raises :class:`ExceptionsError` with a one-line message naming the file and
the line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from posture.errors import PostureError
from posture.model import Finding, Status

REQUIRED = ("check", "resource", "reason", "owner", "expires")
OPTIONAL = ("allow_all",)
_HEADER = re.compile(r"^\s*\[\[\s*exception\s*\]\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


class ExceptionsError(PostureError, ValueError):
    """The exceptions file is missing, unreadable or malformed (a usage error: exit 2)."""


class ExceptionState(StrEnum):
    ACTIVE = "active"  # applies, and covers at least one finding
    UNUSED = "unused"  # applies, but matched no FAIL finding
    EXPIRED = "expired"  # past its date: no longer applies


@dataclass(frozen=True, slots=True)
class AcceptedRisk:
    """One ``[[exception]]`` entry of the file."""

    check: str
    resource: str
    reason: str
    owner: str
    expires: dt.date
    line: int  # where its ``[[exception]]`` header is, for messages
    allow_all: bool = False  # the file means an exception of every check on every resource

    @property
    def covers_everything(self) -> bool:
        """Every check on every resource (both patterns only ``*``)."""
        return _match_all(self.check) and _match_all(self.resource)

    def matches(self, finding: Finding) -> bool:
        return fnmatchcase(finding.check_id, self.check) and fnmatchcase(
            finding.resource_uid, self.resource
        )

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def document(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "resource": self.resource,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
            "line": self.line,
            **({"allow_all": True} if self.allow_all else {}),
        }


@dataclass(frozen=True, slots=True)
class ExceptionsFile:
    path: str
    sha256: str
    entries: tuple[AcceptedRisk, ...]


@dataclass(frozen=True, slots=True)
class ExceptionReport:
    """One exception's outcome in a run."""

    risk: AcceptedRisk
    state: ExceptionState
    matched: int  # FAIL findings it covered (or, expired, would have covered)

    def document(self) -> dict[str, Any]:
        return {**self.risk.document(), "state": self.state.value, "matched": self.matched}


@dataclass(frozen=True, slots=True)
class ExceptionsOutcome:
    """What applying a file did; reporters show it (JSON ``exceptions`` block, HTML section)."""

    source: str
    sha256: str
    today: dt.date
    entries: tuple[ExceptionReport, ...]

    @property
    def expired(self) -> tuple[ExceptionReport, ...]:
        return tuple(e for e in self.entries if e.state == ExceptionState.EXPIRED)

    def document(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "sha256": self.sha256,
            "evaluated_on": self.today.isoformat(),
            "entries": [e.document() for e in self.entries],
        }


def today() -> dt.date:
    """The date exceptions expire against: ``POSTURE_TODAY`` if set, else today in UTC."""
    fixed = os.environ.get("POSTURE_TODAY", "").strip()
    if fixed:
        try:
            return dt.date.fromisoformat(fixed)
        except ValueError:
            raise ExceptionsError(f"POSTURE_TODAY={fixed!r} is not a YYYY-MM-DD date") from None
    return dt.datetime.now(dt.UTC).date()


def _headers(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if _HEADER.match(line)]


def _key_line(text: str, start: int, key: str) -> int:
    """The line of ``key = ...`` in the table whose header is on line ``start``."""
    lines = text.splitlines()
    for n in range(start, len(lines)):
        line = lines[n]
        if line.lstrip().startswith("["):
            break
        m = _KEY.match(line)
        if m and m.group(1) == key:
            return n + 1
    return start


def _entry(raw: Any, line: int, text: str, where: str) -> AcceptedRisk:
    if not isinstance(raw, Mapping):
        raise ExceptionsError(f"{where}:{line}: an [[exception]] must be a table")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        at = _key_line(text, line, unknown[0])
        raise ExceptionsError(
            f"{where}:{at}: unknown key {unknown[0]!r} (expected: {', '.join(REQUIRED)}; "
            f"optional: {', '.join(OPTIONAL)})"
        )
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise ExceptionsError(f"{where}:{line}: exception lacks {', '.join(missing)}")
    values: dict[str, Any] = {}
    for key in REQUIRED[:4]:
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            at = _key_line(text, line, key)
            raise ExceptionsError(f"{where}:{at}: {key} must be a non-empty string")
        values[key] = value.strip()
    expires = raw["expires"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires.strip())
        except ValueError:
            expires = None
    if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
        at = _key_line(text, line, "expires")
        raise ExceptionsError(f"{where}:{at}: expires must be a date (YYYY-MM-DD)")
    allow_all = raw.get("allow_all", False)
    if not isinstance(allow_all, bool):
        at = _key_line(text, line, "allow_all")
        raise ExceptionsError(f"{where}:{at}: allow_all must be true or false")
    risk = AcceptedRisk(expires=expires, line=line, allow_all=allow_all, **values)
    if risk.covers_everything and not allow_all:
        at = _key_line(text, line, "check")
        raise ExceptionsError(
            f"{where}:{at}: check = {risk.check!r} with resource = {risk.resource!r} excepts "
            "every finding: name the checks or resources it covers (or add allow_all = true "
            "to mean it)"
        )
    return risk


def _match_all(pattern: str) -> bool:
    return set(pattern) == {"*"}


def unknown_checks(
    risks: Iterable[AcceptedRisk], known: Iterable[str]
) -> tuple[AcceptedRisk, ...]:
    """The entries whose ``check`` pattern matches none of the ``known`` check ids."""
    ids = tuple(known)
    return tuple(r for r in risks if not any(fnmatchcase(i, r.check) for i in ids))


def parse(text: str, where: str = "<exceptions>") -> tuple[AcceptedRisk, ...]:
    """Parse the TOML text of an exceptions file (``where`` names it in messages)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = m.group(1) if m else "?"
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ExceptionsError(f"{where}:{line}: invalid TOML: {reason}") from None
    extra = sorted(set(data) - {"exception"})
    if extra:
        at = next(
            (n for n, ln in enumerate(text.splitlines(), 1) if extra[0] in ln.split("=")[0]), 1
        )
        raise ExceptionsError(
            f"{where}:{at}: unknown top-level key {extra[0]!r} (use [[exception]] tables)"
        )
    raw = data.get("exception", [])
    if not isinstance(raw, list):
        raise ExceptionsError(f"{where}:1: 'exception' must be an array of tables")
    headers = _headers(text)
    return tuple(
        _entry(item, headers[i] if i < len(headers) else 1, text, where)
        for i, item in enumerate(raw)
    )


def load(path: Path) -> ExceptionsFile:
    import hashlib

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExceptionsError(f"{path}: exceptions file not found") from None
    except OSError as exc:
        raise ExceptionsError(f"{path}: cannot read exceptions: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExceptionsError(f"{path}:1: exceptions file is not UTF-8 text") from None
    return ExceptionsFile(str(path), hashlib.sha256(data).hexdigest(), parse(text, str(path)))


def _excepted(f: Finding, risk: AcceptedRisk) -> Finding:
    evidence = {**f.evidence, "exception": risk.document()}
    message = (
        f"{f.message} — excepted: {risk.reason} "
        f"(owner {risk.owner}, expires {risk.expires.isoformat()})"
    )
    return replace(f, status=Status.EXCEPTED, message=message, evidence=evidence)


def apply(
    findings: Iterable[Finding], source: ExceptionsFile, on: dt.date
) -> tuple[tuple[Finding, ...], ExceptionsOutcome]:
    """Turn FAIL findings covered by an unexpired exception into EXCEPTED (first match wins);
    findings covered only by an expired one stay FAIL and name it. Order is kept, then the
    result is sorted as the engine sorts."""
    matched = [0] * len(source.entries)
    out: list[Finding] = []
    for f in findings:
        if f.status != Status.FAIL:
            out.append(f)
            continue
        hits = [i for i, r in enumerate(source.entries) if r.matches(f)]
        live = [i for i in hits if not source.entries[i].expired(on)]
        for i in hits:
            matched[i] += 1
        if live:
            out.append(_excepted(f, source.entries[live[0]]))
        elif hits:
            expired = [source.entries[i].document() for i in hits]
            out.append(replace(f, evidence={**f.evidence, "expired_exceptions": expired}))
        else:
            out.append(f)
    reports = tuple(
        ExceptionReport(
            risk,
            ExceptionState.EXPIRED
            if risk.expired(on)
            else (ExceptionState.ACTIVE if matched[i] else ExceptionState.UNUSED),
            matched[i],
        )
        for i, risk in enumerate(source.entries)
    )
    outcome = ExceptionsOutcome(source.path, source.sha256, on, reports)
    return tuple(sorted(out, key=Finding.sort_key)), outcome
