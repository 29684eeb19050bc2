"""Cloud KMS: key rings in every location of the project, their crypto keys (rotation period,
primary version state) and each key's IAM policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, last, parallel_flat_map, to_json
from posture.collectors.gcp.resourcemanager import bindings
from posture.model import Asset

KEY_RING = "cloudkms.googleapis.com/KeyRing"
CRYPTO_KEY = "cloudkms.googleapis.com/CryptoKey"
SERVICE = "cloudkms"
PERMISSIONS = (
    "cloudkms.cryptoKeys.getIamPolicy", "cloudkms.cryptoKeys.list", "cloudkms.keyRings.list",
    "cloudkms.locations.list",
)


def uid(name: str) -> str:
    return f"//cloudkms.googleapis.com/{name}"


def fetch_locations(scope: ProjectScope) -> list[str] | None:
    client, retry = scope.clients.kms(), scope.clients.retry

    def run() -> list[str]:
        out: list[str] = []
        token = ""
        while True:
            resp = client.list_locations(
                request={"name": f"projects/{scope.project}", "page_token": token}, retry=retry
            )
            out.extend(loc.location_id for loc in resp.locations)
            token = resp.next_page_token
            if not token:
                return sorted(out)

    return scope.call(SERVICE, "locations.list", (KEY_RING, CRYPTO_KEY), run)


def collect(scope: ProjectScope) -> list[Asset]:
    locations = fetch_locations(scope)
    if not locations:
        return []
    client, retry = scope.clients.kms(), scope.clients.retry

    def rings(location: str) -> list[dict[str, Any]]:
        parent = f"projects/{scope.project}/locations/{location}"
        found = scope.call(
            SERVICE,
            "keyRings.list",
            (KEY_RING, CRYPTO_KEY),
            lambda: [to_json(r) for r in client.list_key_rings(parent=parent, retry=retry)],
            region=location,
        )
        return found or []

    all_rings = parallel_flat_map(rings, locations)
    assets = [normalize_key_ring(scope, r) for r in all_rings]

    def keys(ring: Mapping[str, Any]) -> list[Asset]:
        name, location = str(ring["name"]), _location(str(ring["name"]))
        found = scope.call(
            SERVICE,
            "cryptoKeys.list",
            (CRYPTO_KEY,),
            lambda: [to_json(k) for k in client.list_crypto_keys(parent=name, retry=retry)],
            region=location,
            resource_uid=uid(name),
        )
        return [_key_with_policy(scope, k) for k in found or []]

    return assets + parallel_flat_map(keys, all_rings)


def _key_with_policy(scope: ProjectScope, key: Mapping[str, Any]) -> Asset:
    client, retry = scope.clients.kms(), scope.clients.retry
    name = str(key["name"])
    policy = scope.call(
        SERVICE,
        "cryptoKeys.getIamPolicy",
        (f"{CRYPTO_KEY}#iam_policy",),
        lambda: to_json(
            client.get_iam_policy(
                request={"resource": name, "options": {"requested_policy_version": 3}}, retry=retry
            )
        ),
        region=_location(name),
        resource_uid=uid(name),
    )
    return normalize_crypto_key(scope, key, policy)


def _location(name: str) -> str:
    parts = name.split("/")
    return parts[parts.index("locations") + 1] if "locations" in parts else "global"


def normalize_key_ring(scope: ProjectScope, r: Mapping[str, Any]) -> Asset:
    name = str(r["name"])
    attrs = {
        "key_ring_name": last(name),
        "location": _location(name),
        "create_time": r.get("createTime"),
    }
    return scope.asset(uid(name), KEY_RING, last(name), attrs, r, region=_location(name))


def _seconds(duration: Any) -> int | None:
    if not duration:
        return None
    return int(float(str(duration).rstrip("s")))


def normalize_crypto_key(
    scope: ProjectScope, k: Mapping[str, Any], policy: Mapping[str, Any] | None
) -> Asset:
    name = str(k["name"])
    primary = k.get("primary") or {}
    template = k.get("versionTemplate") or {}
    attrs = {
        "key_name": last(name),
        "key_ring": name.split("/cryptoKeys/")[0],
        "location": _location(name),
        "purpose": k.get("purpose"),
        "rotation_period_seconds": _seconds(k.get("rotationPeriod")),
        "next_rotation_time": k.get("nextRotationTime"),
        "primary_state": primary.get("state"),
        "algorithm": primary.get("algorithm") or template.get("algorithm"),
        "protection_level": primary.get("protectionLevel") or template.get("protectionLevel"),
        "create_time": k.get("createTime"),
        "iam_bindings": bindings(policy) if policy is not None else None,
    }
    return scope.asset(
        uid(name),
        CRYPTO_KEY,
        last(name),
        attrs,
        {"key": k, "iam_policy": policy},
        region=_location(name),
        tags=k.get("labels") or {},
    )
