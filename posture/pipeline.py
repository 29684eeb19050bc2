"""The audit pipeline shared by ``scan``, ``audit`` and ``demo``: inventory → findings → reports.

A freshly collected inventory is serialized and read back before it is audited, so a scan and a
later ``posture audit`` of its saved snapshot see exactly the same data and write byte-identical
findings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from posture import snapshot
from posture.engine import RunOptions, run
from posture.errors import SnapshotError
from posture.model import Finding, Inventory, Severity, Status
from posture.registry import Catalogue, load_catalogue


class ExitCode(IntEnum):
    """Process exit codes (documented in the README)."""

    OK = 0
    FINDINGS = 1  # a FAIL at or above --fail-on
    USAGE = 2  # bad option, unknown format / check id / severity
    INPUT = 3  # cannot scan or read the input: credentials, endpoint, region, snapshot
    INTERNAL = 70  # a bug in posture


@dataclass(frozen=True, slots=True)
class Prepared:
    inventory: Inventory
    snapshot_text: str
    snapshot_sha256: str


def prepare(inventory: Inventory) -> Prepared:
    """Serialize and re-read an inventory so that scan and audit share one representation."""
    text = snapshot.dumps(inventory)
    reread = snapshot.from_document(json.loads(text))
    return Prepared(reread, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_prepared(path: Path) -> Prepared:
    inventory = snapshot.load(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:  # pragma: no cover - load() has just read it
        raise SnapshotError(f"{path}: {exc}") from None
    return Prepared(inventory, text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def audit(
    prepared: Prepared,
    catalogue: Catalogue | None = None,
    check_ids: Iterable[str] = (),
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Finding, ...]:
    catalogue = catalogue or load_catalogue()
    options = RunOptions(params=params or {})
    return run(catalogue, prepared.inventory, check_ids, options, progress=progress)


def exit_code(findings: Iterable[Finding], fail_on: Severity | None) -> ExitCode:
    if fail_on is None:
        return ExitCode.OK
    for f in findings:
        if f.status == Status.FAIL and f.severity >= fail_on:
            return ExitCode.FINDINGS
    return ExitCode.OK


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for f in findings:
        out[f.status.value] += 1
    return out


def failures_by_severity(findings: Iterable[Finding]) -> dict[Severity, int]:
    out = {s: 0 for s in sorted(Severity, reverse=True)}
    for f in findings:
        if f.status == Status.FAIL:
            out[f.severity] += 1
    return out
