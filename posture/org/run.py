"""The coordinator of an organisation run: scan (:func:`scan_organization`) or re-audit a saved
evidence directory (:func:`audit_directory`), and merge the accounts into one result.

What the coordinator keeps is what the organisation-wide report needs: each account's manifest
entry, findings and collection errors. Snapshots are written to the evidence directory as
their tasks return and dropped; without a directory they are only hashed.

The merged result is deterministic: accounts in id order, findings in the engine's order
(check id, resource, status, message; then account), so the order in which tasks complete
does not show. A re-audit of the directory rebuilds the same manifest, the same merged
metadata (from the manifest) and the same findings, so ``findings.json`` is byte-identical to
the online run's for the same snapshots and checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from posture import __version__
from posture.collectors import runner
from posture.history.tracking import Tracking, track
from posture.model import (
    Asset,
    CollectionError,
    Finding,
    Inventory,
    Provider,
    ScanMeta,
    Severity,
)
from posture.org import manifest as mf
from posture.org.crossaccount import (
    organization_checks,
    organization_findings,
    overlay,
    projected_types,
    projection,
)
from posture.org.executor import Cluster, execute
from posture.org.plan import AccountTask, OrgPlan
from posture.org.task import AccountOutcome, AccountStatus
from posture.org.tenant import TenantPart, local_checks, tenant_findings
from posture.pipeline import (
    AuditRun,
    ExitCode,
    Prepared,
    audit,
    exit_code,
    load_prepared,
    select_checks,
    tracking_gate,
)
from posture.registry import Catalogue, load_catalogue

OnAccount = Callable[[mf.AccountEntry, tuple[Finding, ...], int, int], None]
"""Told each account as it completes: its entry, its findings, how many are done, of how many."""

MANIFEST_EVERY = 2.0  # seconds between rewrites of the manifest while a scan runs


@dataclass(frozen=True, slots=True)
class OrgResult:
    """An organisation run, merged: the manifest, every account's findings and errors."""

    manifest: mf.Manifest
    manifest_bytes: bytes
    manifest_sha256: str
    findings: tuple[Finding, ...]
    errors: tuple[CollectionError, ...]
    checks: tuple[str, ...]

    @property
    def incomplete(self) -> tuple[mf.AccountEntry, ...]:
        """The accounts not fully scanned (partial or failed)."""
        return tuple(a for a in self.manifest.accounts if a.status is not AccountStatus.SCANNED)

    def meta(self) -> ScanMeta:
        return manifest_meta(self.manifest)

    def prepared(self) -> Prepared:
        """The organisation as the pipeline and reporters see one scan: its metadata and every
        collection error, no assets (they stay in the accounts' snapshots); the "snapshot"
        hashed is the manifest, which names every snapshot's hash."""
        inventory = Inventory(meta=self.meta(), assets=(), errors=self.errors)
        return Prepared(inventory, self.manifest_bytes.decode("utf-8"), self.manifest_sha256)


def manifest_meta(m: mf.Manifest) -> ScanMeta:
    """The merged run's metadata, from the manifest alone (so a re-audit rebuilds it)."""
    counts = {s: sum(1 for a in m.accounts if a.status is s) for s in AccountStatus}
    note = (f"organization {m.organization_id}: {len(m.accounts)} account(s), "
            + ", ".join(f"{n} {s.value}" for s, n in counts.items()))
    return ScanMeta(
        scan_id=m.scan_id,
        provider=Provider(m.provider),
        tool_version=m.tool_version,
        started_at=m.started_at,
        finished_at=m.finished_at,
        accounts=tuple(a.id for a in m.accounts),
        regions=tuple(sorted({r for a in m.accounts for r in a.regions})),
        endpoint_url=m.endpoint_url,
        notes=(note,),
    )


