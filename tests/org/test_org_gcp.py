"""GCP organisations through the organisation executor, with the real Resource Manager and service
clients against the loopback fake of the Google APIs: an organisation of three projects under
folders (acme-prod, acme-dev, and acme-locked whose every API answers 403), scanned in this
process and on a ``LocalCluster`` of two workers. One snapshot per project and a manifest, the
folders and organisation read once for all projects, inherited folder grants in the project's
findings, the locked project ``failed`` and INCONCLUSIVE while the others complete (exit 4),
``posture audit DIR`` byte-identical."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.gcp_collect import collect_fake
from support.org import assert_audit_reproduces, findings_doc
from typer.testing import CliRunner

from posture.cli.main import app
from posture.collectors.gcp.collector import GcpTarget
from posture.demo.gcp_fake import FakeGoogle, load_routes, serving
from posture.org.gcp import discover

runner = CliRunner()
ORG = "organizations/500000000001"
LOCKED = "acme-locked"
DENIED = {"__status__": 403, "error": {"code": 403, "status": "PERMISSION_DENIED",
                                       "message": "The caller does not have permission"}}


def _project(pid: str, number: str, parent: str, name: str) -> dict[str, Any]:
    return {"name": f"projects/{number}", "projectId": pid, "parent": parent, "state": "ACTIVE",
            "displayName": name}


def org_routes() -> dict[str, Any]:
    """The demo's two projects, a third whose every API is denied (a copy of acme-dev's
    routes), and the organisation's folder tree: Production/acme-prod,
    Non-production/Development/{acme-dev, acme-locked}."""
    routes = load_routes()
    for key in list(load_routes(("acme-dev",))):
        if "acme-dev" in key:
            routes[key.replace("acme-dev", LOCKED)] = DENIED
    routes.update({
        f"GET /v3/folders?parent={ORG}": {"folders": [{"name": "folders/300000000001"},
                                                      {"name": "folders/300000000003"}]},
        "GET /v3/folders?parent=folders/300000000003": {
            "folders": [{"name": "folders/300000000002"}]},
        "GET /v3/folders?parent=folders/300000000001": {},
        "GET /v3/folders?parent=folders/300000000002": {},
        f"GET /v3/projects?parent={ORG}": {},
        "GET /v3/projects?parent=folders/300000000003": {},
        "GET /v3/projects?parent=folders/300000000001": {"projects": [
            _project("acme-prod", "111111111111", "folders/300000000001", "ACME production")]},
        "GET /v3/projects?parent=folders/300000000002": {"projects": [
            _project("acme-dev", "222222222222", "folders/300000000002", "ACME development"),
            _project(LOCKED, "333333333333", "folders/300000000002", "ACME locked sandbox")]},
    })
    return routes


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with serving(org_routes()) as running:
        yield running


def _scan(fake: FakeGoogle, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", "gcp", "--organization", "500000000001", "--anonymous",
                                 "--api-endpoint", fake.base, *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def scanned(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, Path, str, list[str]]:
    """One in-process organisation scan: (snapshot dir, report dir, output, paths requested)."""
    base = tmp_path_factory.mktemp("gcp-org")
    start = len(fake.requests)
    code, output = _scan(fake, "--workers", "0", "--snapshot-out", str(base / "snap"),
                         "-o", str(base / "out"))
    assert code == 4, output
    return base / "snap", base / "out", output, fake.paths()[start:]


def _verdicts(out: Path) -> set[tuple[str, str, str, str]]:
    doc = findings_doc(out)
    return {(f["account"], f["check_id"], f["resource_uid"], f["status"])
            for f in doc["findings"]}


def test_one_snapshot_per_project_and_a_manifest(scanned: tuple[Path, Path, str, list[str]]
                                                 ) -> None:
    snap, _, output, _ = scanned
    manifest = json.loads((snap / "manifest.json").read_text())
    assert (manifest["provider"], manifest["organization"]["id"]) == ("gcp", ORG)
    projects = {a["id"]: a for a in manifest["accounts"]}
    assert {k: (a["name"], a["status"]) for k, a in projects.items()} == {
        "acme-prod": ("ACME production", "scanned"),
        "acme-dev": ("ACME development", "scanned"),  # its Cloud SQL 403 is a gap, not partial
        LOCKED: ("ACME locked sandbox", "failed"),
    }
    assert [(s["id"], s["name"]) for s in projects["acme-dev"]["ou_path"]] == [
        (ORG, "acme.example"), ("folders/300000000003", "Non-production"),
        ("folders/300000000002", "Development")]
    assert "PERMISSION_DENIED" in projects[LOCKED]["reason"]
    for a in projects.values():
        data = (snap / a["snapshot"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == a["sha256"]
        assert json.loads(data)["meta"]["accounts"] == [a["id"]]
    assert sorted(p.name for p in snap.iterdir()) == sorted(
        ["manifest.json", *(f"{p}.json" for p in projects)])
    assert "acme-prod ACME production (acme.example/Production): scanned" in output
    assert "1 project(s) not fully scanned" in output


def test_ancestors_are_read_once_for_every_project(
    scanned: tuple[Path, Path, str, list[str]]
) -> None:
    paths = scanned[3]
    assert paths.count("/v3/folders/300000000002") == 1  # shared by acme-dev and acme-locked
    assert paths.count(f"/v3/{ORG}:getIamPolicy") == 1  # shared by all three


def test_a_project_snapshot_is_what_a_single_project_scan_collects(
    fake: FakeGoogle, scanned: tuple[Path, Path, str, list[str]]
) -> None:
    snap = scanned[0]
    alone = collect_fake(fake.base, "acme-prod")
    doc = json.loads((snap / "acme-prod.json").read_text())
    assert {a["uid"] for a in doc["assets"]} == {a.uid for a in alone.assets}


def test_inherited_folder_grants_and_org_audit_configs_reach_the_project(
    scanned: tuple[Path, Path, str, list[str]]
) -> None:
    _, out, _, _ = scanned
    doc = findings_doc(out)
    by = {(f["check_id"], f["account"], f["resource_name"]): f for f in doc["findings"]}
    basic = by[("gcp.iam.no_basic_roles_for_users", "acme-prod", "acme-prod")]
    assert basic["status"] == "FAIL"
    assert "group:prod-oncall@acme.example (granted on folders/300000000001 (Production), " \
        "inherited)" in basic["message"]
    assert (basic["account_name"], basic["ou"]) == ("ACME production", "acme.example/Production")
    logs = by[("gcp.audit.data_access_logs_enabled", "acme-prod", "acme-prod")]
    assert logs["status"] == "PASS", logs["message"]  # the organisation logs DATA_READ/WRITE
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text("utf-8-sig"))))
    assert {(r["account_name"], r["ou"]) for r in rows if r["account"] == "acme-dev"} == {
        ("ACME development", "acme.example/Non-production/Development")}
    html = (out / "report.html").read_text()
    assert 'id="accounts"' in html and 'href="#account=acme-dev&amp;status=FAIL"' in html


def test_the_locked_project_is_inconclusive_and_the_others_complete(
    scanned: tuple[Path, Path, str, list[str]]
) -> None:
    _, out, _, _ = scanned
    doc = findings_doc(out)
    locked = [f for f in doc["findings"] if f["account"] == LOCKED]
    assert locked and {f["status"] for f in locked} == {"INCONCLUSIVE"}
    prod = {f["status"] for f in doc["findings"] if f["account"] == "acme-prod"}
    assert {"PASS", "FAIL"} <= prod
    status = {a["id"]: a["status"] for a in doc["organization"]["accounts"]}
    assert status[LOCKED] == "failed"


def test_audit_of_the_directory_is_byte_identical(
    scanned: tuple[Path, Path, str, list[str]], tmp_path: Path
) -> None:
    snap, out, _, _ = scanned
    assert_audit_reproduces(snap, out, tmp_path, exit_code=4)


def test_a_local_cluster_of_two_workers_gives_the_same_verdicts(
    fake: FakeGoogle, scanned: tuple[Path, Path, str, list[str]], tmp_path: Path
) -> None:
    code, output = _scan(fake, "--workers", "2", "--snapshot-out", str(tmp_path / "snap"),
                         "-o", str(tmp_path / "out"))
    assert code == 4, output
    assert "on a local Dask cluster of 2 worker process(es)" in output
    assert _verdicts(tmp_path / "out") == _verdicts(scanned[1])
    for project in ("acme-prod", "acme-dev", LOCKED):  # the same evidence (times aside)
        now, before = (json.loads((d / f"{project}.json").read_text())
                       for d in (tmp_path / "snap", scanned[0]))
        assert [a["uid"] for a in now["assets"]] == [a["uid"] for a in before["assets"]]


def test_the_plan_holds_the_lineage_and_no_credential(fake: FakeGoogle) -> None:
    plan, errors = discover(GcpTarget(organization="500000000001", api_endpoint=fake.base,
                                      anonymous=True, retry_initial=0.01))
    assert not errors
    dev = next(t for t in plan.tasks if t.account_id == "acme-dev")
    assert [a.account for a in dev.context_assets] == [
        "folders/300000000002", "folders/300000000003", ORG]
    prod = next(t for t in plan.tasks if t.account_id == "acme-prod")
    assert prod.context_assets[-1] is dev.context_assets[-1]  # one organisation object
    assert b"ya29" not in pickle.dumps(plan.tasks)


def test_cluster_options_need_an_organisation_or_folder(fake: FakeGoogle) -> None:
    result = runner.invoke(app, ["scan", "gcp", "--project", "acme-prod", "--anonymous",
                                 "--api-endpoint", fake.base, "--workers", "2", "-q"])
    assert result.exit_code == 2, result.output
    assert "--workers only apply with --organization or --folder" in result.output


def test_a_folder_whose_projects_cannot_be_listed_makes_the_run_partial(tmp_path: Path) -> None:
    """The Non-production folder's own project listing answers 403: whatever sits directly in
    it was never enumerated. The run says so (warning, manifest "unlisted", the collection
    error in the report) and exits 4, online and when the directory is re-audited."""
    routes = org_routes()
    routes["GET /v3/projects?parent=folders/300000000003"] = DENIED
    with serving(routes) as locked:
        code, output = _scan(locked, "--workers", "0", "--snapshot-out", str(tmp_path / "snap"),
                             "-o", str(tmp_path / "out"))
    assert code == 4, output
    assert "folders/300000000003" in output and "not scanned" in output
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    [gap] = manifest["unlisted"]
    assert (gap["account"], gap["operation"], gap["code"]) == (
        "folders/300000000003", "projects.list", "PERMISSION_DENIED")
    errors = findings_doc(tmp_path / "out")["collection_errors"]
    assert any(e["account"] == "folders/300000000003" for e in errors)
    again = runner.invoke(app, ["audit", str(tmp_path / "snap"), "-o", str(tmp_path / "re"),
                                "-q"])
    assert again.exit_code == 4, again.output
    assert (tmp_path / "re" / "findings.json").read_bytes() == (
        tmp_path / "out" / "findings.json").read_bytes()
