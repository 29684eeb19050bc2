"""The evidence directory of an organisation scan: one snapshot per account and ``manifest.json``.

Layout of ``--snapshot-out DIR``::

    DIR/manifest.json            the manifest (below)
    DIR/<account id>.json        each account's snapshot, byte-identical to what a
                                 single-account ``posture scan aws --snapshot-out`` writes

``manifest.json`` (keys sorted, indent 1, trailing newline)::

    {"schema": "posture.organization", "schema_version": 1, "provider": "aws",
     "scan_id", "tool_version", "started_at", "finished_at", "endpoint_url",
     "organization": {"id", "arn", "management_account_id"},
     "accounts": [{"id", "name", "ou_path": [{"id", "name"}, ...], "management",
                   "status": "scanned" | "partial" | "failed", "reason",
                   "regions", "snapshot": "<file name>", "sha256"}, ...],   # by account id
     "unlisted": [<collection error>, ...]}   # only when part of the organisation could
                                              # not be enumerated (the run is then partial)

Guarantees: every file is written atomically (a temporary file renamed over the target), a
snapshot as soon as its account's task returns, so the coordinator holds one snapshot at a
time; an existing non-empty directory is refused unless it holds an earlier organisation scan
and replacing it was asked for explicitly; reading a manifest back checks each snapshot's
SHA-256 before it is used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posture import files
from posture.errors import SnapshotError
from posture.model import CollectionError, Provider
from posture.org.plan import OuStep
from posture.org.task import AccountStatus

SCHEMA = "posture.organization"
SCHEMA_VERSION = 1
FILENAME = "manifest.json"


class EvidenceDirError(SnapshotError):
    """The evidence directory cannot be used (not empty, not writable, not a manifest)."""


@dataclass(frozen=True, slots=True)
class AccountEntry:
    id: str
    name: str
    ou_path: tuple[OuStep, ...]
    management: bool
    status: AccountStatus
    reason: str
    regions: tuple[str, ...]
    snapshot: str  # file name inside the directory
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "ou_path": [s.to_dict() for s in self.ou_path],
            "management": self.management,
            "status": self.status.value,
            "reason": self.reason,
            "regions": list(self.regions),
            "snapshot": self.snapshot,
            "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> AccountEntry:
        try:
            return cls(
                id=str(data["id"]),
                name=str(data["name"]),
                ou_path=tuple(OuStep(str(s["id"]), str(s["name"])) for s in data["ou_path"]),
                management=bool(data["management"]),
                status=AccountStatus(data["status"]),
                reason=str(data["reason"]),
                regions=tuple(str(r) for r in data["regions"]),
                snapshot=_plain_name(str(data["snapshot"]), where),
                sha256=str(data["sha256"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EvidenceDirError(f"{where}: malformed account entry ({exc})") from None


@dataclass(frozen=True, slots=True)
class Manifest:
    scan_id: str
    tool_version: str
    started_at: str
    finished_at: str
    endpoint_url: str | None
    organization_id: str
    organization_arn: str
    management_account_id: str
    accounts: tuple[AccountEntry, ...]
    provider: str = "aws"
    unlisted: tuple[CollectionError, ...] = ()  # what of the organisation was not enumerated

    def to_document(self) -> dict[str, Any]:
        doc = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "provider": self.provider,
            "scan_id": self.scan_id,
            "tool_version": self.tool_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "endpoint_url": self.endpoint_url,
            "organization": {
                "id": self.organization_id,
                "arn": self.organization_arn,
                "management_account_id": self.management_account_id,
            },
            "accounts": [a.to_dict() for a in sorted(self.accounts, key=lambda a: a.id)],
        }
        if self.unlisted:  # only then: manifests of complete enumerations are unchanged
            doc["unlisted"] = [_error_dict(e) for e in self.unlisted]
        return doc

    def dumps(self) -> bytes:
        text = json.dumps(self.to_document(), sort_keys=True, indent=1, ensure_ascii=False)
        return (text + "\n").encode("utf-8")

    @classmethod
    def loads(cls, data: bytes, where: str) -> Manifest:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EvidenceDirError(f"{where}: not a manifest ({exc})") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise EvidenceDirError(f'{where}: not an organisation manifest (expected "schema": '
                                   f'"{SCHEMA}")')
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise EvidenceDirError(
                f"{where}: manifest schema version {doc.get('schema_version')} is not supported "
                f"(this posture reads version {SCHEMA_VERSION})"
            )
        try:
            org = doc["organization"]
            return cls(
                scan_id=str(doc["scan_id"]),
                tool_version=str(doc["tool_version"]),
                started_at=str(doc["started_at"]),
                finished_at=str(doc["finished_at"]),
                endpoint_url=doc.get("endpoint_url"),
                organization_id=str(org["id"]),
                organization_arn=str(org["arn"]),
                management_account_id=str(org["management_account_id"]),
                accounts=tuple(AccountEntry.from_dict(a, f"{where}: accounts[{i}]")
                               for i, a in enumerate(doc["accounts"])),
                provider=str(doc["provider"]),
                unlisted=tuple(_error_of(e) for e in doc.get("unlisted") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EvidenceDirError(f"{where}: malformed manifest (missing {exc})") from None


def _error_dict(e: CollectionError) -> dict[str, Any]:
    return {"provider": e.provider.value, "account": e.account, "region": e.region,
            "service": e.service, "operation": e.operation, "code": e.code,
            "message": e.message, "asset_types": list(e.asset_types),
            "resource_uid": e.resource_uid}


def _error_of(d: Any) -> CollectionError:
    return CollectionError(
        provider=Provider(str(d["provider"])), account=str(d["account"]),
        region=str(d["region"]), service=str(d["service"]), operation=str(d["operation"]),
        code=str(d["code"]), message=str(d["message"]),
        asset_types=tuple(str(t) for t in d["asset_types"]),
        resource_uid=d.get("resource_uid"),
    )


def _plain_name(name: str, where: str) -> str:
    """A snapshot file name must stay inside the directory."""
    if not name or "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise EvidenceDirError(f"{where}: snapshot file name {name!r} is not a plain file name")
    return name


def snapshot_name(account_id: str) -> str:
    return f"{account_id}.json"


def write_atomic(path: Path, data: bytes) -> None:
    files.write_atomic(path, data, EvidenceDirError)


def open_dir(path: Path, *, replace: bool = False) -> Path:
    """Make ``path`` ready for a new organisation scan and return it.

    A missing or empty directory is used as is. A non-empty one is refused, unless ``replace``
    is set and it holds an earlier organisation scan (a manifest and nothing but the snapshots
    it lists): then those files are removed first. Nothing else is ever deleted.
    """
    if path.exists() and not path.is_dir():
        raise EvidenceDirError(f"{path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        present = sorted(p.name for p in path.iterdir())
    except OSError as exc:
        raise EvidenceDirError(f"{path}: cannot create: {exc.strerror or exc}") from None
    if not present:
        return path
    if not replace:
        raise EvidenceDirError(
            f"{path}: directory is not empty (it may hold evidence of an earlier scan); "
            "choose a new directory, or pass --replace-snapshots to replace an earlier "
            "organisation scan there"
        )
    manifest = read_manifest(path)
    owned = {FILENAME, *(a.snapshot for a in manifest.accounts)}
    foreign = [name for name in present if name not in owned]
    if foreign:
        raise EvidenceDirError(
            f"{path}: holds files that are not part of its organisation scan "
            f"({', '.join(foreign[:5])}); refusing to replace it"
        )
    for name in present:
        (path / name).unlink()
    return path


def read_manifest(path: Path) -> Manifest:
    """The manifest of the evidence directory ``path``."""
    file = path / FILENAME
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise EvidenceDirError(f"{path}: no {FILENAME} (not an organisation scan)") from None
    except OSError as exc:
        raise EvidenceDirError(f"{file}: cannot read: {exc.strerror or exc}") from None
    return Manifest.loads(data, str(file))


def read_verified(path: Path, entry: AccountEntry) -> bytes:
    """One account's snapshot bytes, after checking them against the manifest's SHA-256."""
    file = path / entry.snapshot
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise EvidenceDirError(
            f"{file}: snapshot of account {entry.id} cannot be read: {exc.strerror or exc}"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise EvidenceDirError(
            f"{file}: snapshot of account {entry.id} does not match the manifest "
            f"(sha256 {digest}, manifest says {entry.sha256}); the evidence was changed"
        )
    return data
