"""A throwaway PostgreSQL server for the history-store tests (the ``pg_url`` fixture of
``tests/history/conftest.py`` runs it for the session).

``initdb`` a fresh cluster in a temporary directory and start it on a free loopback port
(TCP on 127.0.0.1, its socket in the same directory, trust authentication), stop it and delete
it afterwards. PostgreSQL refuses to run as root: as root (CI) the server runs as the
``postgres`` system user (``runuser -u postgres``); otherwise as the current user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return None


def missing_reason() -> str | None:
    """Why no server can be started here, or None."""
    for name in ("initdb", "pg_ctl", "postgres"):
        if find_binary(name) is None:
            return f"PostgreSQL server binary {name!r} not found (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' system user to run the server"
        if shutil.which("runuser") is None:
            return "running as root and 'runuser' is missing"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_server() -> Iterator[str]:
    """Yield the URL of a fresh server's ``postgres`` database (user ``postgres``)."""
    shared = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
    base = Path(tempfile.mkdtemp(prefix="posture-pg-", dir=shared))
    data = base / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    base.chmod(0o700)
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    assert initdb and pg_ctl
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    subprocess.run(
        _as_server_user(
            [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    port = _free_port()
    options = f"-p {port} -k {base} -h 127.0.0.1 -F -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_server_user(
            [
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        env=env,
        timeout=90,
    )
    try:
        _wait(port)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


def _wait(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not listen on 127.0.0.1:{port}")


def fresh_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server; return its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def server_or_skip() -> Iterator[str]:
    """:func:`running_server` for a test fixture: the test is skipped where none can start."""
    import pytest

    missing = missing_reason()
    if missing:
        pytest.skip(missing)
    with running_server() as url:
        yield url
