"""The lateral-admin checks report a failing rule once (the security group / NSG as subject, the
machines in ``affected_uids``) and a passing or undecided host on its own: find what judges a
host."""

from __future__ import annotations

from typing import Any

from posture.model import Finding, Inventory

from .checks import run_one


def judging(findings: list[Finding], uid: str) -> list[Finding]:
    """The findings about host ``uid``: its own, and every rule finding listing it."""
    return [
        f
        for f in findings
        if f.resource_uid == uid or uid in (f.evidence.get("affected_uids") or ())
    ]


def verdict(check_id: str, inv: Inventory, uid: str, **params: Any) -> Finding:
    """The one finding judging host ``uid`` (its own PASS / INCONCLUSIVE, or the rule's FAIL)."""
    found = judging(run_one(check_id, inv, **params), uid)
    assert len(found) == 1, [(f.resource_uid, f.status, f.message) for f in found]
    return found[0]


def sources(finding: Finding, target: str | None = None) -> dict[str, str]:
    """source name -> its grade (``high``/``low``) in a rule finding (towards ``target``)."""
    return {
        s["source"]: s["severity"]
        for s in finding.evidence.get("sources") or ()
        if target is None or s["target"] == target
    }
