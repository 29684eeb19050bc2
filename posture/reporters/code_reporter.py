"""The "Secure code" section of ``report.html``: one row per GitHub repository, what the GitHub
checks found in each area (secrets and vulnerabilities, change control on the default branch,
production deployments, CI-to-cloud trust), from the report's findings.

A finding belongs to a repository when its resource is the repository or one of its
environments (``<repository uid>/environments/<name>``); organisation-wide findings are listed
above the table. Archived repositories, which the checks do not judge, are shown apart. Only a
report whose snapshot holds GitHub repositories has the section; names are attacker-controlled
and the template escapes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.github import REPOSITORY
from posture.model import Asset, Finding, Inventory, Status

AREAS: tuple[tuple[str, str], ...] = (
    ("code", "Secrets and vulnerabilities"),
    ("change", "Change control"),
    ("deploy", "Production deployments"),
    ("cicd", "CI-to-cloud trust"),
)
SHOWN_FAILS = 4  # failures listed per cell; all are in the findings table


@dataclass(frozen=True, slots=True)
class Repo:
    """What the section knows of one repository from the snapshot."""

    uid: str
    name: str
    visibility: str
    default_branch: str
    archived: bool
    fork: bool

    @classmethod
    def of(cls, asset: Asset) -> Repo:
        return cls(asset.uid, asset.name, str(asset.attr("visibility") or "unknown"),
                   str(asset.attr("default_branch") or "—"), bool(asset.attr("archived")),
                   bool(asset.attr("fork")))


def repositories(inventory: Inventory) -> tuple[Repo, ...]:
    """The snapshot's GitHub repositories, by name."""
    return tuple(sorted((Repo.of(a) for a in inventory.of(REPOSITORY)), key=lambda r: r.name))


def _area(check_id: str) -> str:
    parts = check_id.split(".")
    return parts[1] if len(parts) == 3 else ""


def _owner(uid: str, repos: Mapping[str, Repo]) -> str | None:
    if uid in repos:
        return uid
    head = uid.split("/environments/", 1)[0]
    return head if head in repos else None


def _cell(findings: Sequence[Finding]) -> dict[str, Any]:
    fails = sorted((f for f in findings if f.status in (Status.FAIL, Status.ERROR)),
                   key=lambda f: (-f.severity, f.check_id, f.resource_uid))
    unknown = sum(f.status is Status.INCONCLUSIVE for f in findings)
    passed = sum(f.status in (Status.PASS, Status.EXCEPTED) for f in findings)
    badge = "FAIL" if fails else "INCONCLUSIVE" if unknown else "PASS" if passed else "none"
    return {
        "badge": badge,
        "fails": [{"severity": f.severity.label, "check": f.check_id, "message": f.message}
                  for f in fails[:SHOWN_FAILS]],
        "more": max(0, len(fails) - SHOWN_FAILS),
        "passed": passed,
        "unknown": unknown,
    }


def code_section(repos: Iterable[Repo], findings: Iterable[Finding]) -> dict[str, Any] | None:
    """What the template's secure-code section shows (None: no repository, no section)."""
    by_uid = {r.uid: r for r in repos}
    if not by_uid:
        return None
    cells: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    organisation: list[Finding] = []
    for f in findings:
        if not f.check_id.startswith("github."):
            continue
        owner = _owner(f.resource_uid, by_uid)
        if owner is None:
            organisation.append(f)
        else:
            cells[(owner, _area(f.check_id))].append(f)
    rows = []
    for repo in by_uid.values():
        if repo.archived:
            continue
        row_cells = [_cell(cells.get((repo.uid, area), [])) for area, _ in AREAS]
        rows.append({"name": repo.name, "uid": repo.uid, "visibility": repo.visibility,
                     "branch": repo.default_branch, "fork": repo.fork,
                     "failing": any(c["badge"] == "FAIL" for c in row_cells),
                     "cells": row_cells})
    rows.sort(key=lambda r: (not r["failing"], r["name"]))
    return {
        "areas": [title for _, title in AREAS],
        "rows": rows,
        "organization": _cell(organisation),
        "archived": sorted(r.name for r in by_uid.values() if r.archived),
    }
