"""The asset contracts as code (posture.contracts): consistent with docs/*-assets.md, true of what
the collectors write, and what a misfit costs at collection."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from support import REPO
from support.aws import asset
from support.checks import run_one

from posture import contracts
from posture.collectors.runner import build_inventory
from posture.contracts.fields import (
    BOOL,
    INT,
    STR,
    STRS,
    Field,
    list_of,
    map_of,
    misfit,
    record,
)
from posture.demo import azure, gcp
from posture.model import Asset, Inventory, Provider, Status
from posture.snapshot import jsonable

DOCS = {"AWS::": "aws", "Microsoft.": "azure"}
VOLUME = "AWS::EC2::Volume"
GROUP = "AWS::EC2::SecurityGroup"
VOL = "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"
SG = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1"


def _doc_rows(type_: str) -> list[str]:
    cloud = next((c for prefix, c in DOCS.items() if type_.startswith(prefix)), "gcp")
    text = (REPO / "docs" / f"{cloud}-assets.md").read_text(encoding="utf-8")
    return [
        line for line in text.splitlines()
        if line.startswith("| `") and f"`{type_}`" in line.split(" | ")[0]
    ]


@pytest.mark.parametrize("type_", sorted(contracts.CONTRACTS))
def test_every_attribute_in_the_code_contract_is_named_in_the_docs(type_: str) -> None:
    rows = _doc_rows(type_)
    assert rows, f"{type_} has no row in its docs/*-assets.md table"
    undocumented = [k for k in contracts.CONTRACTS[type_] if not any(f"`{k}`" in r for r in rows)]
    assert not undocumented, f"{type_}: {undocumented} not in the docs"


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ("false", BOOL, "x must be boolean or null, not string"),
        (1, BOOL, "x must be boolean or null, not integer"),
        (True, INT, "x must be integer or null, not boolean"),
        (None, STRS.strict(), "x must be list of string, not null"),
        (["a", None], STRS, "x[1] must be string, not null"),
        ([{"p": 1}], list_of(record(p=STR)), "x[0].p must be string or null, not integer"),
        ({"a": "1"}, map_of(INT), "x.a must be integer or null, not string"),
        (2**64, INT, "x must be integer or null, not an integer beyond 64 bits"),
    ],
)
def test_misfit_names_the_path_and_both_kinds(value: Any, field: Field, expected: str) -> None:
    assert misfit(value, field, "x") == expected


@pytest.mark.parametrize(
    ("value", "field"),
    [(None, BOOL), (False, BOOL), (3, INT), ([], STRS), ({"p": None, "q": 1}, record(p=STR))],
)
def test_what_fits_passes(value: Any, field: Field) -> None:
    assert misfit(value, field, "x") is None


def _collected(*assets: Asset) -> Inventory:
    return build_inventory(
        Provider.AWS, started="2026-01-01T00:00:00+00:00", accounts=("123456789012",),
        regions=("us-east-1",), endpoint_url=None, assets=assets, errors=(),
    )


def test_at_collection_a_wrong_flag_is_unknown_and_its_check_inconclusive() -> None:
    inv = _collected(asset(VOLUME, VOL, encrypted="false"))
    vol = inv.get(VOL)
    assert vol is not None and vol.attr("encrypted") is None
    (gap,) = inv.errors
    assert (gap.code, gap.resource_uid, gap.operation) == (contracts.INVALID, VOL, "ValidateAsset")
    (finding,) = run_one("aws.encryption.ebs_volume_encrypted", inv)
    assert finding.status == Status.INCONCLUSIVE


def test_at_collection_a_structural_misfit_drops_the_asset_and_covers_its_region() -> None:
    inv = _collected(asset(GROUP, SG, group_id="sg-1", ingress=None, egress=[]))
    assert inv.get(SG) is None
    (gap,) = inv.errors
    assert gap.resource_uid is None and gap.asset_types == (GROUP,)
    assert gap.region == "us-east-1" and "attrs.ingress" in gap.message


def test_collected_values_are_judged_as_json() -> None:
    """A datetime is text once saved, a tuple a list: not misfits."""
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    inv = _collected(asset(VOLUME, VOL, encrypted=True, attached_instance_ids=("i-1",)),
                     asset("AWS::EC2::Snapshot", VOL + "s", start_time=when))
    assert inv.errors == ()
    assert jsonable(when) == "2026-01-01T00:00:00+00:00"


def test_the_demo_snapshot_fits_its_contracts() -> None:
    doc = json.loads((REPO / "fixtures" / "demo" / "snapshot.json").read_text(encoding="utf-8"))
    typed = [a for a in doc["assets"] if a["type"] in contracts.CONTRACTS]
    assert len(typed) > 100
    assert [(a["uid"], m) for a in typed for m in contracts.misfits(a["type"], a["attrs"])] == []


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_the_collectors_write_what_the_contracts_say(cloud: str) -> None:
    """The Azure and GCP demos collect through the real SDKs from the loopback fakes."""
    inv = (azure if cloud == "azure" else gcp).scan()
    assert [e.message for e in inv.errors if e.code == contracts.INVALID] == []
    assert any(a.type in contracts.CONTRACTS for a in inv.assets)
