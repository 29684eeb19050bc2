"""`posture scan gcp` end to end against the loopback fake, `posture permissions gcp`, and the
one-line errors of the GCP command."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from posture.cli.main import app
from posture.demo.gcp_fake import FakeGoogle

runner = CliRunner()


def test_scan_gcp_writes_reports_and_audit_is_byte_identical(
    gcp_fake: FakeGoogle, tmp_path: Path
) -> None:
    snap = tmp_path / "inv.json"
    scan = runner.invoke(
        app,
        [
            "scan",
            "gcp",
            "--project",
            "acme-prod",
            "--project",
            "acme-dev",
            "--api-endpoint",
            gcp_fake.base,
            "--anonymous",
            "--snapshot-out",
            str(snap),
            "-o",
            str(tmp_path / "scan"),
            "-q",
            "--fail-on",
            "critical",
        ],
    )
    assert scan.exit_code == 1, scan.output  # critical FAILs exist in the fake estate
    for name in ("findings.csv", "findings.json", "report.html"):
        assert (tmp_path / "scan" / name).is_file()
    doc = json.loads((tmp_path / "scan" / "findings.json").read_text(encoding="utf-8"))
    findings = doc["findings"]
    assert {f["provider"] for f in findings} == {"gcp"}
    by = {(f["check_id"], f["resource_name"]): f["status"] for f in findings}
    admin = "gcp.network.admin_ports_not_internet_reachable"
    # web-1 is exposed; the traps are not: deny shadowing (app-1), deny tie (win-1), disabled
    # rule (legacy-1), egress rule (worker-1), IAP only (bastionless-1), no external IP (db-1)
    assert by[(admin, "web-1")] == "FAIL"
    for trap in ("app-1", "win-1", "legacy-1", "worker-1", "bastionless-1", "db-1", "old-vm"):
        assert by[(admin, trap)] == "PASS", trap
    assert by[("gcp.network.db_ports_not_internet_reachable", "analytics-1")] == "FAIL"
    assert by[("gcp.network.db_ports_not_internet_reachable", "db-1")] == "PASS"
    latent = "gcp.network.no_latent_sensitive_port_exposure"
    assert by[(latent, "db-1")] == "FAIL"  # firewall open on 5432, no external IP
    for ok in ("web-1", "app-1", "bastionless-1", "legacy-1"):  # exposed, shadowed, IAP, disabled
        assert by[(latent, ok)] == "PASS", ok
    assert by[("gcp.segregation.no_prod_nonprod_peering", "prod-vpc")] == "FAIL"
    assert by[("gcp.transit.lb_proxy_tls12_minimum", "legacy-https")] == "FAIL"
    assert by[("gcp.transit.lb_proxy_tls12_minimum", "web-https")] == "PASS"
    assert by[("gcp.storage.bucket_not_public", "acme-prod-public-assets")] == "FAIL"
    assert by[("gcp.iam.no_basic_roles_for_users", "acme-prod")] == "FAIL"
    assert by[("gcp.iam.no_basic_roles_for_users", "acme-dev")] == "FAIL"
    assert by[("gcp.audit.data_access_logs_enabled", "acme-dev")] == "PASS"
    # the 403 on Cloud SQL in acme-dev: the SQL checks are INCONCLUSIVE for that scope
    sql_scope = [
        f
        for f in findings
        if f["check_id"] == "gcp.transit.sql_ssl_enforced" and f["account"] == "acme-dev"
    ]
    assert [f["status"] for f in sql_scope] == ["INCONCLUSIVE"]
    assert "PERMISSION_DENIED" in sql_scope[0]["message"]
    assert [e["operation"] for e in doc["collection_errors"]] == ["instances.list"]

    audit = runner.invoke(app, ["audit", str(snap), "-o", str(tmp_path / "audit"), "-q"])
    assert audit.exit_code == 0, audit.output
    assert (tmp_path / "scan" / "findings.json").read_bytes() == (
        tmp_path / "audit" / "findings.json"
    ).read_bytes()


def test_permissions_gcp_prints_a_custom_role() -> None:
    result = runner.invoke(app, ["permissions", "gcp"])
    assert result.exit_code == 0
    assert "includedPermissions:" in result.output
    assert "- storage.buckets.getIamPolicy" in result.output


def test_scan_gcp_errors_are_one_line(tmp_path: Path) -> None:
    missing = runner.invoke(
        app,
        [
            "scan",
            "gcp",
            "--project",
            "p",
            "--key-file",
            str(tmp_path / "nope.json"),
            "-o",
            str(tmp_path),
        ],
    )
    assert missing.exit_code == 3
    assert "credentials file not found" in missing.output
    both = runner.invoke(
        app,
        ["scan", "gcp", "--project", "p", "--anonymous", "--key-file", str(tmp_path / "nope.json")],
    )
    assert both.exit_code == 2
    bad_format = runner.invoke(app, ["scan", "gcp", "--project", "p", "--anonymous", "-f", "xlsx"])
    assert bad_format.exit_code == 2
