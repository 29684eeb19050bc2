"""Secret Manager (v1, discovery client): the project's (global) secrets - rotation, replication,
customer-managed encryption, expiry - and each secret's IAM policy. Only metadata is read:
secret versions and their payloads never are. Regional secrets
(``projects/P/locations/L/secrets``) are not listed yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, last, parallel_map
from posture.collectors.gcp.listing import iam_bindings, listing
from posture.gcp import SECRET
from posture.model import Asset

SERVICE = "secretmanager"
PERMISSIONS = ("secretmanager.secrets.getIamPolicy", "secretmanager.secrets.list")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def uid(name: str) -> str:
    return f"//secretmanager.googleapis.com/{name}"


def _secrets(scope: ProjectScope) -> Any:
    return scope.clients.discovery("secretmanager", "v1").projects().secrets()


def collect(scope: ProjectScope) -> list[Asset]:
    found = listing(scope, lambda: _secrets(scope), "secrets", service=SERVICE,
                    operation="secrets.list", asset_types=(SECRET,),
                    parent=f"projects/{scope.project}")

    def one(secret: dict[str, Any]) -> Asset:
        name = str(secret["name"])
        policy = iam_bindings(scope, lambda: _secrets(scope), name, service=SERVICE,
                              operation="secrets.getIamPolicy", facet=f"{SECRET}#iam_policy",
                              resource_uid=uid(name))
        return normalize_secret(scope, secret, policy)

    return parallel_map(one, found.found)


def seconds(value: Any) -> int | None:
    """A protobuf Duration in JSON (``"7776000s"``) as whole seconds."""
    found = _DURATION.match(str(value or ""))
    return int(float(found.group(1))) if found else None


def normalize_secret(scope: ProjectScope, s: Mapping[str, Any],
                     policy: list[dict[str, Any]] | None) -> Asset:
    replication = s.get("replication") or {}
    rotation = s.get("rotation") or {}
    user = replication.get("userManaged") or {}
    replicas = user.get("replicas") or ()
    keys = [((replication.get("automatic") or {}).get("customerManagedEncryption") or {})
            .get("kmsKeyName")] + [(r.get("customerManagedEncryption") or {}).get("kmsKeyName")
                                   for r in replicas]
    attrs = {
        "secret_id": last(s.get("name")),
        "create_time": s.get("createTime"),
        "replication": "user_managed" if user else "automatic",
        "replica_locations": sorted(str(r.get("location")) for r in replicas),
        "kms_keys": sorted({k for k in keys if k}),
        "rotation_period_seconds": seconds(rotation.get("rotationPeriod")),
        "next_rotation_time": rotation.get("nextRotationTime"),
        "topics": sorted(str(t.get("name")) for t in s.get("topics") or ()),
        "expire_time": s.get("expireTime"),
        "ttl_seconds": seconds(s.get("ttl")),
        "version_destroy_ttl_seconds": seconds(s.get("versionDestroyTtl")),
        "iam_bindings": policy,
    }
    return scope.asset(uid(str(s["name"])), SECRET, str(attrs["secret_id"]), attrs, s,
                       tags=s.get("labels") or {})
