"""The layout holds: cloud semantics live in posture/, checks/ holds only checks.

import-linter (run by .ci/run, contracts in pyproject.toml) checks the layers; it cannot see the
package ``posture.checks`` (installed from checks/ through a package-dir mapping), so the two
rules about it are asserted here from the sources.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from posture.registry import CheckSpec

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "checks"
SHARED = {"__init__.py", "_shared.py"}  # the package marker and the one shared wording module


def _imported(tree: ast.AST) -> set[str]:
    """Every module an AST imports, function-local imports and importlib literals included."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            out.update(a.value for a in node.args if isinstance(a, ast.Constant))
    return {str(m) for m in out}


def test_the_import_scan_sees_function_local_imports() -> None:
    tree = ast.parse("def f():\n    from posture.checks._shared import identity\n")
    assert "posture.checks._shared" in _imported(tree)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "posture").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_nothing_in_posture_imports_the_checks(path: Path) -> None:
    imported = _imported(ast.parse(path.read_text(encoding="utf-8")))
    offending = sorted(
        m for m in imported if m == "posture.checks" or m.startswith("posture.checks.")
    )
    assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


@pytest.mark.parametrize(
    "path", sorted(p for p in CHECKS.glob("*.py") if p.name not in SHARED), ids=lambda p: p.name
)
def test_every_module_under_checks_defines_a_check(path: Path) -> None:
    module = importlib.import_module(f"posture.checks.{path.stem}")
    specs = [
        f for _, f in inspect.getmembers(module, inspect.isfunction)
        if f.__module__ == module.__name__
        and isinstance(getattr(f, "__posture_check__", None), CheckSpec)
    ]
    assert specs, f"checks/{path.name} has no @check (semantics belong in posture/)"


def test_only_the_shared_module_is_private_under_checks() -> None:
    private = sorted(p.name for p in CHECKS.glob("_*.py") if p.name not in SHARED)
    assert private == []


@pytest.mark.parametrize(
    "path",
    sorted([*ROOT.joinpath("posture").rglob("*.py"), *CHECKS.glob("*.py")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_module_over_600_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{path.relative_to(ROOT)} has {lines} lines"