class _Gather:
    """Collects outcomes as they arrive: writes each snapshot, keeps the small rest."""

    def __init__(self, plan: OrgPlan, out_dir: Path | None, base: mf.Manifest,
                 on_account: OnAccount | None) -> None:
        self.tasks = {t.account_id: t for t in plan.tasks}
        self.out_dir = out_dir
        self.base = base
        self.on_account = on_account
        self.entries: dict[str, mf.AccountEntry] = {}
        self.findings: dict[str, tuple[Finding, ...]] = {}
        self.errors: dict[str, tuple[CollectionError, ...]] = {}
        self.checks: set[str] = set()
        self.projections: dict[str, tuple[Asset, ...]] = {}
        self._written = 0.0

    def add(self, outcome: AccountOutcome) -> None:
        task = self.tasks[outcome.account_id]
        name = mf.snapshot_name(task.account_id)
        if self.out_dir is not None:
            mf.write_atomic(self.out_dir / name, outcome.snapshot_bytes())
        entry = entry_of(task, outcome, name)
        self.entries[task.account_id] = entry
        self.findings[task.account_id] = outcome.findings
        self.errors[task.account_id] = outcome.errors
        self.checks.update(outcome.checks)
        if outcome.projection:
            self.projections[task.account_id] = outcome.projection
        if self.out_dir is not None and time.monotonic() - self._written > MANIFEST_EVERY:
            self._write(self.manifest(finished_at=""))
        if self.on_account is not None:
            self.on_account(entry, outcome.findings, len(self.entries), len(self.tasks))

    def manifest(self, finished_at: str) -> mf.Manifest:
        entries = tuple(self.entries[k] for k in sorted(self.entries))
        return _replace_manifest(self.base, finished_at, entries)

    def _write(self, manifest: mf.Manifest) -> None:
        assert self.out_dir is not None
        mf.write_atomic(self.out_dir / mf.FILENAME, manifest.dumps())
        self._written = time.monotonic()


def _replace_manifest(base: mf.Manifest, finished_at: str,
                      entries: tuple[mf.AccountEntry, ...]) -> mf.Manifest:
    return dataclasses.replace(base, finished_at=finished_at, accounts=entries)


def entry_of(task: AccountTask, outcome: AccountOutcome, snapshot: str) -> mf.AccountEntry:
    return mf.AccountEntry(
        id=task.account_id,
        name=task.account_name,
        ou_path=task.ou_path,
        management=task.management,
        status=outcome.status,
        reason=outcome.reason,
        regions=outcome.regions,
        snapshot=snapshot,
        sha256=outcome.sha256,
    )


def scan_organization(
    plan: OrgPlan,
    cluster: Cluster,
    *,
    check_ids: tuple[str, ...] = (),
    out_dir: Path | None = None,
    replace: bool = False,
    on_account: OnAccount | None = None,
    catalogue: Catalogue | None = None,
) -> OrgResult:
    """Scan every account of ``plan`` where ``cluster`` says, writing each snapshot into
    ``out_dir`` (prepared with :func:`posture.org.manifest.open_dir`) as it arrives; then an
    Azure tenant's own checks, once (:mod:`posture.org.tenant`), and the organisation-wide
    checks on the accounts linked to each other (:mod:`posture.org.crossaccount`)."""
    if out_dir is not None:
        mf.open_dir(out_dir, replace=replace)
    base = mf.Manifest(
        scan_id=str(uuid.uuid4()),
        tool_version=__version__,
        started_at=runner.now(),
        finished_at="",
        endpoint_url=plan.tasks[0].access.endpoint if plan.tasks else None,
        organization_id=plan.organization_id,
        organization_arn=plan.organization_arn,
        management_account_id=plan.management_account_id,
        accounts=(),
        unlisted=plan.unlisted,
        provider=plan.provider.value,
    )
    gather = _Gather(plan, out_dir, base, on_account)
    execute(plan.tasks, check_ids, cluster, gather.add)
    manifest = gather.manifest(finished_at=runner.now())
    data = manifest.dumps()
    if out_dir is not None:
        mf.write_atomic(out_dir / mf.FILENAME, data)
    ordered = sorted(gather.entries)
    findings = [f for k in ordered for f in gather.findings[k]]
    errors = [e for k in ordered for e in gather.errors[k]]
    linked = [gather.projections[k] for k in sorted(gather.projections)]
    catalogue = catalogue or load_catalogue()
    tenant = TenantPart.of_plan(plan.tasks)
    findings += tenant_findings(catalogue, gather.checks, manifest_meta(manifest), tenant)
    org = _organization_phase(catalogue, gather.checks, manifest, linked, errors)
    return _result(manifest, data, overlay(findings, org), errors, gather.checks)


