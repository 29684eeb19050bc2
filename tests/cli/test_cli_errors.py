"""User errors are one line on stderr with a documented exit code, never ``70 internal error``:
an output folder nothing can be written into, an endpoint that is not AWS, an unknown option or
a missing argument; and ``--help`` names every report format."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import DEMO
from typer.testing import CliRunner

from posture.cli.main import app
from posture.reporters import OutputFormat

Run = Callable[..., subprocess.CompletedProcess[str]]
OneLine = Callable[[subprocess.CompletedProcess[str], int, str], None]
SNAPSHOT = str(DEMO / "snapshot.json")
ONE_CHECK = ("-c", "aws.encryption.ebs_volume_encrypted")  # fast: the writing is under test
NOT_AWS_PAGE = (b"<!DOCTYPE html><html><head><title>Welcome</title></head>"
                b"<body><h1>It works!</h1></body></html>")


def test_read_only_output_folder_is_a_one_line_error(
    read_only_dir: tuple[Path, tuple[str, ...]], posture: Run,
    one_line_error: OneLine,
) -> None:
    folder, prefix = read_only_dir
    audit = posture("audit", SNAPSHOT, "-o", str(folder), "-q", "-f", "json", *ONE_CHECK,
                    prefix=prefix)
    one_line_error(audit, 2, f"{folder / 'findings.json'}: cannot write report")
    below = posture("audit", SNAPSHOT, "-o", str(folder / "new"), "-q", *ONE_CHECK,
                    prefix=prefix)
    one_line_error(below, 2, f"{folder / 'new'}: cannot create output directory")
    evidence = posture("evidence", SNAPSHOT, "-o", str(folder), *ONE_CHECK, prefix=prefix)
    one_line_error(evidence, 2, "cannot write")
    graph = posture("graph", SNAPSHOT, "-o", str(folder), prefix=prefix)
    one_line_error(graph, 2, f"{folder}: cannot write the graph")


def _html_server(status: int) -> Iterator[str]:
    """A loopback web server answering every request with an HTML page and ``status``."""

    class Handler(BaseHTTPRequestHandler):
        def _page(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(NOT_AWS_PAGE)))
            self.end_headers()
            self.wfile.write(NOT_AWS_PAGE)

        do_GET = do_POST = _page

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=[200, 404, 501])
def html_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _html_server(request.param)


def test_endpoint_that_is_not_aws_is_a_one_line_error(
    html_endpoint: str, posture: Run, one_line_error: OneLine,
    tmp_path: Path,
) -> None:
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_MAX_ATTEMPTS": "1"}
    proc = posture("scan", "aws", "--endpoint-url", html_endpoint, "-r", "us-east-1", "-o",
                   str(tmp_path / "r"), env=keys)
    one_line_error(proc, 3, f"{html_endpoint} does not answer like AWS")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("audit", SNAPSHOT, "--snapshot-outt", "x"), "No such option: --snapshot-outt"),
        (("audit",), "Missing argument 'SNAPSHOT'"),
        (("nosuch",), "No such command 'nosuch'"),
        (("history", "--limit", "many"), "Invalid value for '--limit'"),
    ],
)
def test_usage_errors_are_one_line(
    args: tuple[str, ...], text: str, posture: Run,
    one_line_error: OneLine,
) -> None:
    proc = posture(*args)
    one_line_error(proc, 2, text)
    assert "╭" not in proc.stderr and "Usage:" not in proc.stderr
    # where to look next, on the same line
    assert "--help" in proc.stderr


def test_usage_errors_are_one_line_in_process_too() -> None:
    # (an option close to a real one gets click's "Possible options: ..." hint on the line:
    # --bogus would be offered --verbose)
    result = CliRunner().invoke(app, ["audit", SNAPSHOT, "--bogus-option"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "posture: error: No such option: --bogus-option (see `posture audit --help`)"]


def test_help_still_shows_and_no_arguments_show_help(posture: Run) -> None:
    plain = posture()
    assert plain.returncode == 2 and "Usage: posture" in plain.stdout + plain.stderr
    assert "posture: error" not in plain.stderr
    group = posture("scan")
    assert "aws" in group.stdout and "posture: error" not in group.stderr
    helped = posture("audit", "--help")
    assert helped.returncode == 0 and "--output-dir" in helped.stdout
    version = posture("--version")
    assert version.returncode == 0 and version.stdout.startswith("posture ")


@pytest.mark.parametrize("command", [["audit"], ["scan", "aws"], ["demo"]])
def test_help_names_every_report_format(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    missing = [f.value for f in OutputFormat if f.value not in text]
    assert not missing, missing
