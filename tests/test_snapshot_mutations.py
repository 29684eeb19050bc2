"""Mutated snapshots (issue 20, item 3): wrong-typed attributes never turn a FAIL into PASS, and
no input reaches an internal error.

Every mutation starts from the demo snapshot (fixtures/demo/snapshot.json; the Azure and GCP
demo estates, collected from their loopback fakes, for the last test). A wrong type on an
attribute the contracts name (posture.contracts) either makes the file rejected with a one-line
error naming the path (structural attributes: network topology, identity documents), or makes
that attribute unknown with an ``InvalidSnapshotData`` gap on its asset.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import DEMO
from typer.testing import CliRunner

from posture import contracts, snapshot
from posture.cli.main import app
from posture.contracts.fields import Field, misfit
from posture.demo import azure, gcp
from posture.engine import run
from posture.errors import SnapshotError
from posture.model import Status
from posture.registry import Catalogue, load_catalogue

SNAPSHOT = DEMO / "snapshot.json"
Verdicts = dict[tuple[str, str], Status]

# Wrong values, the most dangerous first: a truthy text where a flag is expected, and so on.
CANDIDATES: tuple[Any, ...] = (
    "false", "true", "", 1, 0, 1.5, True, False, [], [None], {}, {"x": 1}, "[]", "{}", None,
)


@functools.cache
def _document(cloud: str = "aws") -> dict[str, Any]:
    if cloud == "aws":
        return json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    scan = azure.scan if cloud == "azure" else gcp.scan
    return json.loads(snapshot.dumps(scan()))


def document(cloud: str = "aws") -> dict[str, Any]:
    return copy.deepcopy(_document(cloud))


@functools.cache
def _catalogue() -> Catalogue:
    return load_catalogue()


def audit(doc: dict[str, Any]) -> Verdicts:
    inv = snapshot.from_document(doc)
    return {(f.check_id, f.resource_uid): f.status for f in run(_catalogue(), inv)}


@functools.cache
def original(cloud: str = "aws") -> Verdicts:
    return audit(document(cloud))


def assert_no_fail_turned_pass(mutated: Verdicts, cloud: str = "aws") -> None:
    before = original(cloud)
    turned = sorted(
        k for k, s in before.items() if s == Status.FAIL and mutated.get(k) == Status.PASS
    )
    assert not turned, f"FAIL became PASS: {turned[:5]}"
    crashed = sorted(k for k, s in mutated.items() if s == Status.ERROR and before.get(k) != s)
    assert not crashed, f"checks crashed: {crashed[:5]}"


def index_of(doc: dict[str, Any], type_: str, pick: Any = None) -> int:
    return next(
        i for i, a in enumerate(doc["assets"])
        if a["type"] == type_ and (pick is None or pick(a["attrs"]))
    )


def wrong_values(field: Field) -> Iterator[Any]:
    for value in CANDIDATES:
        if misfit(value, field, "x") is not None:
            yield value


# --- the mutations the issue reports -----------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "key", "value", "pick"),
    [
        ("AWS::EC2::Volume", "encrypted", "false", lambda a: a["encrypted"] is False),
        ("AWS::KMS::Key", "rotation_enabled", "no", lambda a: a["rotation_enabled"] is False),
        ("AWS::KMS::Key", "rotation_enabled", 1, lambda a: a["rotation_enabled"] is False),
        ("AWS::S3::Bucket", "policy", '{"Statement": []}', lambda a: a["policy"] is not None),
        ("AWS::S3::Bucket", "public_access_block", "{}", None),
        ("AWS::RDS::DBInstance", "storage_encrypted", "false", None),
        ("AWS::EC2::Instance", "http_tokens", ["required"], None),
        ("AWS::EC2::Volume", "size_gib", 10**30, None),
    ],
)
def test_a_wrong_type_is_unknown_and_never_passes(
    type_: str, key: str, value: Any, pick: Any
) -> None:
    doc = document()
    i = index_of(doc, type_, pick)
    uid = doc["assets"][i]["uid"]
    doc["assets"][i]["attrs"][key] = value
    inv = snapshot.from_document(copy.deepcopy(doc))
    asset = inv.get(uid)
    assert asset is not None and asset.attr(key) is None
    gap = next(e for e in inv.errors if e.resource_uid == uid)
    assert gap.code == contracts.INVALID and f"attrs.{key}" in gap.message
    assert_no_fail_turned_pass(audit(doc))


def test_issue_cases_fail_before_the_contracts_and_not_after() -> None:
    """The reproduction: read the mutated volume as the loader did before (types trusted) and
    the FAIL is a PASS; through the loader it is not."""
    doc = document()
    i = index_of(doc, "AWS::EC2::Volume", lambda a: a["encrypted"] is False)
    uid = doc["assets"][i]["uid"]
    assert original()[("aws.encryption.ebs_volume_encrypted", uid)] == Status.FAIL
    doc["assets"][i]["attrs"]["encrypted"] = "false"
    assert audit(doc)[("aws.encryption.ebs_volume_encrypted", uid)] == Status.INCONCLUSIVE


@pytest.mark.parametrize(
    ("type_", "key", "value"),
    [
        ("AWS::EC2::SecurityGroup", "ingress", None),
        ("AWS::EC2::SecurityGroup", "ingress", "0.0.0.0/0"),
        ("AWS::EC2::SecurityGroup", "egress", [{"protocol": 6, "source_kind": "cidr4"}]),
        ("AWS::EC2::NetworkAcl", "entries", None),
        ("AWS::EC2::RouteTable", "routes", {}),
        ("AWS::EC2::Instance", "security_group_ids", "sg-1"),
        ("AWS::IAM::Role", "trust_policy", "{}"),
        ("AWS::IAM::User", "inline_policies", {"p": "{}"}),
    ],
)
def test_a_structural_misfit_rejects_the_file_naming_the_path(
    tmp_path: Path, type_: str, key: str, value: Any
) -> None:
    doc = document()
    i = index_of(doc, type_)
    doc["assets"][i]["attrs"][key] = value
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SnapshotError) as info:
        snapshot.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: assets[{i}].attrs.{key}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["meta"].__setitem__("regions", [None]), "meta.regions[0] must be of type str"),
        (lambda d: d["meta"].__setitem__("accounts", "123"), "meta.accounts must be of type list"),
        (lambda d: d["meta"].__setitem__("endpoint_url", 5), "meta.endpoint_url must be"),
        (lambda d: d["assets"][0].__setitem__("raw", "x"), "assets[0].raw must be of type dict"),
        (lambda d: d["assets"][0].__setitem__("raw", _nest(200)), "nested deeper than 64"),
        (lambda d: d["assets"][0]["attrs"].__setitem__("x", _nest(100)), "assets[0].attrs is"),
        (lambda d: d["errors"].append({**_error(), "asset_types": [1]}), "asset_types[0]"),
        (lambda d: d["assets"][index_of(d, "AWS::EC2::SecurityGroup")]["attrs"].__setitem__(
            "ingress", None), "attrs.ingress must be list of object, not null"),
    ],
)
def test_garbage_is_a_one_line_input_error(
    tmp_path: Path, edit: Any, expected: str
) -> None:
    doc = document()
    edit(doc)
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(path), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 3, result.output
    assert expected in result.output
    assert "internal error" not in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"raw": ' + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('"raw": {"n": ' + "9" * 5000 + "}", "a number too long to read"),
        ('"raw": {"n": NaN}', "NaN is not a JSON number"),
        ('"raw": {"n": 1e999}', "number out of range"),
    ],
)
def test_hostile_numbers_and_nesting_are_input_errors(
    tmp_path: Path, text: str, expected: str
) -> None:
    doc = document()
    encoded = json.dumps(doc)
    first = encoded.index('"raw": ')  # the first asset's raw payload
    end = first + len('"raw": ') + len(json.dumps(doc["assets"][0]["raw"]))
    path = tmp_path / "mutated.json"
    path.write_text(encoded[:first] + text + encoded[end:], encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(path), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 3, result.output
    assert expected in result.output


def _nest(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _error() -> dict[str, Any]:
    return {
        "provider": "aws", "account": "123456789012", "region": "us-east-1", "service": "ec2",
        "operation": "DescribeVolumes", "code": "AccessDenied", "message": "denied",
        "asset_types": ["AWS::EC2::Volume"], "resource_uid": None,
    }


# --- every typed attribute of every demo asset, every wrong type -------------------------------


def _sweep() -> Iterator[tuple[dict[str, Any], str, Field, Any]]:
    for a in _document()["assets"]:
        for key, field in contracts.CONTRACTS.get(a["type"], {}).items():
            for value in wrong_values(field):
                yield a, key, field, value


def test_every_wrong_type_is_rejected_or_unknown() -> None:
    """Load level, one asset per document (fast): ~thousands of mutations."""
    meta = _document()["meta"]
    count = 0
    for a, key, field, value in _sweep():
        mutated = {**a, "attrs": {**a["attrs"], key: value}}
        doc = {"schema": snapshot.SCHEMA, "schema_version": 1, "meta": meta,
               "assets": [mutated], "errors": []}
        count += 1
        if field.structural:
            with pytest.raises(SnapshotError, match=rf"^assets\[0\]\.attrs\.{key}"):
                snapshot.from_document(doc)
            continue
        inv = snapshot.from_document(doc)
        assert inv.assets[0].attr(key) is None, (a["type"], key, value)
        (gap,) = inv.errors
        assert (gap.code, gap.resource_uid) == (contracts.INVALID, a["uid"])
    assert count > 1000


def _adversarial(field: Field) -> Any:
    """A wrong value a careless reader takes for a good one (truthy text for a flag...)."""
    return next(wrong_values(field))


def _typed(cloud: str) -> list[tuple[str, str]]:
    types = {a["type"] for a in _document(cloud)["assets"]} if cloud == "aws" else {
        t for t in contracts.CONTRACTS if t.startswith("Microsoft.") == (cloud == "azure")
        and not t.startswith("AWS::")
    }
    return [(cloud, t) for t in sorted(types & set(contracts.CONTRACTS))]


@pytest.mark.parametrize(("cloud", "type_"), [*_typed("aws"), *_typed("azure"), *_typed("gcp")])
def test_every_typed_attribute_of_a_type_wrong_at_once_never_passes(
    cloud: str, type_: str
) -> None:
    doc = document(cloud)
    for a in doc["assets"]:
        if a["type"] == type_:
            for key, field in contracts.CONTRACTS[type_].items():
                if not field.structural:
                    a["attrs"][key] = _adversarial(field)
    assert_no_fail_turned_pass(audit(doc), cloud)
