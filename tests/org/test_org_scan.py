"""Organisation scans in this process, end to end through the command line: discovery, one
snapshot per account with a manifest, merged reports naming account and OU, ``posture audit
DIR`` byte-identical, an account whose role cannot be assumed, evidence never overwritten."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import pickle
from pathlib import Path

import boto3
import pytest
from org_estate import MANAGEMENT, Org
from org_proxy import Faults, proxy
from support.org import assert_audit_reproduces, findings_doc
from typer.testing import CliRunner

from posture.cli.main import app
from posture.org import manifest as mf
from posture.org.plan import Access, plan

runner = CliRunner()
UNENCRYPTED = "aws.encryption.s3_bucket_encrypted"


def _scan(endpoint: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", "aws", "--organization", "--endpoint-url", endpoint,
                                 "--region", "us-east-1", "--workers", "0", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def scanned(org: Org, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One in-process organisation scan: (snapshot dir, report dir, output)."""
    base = tmp_path_factory.mktemp("org-scan")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        code, output = _scan(org.endpoint, "--snapshot-out", str(base / "snap"),
                             "-o", str(base / "out"))
    assert code == 0, output
    return base / "snap", base / "out", output


def test_plan_has_every_active_account_its_ou_and_no_credentials(org: Org) -> None:
    from posture.collectors.aws.organizations import discover

    session = boto3.session.Session()
    found = plan(discover(session, endpoint_url=org.endpoint), Access(endpoint_url=org.endpoint))
    by_id = {t.account_id: t for t in found.tasks}
    assert set(by_id) == {MANAGEMENT, *org.accounts.values()}
    assert by_id[MANAGEMENT].management and not by_id[org.id_of("sandbox-1")].management
    assert [s.name for s in by_id[org.id_of("prod-web")].ou_path] == ["Root", "Prod"]
    assert by_id[org.id_of("prod-web")].context_assets  # the organisation's view travels
    blob = pickle.dumps(found.tasks)
    assert b"testing" not in blob and b"SecretAccessKey" not in blob  # no credential inside


def test_scan_writes_one_snapshot_per_account_and_a_manifest(
    org: Org, scanned: tuple[Path, Path, str]
) -> None:
    snap, _, output = scanned
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["schema"] == "posture.organization"
    assert manifest["organization"]["id"] == org.id
    accounts = {a["id"]: a for a in manifest["accounts"]}
    assert set(accounts) == {MANAGEMENT, *org.accounts.values()}
    for a in accounts.values():
        assert a["status"] == "scanned", a
        data = (snap / a["snapshot"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == a["sha256"]
        assert json.loads(data)["meta"]["accounts"] == [a["id"]]
    web = accounts[org.id_of("prod-web")]
    assert [s["name"] for s in web["ou_path"]] == ["Root", "Prod"]
    assert sorted(p.name for p in snap.iterdir()) == sorted(
        ["manifest.json", *(f"{i}.json" for i in accounts)])
    assert f"{org.id_of('prod-web')} prod-web (Root/Prod): scanned" in output  # plain lines


def test_merged_reports_name_the_account_and_its_ou(
    org: Org, scanned: tuple[Path, Path, str]
) -> None:
    _, out, _ = scanned
    doc = findings_doc(out)
    web = org.id_of("prod-data")
    fails = [f for f in doc["findings"]
             if f["check_id"] == UNENCRYPTED and f["status"] == "FAIL"]
    assert {f["account"] for f in fails} == {web}
    assert {(f["account_name"], f["ou"]) for f in fails} == {("prod-data", "Root/Prod")}
    assert {f["account"] for f in doc["findings"]} == {MANAGEMENT, *org.accounts.values()}
    assert {a["id"] for a in doc["organization"]["accounts"]} >= set(org.accounts.values())
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text("utf-8-sig"))))
    assert {(r["account_name"], r["ou"]) for r in rows if r["account"] == web} == {
        ("prod-data", "Root/Prod")}
    html = (out / "report.html").read_text()
    assert 'id="accounts"' in html and f'href="#account={web}&amp;status=FAIL"' in html
    assert f'<option value="{web}">{web} prod-data</option>' in html


def test_audit_of_the_directory_is_byte_identical(
    scanned: tuple[Path, Path, str], tmp_path: Path
) -> None:
    snap, out, _ = scanned
    assert_audit_reproduces(snap, out, tmp_path, exit_code=0)


