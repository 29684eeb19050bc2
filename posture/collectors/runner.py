"""The collector runner shared by every provider: scopes that record, service jobs run together.

A provider (``aws``, ``azure``, ``gcp``) is a package of service modules, each exposing
``collect(scope) -> list[Asset]`` (fetch, I/O only, then normalize, pure) and a ``PERMISSIONS``
tuple. What this module guarantees to every provider:

- :class:`Scope` is the one place a collection gap becomes a :class:`CollectionError` (stamped
  with the provider and the scope's account, message cut to 500 characters, thread-safe) and an
  API payload becomes an :class:`Asset` (tags sorted, attributes and raw payload made plain JSON).
- :func:`run_jobs` runs every (service module, scope) job on one thread pool. An exception that
  escapes a module is recorded on that job's scope (operation ``collect``, every asset type
  affected) and the other jobs go on. The result does not depend on the order in which jobs
  finish: assets and errors come back in job order, and of two assets with one uid the one from
  the earlier job is kept.
- :func:`build_inventory` stamps the result as one scan (fresh scan id, tool version, times);
  :class:`ClientCache` creates each SDK client once per key, under a lock, for all threads.
- Nothing here imports a cloud SDK, creates a client or does anything at import time.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar, Generic, TypeVar

from posture import __version__, contracts
from posture.model import ALL, GLOBAL, Asset, CollectionError, Inventory, Provider, ScanMeta
from posture.snapshot import jsonable

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Payload = dict[str, Any]
"""An API response or one item of a listing, as the SDK returns it (JSON-like)."""



def pick(payload: Payload, **fields: str) -> dict[str, Any]:
    """``{attr: payload.get(key)}`` for each ``attr="Key"``: a normalizer's plain copies."""
    return {attr: payload.get(key) for attr, key in fields.items()}


Progress = Callable[[str], None]
"""Told ``"<module> <where>"`` each time a job finishes (in completion order)."""

DETAIL_WORKERS = 8
"""Threads per service module for per-resource detail calls (buckets, keys, principals)."""

MESSAGE_LIMIT = 500
"""Longest collection-error message kept (API errors can carry whole payloads)."""


def now() -> str:
    """The current UTC time to the second, ISO 8601 (the snapshot's timestamps)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class ClientCache(Generic[K, V]):
    """SDK clients made once per key and shared by threads; ``make`` runs under the lock (some
    SDKs' client construction is not thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[K, V] = {}

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key not in self._values:
                self._values[key] = make()
            return self._values[key]


@dataclass
class Scope(ABC):
    """One unit of collection (an AWS account in a region, an Azure subscription, a GCP project).

    A provider subclasses it with its own fields (clients, ids) and says who owns the assets
    (:attr:`owner`) and where an asset or error without an explicit region lives
    (:attr:`home_region`). Failures are recorded here instead of raised.
    """

    provider: ClassVar[Provider]
    errors: list[CollectionError] = field(default_factory=list, kw_only=True)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, kw_only=True, repr=False, compare=False
    )

    @property
    @abstractmethod
    def owner(self) -> str:
        """The account the assets belong to (account id, subscription id, project id)."""

    @property
    def home_region(self) -> str:
        """The region of an asset or error that names none."""
        return GLOBAL

    @property
    def where(self) -> str:
        """What a progress line names for this scope."""
        return self.owner

    def canonical_uid(self, uid: str) -> str:
        """The uid as stored (a provider whose ids compare case-insensitively lower-cases it)."""
        return uid

    def record(
        self,
        service: str,
        operation: str,
        code: str,
        message: str,
        asset_types: tuple[str, ...],
        *,
        region: str | None = None,
        resource_uid: str | None = None,
    ) -> None:
        """Record a failed call: the ``asset_types`` it would have read are now unknown."""
        error = CollectionError(
            provider=self.provider,
            account=self.owner,
            region=self.home_region if region is None else region,
            service=service,
            operation=operation,
            code=code,
            message=message[:MESSAGE_LIMIT],
            asset_types=asset_types,
            resource_uid=resource_uid,
        )
        with self._lock:
            self.errors.append(error)

    def asset(
        self,
        uid: str,
        type_: str,
        name: str,
        attrs: Mapping[str, Any],
        raw: Any = None,
        tags: Mapping[str, str] | None = None,
        region: str | None = None,
    ) -> Asset:
        """An asset of this scope's account, from normalized attributes and the API payload kept
        as evidence; an empty ``region`` means :attr:`home_region`."""
        return Asset(
            uid=self.canonical_uid(uid),
            provider=self.provider,
            type=type_,
            account=self.owner,
            region=region or self.home_region,
            name=name,
            tags=dict(sorted((tags or {}).items())),
            attrs=jsonable(attrs),
            raw=jsonable(raw or {}),
        )


