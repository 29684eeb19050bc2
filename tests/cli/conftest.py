"""Fixtures of the command-line tests."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def without_sdk(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """``without_sdk("google", "gcp")``: for this test, importing ``google*`` (or posture's GCP
    collector) fails as if the optional SDK were not installed, and posture's GCP collector
    modules are forgotten so that they are imported again."""

    def hide(sdk: str, cloud: str) -> None:
        real_import = builtins.__import__
        collector = f"posture.collectors.{cloud}"

        def missing(name: str, *args: Any, **kwargs: Any) -> Any:
            if name.startswith(sdk) or name == f"{collector}.collector":
                raise ImportError(f"No module named {name!r}", name=name)
            return real_import(name, *args, **kwargs)

        for mod in [m for m in sys.modules if m.startswith(collector)]:
            monkeypatch.delitem(sys.modules, mod)
        monkeypatch.setattr(builtins, "__import__", missing)

    return hide
