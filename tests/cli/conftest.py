"""Fixtures of the command-line tests."""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
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


Posture = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def posture() -> Posture:
    """``posture(*args, env=None, cwd=None, prefix=())``: the real console entry point in a
    subprocess (so a leaking traceback would show), optionally run under ``prefix`` (a command
    that execs the rest, such as :func:`read_only_dir`'s)."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, sys.executable, "-c", "from posture.cli.main import main; main()", *args],
            capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})},
            cwd=cwd, stdin=subprocess.DEVNULL,
        )

    return run


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    """``proc`` failed with ``code`` and one ``posture: error: ...`` line holding ``text``
    (beside the progress lines a run writes before it fails, ``info: ...``)."""
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines()
             if line.strip() and not line.startswith("info: ")]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("posture: error: "), lines[0]
    assert text in lines[0], lines[0]


@pytest.fixture
def one_line_error() -> Callable[[subprocess.CompletedProcess[str], int, str], None]:
    """:func:`assert_one_line_error`, for the tests of this folder."""
    return assert_one_line_error


@pytest.fixture
def read_only_dir(tmp_path: Path) -> tuple[Path, tuple[str, ...]]:
    """``(folder, prefix)``: an existing folder nothing can be written into, when the command is
    run under ``prefix``. Root ignores permission bits, so as root the folder is bind-mounted
    read-only in a private mount namespace (``unshare``: EROFS, as a read-only volume of a
    container gives); as anyone else it is made read-only (EACCES)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return folder, ()
    prefix = ("unshare", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
              str(folder))
    probe = subprocess.run([*prefix, "touch", str(folder / "probe")], capture_output=True,
                           text=True, timeout=30)
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot mount a read-only folder here: {probe.stderr.strip()}")
    return folder, prefix


RISK = """\
[[exception]]
check = "aws.encryption.ebs_volume_encrypted"
resource = "*/vol_a"
reason = "scratch volume, no data"
owner = "platform"
expires = 2026-06-30
"""


@pytest.fixture
def risks(tmp_path: Path) -> Path:
    """``risks.toml``: one accepted risk (the unencrypted volume ``vol_a``, until 2026-06-30),
    rewritten by the tests that need a variant."""
    path = tmp_path / "risks.toml"
    path.write_text(RISK)
    return path
