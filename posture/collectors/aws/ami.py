"""The machine images (AMIs) of one region: those its instances run (DescribeImages for the
instances' ``ImageId``s: creation date, owner, deprecation and lineage) and those the account owns
(DescribeImages ``Owners=self``, in use or not, so that public sharing is judged on every one);
attrs as in ``docs/aws-assets.md``.

An image in use that DescribeImages no longer returns (deregistered, or no longer shared with the
account) is kept with ``found`` false: the instances' launch times still bound its age. A failed
listing of the account's own images is recorded against ``AWS::EC2::Image#owned``; the images in
use are still collected.
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, chunks, tag_map
from posture.model import Asset
from posture.snapshot import jsonable
from posture.values import parse_time

IMAGE = "AWS::EC2::Image"
IMAGE_BATCH = 100
NOT_FOUND = ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed")
_LIVE = ["pending", "running", "shutting-down", "stopping", "stopped"]

PERMISSIONS: tuple[str, ...] = ("ec2:DescribeInstances", "ec2:DescribeImages")


def collect(scope: RegionScope) -> list[Asset]:
    users = fetch_users(scope)
    images = fetch_images(scope, sorted(users))
    owned = scope.paginate("ec2", "DescribeImages", "Images", (f"{IMAGE}#owned",),
                           Owners=["self"], IncludeDeprecated=True, IncludeDisabled=True)
    images.update({str(i["ImageId"]): i for i in owned or []})
    return [normalize_image(scope, image_id, images[image_id], sorted(users.get(image_id, [])))
            for image_id in sorted(images)]


# --- fetch -------------------------------------------------------------------------------------


def fetch_users(scope: RegionScope) -> dict[str, list[str]]:
    """The ids of the instances (not terminated) running each image (empty: not listed,
    recorded)."""
    reservations = scope.paginate("ec2", "DescribeInstances", "Reservations", (IMAGE,),
                                  Filters=[{"Name": "instance-state-name", "Values": _LIVE}])
    users: dict[str, list[str]] = {}
    for reservation in reservations or []:
        for instance in reservation.get("Instances", []):
            if instance.get("ImageId"):
                users.setdefault(str(instance["ImageId"]), []).append(str(instance["InstanceId"]))
    return users


def fetch_images(scope: RegionScope, ids: list[str]) -> dict[str, Payload | None]:
    """Image payloads by id: ``None`` = not returned (deregistered or not shared); an id whose
    call failed is left out (recorded)."""
    found: dict[str, Payload | None] = {}
    for batch in chunks(ids, IMAGE_BATCH):
        answer = _describe(scope, batch)
        if answer is not None and "__error_code__" not in answer:
            images = {str(i["ImageId"]): i for i in answer.get("Images", [])}
            found.update({i: images.get(i) for i in batch})
            continue
        if answer is None:
            continue
        for image_id in batch:  # one unknown id fails the whole call: ask one by one
            single = _describe(scope, [image_id], scope.arn("ec2", f"image/{image_id}"))
            if single is not None:
                found[image_id] = next(iter(single.get("Images") or []), None)
    return found


def _describe(scope: RegionScope, ids: list[str], uid: str | None = None) -> Payload | None:
    return scope.call("ec2", "DescribeImages", (IMAGE,), uid, ok_codes=NOT_FOUND, ImageIds=ids,
                      IncludeDeprecated=True, IncludeDisabled=True)


# --- normalize ---------------------------------------------------------------------------------


def normalize_image(
    scope: RegionScope, image_id: str, image: Payload | None, instance_ids: list[str]
) -> Asset:
    payload = image or {}
    attrs: dict[str, Any] = {
        "image_id": image_id,
        "found": image is not None,
        "name": payload.get("Name"),
        "owner_id": payload.get("OwnerId"),
        "owner_alias": payload.get("ImageOwnerAlias"),
        "creation_date": _iso(payload.get("CreationDate")),
        "deprecation_time": _iso(payload.get("DeprecationTime")),
        "state": payload.get("State"),
        "public": payload.get("Public"),
        "platform_details": payload.get("PlatformDetails"),
        "source_image_id": payload.get("SourceImageId"),
        "source_image_region": payload.get("SourceImageRegion"),
        "instance_ids": instance_ids,
    }
    tags = tag_map(payload.get("Tags"))
    name = tags.get("Name") or payload.get("Name") or image_id
    return scope.asset(scope.arn("ec2", f"image/{image_id}"), IMAGE, str(name), attrs,
                       raw=payload, tags=tags)


def _iso(value: Any) -> str | None:
    """EC2 gives image times as text (``2024-05-01T10:00:00.000Z``): ISO 8601 in UTC."""
    stamp = parse_time(value)
    return None if stamp is None else str(jsonable(stamp))
