"""End-of-support dates of runtimes, engines and cluster versions, kept as dated data beside the
checks (``checks/lifecycle/<provider>.toml``, installed with ``posture.checks``) so that a check
says "past the provider's end of support since …, per <source> as of <date>" and a reviewer can
see where every date comes from.

File format (TOML)::

    [source]                                  # required
    as_of = 2026-11-30                        # when the table was last checked (a TOML date)
    [source.products.lambda_runtime]          # one entry per product table below
    name = "AWS Lambda runtimes"
    url = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
    # as_of = 2026-12-01                      # optional: this product checked on another date

    [lambda_runtime]                          # product -> version -> end of (standard) support
    "python3.8" = 2024-10-14
    "nodejs16.x" = 2024-06-12

A version missing from a table is *unknown* (never assumed supported); the check says so.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from posture.errors import CatalogueError


@dataclass(frozen=True, slots=True)
class Product:
    """One table: versions and their end-of-support dates, and where they come from."""

    key: str
    name: str
    url: str
    as_of: dt.date
    ends: Mapping[str, dt.date]

    def end_of(self, version: str) -> dt.date | None:
        """The end-of-support date of ``version`` (None: not in the table)."""
        return self.ends.get(version)

    def source(self) -> str:
        """``<name> (<url>), as of <date>``: what a finding cites."""
        return f"{self.name} ({self.url}), as of {self.as_of.isoformat()}"


@cache
def lifecycle(provider: str, package: str = "posture.checks") -> Mapping[str, Product]:
    """The product tables of ``checks/lifecycle/<provider>.toml`` (empty when there is none)."""
    entry = resources.files(package).joinpath("lifecycle", f"{provider}.toml")
    if not entry.is_file():
        return {}
    try:
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        source = data["source"]
        as_of = source["as_of"]
        products = {}
        for key, meta in source["products"].items():
            ends = {str(v): d for v, d in data.get(key, {}).items()}
            checked = meta.get("as_of", as_of)
            if not isinstance(checked, dt.date) or not all(isinstance(d, dt.date)
                                                           for d in ends.values()):
                raise TypeError(f"{key}: dates must be TOML dates (YYYY-MM-DD)")
            products[key] = Product(key, str(meta["name"]), str(meta["url"]), checked, ends)
    except (tomllib.TOMLDecodeError, KeyError, AttributeError, TypeError) as exc:
        raise CatalogueError(f"lifecycle file {provider}.toml: {exc}") from None
    return products


def product(provider: str, key: str) -> Product:
    """One product table (a missing one is a catalogue error: a check names it)."""
    found = lifecycle(provider).get(key)
    if found is None:
        raise CatalogueError(f"lifecycle file {provider}.toml has no product {key!r}")
    return found
