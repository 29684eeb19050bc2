"""Compute Engine custom images: the project's own images (``images.list`` returns only those; the
public images of ``debian-cloud`` and the like live in Google's projects) and who may use each
one - its IAM policy, read at version 3 so conditions are visible. An image shared with
``allUsers`` or ``allAuthenticatedUsers`` can be copied and booted by anyone, with whatever its
disk holds.

Customer-supplied key material (``rawKey``, ``rsaEncryptedKey`` of an image's or its source's
encryption key) is never kept, should the API return it: only the key's ``sha256`` and KMS key
name remain in ``raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, compute_uid, parallel_map, short_path, to_json
from posture.collectors.gcp.compute_network import list_items
from posture.collectors.gcp.resourcemanager import bindings
from posture.gcp import IMAGE
from posture.model import Asset

SERVICE = "compute"
PERMISSIONS = ("compute.images.getIamPolicy", "compute.images.list")
KEY_FIELDS = ("imageEncryptionKey", "sourceDiskEncryptionKey", "sourceImageEncryptionKey",
              "sourceSnapshotEncryptionKey")
KEY_MATERIAL = ("rawKey", "rsaEncryptedKey")


def collect(scope: ProjectScope) -> list[Asset]:
    client, retry = scope.clients.compute("ImagesClient"), scope.clients.retry

    def one(image: dict[str, Any]) -> Asset:
        policy = scope.call(
            SERVICE, "images.getIamPolicy", (f"{IMAGE}#iam_policy",),
            lambda: to_json(client.get_iam_policy(
                request={"project": scope.project, "resource": image["name"],
                         "options_requested_policy_version": 3}, retry=retry)),
            resource_uid=compute_uid(image["selfLink"]))
        return normalize_image(scope, image, policy)

    return parallel_map(one, list_items(scope, "ImagesClient", "images.list", IMAGE) or ())


def without_key_material(image: Mapping[str, Any]) -> dict[str, Any]:
    """The image payload with customer-supplied key material removed."""
    out = dict(image)
    for field in KEY_FIELDS:
        if isinstance(out.get(field), Mapping):
            out[field] = {k: v for k, v in out[field].items() if k not in KEY_MATERIAL}
    return out


def normalize_image(scope: ProjectScope, image: Mapping[str, Any],
                    policy: Mapping[str, Any] | None) -> Asset:
    key = image.get("imageEncryptionKey") or {}
    source = image.get("sourceDisk") or image.get("sourceImage") or image.get("sourceSnapshot")
    attrs = {
        "image_name": image.get("name"),
        "family": image.get("family"),
        "status": image.get("status"),
        "creation_time": image.get("creationTimestamp"),
        "deprecation_state": (image.get("deprecated") or {}).get("state"),
        "source": short_path(source),
        "storage_locations": sorted(image.get("storageLocations") or ()),
        "kms_key": key.get("kmsKeyName"),
        "customer_supplied_key": bool(key) and not key.get("kmsKeyName"),
        "iam_bindings": None if policy is None else bindings(policy),
    }
    return scope.compute_asset(IMAGE, without_key_material(image), attrs)
