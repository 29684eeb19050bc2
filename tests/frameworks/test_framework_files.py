"""The framework data files (checks/frameworks/*.toml): each names its source and version, maps
only control ids that exist in that version (the official id list vendored beside this test,
official/<framework id>.txt, which names where it was read) and only checks that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from posture.model import Provider
from posture.registry import load_catalogue, load_frameworks

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "checks" / "frameworks").glob("*.toml"))
OFFICIAL = Path(__file__).parent / "official"
NAMES = [f.name for f in FILES]

# the shape of a control id, per family of framework
ID_SHAPES = {
    "CIS-": r"\d+(\.\d+)+",
    "ISO27001-2022": r"A\.[5-8]\.\d+",
    "NIST-800-53-R5": r"[A-Z]{2}-\d+(\(\d+\))?",
    "PCI-DSS-4.0": r"(\d+|A\d)(\.\d+)+",
    "SOC2": r"(CC|A|C|PI|P)\d\.\d",
}


def _data(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _header(path: Path) -> str:
    """The comment block the file opens with."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines[: lines.index("[framework]")] if line.startswith("#"))


BENCHMARKS = [p for p in FILES if "provider" in _data(p)["framework"]]


@pytest.fixture(scope="module")
def check_ids() -> frozenset[str]:
    return frozenset(load_catalogue().ids())


def official_ids(framework_id: str) -> list[str]:
    path = OFFICIAL / f"{framework_id}.txt"
    assert path.is_file(), f"{framework_id}: no official id list at {path}"
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^# .*Source: ", text, re.M), f"{path.name} does not name its source"
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _shape(framework_id: str) -> str:
    return next(v for k, v in ID_SHAPES.items() if framework_id.startswith(k))


def test_every_file_is_loaded_and_ids_are_unique() -> None:
    loaded = load_frameworks()
    assert [f.id for f in loaded] == [_data(p)["framework"]["id"] for p in FILES]
    assert len({f.id.lower() for f in loaded}) == len(loaded)
    expected = {"SOC2", "ISO27001-2022", "NIST-800-53-R5", "PCI-DSS-4.0", "CIS-AWS-3.0",
                "CIS-AZURE-3.0", "CIS-GCP-3.0", "CIS-AWS-7.0", "CIS-AZURE-6.0", "CIS-GCP-5.0"}
    assert expected <= {f.id for f in loaded}


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_file_names_its_source_and_version(path: Path) -> None:
    meta = _data(path)["framework"]
    assert meta["id"] and meta["name"], path.name
    assert meta["version"].strip() and meta["source"].strip(), path.name
    header = _header(path)
    assert header, f"{path.name} has no header comment"
    # the header names the edition: its version (first part, as the header writes it)
    version = meta["version"].split(",")[0].strip()
    assert version in header, f"{path.name}: header does not name version {version}"


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_a_benchmark_declares_its_cloud_and_no_other_file_does(path: Path) -> None:
    meta = _data(path)["framework"]
    cloud = re.match(r"CIS-(AWS|AZURE|GCP)-", meta["id"])
    if cloud:
        assert meta.get("provider") == cloud.group(1).lower()
        assert Provider(meta["provider"])
    else:
        assert "provider" not in meta, f"{path.name}: a provider-neutral framework"


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_every_control_exists_in_that_version(path: Path) -> None:
    data = _data(path)
    framework_id = data["framework"]["id"]
    known = set(official_ids(framework_id))
    mapped = set(data.get("controls", {}))
    assert mapped, f"{path.name} maps no control"
    unknown = sorted(mapped - known)
    assert not unknown, f"{framework_id}: not in the official list: {unknown}"


@pytest.mark.parametrize("path", FILES, ids=NAMES)
def test_every_control_has_a_title_and_known_checks(path: Path, check_ids: frozenset[str]) -> None:
    for control, entry in _data(path)["controls"].items():
        assert str(entry.get("title", "")).strip(), f"{path.name} {control}: no title"
        checks = entry.get("checks", [])
        assert checks, f"{path.name} {control}: no check"
        assert len(set(checks)) == len(checks), f"{path.name} {control}: a check twice"
        assert set(checks) <= check_ids, (path.name, control, sorted(set(checks) - check_ids))


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.name for p in BENCHMARKS])
def test_a_benchmark_maps_only_checks_of_its_cloud(path: Path) -> None:
    meta = _data(path)["framework"]
    for control, entry in _data(path)["controls"].items():
        others = [c for c in entry["checks"] if not c.startswith(meta["provider"] + ".")]
        assert not others, (path.name, control, others)


@pytest.mark.parametrize("framework_id", sorted(p.stem for p in OFFICIAL.glob("*.txt")))
def test_official_lists_are_well_formed(framework_id: str) -> None:
    ids = official_ids(framework_id)
    assert len(ids) == len(set(ids)), f"{framework_id}: an id twice"
    shape = _shape(framework_id)
    bad = [i for i in ids if not re.fullmatch(shape, i)]
    assert not bad, (framework_id, bad[:5])
    assert framework_id in {f.id for f in load_frameworks()}, "a list no framework uses"


def test_official_lists_have_the_published_sizes() -> None:
    iso = [f"A.{t}.{i}" for t, n in ((5, 37), (6, 8), (7, 14), (8, 34)) for i in range(1, n + 1)]
    assert official_ids("ISO27001-2022") == iso
    assert len(official_ids("SOC2")) == 61
    nist = official_ids("NIST-800-53-R5")
    assert len(nist) == 1007  # 1189 controls and enhancements in 5.1.1, 182 withdrawn
    # no enhancement without its base control; the withdrawn stay out (AC-13, SC-7(1))
    assert {re.sub(r"\(\d+\)$", "", i) for i in nist} <= set(nist)
    assert not {"AC-13", "SC-7(1)", "IA-3(2)"} & set(nist)
    assert {"AC-2", "AC-6(5)", "SC-8(1)", "IA-2(1)"} <= set(nist)
    pci = official_ids("PCI-DSS-4.0")
    assert {"1.3.1", "8.4.2", "10.2.1.2", "12.10.7", "A3.2.5"} <= set(pci)
    assert {len(official_ids(i)) for i in ("CIS-AWS-3.0", "CIS-AWS-7.0")} == {62, 70}
    assert len(official_ids("CIS-AZURE-6.0")) == 127 and len(official_ids("CIS-GCP-5.0")) == 93
