"""``--notify URL``: after a recorded scan, the FAILs new since the previous scan of the store
posted as a Slack-compatible message (``text`` + ``blocks``) to a receiver on 127.0.0.1;
nothing posted on the first scan of a scope or when nothing is new; a receiver that fails is a
warning (the reports and the history record stay); the webhook's path (its token), the store
and the evidence never in the message or the warnings; names escaped."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import DEMO
from support.reports import META
from typer.testing import CliRunner, Result

from posture.cli.main import app
from posture.destinations.notify import LISTED, message, redacted
from posture.history.diff import Change, ScanDiff, StoredFinding, fingerprint
from posture.model import Severity, Status

runner = CliRunner()
TOKEN = "T000/B000/s3cr3t-webhook-token"
HOSTILE = "<!channel> & <https://evil.example|click>"


@dataclass
class Receiver:
    """A webhook receiver on loopback: the requests it got, the status it answers."""

    port: int
    status: int = 200
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/{TOKEN}"

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.posts.append((self.path, dict(self.headers), body))
            self.send_response(state.status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def snapshots(tmp_path: Path) -> tuple[Path, Path]:
    """The demo snapshot without its IAM users, and with them (named with mrkdwn to escape)."""
    doc = json.loads((DEMO / "snapshot.json").read_text(encoding="utf-8"))
    fewer = {**doc, "assets": [a for a in doc["assets"] if a["type"] != "AWS::IAM::User"]}
    for asset in doc["assets"]:
        if asset["type"] == "AWS::IAM::User":
            asset["name"] = f"{HOSTILE} {asset['name']}"
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps(fewer), encoding="utf-8")
    after.write_text(json.dumps(doc), encoding="utf-8")
    return before, after


def audit(snapshot_file: Path, tmp_path: Path, url: str, name: str) -> Result:
    return runner.invoke(app, ["audit", str(snapshot_file), "-o", str(tmp_path / name),
                               "-f", "json", "-q", "--store", str(tmp_path / "store.db"),
                               "--notify", url])


def test_new_failures_are_posted_once_then_nothing(receiver: Receiver, tmp_path: Path) -> None:
    before, after = snapshots(tmp_path)
    first = audit(before, tmp_path, receiver.url, "a")
    assert first.exit_code == 0, first.output
    assert "notify: first recorded scan of its scope, nothing posted" in first.stdout
    assert receiver.posts == []

    second = audit(after, tmp_path, receiver.url, "b")
    assert second.exit_code == 0, second.output
    [(path, headers, body)] = receiver.posts
    assert path == f"/services/{TOKEN}"
    assert headers["Content-Type"].startswith("application/json")
    new = [f for f in json.loads((tmp_path / "b" / "findings.json").read_bytes())["findings"]
           if f["status"] == "FAIL" and f["resource_type"] == "AWS::IAM::User"]
    count = len({(f["check_id"], f["resource_uid"]) for f in new})
    assert 0 < count <= LISTED
    [payload] = receiver.payloads()
    assert payload["text"] == (f"posture: {count} new failures in aws 123456789012 since "
                               "scan #1")
    blocks = payload["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text",
                                                    "text": f"posture: {count} new failures"}}
    listed = [b["text"]["text"] for b in blocks[3:]]
    assert len(listed) == count
    severities = [text.split("*")[1] for text in listed]
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]
    assert severities == sorted(severities, key=order.index)  # most severe first
    assert all("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in t for t in listed)
    assert "<!channel>" not in body.decode()
    assert str(tmp_path) not in body.decode()  # never the store's address
    assert "evidence" not in body.decode()
    assert f"notify: {count} new failure(s) posted to http://127.0.0.1:{receiver.port}/…" in \
        second.stdout
    assert TOKEN not in second.stdout + second.stderr

    third = audit(after, tmp_path, receiver.url, "c")
    assert third.exit_code == 0, third.output
    assert "notify: no new failure since scan #2, nothing posted" in third.stdout
    assert len(receiver.posts) == 1


def test_a_failing_receiver_is_a_warning_and_loses_nothing(
    receiver: Receiver, tmp_path: Path
) -> None:
    before, after = snapshots(tmp_path)
    assert audit(before, tmp_path, receiver.url, "a").exit_code == 0
    receiver.status = 500
    result = audit(after, tmp_path, receiver.url, "b")
    assert result.exit_code == 0, result.output
    assert (f"warning: --notify http://127.0.0.1:{receiver.port}/…: the receiver answered "
            "HTTP 500 (the reports and the history record are written)") in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert (tmp_path / "b" / "findings.json").is_file()
    history = runner.invoke(app, ["history", "--store", str(tmp_path / "store.db")])
    assert history.exit_code == 0, history.output
    assert "2 recorded scan(s)" in history.stdout  # the record of the second scan stays


def test_an_unreachable_receiver_is_a_warning(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook/{TOKEN}"
    before, after = snapshots(tmp_path)
    assert audit(before, tmp_path, url, "a").exit_code == 0
    result = audit(after, tmp_path, url, "b")
    assert result.exit_code == 0, result.output
    assert f"warning: --notify http://127.0.0.1:{port}/…: cannot post:" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(("args", "text"), [
    (["--notify", "ftp://example.com/x"], "--notify needs an http:// or https:// URL, not "
                                          "'ftp://example.com/…'"),
    (["--notify", "http://127.0.0.1:9/hook"], "--notify needs a history store"),
])
def test_usage_errors(tmp_path: Path, args: list[str], text: str) -> None:
    result = runner.invoke(app, ["audit", str(DEMO / "snapshot.json"), "-o", str(tmp_path),
                                 "-q", *args])
    assert result.exit_code == 2
    assert text in result.stderr
    assert not (tmp_path / "findings.json").exists()  # refused before the audit


# --- the message itself ---

def stored(n: int, severity: Severity = Severity.HIGH, name: str = "") -> StoredFinding:
    check, uid = f"aws.check_{n:03d}", f"arn:aws:s3:::bucket-{n:03d}"
    return StoredFinding(fingerprint(check, uid), check, uid, name, "AWS::S3::Bucket",
                         "123456789012", "us-east-1", Status.FAIL, severity, f"message {n}")


def changes(*new: StoredFinding) -> ScanDiff:
    return ScanDiff(tuple(Change(None, f) for f in new), (), (), ())


def test_nothing_to_post_without_a_previous_scan_or_anything_new() -> None:
    assert message(None, META, 1, None) is None
    assert message(changes(stored(1)), META, 1, None) is None
    assert message(changes(), META, 2, 1) is None


def test_many_new_failures_list_the_most_severe_and_count_the_rest() -> None:
    many = [stored(n, Severity.LOW) for n in range(30)] + [stored(99, Severity.CRITICAL)]
    payload = message(changes(*many), META, 5, 4)
    assert payload is not None
    sections = [b for b in payload["blocks"] if b["type"] == "section"][1:]
    assert len(sections) == LISTED
    assert sections[0]["text"]["text"].startswith("*CRITICAL*  `aws.check_099`")
    assert payload["blocks"][-1] == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"… and {31 - LISTED} more in the reports"}]}
    assert len(payload["blocks"]) <= 50  # Slack's limit


def test_a_single_failure_and_hostile_names() -> None:
    payload = message(changes(stored(1, name="a`b <@U123>")), META, 2, 1)
    assert payload is not None
    assert payload["text"].startswith("posture: 1 new failure in aws 123456789012 ")
    [section] = [b for b in payload["blocks"] if b["type"] == "section"][1:]
    assert "`a'b &lt;@U123&gt;` in us-east-1 (account 123456789012)" in section["text"]["text"]


@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.slack.com/services/T0/B0/xyz", "https://hooks.slack.com/…"),
    ("http://127.0.0.1:8080/?token=abc", "http://127.0.0.1:8080/…"),
    ("https://example.com", "https://example.com"),
    ("not a url", "(not a URL)"),
])
def test_redacted(url: str, shown: str) -> None:
    assert redacted(url) == shown
