"""The reporter seam: what a report holds, the output formats, the interface a reporter meets.

A reporter is a pure function of a :class:`Report` to bytes; writing files (and turning
file-system failures into :class:`~posture.errors.ReportError`) is done once, in
:func:`posture.reporters.write_reports`. Rendering the same report twice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from posture.errors import ReportError
from posture.history.diff import HistoryContext
from posture.history.exceptions import ExceptionsOutcome
from posture.identity import identity_view
from posture.identity.model import IdentityView
from posture.model import CollectionError, Finding, ScanMeta
from posture.registry import Framework
from posture.reporters.code_reporter import Repo, repositories
from posture.reporters.html_trend import TrendPoint
from posture.reporters.network_view import Topology, topology_of
from posture.values import parse_time

if TYPE_CHECKING:
    from posture.pipeline import AuditRun


class OutputFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    HTML = "html"
    CONTROLS = "controls"  # controls.csv
    OCSF = "ocsf"  # findings.ocsf.json
    JUNIT = "junit"  # findings.junit.xml
    ASFF = "asff"  # findings.asff.json (AWS Security Finding Format)
    PDF = "pdf"  # report.pdf (report.html printed by headless Chromium)

    @classmethod
    def parse(cls, name: str) -> OutputFormat:
        try:
            return cls(name.strip().lower())
        except ValueError:
            valid = ", ".join(f.value for f in cls)
            raise ReportError(
                f"unknown report format {name.strip()!r} (valid formats: {valid})"
            ) from None


@dataclass(frozen=True, slots=True)
class AccountView:
    """One account of an organisation run, as the reports name it."""

    id: str
    name: str
    ou: str  # the OU path, root first: ``Root/Prod/Web``
    status: str  # scanned | partial | failed
    reason: str = ""

    def document(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "ou": self.ou, "status": self.status,
                "reason": self.reason}


@dataclass(frozen=True, slots=True)
class OrgView:
    """The organisation of an organisation run: its id and accounts (by id). Reports of a
    single-account scan have none, and stay exactly as they were."""

    id: str
    management_account_id: str
    accounts: tuple[AccountView, ...]

    def account(self, account_id: str) -> AccountView | None:
        for view in self.accounts:
            if view.id == account_id:
                return view
        return None

    def document(self) -> dict[str, Any]:
        return {"id": self.id, "management_account_id": self.management_account_id,
                "accounts": [a.document() for a in self.accounts]}


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report shows: the findings (in the engine's order), the scan manifest,
    the collection errors, the snapshot's hash, the frameworks' control titles and the identity
    view (:mod:`posture.identity`; only ``report.html`` and ``identity.csv`` show it)."""

    findings: tuple[Finding, ...]
    inventory_meta: ScanMeta
    collection_errors: tuple[CollectionError, ...] = ()
    snapshot_sha256: str | None = None
    frameworks: tuple[Framework, ...] = ()
    catalogue_version: str | None = None  # shown in the HTML manifest and evidence manifest
    exceptions: ExceptionsOutcome | None = None  # given --exceptions FILE
    history: HistoryContext | None = None  # a recorded scan: what is new since the previous
    organization: OrgView | None = None  # an organisation run: account names and OUs
    identity: IdentityView | None = None  # who reaches what (None: the snapshot holds none)
    repositories: tuple[Repo, ...] = ()  # GitHub repositories (the HTML's secure-code section)
    # --framework: the ids of the frameworks report.html and controls.csv show (all of
    # ``frameworks`` when empty); the other formats keep every framework's control titles
    shown_frameworks: tuple[str, ...] = ()
    # report.html's pictures: the networks (topology_of the snapshot) and, given --store, the
    # FAILs by severity of the recorded scans (posture.reporters.html_trend.read_trend)
    topology: Topology | None = None
    trend: tuple[TrendPoint, ...] = ()

    @classmethod
    def of(cls, run: AuditRun, frameworks: tuple[Framework, ...]) -> Report:
        """The report of one audit run (:func:`posture.pipeline.run_audit`), showing the
        controls of ``frameworks`` and the identities of its snapshot."""
        inventory = run.prepared.inventory
        return cls(
            findings=run.tracked.findings,
            inventory_meta=inventory.meta,
            collection_errors=inventory.errors,
            snapshot_sha256=run.prepared.snapshot_sha256,
            frameworks=frameworks,
            catalogue_version=run.catalogue_version,
            exceptions=run.tracked.exceptions,
            history=run.tracked.history,
            identity=identity_view(inventory),
            repositories=repositories(inventory),
            topology=topology_of(inventory, run.tracked.findings),
        )


class Reporter(Protocol):
    """Renders a :class:`Report` into one file's bytes."""

    @property
    def format(self) -> OutputFormat: ...

    @property
    def filename(self) -> str: ...

    def render(self, report: Report) -> bytes: ...


def account_columns(report: Report, account: str) -> dict[str, str]:
    """``account_name`` and ``ou`` of a finding's account in an organisation run (``{}`` for a
    single-account report, whose rows keep their shape)."""
    if report.organization is None:
        return {}
    view = report.organization.account(account)
    return {"account_name": view.name if view else "", "ou": view.ou if view else ""}


def scan_document(report: Report) -> dict[str, Any]:
    """The scan manifest as plain JSON values (the ``scan`` block of ``findings.json``)."""
    meta = report.inventory_meta
    return {**meta.to_dict(), "snapshot_sha256": report.snapshot_sha256}


def collected_at(report: Report) -> dt.datetime | None:
    """When the report's snapshot was collected (its ``finished_at``, else ``started_at``), the
    time stamped on OCSF events and JUnit suites instead of the wall clock; None if neither
    is a valid timestamp."""
    meta = report.inventory_meta
    return parse_time(meta.finished_at) or parse_time(meta.started_at)


def error_document(error: CollectionError) -> dict[str, Any]:
    return {
        "provider": error.provider.value,
        "account": error.account,
        "region": error.region,
        "service": error.service,
        "operation": error.operation,
        "code": error.code,
        "message": error.message,
        "asset_types": list(error.asset_types),
        "resource_uid": error.resource_uid,
    }


def utf8(text: str) -> bytes:
    """UTF-8, with any lone surrogate (possible in decoded API payloads) replaced by ``?``."""
    return text.encode("utf-8", errors="replace")