S = TypeVar("S", bound=Scope)


@dataclass(frozen=True, slots=True)
class Job(Generic[S]):
    """One service module to run against one scope."""

    module: str
    scope: S


@dataclass(frozen=True, slots=True)
class JobsResult:
    """What a set of jobs collected: assets unique by uid, and every scope's errors."""

    assets: tuple[Asset, ...]
    errors: tuple[CollectionError, ...]


def service_module(package: str, name: str) -> ModuleType:
    """The service module ``name`` of a provider package (imported on first use)."""
    return importlib.import_module(f"{package}.{name}")


def declared_permissions(package: str, modules: Iterable[str]) -> set[str]:
    """The union of the ``PERMISSIONS`` the given service modules declare."""
    actions: set[str] = set()
    for name in modules:
        actions.update(getattr(service_module(package, name), "PERMISSIONS", ()))
    return actions


def dedupe(assets: Iterable[Asset]) -> list[Asset]:
    """The assets with one per uid, the first seen kept, in first-seen order."""
    seen: dict[str, Asset] = {}
    for asset in assets:
        seen.setdefault(asset.uid, asset)
    return list(seen.values())


def run_module(package: str, name: str, scope: Scope) -> list[Asset]:
    """One service module's assets; an error that escapes it is recorded on ``scope``."""
    module = service_module(package, name)
    try:
        assets: list[Asset] = module.collect(scope)
    except Exception as exc:  # a module let an error escape: record it, keep the scan going
        text = str(exc).strip()
        message = text.splitlines()[0] if text else repr(exc)
        scope.record(name, "collect", type(exc).__name__, message, (ALL,))
        return []
    return assets


def run_jobs(
    package: str,
    jobs: Sequence[Job[Any]],
    *,
    max_workers: int,
    progress: Progress | None = None,
) -> JobsResult:
    """Run every job concurrently; assets deduplicated and errors gathered, both in job order."""
    results: list[list[Asset]] = [[] for _ in jobs]
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {
            pool.submit(run_module, package, job.module, job.scope): i for i, job in enumerate(jobs)
        }
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if progress:
                progress(f"{jobs[i].module} {jobs[i].scope.where}")
    return JobsResult(
        assets=tuple(dedupe(a for found in results for a in found)),
        errors=tuple(e for job in jobs for e in job.scope.errors),
    )


def build_inventory(
    provider: Provider,
    *,
    started: str,
    accounts: Sequence[str],
    regions: Sequence[str],
    endpoint_url: str | None,
    assets: Sequence[Asset],
    errors: Sequence[CollectionError],
) -> Inventory:
    """The snapshot of one scan (a fresh scan id; finished now), its assets held to their
    contracts (:func:`posture.contracts.conform`)."""
    meta = ScanMeta(
        scan_id=str(uuid.uuid4()),
        provider=provider,
        tool_version=__version__,
        started_at=started,
        finished_at=now(),
        accounts=tuple(accounts),
        regions=tuple(regions),
        endpoint_url=endpoint_url,
    )
    inventory = Inventory(meta=meta, assets=tuple(assets), errors=tuple(errors))
    return contracts.conform(inventory, jsonable)


def regions_of(assets: Iterable[Asset]) -> tuple[str, ...]:
    """The regions the assets live in, plus ``global``, sorted."""
    return tuple(sorted({a.region for a in assets} | {GLOBAL}))


def parallel_map(
    fn: Callable[[T], R], items: Iterable[T], workers: int = DETAIL_WORKERS
) -> list[R]:
    """``[fn(x) for x in items]`` on a small thread pool, results in input order."""
    todo = list(items)
    if len(todo) <= 1:
        return [fn(x) for x in todo]
    with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        return list(pool.map(fn, todo))


def parallel_flat_map(
    fn: Callable[[T], Iterable[R]], items: Iterable[T], workers: int = DETAIL_WORKERS
) -> list[R]:
    """:func:`parallel_map` of a function that returns several results per item (a resource and
    its children), concatenated in input order."""
    return [r for found in parallel_map(fn, items, workers) for r in found]
