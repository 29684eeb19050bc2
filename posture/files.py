"""Writing a file whole or not at all, for the reports and the organisation evidence directory."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def write_atomic(
    path: Path, data: bytes, error: Callable[[str], Exception], what: str = "cannot write"
) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``, so a
    reader never sees half a file (permissions follow the umask, as for any new file). On
    failure the temporary file is removed and ``error("<path>: <what>: <reason>")`` raised."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # a read-only file system refuses even this
            tmp.unlink(missing_ok=True)
        raise error(f"{path}: {what}: {exc.strerror or exc}") from None
