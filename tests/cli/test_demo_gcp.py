"""`posture demo gcp`: the packaged loopback fake of the Google APIs, the real GCP collector,
the same reports as the AWS demo, and the one-line errors of the demo command."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from posture.cli.main import app

runner = CliRunner()


def test_demo_gcp_writes_reports_with_gcp_findings(tmp_path: Path) -> None:
    snap = tmp_path / "inventory.json"
    result = runner.invoke(
        app, ["demo", "gcp", "-o", str(tmp_path), "-q", "--snapshot-out", str(snap)]
    )
    assert result.exit_code == 0, result.output
    for name in ("findings.csv", "findings.json", "report.html"):
        assert (tmp_path / name).stat().st_size > 0
    assert snap.is_file()
    doc = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    findings = doc["findings"]
    assert {f["provider"] for f in findings} == {"gcp"}
    assert {f["account"] for f in findings} >= {"acme-prod", "acme-dev"}
    failing = {p for f in findings if f["status"] == "FAIL" for p in f["principles"]}
    assert len(failing) >= 5, failing
    by = {(f["check_id"], f["resource_name"]): f["status"] for f in findings}
    assert by[("gcp.network.admin_ports_not_internet_reachable", "web-1")] == "FAIL"
    assert by[("gcp.network.admin_ports_not_internet_reachable", "bastionless-1")] == "PASS"
    assert by[("gcp.storage.bucket_not_public", "acme-prod-public-assets")] == "FAIL"
    # a password in app-1's startup script, named by key, line and fingerprint only; web-1's
    # public SSH keys are not secrets
    secrets = "gcp.secrets.instance_metadata_no_plaintext_secrets"
    assert by[(secrets, "app-1")] == "FAIL"
    assert by[(secrets, "web-1")] == "PASS"
    # public access prevention: on the bucket itself / inherited from a project whose effective
    # organisation policy does not enforce it (nothing public today: the trap) / does enforce it
    pap = "gcp.storage.bucket_public_access_prevention_enforced"
    assert by[(pap, "acme-prod-data")] == "PASS"
    assert by[(pap, "acme-prod-legacy-logs")] == "FAIL"
    assert by[(pap, "acme-dev-scratch")] == "PASS"
    # firewall policies: a hierarchical allow exposes, a hierarchical deny shadows a VPC allow,
    # a network-policy allow exposes, a secure-tag rule is undecidable
    admin, db = "gcp.network.admin_ports_not_internet_reachable", (
        "gcp.network.db_ports_not_internet_reachable"
    )
    assert by[(admin, "ci-1")] == "FAIL"
    assert by[(db, "pg-dev-1")] == "PASS"
    assert by[(db, "report-1")] == "FAIL"
    assert by[(db, "cache-1")] == "INCONCLUSIVE"
    # load balancers: a passthrough NLB and a TCP proxy expose instances without external IPs;
    # traps: NLBs whose clients the firewall does not admit, a TCP proxy blocked by the folder's
    # deny, an internal load balancer in front of db-1
    assert by[(admin, "jump-1")] == "FAIL"
    assert by[(db, "mongo-1")] == "FAIL"
    for trap in ("worker-1", "win-1"):
        assert by[(admin, trap)] == "PASS", trap
    assert by[(db, "db-1")] == "PASS"
    # defense depth: one change away - a VPC deny shadowing an allow (app-1), the dev folder's
    # hierarchical deny over a VPC allow (pg-dev-1), a missing external IP (db-1); exposed
    # instances are the exposure checks' (depth 0), not the depth check's
    depth = {f["resource_name"]: f for f in findings
             if f["check_id"] == "gcp.network.sensitive_ports_defense_in_depth"}
    assert {n for n, f in depth.items() if f["status"] == "FAIL"} >= {"app-1", "pg-dev-1", "db-1"}
    assert depth["app-1"]["evidence"]["single_change"]["rule"].startswith("deny-ssh-app")
    assert "hierarchical firewall policy dev-folder" in depth["pg-dev-1"]["message"]
    assert depth["db-1"]["evidence"]["single_change"]["layer"] == "external-address"
    assert depth["cache-1"]["status"] == "INCONCLUSIVE"  # the secure-tag rule
    assert "web-1" not in depth and "jump-1" not in depth and "mongo-1" not in depth
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="defense-depth">'):]
    assert "compute.googleapis.com/Instance" in section[: section.index("</section>")]
    # bob (project-wide token creator) and a chain through the deployer account reach the
    # default compute service account, which holds Editor
    assert by[("gcp.iam.no_admin_via_sa_impersonation", "acme-prod")] == "FAIL"
    assert by[("gcp.iam.no_admin_via_sa_impersonation", "acme-dev")] == "PASS"
    # frank (Project IAM Admin) can grant himself Owner; the access desk's grant is limited by
    # its condition to viewer roles. dana's project-wide token creator in acme-dev waits for a
    # privileged service account (latent); bob's in acme-prod has a real path: never both
    assert by[("gcp.iam.no_project_iam_policy_escalation", "acme-prod")] == "FAIL"
    assert by[("gcp.iam.no_project_iam_policy_escalation", "acme-dev")] == "PASS"
    assert by[("gcp.iam.no_latent_privilege_escalation", "acme-dev")] == "FAIL"
    assert by[("gcp.iam.no_latent_privilege_escalation", "acme-prod")] == "PASS"
    messages = {(f["check_id"], f["resource_name"]): f["message"] for f in findings}
    assert "user:frank@acme.example" in messages[
        ("gcp.iam.no_project_iam_policy_escalation", "acme-prod")]
    assert "access-desk" not in messages[("gcp.iam.no_project_iam_policy_escalation", "acme-prod")]
    assert messages[("gcp.iam.no_latent_privilege_escalation", "acme-dev")] == (
        "no service account of project acme-dev holds a basic admin role today; the moment one "
        "does, user:dana@acme.example becomes administrator by minting its tokens"
    )
    # the joined attack path: web-1 (SSH and HTTP(S) open to the world) runs as the default
    # compute account, Editor, with the cloud-platform scope; app-1, the same identity without
    # an internet path, passes; the report draws the joined path
    attack = "gcp.network.no_exposed_host_with_admin_identity"
    assert by[(attack, "web-1")] == "FAIL" and by[(attack, "app-1")] == "PASS"
    assert '<g class="hop identity"' in html
    # identity: web-1 opts out of its project's OS Login, acme-prod asks no second factor,
    # keeps a 400-day-old key without the key-creation policy, and alice holds Owner standing
    # although a PAM entitlement offers it; gina's "expires" condition is no time bound
    ident = {k[1]: v for k, v in by.items() if k[0] == "gcp.identity.os_login_enabled"}
    assert ident["web-1"] == "FAIL" and ident["app-1"] == "PASS" and ident["acme-dev"] == "PASS"
    assert by[("gcp.identity.os_login_2fa_enabled", "acme-prod")] == "FAIL"
    assert by[("gcp.identity.os_login_2fa_enabled", "jump-1")] == "PASS"
    assert by[("gcp.identity.sa_key_creation_disabled", "acme-prod")] == "FAIL"
    assert by[("gcp.identity.sa_key_creation_disabled", "acme-dev")] == "PASS"
    assert by[("gcp.identity.allowed_member_domains_restricted", "acme-prod")] == "PASS"
    assert by[("gcp.identity.allowed_member_domains_restricted", "acme-dev")] == "FAIL"
    assert by[("gcp.identity.pam_entitlements_time_limited", "prod-iam-admin")] == "FAIL"
    assert by[("gcp.identity.pam_entitlements_time_limited", "prod-owner-breakglass")] == "PASS"
    standing = messages[("gcp.identity.no_standing_privileged_access", "acme-prod")]
    assert "user:alice@acme.example holds roles/owner (no condition; PAM entitlement " \
        "prod-owner-breakglass (to user:alice@acme.example too)" in standing
    assert "user:gina@acme.example holds roles/editor (its condition 'temporary access, " \
        "expires after the data migration' does not bound it in time" in standing
    assert "user:gina@acme.example" in messages[("gcp.iam.no_basic_roles_for_users", "acme-prod")]
    # the deliberate 403 on Cloud SQL in acme-dev: reported, and INCONCLUSIVE, never PASS
    assert [e["operation"] for e in doc["collection_errors"]] == ["instances.list"]
    assert any(f["status"] == "INCONCLUSIVE" for f in findings)
    assert "Open the HTML report" in result.output


def test_demo_unknown_cloud_is_one_line() -> None:
    result = runner.invoke(app, ["demo", "oracle", "-q"])
    assert result.exit_code == 2, result.output
    assert "unknown demo cloud 'oracle'" in result.output
