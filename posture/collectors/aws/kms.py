"""KMS keys of one region: metadata, rotation, key policy, aliases and tags (attrs as in
``docs/aws-assets.md``).

Keys pending deletion are kept (their state is recorded). Rotation is only asked for keys that
can rotate automatically (customer-managed symmetric encryption keys with key material from KMS);
for the others ``rotation_enabled`` is ``None`` = not applicable.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy, tag_map
from posture.model import Asset

KEY = "AWS::KMS::Key"

PERMISSIONS: tuple[str, ...] = (
    "kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy",
    "kms:ListAliases", "kms:ListResourceTags",
)


def collect(scope: RegionScope) -> list[Asset]:
    keys = scope.paginate("kms", "ListKeys", "Keys", (KEY,))
    if keys is None:
        return []
    aliases = fetch_aliases(scope)
    ordered = sorted(keys, key=lambda k: str(k["KeyArn"]))
    payloads = parallel_map(lambda key: fetch_key(scope, key), ordered)
    return [normalize_key(scope, p, aliases) for p in payloads]


# --- fetch -------------------------------------------------------------------------------------


def fetch_aliases(scope: RegionScope) -> dict[str, list[str]] | None:
    """Alias names by target key id, or ``None`` if the listing failed."""
    aliases = scope.paginate("kms", "ListAliases", "Aliases", (f"{KEY}#aliases",))
    if aliases is None:
        return None
    by_key: dict[str, list[str]] = {}
    for alias in aliases:
        if alias.get("TargetKeyId"):
            by_key.setdefault(str(alias["TargetKeyId"]), []).append(str(alias["AliasName"]))
    return {key: sorted(names) for key, names in by_key.items()}


def fetch_key(scope: RegionScope, key: Payload) -> Payload:
    """ListKeys entry plus the detail answers of one key (``None`` = failed or not asked)."""
    uid = str(key["KeyArn"])
    key_id = str(key["KeyId"])
    described = scope.call("kms", "DescribeKey", (KEY,), uid, KeyId=key_id)
    metadata = (described or {}).get("KeyMetadata")
    payload: Payload = {"key": key, "metadata": metadata, "rotation": None, "tags": None}
    if metadata and rotation_applies(metadata):
        payload["rotation"] = scope.call("kms", "GetKeyRotationStatus", (f"{KEY}#rotation",), uid,
                                         ok_codes=("KMSInvalidStateException",), KeyId=key_id)
    payload["policy"] = scope.call("kms", "GetKeyPolicy", (f"{KEY}#policy",), uid,
                                   KeyId=key_id, PolicyName="default")
    if metadata and metadata.get("KeyManager") == "CUSTOMER":  # AWS managed keys have no tags
        payload["tags"] = scope.paginate("kms", "ListResourceTags", "Tags", (f"{KEY}#tags",), uid,
                                         KeyId=key_id)
    return payload


def rotation_applies(metadata: Payload) -> bool:
    """Automatic rotation exists only for customer-managed symmetric encryption keys whose key
    material KMS generated (not imported, not in a custom key store)."""
    spec = metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec")
    return (
        metadata.get("KeyManager") == "CUSTOMER"
        and spec == "SYMMETRIC_DEFAULT"
        and metadata.get("KeyUsage", "ENCRYPT_DECRYPT") == "ENCRYPT_DECRYPT"
        and metadata.get("Origin") == "AWS_KMS"
    )


# --- normalize ---------------------------------------------------------------------------------


def normalize_key(
    scope: RegionScope, payload: Payload, aliases: dict[str, list[str]] | None
) -> Asset:
    key = payload["key"]
    meta: Payload = payload["metadata"] or {}
    key_id = str(key["KeyId"])
    names = None if aliases is None else aliases.get(key_id, [])
    attrs = {
        "arn": key["KeyArn"],
        "key_id": key_id,
        "key_manager": meta.get("KeyManager"),
        "key_state": meta.get("KeyState"),
        "key_spec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec"),
        "key_usage": meta.get("KeyUsage"),
        "origin": meta.get("Origin"),
        "multi_region": meta.get("MultiRegion"),
        "rotation_enabled": rotation_enabled(payload["rotation"]),
        "policy": parse_policy((payload["policy"] or {}).get("Policy")),
        "aliases": names,
        "deletion_date": meta.get("DeletionDate"),
    }
    name = names[0] if names else key_id
    raw = {k: payload[k] for k in ("metadata", "rotation", "policy")}
    return scope.asset(str(key["KeyArn"]), KEY, name, attrs, raw=raw,
                       tags=tag_map(payload["tags"]))


def rotation_enabled(response: Payload | None) -> bool | None:
    """``None`` when not asked (not applicable), failed, or refused for the key's state."""
    if response is None or "KeyRotationEnabled" not in response:
        return None
    return bool(response["KeyRotationEnabled"])
