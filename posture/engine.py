"""The engine: runs checks over an inventory and stamps their results into findings.

It does the shared work so that checks don't:

* **collection gaps**: a check declares the asset types it ``reads``; any collection error that
  affects those types turns the check's PASS verdicts in that scope into INCONCLUSIVE, and adds
  one INCONCLUSIVE finding per affected scope (so a region whose volumes could not be listed is
  reported, not silently clean). A resource with a failed detail call that the check did not
  judge gets an INCONCLUSIVE finding of its own. A failed detail call on one resource reaches
  further: the graphs name the assets whose verdicts depend on it (a host behind a load balancer
  whose listeners could not be read, a principal holding an unreadable policy;
  :mod:`posture.graph.neighbours`), and their PASS turns INCONCLUSIVE too, naming the call.
  Never PASS on data that was not seen.
* **crash isolation**: a check that raises becomes one ERROR finding per account (re-raised when
  ``raise_errors`` is set, as the tests do).
* **stable order**: findings are sorted by check id, resource uid, status and message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from posture.errors import CheckSelectionError
from posture.graph import neighbours
from posture.iam import neighbours as iam_neighbours
from posture.model import GLOBAL, Asset, CollectionError, Finding, Inventory, Severity, Status
from posture.registry import Catalogue, Check, CheckSpec
from posture.snapshot import jsonable

T = TypeVar("T")

SCOPE_TYPE = "posture::CollectionScope"
ACCOUNT_TYPE = "posture::Account"


@dataclass(frozen=True, slots=True)
class Subject:
    """What a result is about: an asset, or a scope such as an account."""

    uid: str
    type: str
    name: str
    account: str
    region: str

    @classmethod
    def of(cls, asset: Asset) -> Subject:
        return cls(asset.uid, asset.type, asset.name, asset.account, asset.region)


@dataclass(frozen=True, slots=True)
class Result:
    """What a check function yields; the engine turns it into a :class:`Finding`."""

    subject: Subject
    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # this finding's severity, when not the check's


class CheckContext:
    """What a check function sees: the inventory, its parameters, shared derived data."""

    def __init__(
        self,
        inventory: Inventory,
        spec: CheckSpec,
        params: Mapping[str, Any],
        shared: dict[str, Any],
        companions: tuple[Inventory, ...] = (),
    ) -> None:
        self.inventory = inventory
        self.spec = spec
        self._params = params
        self._shared = shared
        # other providers' snapshots audited beside this one (`posture audit github.json
        # --cloud aws.json`): read by the checks that join them (CI-to-cloud trust), never
        # judged here (their own checks run on their own audits)
        self.companions = companions

    def param(self, name: str) -> Any:
        if name in self._params:
            return self._params[name]
        if name in self.spec.params:
            return self.spec.params[name]
        raise KeyError(f"check {self.spec.id} has no parameter {name!r}")

    def derived(self, key: str, factory: Callable[[Inventory], T]) -> T:
        """Compute once per run and share between checks (graphs, indexes)."""
        if key not in self._shared:
            self._shared[key] = factory(self.inventory)
        value: T = self._shared[key]
        return value

    def account(self, account: str) -> Subject:
        return Subject(account, ACCOUNT_TYPE, account, account, GLOBAL)

    def _result(self, target: Asset | Subject, status: Status, msg: str, ev: Any) -> Result:
        subject = Subject.of(target) if isinstance(target, Asset) else target
        return Result(subject, status, msg, ev)

    def passed(self, target: Asset | Subject, message: str, **evidence: Any) -> Result:
        return self._result(target, Status.PASS, message, evidence)

    def fail(self, target: Asset | Subject, message: str, **evidence: Any) -> Result:
        return self._result(target, Status.FAIL, message, evidence)

    def fail_at(
        self, severity: Severity, target: Asset | Subject, message: str, **evidence: Any
    ) -> Result:
        """FAIL at ``severity`` instead of the check's (a check whose severity depends on what
        failed, e.g. the port class of a defense-depth finding)."""
        return replace(self._result(target, Status.FAIL, message, evidence), severity=severity)

    def unknown(self, target: Asset | Subject, message: str, **evidence: Any) -> Result:
        """INCONCLUSIVE: the data needed to decide is missing or conditional."""
        return self._result(target, Status.INCONCLUSIVE, message, evidence)


@dataclass(frozen=True, slots=True)
class RunOptions:
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # check id -> params
    raise_errors: bool = False
    companions: tuple[Inventory, ...] = ()  # see CheckContext.companions


def _error_evidence(errors: Iterable[CollectionError]) -> list[dict[str, Any]]:
    return [
        {
            "service": e.service,
            "operation": e.operation,
            "region": e.region,
            "code": e.code,
            "message": e.message,
        }
        for e in errors
    ]


class _Stamper:
    def __init__(self, check: Check, severity: Severity | None = None) -> None:
        self.check = check
        self.severity = check.spec.severity if severity is None else severity

    def __call__(self, r: Result) -> Finding:
        spec = self.check.spec
        return Finding(
            check_id=spec.id,
            title=spec.title,
            status=r.status,
            severity=self.severity if r.severity is None else r.severity,
            provider=spec.provider,
            resource_uid=r.subject.uid,
            resource_type=r.subject.type,
            resource_name=r.subject.name,
            account=r.subject.account,
            region=r.subject.region,
            message=r.message,
            evidence=jsonable(r.evidence),
            principles=spec.principles,
            controls=self.check.controls,
            remediation=spec.remediation,
        )


def _neighbour_text(e: CollectionError, inventory: Inventory) -> str:
    asset = inventory.get(str(e.resource_uid))
    what = f"{asset.name} ({asset.type})" if asset else e.resource_uid
    return f"{e.describe()} on {what}, which this verdict depends on"


def _naming(r: Result, via: list[CollectionError], inventory: Inventory) -> Result:
    """An INCONCLUSIVE result that rests on failed calls: the calls it does not name yet."""
    missing = [g for g in via if g.operation not in r.message]
    if not missing:
        return r
    reason = "; ".join(_neighbour_text(g, inventory) for g in missing)
    evidence = {
        **r.evidence,
        "collection_errors": _error_evidence(missing),
        "depends_on": sorted({str(g.resource_uid) for g in missing}),
    }
    return replace(r, message=f"{r.message} ({reason})", evidence=evidence)


def _apply_gaps(
    results: list[Result],
    gaps: tuple[CollectionError, ...],
    inventory: Inventory,
    dependents: neighbours.Dependents | None = None,
) -> list[Result]:
    """Downgrade PASS on unverified scopes (and on assets whose verdict rests on a resource with
    a failed detail call); add INCONCLUSIVE for every unverified scope."""
    if not gaps:
        return results
    scoped = [g for g in gaps if g.resource_uid is None]
    per_resource: dict[str, list[CollectionError]] = {}
    leaning: dict[str, list[CollectionError]] = {}
    for g in gaps:
        if g.resource_uid is not None:
            per_resource.setdefault(g.resource_uid, []).append(g)
            for uid in sorted((dependents or {}).get(g, ())):
                leaning.setdefault(uid, []).append(g)
    out: list[Result] = []
    judged: set[str] = set()
    for r in results:
        judged.add(r.subject.uid)
        hits = per_resource.get(r.subject.uid, []) + [
            g for g in scoped if g.covers(r.subject.account, r.subject.region)
        ]
        via = [g for g in leaning.get(r.subject.uid, []) if g not in hits]
        if r.status == Status.PASS and (hits or via):
            reason = "; ".join(
                [h.describe() for h in hits] + [_neighbour_text(g, inventory) for g in via]
            )
            evidence = {**r.evidence, "collection_errors": _error_evidence([*hits, *via])}
            if via:
                evidence["depends_on"] = sorted({str(g.resource_uid) for g in via})
            out.append(
                Result(
                    r.subject,
                    Status.INCONCLUSIVE,
                    f"not verified: {reason} (would otherwise pass: {r.message})",
                    evidence,
                )
            )
        elif r.status == Status.INCONCLUSIVE and via:
            out.append(_naming(r, via, inventory))
        else:
            out.append(r)
    for uid, errs in sorted(per_resource.items()):
        if uid in judged:
            continue
        asset = inventory.get(uid)
        subject = (
            Subject.of(asset)
            if asset
            else Subject(uid, SCOPE_TYPE, uid, errs[0].account, errs[0].region)
        )
        reason = "; ".join(e.describe() for e in errs)
        out.append(
            Result(
                subject,
                Status.INCONCLUSIVE,
                f"not verified: {reason}",
                {"collection_errors": _error_evidence(errs)},
            )
        )
    for g in scoped:
        uid = f"{g.provider.value}://{g.account}/{g.region}/{g.service}:{g.operation}"
        subject = Subject(uid, SCOPE_TYPE, f"{g.service}:{g.operation}", g.account, g.region)
        out.append(
            Result(
                subject,
                Status.INCONCLUSIVE,
                f"not verified: {g.describe()}",
                {"collection_errors": _error_evidence([g]), "asset_types": list(g.asset_types)},
            )
        )
    return out


def _configured_severity(spec: CheckSpec, params: Mapping[str, Any]) -> Severity | None:
    """A check that declares a ``severity`` parameter lets the user choose its findings'
    severity (e.g. access logs: required for some estates, nice-to-have for others)."""
    if "severity" not in spec.params:
        return None
    return Severity.parse(str(params.get("severity", spec.params["severity"])))


def run_check(
    check: Check,
    inventory: Inventory,
    options: RunOptions,
    shared: dict[str, Any],
) -> list[Finding]:
    spec = check.spec
    params = options.params.get(spec.id, {})
    unknown_params = set(params) - set(spec.params)
    if unknown_params:
        raise CheckSelectionError(
            f"check {spec.id} has no parameter(s) {', '.join(sorted(unknown_params))}"
        )
    stamp = _Stamper(check, _configured_severity(spec, params))
    ctx = CheckContext(inventory, spec, params, shared, options.companions)
    gaps = tuple(e for e in inventory.errors_affecting(spec.reads) if e.provider == spec.provider)
    try:
        results = list(check.func(ctx))
    except Exception as exc:
        if options.raise_errors:
            raise
        accounts = inventory.meta.accounts or ("unknown",)
        return [
            stamp(
                Result(
                    Subject(f"check://{spec.id}/{acct}", "posture::Check", spec.id, acct, GLOBAL),
                    Status.ERROR,
                    f"check crashed: {type(exc).__name__}: {exc}",
                    {"exception": type(exc).__name__},
                )
            )
            for acct in accounts
        ]
    return [stamp(r) for r in _apply_gaps(results, gaps, inventory, _dependents(ctx, gaps))]


def _dependents(ctx: CheckContext, gaps: tuple[CollectionError, ...]) -> neighbours.Dependents:
    """Per failed detail call, the assets whose verdicts rest on it (once per run)."""
    if not any(g.resource_uid for g in gaps):
        return {}
    return ctx.derived(
        "engine.failed_neighbours",
        lambda inv: neighbours.merge(neighbours.dependents(inv), iam_neighbours.dependents(inv)),
    )


def run(
    catalogue: Catalogue,
    inventory: Inventory,
    check_ids: Iterable[str] = (),
    options: RunOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Finding, ...]:
    """Run the selected checks (all of the inventory's provider by default), sorted findings."""
    options = options or RunOptions()
    selected = catalogue.select(ids=tuple(check_ids), provider=inventory.meta.provider)
    shared: dict[str, Any] = {}
    findings: list[Finding] = []
    for check in selected:
        if progress:
            progress(check.spec.id)
        findings.extend(run_check(check, inventory, options, shared))
    return tuple(sorted(findings, key=Finding.sort_key))