def _organization_phase(
    catalogue: Catalogue,
    checks: Iterable[str],
    manifest: mf.Manifest,
    projections: list[tuple[Asset, ...]],
    errors: Iterable[CollectionError],
) -> tuple[Finding, ...]:
    chosen = organization_checks(catalogue, checks)
    return organization_findings(catalogue, chosen, manifest_meta(manifest), projections,
                                 errors)


def audit_directory(
    path: Path,
    catalogue: Catalogue,
    *,
    check_ids: tuple[str, ...] = (),
    on_account: OnAccount | None = None,
) -> OrgResult:
    """Re-audit a saved organisation scan offline: every snapshot, hash verified first."""
    manifest = mf.read_manifest(path)
    data = (path / mf.FILENAME).read_bytes()
    findings: list[Finding] = []
    errors: list[CollectionError] = []
    checks: set[str] = set()
    linked: list[tuple[Asset, ...]] = []
    tenant = TenantPart()
    for done, entry in enumerate(manifest.accounts, start=1):
        file = path / entry.snapshot
        prepared = load_prepared(file)
        if prepared.snapshot_sha256 != entry.sha256:
            raise mf.EvidenceDirError(
                f"{file}: snapshot of account {entry.id} does not match the manifest "
                f"(sha256 {prepared.snapshot_sha256}, manifest says {entry.sha256}); "
                "the evidence was changed"
            )
        chosen = select_checks(prepared, catalogue, check_ids)
        here = local_checks(prepared.inventory, catalogue, chosen)
        found = audit(prepared, catalogue, here) if here else ()
        findings.extend(found)
        tenant.add(prepared.inventory.assets, prepared.inventory.errors)
        errors.extend(prepared.inventory.errors)
        checks.update(chosen)
        types = projected_types(organization_checks(catalogue, chosen))
        if projected := projection(prepared.inventory, types):
            linked.append(projected)
        if on_account is not None:
            on_account(entry, found, done, len(manifest.accounts))
    findings += tenant_findings(catalogue, checks, manifest_meta(manifest), tenant)
    org = _organization_phase(catalogue, checks, manifest, linked, errors)
    return _result(manifest, data, overlay(findings, org), errors, checks)


def finding_order(finding: Finding) -> tuple[str, ...]:
    """The engine's order, then the account (two accounts may share a resource uid)."""
    return (*finding.sort_key(), finding.account)


def _result(
    manifest: mf.Manifest,
    data: bytes,
    findings: Iterable[Finding],
    errors: Iterable[CollectionError],
    checks: Iterable[str],
) -> OrgResult:
    merged = tuple(sorted(findings, key=finding_order))
    return OrgResult(
        manifest=manifest,
        manifest_bytes=data,
        manifest_sha256=hashlib.sha256(data).hexdigest(),
        findings=merged,
        errors=tuple(dict.fromkeys([*manifest.unlisted, *errors])),
        checks=tuple(sorted(checks)),
    )


def compared_accounts(result: OrgResult) -> frozenset[str]:
    """What the history diff of an organisation run compares: the accounts scanned fully, and
    what the coordinator judged for the whole organisation (an Azure tenant, …); an account
    excluded, partial or failed this time has nothing resolved or new."""
    listed = {a.id for a in result.manifest.accounts}
    scanned = {a.id for a in result.manifest.accounts if a.status is AccountStatus.SCANNED}
    return frozenset(scanned | {f.account for f in result.findings if f.account not in listed})


def audit_run(
    result: OrgResult,
    catalogue: Catalogue,
    *,
    tracking: Tracking | None = None,
    fail_on: Severity | None = None,
) -> AuditRun:
    """The merged organisation as one :class:`AuditRun`: exceptions and the history store
    applied as for any scan; the exit code is PARTIAL when an account was not fully scanned
    (it outranks FINDINGS: both are failures of a CI gate, and the report names both)."""
    from posture.history.store import organization_scope  # SQLAlchemy only when recording

    prepared = result.prepared()
    version = catalogue.version()
    m = result.manifest
    tracked = track(tracking or Tracking(), prepared.inventory, result.findings,
                    prepared.snapshot_sha256, version,
                    scope=organization_scope(m.provider, m.organization_id),
                    compared=compared_accounts(result))
    code = max(exit_code(tracked.findings, fail_on), tracking_gate(tracked))
    if result.incomplete or result.manifest.unlisted:
        code = max(code, ExitCode.PARTIAL)
    return AuditRun(prepared, result.checks, tracked, version, ExitCode(code))