def test_a_changed_snapshot_is_refused(scanned: tuple[Path, Path, str], tmp_path: Path) -> None:
    snap, _, _ = scanned
    copy = tmp_path / "snap"
    copy.mkdir()
    for p in snap.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    victim = next(p for p in copy.iterdir() if p.name != "manifest.json")
    victim.write_text(victim.read_text().replace('"assets"', '"assets" ', 1))
    result = runner.invoke(app, ["audit", str(copy), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 3
    assert "does not match the manifest" in result.output


def test_existing_evidence_is_never_overwritten(org: Org, tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("an auditor's notes")
    code, output = _scan(org.endpoint, "--snapshot-out", str(used), "-o", str(tmp_path / "o"))
    assert code == 3
    assert "not empty" in output and "--replace-snapshots" in output
    assert (used / "notes.txt").read_text() == "an auditor's notes"
    assert not (tmp_path / "o").exists()  # refused before scanning


def test_replacing_an_earlier_scan_removes_only_its_files(
    scanned: tuple[Path, Path, str], tmp_path: Path
) -> None:
    snap, _, _ = scanned
    copy = tmp_path / "snap"
    copy.mkdir()
    for p in snap.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    assert mf.open_dir(copy, replace=True) == copy and not list(copy.iterdir())
    for p in snap.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    (copy / "other.txt").write_text("x")
    with pytest.raises(mf.EvidenceDirError, match="not part of its organisation scan"):
        mf.open_dir(copy, replace=True)
    assert (copy / "manifest.json").exists()


def test_an_account_whose_role_cannot_be_assumed_is_failed_and_inconclusive(
    org: Org, tmp_path: Path
) -> None:
    sandbox = org.id_of("sandbox-1")
    faults = Faults(deny={sandbox})
    with proxy(org.endpoint, faults) as endpoint:
        code, output = _scan(endpoint, "--snapshot-out", str(tmp_path / "snap"),
                             "-o", str(tmp_path / "out"))
    assert code == 4, output  # partial
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    status = {a["id"]: (a["status"], a["reason"]) for a in manifest["accounts"]}
    assert status[sandbox][0] == "failed"
    assert "cannot be assumed" in status[sandbox][1] and "AccessDenied" in status[sandbox][1]
    assert {s for a, (s, _) in status.items() if a != sandbox} == {"scanned"}
    doc = findings_doc(tmp_path / "out")
    mine = [f for f in doc["findings"] if f["account"] == sandbox]
    # nothing of the account's own data was seen: never PASS; only the organisation's context,
    # read from the management account (its SCPs), may still be judged
    assert mine and "PASS" not in {f["status"] for f in mine}
    own = [f for f in mine if not f["check_id"].startswith("aws.organization.")]
    assert own and {f["status"] for f in own} == {"INCONCLUSIVE"}
    assert any(e["account"] == sandbox and e["operation"] == "AssumeRole"
               for e in doc["collection_errors"])
    others = [f for f in doc["findings"] if f["account"] == org.id_of("prod-web")]
    assert "PASS" in {f["status"] for f in others}
    assert f"{sandbox} sandbox-1: failed" in output and "exit code 4" in output
    # the failed account's snapshot re-audits to the same verdicts
    again = runner.invoke(app, ["audit", str(tmp_path / "snap"), "-o", str(tmp_path / "re"),
                                "-q"])
    assert again.exit_code == 4
    assert (tmp_path / "re" / "findings.json").read_bytes() == (
        tmp_path / "out" / "findings.json").read_bytes()


def test_organisation_options_need_organization() -> None:
    result = runner.invoke(app, ["scan", "aws", "--workers", "2", "-q"])
    assert result.exit_code == 2
    assert "--workers only apply with --organization" in result.output


SEGREGATION = "aws.segregation.no_prod_nonprod_network_path"


def test_cross_account_path_is_followed_by_the_organization_phase(
    org: Org, scanned: tuple[Path, Path, str]
) -> None:
    """prod-web (OU Prod) peers with sandbox-1 (OU Sandbox): each account's own snapshot stops
    at the peering (INCONCLUSIVE when re-audited alone), the organisation run follows the path
    into the other account and FAILs the production VPC, naming the sandbox VPC."""
    from posture.pipeline import audit, load_prepared
    from posture.registry import load_catalogue

    snap, out, _ = scanned
    prod = org.id_of("prod-web")
    rows = [f for f in findings_doc(out)["findings"]
            if f["check_id"] == SEGREGATION and f["account"] == prod]
    failed = [f for f in rows if f["status"] == "FAIL"]
    assert len(failed) == 1, rows
    assert "network path between production" in failed[0]["message"]
    assert failed[0]["evidence"]["environment"]["tag"] == "OU=Prod"
    hops = [h["kind"] for h in failed[0]["evidence"]["paths"][0]["hops"]]
    assert "vpc-peering" in hops

    alone = load_prepared(snap / f"{prod}.json")
    own = [f for f in audit(alone, load_catalogue(), (SEGREGATION,))
           if f.resource_uid == failed[0]["resource_uid"]]
    assert [f.status.value for f in own] == ["INCONCLUSIVE"]
    assert "not in this snapshot" in own[0].message


def test_history_compares_organization_runs_account_by_account(
    org: Org, scanned: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """Two re-audits of the organisation recorded in one store share the organisation's scope,
    so the second is compared with the first: identical runs, nothing new, nothing resolved.
    (Account-by-account filtering of the diff: tests/history/test_store.py.)"""
    from posture.history.store import open_store, organization_scope

    snap, _, _ = scanned
    store = str(tmp_path / "history.db")
    for n in (1, 2):
        result = runner.invoke(app, ["audit", str(snap), "-o", str(tmp_path / f"r{n}"), "-q",
                                     "--store", store])
        assert result.exit_code == 0, result.output
    second = json.loads((tmp_path / "r2" / "findings.json").read_text())["history"]
    assert second["previous_record"] is not None
    assert (second["new"], second["resolved"]) == (0, 0)
    assert second["still_open"] > 0
    with open_store(store) as opened:
        scopes = {r.scope for r in opened.scans()}
    assert scopes == {organization_scope("aws", org.id)}
