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


def test_a_malformed_table_is_a_catalogue_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    (tmp_path / "pkg" / "lifecycle").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg" / "lifecycle" / "x.toml").write_text(
        '[source]\nas_of = "yesterday"\n[source.products.p]\nname = "P"\nurl = "https://e"\n'
        '[p]\n"1" = 2024-01-01\n', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(CatalogueError, match=r"lifecycle file x\.toml"):
        lifecycle("x", "pkg")
    assert lifecycle("absent", "pkg") == {}
