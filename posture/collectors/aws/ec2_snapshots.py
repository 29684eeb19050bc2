"""EBS snapshots owned by the account, with who may create volumes from them (attrs as in
``docs/aws-assets.md``)."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, name_from_tags, parallel_map, tag_map
from posture.model import Asset

SNAPSHOT = "AWS::EC2::Snapshot"
PERMISSIONS_FACET = f"{SNAPSHOT}#permissions"

PERMISSIONS: tuple[str, ...] = ("ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute")


def collect(scope: RegionScope) -> list[Asset]:
    # OwnerIds=self is what AWS needs; the owner-id filter (same meaning) keeps emulators that
    # ignore "self" from returning every public AMI snapshot, and the check below keeps
    # only the account's own snapshots whatever the answer
    listed = scope.paginate(
        "ec2",
        "DescribeSnapshots",
        "Snapshots",
        (SNAPSHOT,),
        OwnerIds=["self"],
        Filters=[{"Name": "owner-id", "Values": [scope.account]}],
    )
    owned = sorted(
        (s for s in listed or [] if s.get("OwnerId") in (None, scope.account)),
        key=lambda s: str(s["SnapshotId"]),
    )
    perms = parallel_map(lambda s: fetch_volume_permissions(scope, s["SnapshotId"]), owned)
    return [normalize_snapshot(scope, s, p) for s, p in zip(owned, perms, strict=True)]


def snapshot_uid(scope: RegionScope, snapshot_id: str) -> str:
    return scope.arn("ec2", f"snapshot/{snapshot_id}")


def fetch_volume_permissions(scope: RegionScope, snapshot_id: str) -> list[Payload] | None:
    resp = scope.call(
        "ec2",
        "DescribeSnapshotAttribute",
        (PERMISSIONS_FACET,),
        snapshot_uid(scope, snapshot_id),
        SnapshotId=snapshot_id,
        Attribute="createVolumePermission",
    )
    return None if resp is None else list(resp.get("CreateVolumePermissions") or [])


def normalize_snapshot(
    scope: RegionScope, snapshot: Payload, permissions: list[Payload] | None
) -> Asset:
    """``permissions`` is ``None`` when DescribeSnapshotAttribute failed: sharing unknown."""
    snapshot_id = snapshot["SnapshotId"]
    attrs = {
        "snapshot_id": snapshot_id,
        "volume_id": snapshot.get("VolumeId"),
        "encrypted": snapshot.get("Encrypted"),
        "kms_key_id": snapshot.get("KmsKeyId"),
        "state": snapshot.get("State"),
        "start_time": snapshot.get("StartTime"),
        "size_gib": snapshot.get("VolumeSize"),
        "public": None
        if permissions is None
        else any(p.get("Group") == "all" for p in permissions),
        "shared_with_accounts": None
        if permissions is None
        else sorted({str(p["UserId"]) for p in permissions if p.get("UserId")}),
    }
    tags = tag_map(snapshot.get("Tags"))
    raw = {**snapshot, "CreateVolumePermissions": permissions}
    return scope.asset(
        snapshot_uid(scope, snapshot_id),
        SNAPSHOT,
        name_from_tags(tags, snapshot_id),
        attrs,
        raw=raw,
        tags=tags,
    )
