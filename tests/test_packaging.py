"""Packaging: every package directory is listed in pyproject.toml, so an installed posture
(not editable) has all of its modules and data files."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_package_directory_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "posture").rglob(
        "__init__.py")}
    found |= {"posture.checks." + ".".join(p.parent.relative_to(ROOT / "checks").parts)
              for p in (ROOT / "checks").rglob("__init__.py")
              if p.parent != ROOT / "checks"}
    found.add("posture.checks")
    found.add("posture.fixtures")
    assert found == listed


def test_data_files_are_declared() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]
    assert "frameworks/*.toml" in data["posture.checks"]
    assert list((ROOT / "checks" / "frameworks").glob("*.toml"))
    assert list((ROOT / "posture" / "reporters" / "templates").iterdir())
    # the recorded Google API responses `posture demo gcp` serves from an installed package
    assert "gcp/*/*.json" in data["posture.fixtures"]
    assert list((ROOT / "fixtures" / "gcp").glob("*/*.json"))
    # ... and the recorded ARM responses `posture demo azure` serves (nested folders)
    assert "azure/**/*.json" in data["posture.fixtures"]
    assert list((ROOT / "fixtures" / "azure" / "arm").rglob("firewallrules.json"))
    assert (ROOT / "fixtures" / "__init__.py").exists()
