"""Snapshot files: round trip, determinism, clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.aws import asset, collection_error, inventory

from posture import snapshot
from posture.errors import SnapshotError


def _inv():
    return inventory(
        asset(
            "AWS::EC2::Volume",
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-2",
            tags={"Name": "<b>x</b>"},
            encrypted=False,
        ),
        asset(
            "AWS::EC2::Volume", "arn:aws:ec2:us-east-1:123456789012:volume/vol-1", encrypted=True
        ),
        errors=(collection_error("ec2", "DescribeVolumes", ("AWS::EC2::Volume",), "eu-west-1"),),
    )


def test_round_trip_is_lossless_and_deterministic(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    sha = snapshot.save(_inv(), path)
    loaded = snapshot.load(path)
    assert loaded == _inv()
    assert snapshot.dumps(loaded) == path.read_text(encoding="utf-8")
    assert sha == snapshot.sha256_of(path)
    assert [a.uid[-5:] for a in loaded.assets] == ["vol-1", "vol-2"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "malformed JSON at line 1"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "not a posture inventory snapshot"),
        (b'{"schema": "posture.inventory", "schema_version": 99}', "schema version 99"),
        (b'{"schema": "posture.inventory", "schema_version": 1}', "snapshot.meta is missing"),
    ],
)
def test_bad_files_give_a_clear_error_naming_the_file(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SnapshotError) as info:
        snapshot.load(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_field_errors_name_the_asset(tmp_path: Path) -> None:
    doc = snapshot.to_document(_inv())
    doc["assets"][1]["uid"] = 42
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SnapshotError, match=r"assets\[1\]\.uid must be of type str"):
        snapshot.load(path)


def test_duplicate_uid_is_rejected(tmp_path: Path) -> None:
    doc = snapshot.to_document(_inv())
    doc["assets"][1]["uid"] = doc["assets"][0]["uid"]
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SnapshotError, match="duplicate asset uid"):
        snapshot.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not found"):
        snapshot.load(tmp_path / "nope.json")
