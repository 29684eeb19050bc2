"""The "Secure code" section of report.html: one row per GitHub repository, findings grouped by
area, environments' findings under their repository, archived repositories apart, names escaped."""

from __future__ import annotations

from dataclasses import replace

from support.reports import META, SHA, finding

from posture.model import Provider, Severity, Status
from posture.registry import load_frameworks
from posture.reporters.base import Report
from posture.reporters.code_reporter import Repo, code_section
from posture.reporters.html_reporter import render_html

ORG = "github.com/acme"


def repo(name: str, **kw: object) -> Repo:
    return Repo(**{"uid": f"{ORG}/{name}", "name": f"acme/{name}", "visibility": "private",
                   "default_branch": "main", "archived": False, "fork": False, **kw})


def gh(check_id: str, uid: str, status: Status = Status.FAIL, message: str = "x",
       severity: Severity = Severity.HIGH):
    return replace(finding(status=status, severity=severity, message=message, check_id=check_id),
                   provider=Provider.GITHUB, resource_uid=uid, account="acme",
                   resource_type="GitHub::Repository")


def test_findings_land_in_their_repository_and_area_and_failing_repositories_come_first() -> None:
    repos = [repo("api"), repo("web")]
    findings = [
        gh("github.code.secret_scanning_enabled", f"{ORG}/web", message="secret scanning off"),
        gh("github.code.push_protection_enabled", f"{ORG}/web", Status.PASS),
        gh("github.deploy.production_requires_reviewers", f"{ORG}/web/environments/production",
           message="no reviewers"),
        gh("github.change.pull_request_reviews_required", f"{ORG}/api", Status.PASS),
        gh("github.org.two_factor_required", ORG, Status.INCONCLUSIVE),
        finding(),  # a cloud finding: not in the section
    ]
    section = code_section(repos, findings)
    assert section is not None
    assert [r["name"] for r in section["rows"]] == ["acme/web", "acme/api"]
    web = section["rows"][0]["cells"]
    assert web[0]["badge"] == "FAIL" and web[0]["passed"] == 1
    assert [x["message"] for x in web[0]["fails"]] == ["secret scanning off"]
    assert web[2]["badge"] == "FAIL" and web[2]["fails"][0]["message"] == "no reviewers"
    assert web[1]["badge"] == "none" and web[3]["badge"] == "none"
    assert section["rows"][1]["cells"][1]["badge"] == "PASS"
    assert section["organization"]["badge"] == "INCONCLUSIVE"


def test_archived_repositories_are_listed_apart_and_no_repository_means_no_section() -> None:
    section = code_section([repo("old", archived=True), repo("api")], [])
    assert section is not None
    assert [r["name"] for r in section["rows"]] == ["acme/api"]
    assert section["archived"] == ["acme/old"]
    assert code_section([], [gh("github.org.two_factor_required", ORG)]) is None


def test_section_renders_escaped_in_the_html() -> None:
    hostile = repo("<img src=x onerror=alert(1)>")
    report = Report(findings=(gh("github.code.secret_scanning_enabled", hostile.uid,
                                 message="<script>alert(2)</script>"),),
                    inventory_meta=META, snapshot_sha256=SHA, frameworks=load_frameworks(),
                    repositories=(hostile,))
    html = render_html(report)
    assert 'id="secure-code"' in html
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    without = render_html(replace(report, repositories=()))
    assert 'id="secure-code"' not in without
