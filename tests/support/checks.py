"""Run one catalogue check through the engine (errors re-raised) and pick out its findings."""

from __future__ import annotations

import functools
from typing import Any

from posture.engine import RunOptions, run
from posture.model import Finding, Inventory, Status
from posture.registry import Catalogue, load_catalogue


@functools.cache
def catalogue() -> Catalogue:
    return load_catalogue()


def run_one(check_id: str, inv: Inventory, **params: Any) -> list[Finding]:
    options = RunOptions(params={check_id: params} if params else {}, raise_errors=True)
    return list(run(catalogue(), inv, [check_id], options))


def by_uid(findings: list[Finding]) -> dict[str, Finding]:
    out = {f.resource_uid: f for f in findings}
    assert len(out) == len(findings), [f.resource_uid for f in findings]
    return out


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [(f.resource_uid, f.status, f.message) for f in findings]
    return findings[0]


def status_of(findings: list[Finding], uid: str) -> Status:
    return by_uid(findings)[uid].status
