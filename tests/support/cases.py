"""Tables of test cases, as ``pytest.mark.parametrize`` takes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest


def named(rows: Iterable[Sequence[Any]]) -> list[Any]:
    """``(id, *values)`` rows as parameter sets, each with its id."""
    return [pytest.param(*row[1:], id=row[0]) for row in rows]
