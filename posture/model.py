"""Core types: assets, the inventory snapshot, collection errors, findings.

Everything here is a frozen dataclass or an enum. Collectors produce :class:`Asset` and
:class:`CollectionError`; the engine turns check results into :class:`Finding`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

GLOBAL = "global"
"""Region of global services (IAM, S3 bucket listing) and of account-wide settings."""

ALL = "*"
"""Wildcard for a collection error that affects every region or every asset type."""


class Provider(StrEnum):
    AWS = "aws"
    AZURE = "azure"
    GCP = "gcp"
    GITHUB = "github"


class Status(StrEnum):
    """Outcome of one check on one resource.

    PASS          the check saw the data it needs and the resource complies.
    FAIL          the check saw the data and the resource violates the principle.
    INCONCLUSIVE  the data the check needs was not collected (denied, throttled, region disabled),
                  or a grant depends on a condition that cannot be decided from the inventory.
    ERROR         the check itself crashed; nothing can be concluded.
    EXCEPTED      the resource fails the check, but an unexpired accepted-risk exception
                  (``--exceptions FILE``) covers it; the finding is kept, with the reason, and
                  ``--fail-on`` ignores it. An expired exception no longer applies: the finding
                  is FAIL again.
    """

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    ERROR = "ERROR"
    EXCEPTED = "EXCEPTED"


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


class Principle(StrEnum):
    DEFENSE_IN_DEPTH = "defense-in-depth"
    ENCRYPTION_AT_REST = "encryption-at-rest"
    ENCRYPTION_IN_TRANSIT = "encryption-in-transit"
    LEAST_PRIVILEGE = "least-privilege"
    MFA = "mfa"
    JUST_IN_TIME = "just-in-time"
    AUDITABLE = "auditable"
    SECRETS = "secrets"
    SEGREGATION = "segregation"
    PATCHING = "patching"  # systems, images and runtimes monitored and updated on a cycle
    SECURE_CODE = "secure-code"
    CHANGE_CONTROL = "change-control"


@dataclass(frozen=True, slots=True)
class Asset:
    """One cloud resource (or one account/region-wide setting, such as a password policy).

    ``type`` is the provider's own type name (``AWS::EC2::SecurityGroup``). ``attrs`` holds the
    normalized fields that graphs and checks read; ``raw`` keeps the API payload as evidence.
    """

    uid: str
    provider: Provider
    type: str
    account: str
    region: str
    name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


def _type_matches(read: str, affected: str) -> bool:
    """``read`` and ``affected`` are ``Type`` or ``Type#facet``; a bare type covers all facets."""
    if affected == ALL or read == ALL:
        return True
    r_type, _, r_facet = read.partition("#")
    a_type, _, a_facet = affected.partition("#")
    if r_type != a_type:
        return False
    return not r_facet or not a_facet or r_facet == a_facet


@dataclass(frozen=True, slots=True)
class CollectionError:
    """An API call that failed during collection. The scan went on without its data.

    ``asset_types`` names what the call would have produced (``AWS::S3::Bucket#encryption`` for a
    per-bucket detail, ``AWS::EC2::Volume`` for a whole listing, ``*`` for everything).
    ``resource_uid`` is set when the failure concerns one resource only.
    """

    provider: Provider
    account: str
    region: str
    service: str
    operation: str
    code: str
    message: str
    asset_types: tuple[str, ...] = (ALL,)
    resource_uid: str | None = None

    def affects_types(self, reads: Iterable[str]) -> bool:
        return any(_type_matches(r, a) for r in reads for a in self.asset_types)

    def covers(self, account: str, region: str) -> bool:
        """Whether this error leaves data of ``account``/``region`` unverified."""
        if self.account not in (ALL, account):
            return False
        return self.region in (ALL, GLOBAL, region)

    def describe(self) -> str:
        where = self.region if self.region != GLOBAL else "global"
        return (
            f"{self.service}:{self.operation} failed in {self.account}/{where} "
            f"({self.code}: {self.message})"
        )


@dataclass(frozen=True, slots=True)
class ScanMeta:
    """Who scanned what, when, with which tool."""

    scan_id: str
    provider: Provider
    tool_version: str
    started_at: str
    finished_at: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    endpoint_url: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, in the field order of the snapshot and of reports."""
        return {
            "scan_id": self.scan_id,
            "provider": self.provider.value,
            "tool_version": self.tool_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "accounts": list(self.accounts),
            "regions": list(self.regions),
            "endpoint_url": self.endpoint_url,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Inventory:
    """The snapshot: assets sorted by uid, collection errors, scan metadata."""

    meta: ScanMeta
    assets: tuple[Asset, ...]
    errors: tuple[CollectionError, ...] = ()
    _by_uid: Mapping[str, Asset] = field(init=False, repr=False, compare=False)
    _by_type: Mapping[str, tuple[Asset, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.assets, key=lambda a: a.uid))
        by_uid: dict[str, Asset] = {}
        by_type: dict[str, list[Asset]] = {}
        for asset in ordered:
            if asset.uid in by_uid:
                raise ValueError(f"duplicate asset uid {asset.uid!r}")
            by_uid[asset.uid] = asset
            by_type.setdefault(asset.type, []).append(asset)
        object.__setattr__(self, "assets", ordered)
        object.__setattr__(self, "errors", tuple(sorted(self.errors, key=_error_key)))
        object.__setattr__(self, "_by_uid", by_uid)
        object.__setattr__(self, "_by_type", {k: tuple(v) for k, v in by_type.items()})

    def of(self, *types: str) -> tuple[Asset, ...]:
        """Assets of the given provider types, in uid order."""
        if len(types) == 1:
            return self._by_type.get(types[0], ())
        found = [a for t in types for a in self._by_type.get(t, ())]
        return tuple(sorted(found, key=lambda a: a.uid))

    def get(self, uid: str) -> Asset | None:
        return self._by_uid.get(uid)

    def types(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_type))

    def errors_affecting(self, reads: Iterable[str]) -> tuple[CollectionError, ...]:
        reads = tuple(reads)
        return tuple(e for e in self.errors if e.affects_types(reads))


def _error_key(e: CollectionError) -> tuple[str, ...]:
    return (e.provider, e.account, e.region, e.service, e.operation, e.resource_uid or "", e.code)


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's verdict on one resource, stamped with the check's metadata."""

    check_id: str
    title: str
    status: Status
    severity: Severity
    provider: Provider
    resource_uid: str
    resource_type: str
    resource_name: str
    account: str
    region: str
    message: str
    evidence: Mapping[str, Any]
    principles: tuple[Principle, ...]
    controls: Mapping[str, tuple[str, ...]]
    remediation: str

    def sort_key(self) -> tuple[str, ...]:
        return (self.check_id, self.resource_uid, self.status.value, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of a finding (keys documented in the README)."""
        return {
            "check_id": self.check_id,
            "title": self.title,
            "status": self.status.value,
            "severity": self.severity.label,
            "provider": self.provider.value,
            "resource_uid": self.resource_uid,
            "resource_type": self.resource_type,
            "resource_name": self.resource_name,
            "account": self.account,
            "region": self.region,
            "principles": [p.value for p in self.principles],
            "controls": {k: list(v) for k, v in sorted(self.controls.items())},
            "message": self.message,
            "evidence": self.evidence,
            "remediation": self.remediation,
        }
