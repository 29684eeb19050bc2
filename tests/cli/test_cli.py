"""The command line: scan → snapshot → audit round trip, exit codes, clear one-line errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from support import DEMO, REPO
from support.aws import client
from typer.testing import CliRunner

from posture.cli.main import app

runner = CliRunner()
Run = Callable[..., subprocess.CompletedProcess[str]]
OneLine = Callable[[subprocess.CompletedProcess[str], int, str], None]


def _seed(endpoint: str) -> None:
    ec2 = client("ec2", endpoint)
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, Encrypted=False)
    iam = client("iam", endpoint)
    iam.create_user(UserName="carol")
    iam.create_login_profile(UserName="carol", Password="Some-Passw0rd!")


def test_scan_then_audit_gives_byte_identical_findings(moto_endpoint: str, tmp_path: Path) -> None:
    _seed(moto_endpoint)
    snap = tmp_path / "inv.json"
    scan = runner.invoke(app, ["scan", "aws", "--endpoint-url", moto_endpoint, "--region",
                               "us-east-1", "--snapshot-out", str(snap), "-o",
                               str(tmp_path / "scan"), "-q"])
    assert scan.exit_code == 0, scan.output
    audit = runner.invoke(app, ["audit", str(snap), "-o", str(tmp_path / "audit"), "-q"])
    assert audit.exit_code == 0, audit.output
    first = (tmp_path / "scan" / "findings.json").read_bytes()
    assert first == (tmp_path / "audit" / "findings.json").read_bytes()
    assert (tmp_path / "scan" / "findings.csv").read_bytes() == (
        tmp_path / "audit" / "findings.csv"
    ).read_bytes()
    doc = json.loads(first)
    statuses = {(f["check_id"], f["status"]) for f in doc["findings"]}
    assert ("aws.encryption.ebs_volume_encrypted", "FAIL") in statuses
    assert ("aws.iam.console_users_have_mfa", "FAIL") in statuses


def test_fail_on_sets_the_exit_code(moto_endpoint: str, tmp_path: Path) -> None:
    _seed(moto_endpoint)
    snap = tmp_path / "inv.json"
    runner.invoke(app, ["scan", "aws", "--endpoint-url", moto_endpoint, "-r", "us-east-1",
                        "--snapshot-out", str(snap), "-o", str(tmp_path / "r"), "-q"])
    strict = runner.invoke(app, ["audit", str(snap), "-o", str(tmp_path / "a"), "-q",
                                 "--fail-on", "medium"])
    assert strict.exit_code == 1
    only_info = runner.invoke(app, ["audit", str(snap), "-o", str(tmp_path / "b"), "-q",
                                    "--fail-on", "critical", "-c",
                                    "aws.encryption.ebs_volume_encrypted"])
    assert only_info.exit_code == 0  # the volume finding is below critical


def test_missing_snapshot(tmp_path: Path, posture: Run, one_line_error: OneLine) -> None:
    one_line_error(posture("audit", str(tmp_path / "nope.json")), 3, "not found")


def test_malformed_snapshot(tmp_path: Path, posture: Run, one_line_error: OneLine) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "posture.inventory", "schema_version": 1, "meta": [')
    one_line_error(posture("audit", str(bad)), 3, "malformed JSON")


def test_unknown_format(tmp_path: Path, posture: Run, one_line_error: OneLine) -> None:
    one_line_error(
        posture("audit", str(tmp_path / "x.json"), "--format", "csv,xlsx"), 2, "xlsx"
    )


def test_unknown_check_id(tmp_path: Path, posture: Run, one_line_error: OneLine) -> None:
    snap = DEMO / "snapshot.json"
    one_line_error(
        posture("audit", str(snap), "-c", "aws.nope.nothing", "-o", str(tmp_path)),
        2, "unknown check id",
    )


def test_unknown_region(moto_server: str, posture: Run, one_line_error: OneLine) -> None:
    one_line_error(
        posture("scan", "aws", "--endpoint-url", moto_server, "--region", "mars-north-1"),
        3, "unknown AWS region",
    )


def test_unreachable_endpoint(posture: Run, one_line_error: OneLine) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = posture("scan", "aws", "--endpoint-url", f"http://127.0.0.1:{port}", "-r", "us-east-1",
                    env={"AWS_MAX_ATTEMPTS": "1"})
    one_line_error(proc, 3, "cannot reach")


def test_no_credentials(tmp_path: Path, one_line_error: OneLine) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(
        tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1")
    proc = subprocess.run(
        [sys.executable, "-c", "from posture.cli.main import main; main()", "scan", "aws",
         "--endpoint-url", "http://127.0.0.1:9", "-r", "us-east-1"],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )
    one_line_error(proc, 3, "no AWS credentials")


def test_checks_list_and_permissions() -> None:
    listed = runner.invoke(app, ["checks", "list", "--json"])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert all(r["controls"].get("SOC2") for r in rows)
    perms = runner.invoke(app, ["permissions", "aws"])
    doc = json.loads(perms.stdout)
    actions = doc["Statement"][0]["Action"]
    assert "ec2:DescribeSecurityGroups" in actions and "iam:ListUsers" in actions
    assert not [a for a in actions if a.split(":")[1].startswith(("Put", "Create", "Delete"))]


def test_help_reads_well() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("scan", "audit", "checks", "permissions", "demo", "Exit codes"):
        assert word in result.stdout


HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_TAG = '=HYPERLINK("http://evil.example/x","click")'


def test_hostile_tags_are_inert_in_html_and_csv(moto_endpoint: str, tmp_path: Path) -> None:
    """Resource names and tags are attacker-controlled: scanned for real, then reported."""
    import csv
    import io

    ec2 = client("ec2", moto_endpoint)
    ec2.create_volume(
        AvailabilityZone="us-east-1a", Size=8, Encrypted=False,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [
            {"Key": "Name", "Value": HOSTILE_NAME}, {"Key": "owner", "Value": HOSTILE_TAG}]}],
    )
    ec2.create_volume(
        AvailabilityZone="us-east-1a", Size=8, Encrypted=False,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [
            {"Key": "Name", "Value": HOSTILE_TAG}]}],
    )
    out = tmp_path / "r"
    result = runner.invoke(app, ["scan", "aws", "--endpoint-url", moto_endpoint, "-r",
                                 "us-east-1", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert HOSTILE_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text(encoding="utf-8-sig"))))
    names = {r["resource_name"] for r in rows if r["check_id"].endswith("ebs_volume_encrypted")}
    assert "'" + HOSTILE_TAG in names  # defused: Excel shows text, never evaluates it
    assert HOSTILE_TAG not in names
    assert HOSTILE_NAME in names  # text that is not a formula is kept as is
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@")), cell


def test_denied_call_makes_affected_checks_inconclusive_end_to_end(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """A real AccessDenied from the server → a collection error in the snapshot → the checks
    that needed the data are INCONCLUSIVE (never PASS) and name the failed call; checks on data
    that was collected keep their verdicts."""
    from support.collect import denied_session

    from posture.collectors.aws.collector import AwsTarget, collect
    from posture.pipeline import audit, prepare

    s3 = client("s3", moto_endpoint)
    s3.create_bucket(Bucket="evidence-bucket")
    s3.put_bucket_encryption(Bucket="evidence-bucket", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    client("ec2", moto_endpoint).create_volume(
        AvailabilityZone="us-east-1a", Size=8, Encrypted=True)
    target = AwsTarget(regions=("us-east-1",), endpoint_url=moto_endpoint)
    # Deny an EC2 call: moto authorises EC2 (query protocol) requests by their Action, which is
    # the IAM action name, so this explicit deny is enforced like AWS would. S3 is not used
    # here: moto 5.2.6 authorises S3 requests as s3:<operation name> (s3:GetBucketEncryption,
    # s3:ListObjects) instead of the IAM action (s3:GetEncryptionConfiguration, s3:ListBucket).
    with denied_session(moto_endpoint, "ec2:DescribeVolumes") as session:
        prepared = prepare(collect(target, session=session))
    errors = [(e.service, e.operation, e.code) for e in prepared.inventory.errors]
    assert ("ec2", "DescribeVolumes", "AccessDenied") in errors
    assert not any(service == "s3" for service, _, _ in errors), errors
    findings = audit(prepared)

    # the encrypted volume was not seen: the check says so instead of passing (or saying nothing)
    volumes = [f for f in findings if f.check_id == "aws.encryption.ebs_volume_encrypted"]
    assert volumes
    assert {f.status.value for f in volumes} == {"INCONCLUSIVE"}
    assert all("ec2:DescribeVolumes" in f.message and "AccessDenied" in f.message
               for f in volumes), [f.message for f in volumes]
    failed_calls = {(e["service"], e["operation"], e["code"])
                    for f in volumes for e in f.evidence["collection_errors"]}
    assert failed_calls == {("ec2", "DescribeVolumes", "AccessDenied")}

    # the bucket was seen: its verdict does not depend on the denied call
    buckets = {f.status.value for f in findings
               if f.check_id == "aws.encryption.s3_bucket_encrypted"
               and f.resource_uid == "arn:aws:s3:::evidence-bucket"}
    assert buckets == {"PASS"}
    assert not any("DescribeVolumes" in f.message for f in findings
                   if f.check_id == "aws.encryption.s3_bucket_encrypted")


def test_graph_command_exports_graphml_and_json(tmp_path: Path) -> None:
    import networkx as nx

    result = runner.invoke(app, ["graph", str(DEMO / "snapshot.json"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    g = nx.read_graphml(tmp_path / "reachability.graphml")
    data = json.loads((tmp_path / "reachability.json").read_text(encoding="utf-8"))
    reaches = [e for e in data["links"] if e["relation"] == "reaches"]
    assert any(e.get("via") == "ops-ssh" for e in reaches)
    assert g.number_of_nodes() == len(data["nodes"])


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, object]]:
    subs = getattr(command, "commands", None)
    if subs is None:
        yield " ".join(path), command
        return
    for name, sub in subs.items():
        yield from _commands(sub, (*path, name))


def test_readme_names_every_option_of_every_command() -> None:
    """The README's command-line section is the manual: no option is left out of it (``scan
    gcp --anonymous`` was)."""
    import typer

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [
        f"{path} {opt}"
        for path, command in _commands(typer.main.get_command(app))
        for param in command.params  # type: ignore[attr-defined]
        for opt in param.opts
        if opt.startswith("--") and opt not in readme
    ]
    assert not missing, missing
