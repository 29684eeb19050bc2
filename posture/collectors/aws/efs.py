"""EFS file systems and their encryption at rest (attrs as in ``docs/aws-assets.md``)."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, listed, tag_map
from posture.model import Asset

FILE_SYSTEM = "AWS::EFS::FileSystem"

PERMISSIONS: tuple[str, ...] = ("elasticfilesystem:DescribeFileSystems",)


def collect(scope: RegionScope) -> list[Asset]:
    return listed(scope, "efs", "DescribeFileSystems", "FileSystems", FILE_SYSTEM,
                  normalize_file_system)


def normalize_file_system(scope: RegionScope, fs: Payload) -> Asset:
    fs_id = fs["FileSystemId"]
    uid = fs.get("FileSystemArn") or scope.arn("elasticfilesystem", f"file-system/{fs_id}")
    attrs = {
        "file_system_id": fs_id,
        "encrypted": fs.get("Encrypted"),
        "kms_key_id": fs.get("KmsKeyId"),
        "state": fs.get("LifeCycleState"),
    }
    tags = tag_map(fs.get("Tags"))
    name = fs.get("Name") or tags.get("Name") or fs_id
    return scope.asset(str(uid), FILE_SYSTEM, name, attrs, raw=fs, tags=tags)
