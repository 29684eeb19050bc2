"""The three demos' reports carry the identity section and identity.csv, with the rows an
auditor asks about; the AWS demo's findings.json is untouched by it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from support import DEMO
from typer.testing import CliRunner

from posture.cli.main import app
from posture.pipeline import audit, load_prepared
from posture.registry import load_catalogue, select_frameworks
from posture.reporters import OutputFormat, Report, write_reports

runner = CliRunner()


@pytest.fixture(scope="module", params=["aws", "azure", "gcp"])
def demo(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    cloud = str(request.param)
    out = tmp_path_factory.mktemp(f"demo-{cloud}")
    args = ["demo"] + ([] if cloud == "aws" else [cloud])
    result = runner.invoke(app, [*args, "-o", str(out), "-q", "-f", "json,html,controls"])
    assert result.exit_code == 0, result.output
    return cloud, out


def rows(out: Path) -> list[dict[str, str]]:
    text = (out / "identity.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def find(found: list[dict[str, str]], **want: str) -> dict[str, str]:
    hits = [r for r in found if all(r[k] == v for k, v in want.items())]
    assert hits, want
    return hits[0]


EXPECTED = {
    # Carol Diaz signs in through IAM Identity Center; group platform-admins holds the
    # admin-equivalent permission set AdministratorAccess permanently, on the account whose
    # VPC is tagged production
    "aws": ({"identity": "Carol Diaz", "sign_in": "SSO", "role": "permission set "
             "AdministratorAccess", "via": "group platform-admins"}, "standing", "yes"),
    # Alice holds Global Administrator standing (MFA enforced by conditional access)
    "azure": ({"identity": "Alice Admin (alice@contoso.example)", "mfa": "enforced",
               "role": "directory role Global Administrator"}, "standing", "yes"),
    # alice holds owner standing on acme-prod although a PAM entitlement offers it
    "gcp": ({"identity": "alice@acme.example", "role": "roles/owner",
             "access_note": "PAM entitlement prod-owner-breakglass offers roles/owner just in "
             "time"}, "standing", "yes"),
}


def test_demo_report_has_the_identity_section(demo: tuple[str, Path]) -> None:
    cloud, out = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="identity">' in html and "can reach production" in html
    want, duration, production = EXPECTED[cloud]
    row = find(rows(out), **want)
    assert (row["privilege"], row["duration"], row["production"]) == (
        "admin", duration, production)
    assert want["identity"].split(" (")[0] in html


def test_demo_identity_rows_of_just_in_time_access(demo: tuple[str, Path]) -> None:
    cloud, out = demo
    found = rows(out)
    if cloud == "azure":  # Carol may activate Global Administrator; Frank's role is activated
        assert find(found, identity="Carol Cloud (carol@contoso.example)",
                    role="directory role Global Administrator")["duration"] == "eligible"
        assert find(found, identity="Frank Ops (frank@contoso.example)",
                    role="directory role Privileged Role Administrator")["duration"] == \
            "time-bound"
    elif cloud == "gcp":
        assert find(found, identity="alice@acme.example", role="roles/owner",
                    via="PAM entitlement prod-owner-breakglass")["duration"] == "eligible"
        assert find(found, identity="prod-oncall@acme.example")["via"] == \
            "inherited from folders/300000000001 (Production)"
    else:
        assert find(found, identity="platform-admins")["kind"] == "group"


def test_aws_golden_findings_unchanged(tmp_path: Path) -> None:
    prepared = load_prepared(DEMO / "snapshot.json")
    report = Report(findings=audit(prepared), inventory_meta=prepared.inventory.meta,
                    collection_errors=prepared.inventory.errors,
                    snapshot_sha256=prepared.snapshot_sha256,
                    frameworks=select_frameworks(load_catalogue().frameworks,
                                                 (prepared.inventory.meta.provider,)))
    import dataclasses

    from posture.identity import identity_view
    with_identity = dataclasses.replace(report, identity=identity_view(prepared.inventory))
    written = write_reports(with_identity, tmp_path, [OutputFormat.JSON, OutputFormat.CONTROLS])
    assert written[OutputFormat.JSON].read_bytes() == (DEMO / "findings.json").read_bytes()
    assert (tmp_path / "identity.csv").exists()
