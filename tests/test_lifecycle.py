"""The end-of-support tables beside the checks: every file loads, names its source, and dates
what it says; a malformed one is a one-line catalogue error."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import pytest

from posture.errors import CatalogueError
from posture.lifecycle import lifecycle

FILES = sorted(p.stem for p in Path(str(resources.files("posture.checks"))).joinpath(
    "lifecycle").glob("*.toml"))


@pytest.mark.parametrize("provider", FILES)
def test_every_table_names_its_source_and_is_dated(provider: str) -> None:
    products = lifecycle(provider)
    assert products, provider
    for product in products.values():
        assert product.url.startswith("https://") and product.name
        assert product.as_of <= dt.date.today()
        assert product.ends, product.key
        assert product.source().endswith(product.as_of.isoformat())


def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, table: str) -> None:
    """A package ``name`` on the path whose ``lifecycle/x.toml`` is ``table``."""
    (tmp_path / name / "lifecycle").mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / name / "lifecycle" / "x.toml").write_text(table, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_a_malformed_table_is_a_catalogue_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    _package(tmp_path, monkeypatch, "pkg",
             '[source]\nas_of = "yesterday"\n[source.products.p]\nname = "P"\n'
             'url = "https://e"\n[p]\n"1" = 2024-01-01\n')
    with pytest.raises(CatalogueError, match=r"lifecycle file x\.toml"):
        lifecycle("x", "pkg")
    assert lifecycle("absent", "pkg") == {}


def test_a_product_may_be_dated_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    _package(tmp_path, monkeypatch, "own",
             '[source]\nas_of = 2026-01-01\n[source.products.p]\nname = "P"\n'
             'url = "https://e"\n[source.products.q]\nname = "Q"\nurl = "https://f"\n'
             'as_of = 2026-02-01\n[p]\n"1" = 2024-01-01\n[q]\n"2" = 2025-01-01\n')
    products = lifecycle("x", "own")
    assert (products["p"].as_of, products["q"].as_of) == (dt.date(2026, 1, 1),
                                                          dt.date(2026, 2, 1))
    assert products["q"].source() == "Q (https://f), as of 2026-02-01"
