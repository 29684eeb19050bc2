"""github.code.*: security features on (PASS, FAIL, INCONCLUSIVE when not read), analyses recent,
open alerts within their SLA; archived repositories skipped, forks judged and named, public or
production repositories one severity higher."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import only, run_one
from support.github import OLD, RECENT, environment, error, inventory, repo

from posture.model import Status

SWITCHES = [
    ("github.code.secret_scanning_enabled", "secret_scanning", "disabled", "secret scanning"),
    ("github.code.secret_scanning_push_protection_enabled", "secret_scanning_push_protection",
     "disabled", "push protection"),
    ("github.code.dependabot_alerts_enabled", "vulnerability_alerts", False, "Dependabot alerts"),
    ("github.code.dependabot_security_updates_enabled", "dependabot_security_updates",
     "disabled", "Dependabot security updates"),
]


@pytest.mark.parametrize(("check_id", "attr", "off", "label"), SWITCHES,
                         ids=[s[0].rsplit(".", 1)[1] for s in SWITCHES])
def test_feature_switches(check_id: str, attr: str, off: Any, label: str) -> None:
    assert only(run_one(check_id, inventory(repo()))).status == Status.PASS
    f = only(run_one(check_id, inventory(repo(**{attr: off}))))
    assert f.status == Status.FAIL and f"{label} {'are' if label.endswith('s') else 'is'} off" \
        in f.message
    unread: dict[str, Any] = {attr: None}
    unknown = only(run_one(check_id, inventory(repo(**unread))))
    assert unknown.status == Status.INCONCLUSIVE


def test_severity_weighs_public_and_production_repositories() -> None:
    check = "github.code.secret_scanning_enabled"
    private = only(run_one(check, inventory(repo(secret_scanning="disabled"))))
    public = only(run_one(check, inventory(repo(secret_scanning="disabled",
                                                visibility="public"))))
    prod = only(run_one(check, inventory(repo(secret_scanning="disabled"), environment("prod"))))
    assert (private.severity.label, public.severity.label) == ("medium", "high")
    assert prod.severity.label == "high" and "deploys to prod" in prod.message
    assert "(public)" in public.message


def test_archived_skipped_and_fork_named() -> None:
    check = "github.code.secret_scanning_enabled"
    assert run_one(check, inventory(repo(archived=True, secret_scanning="disabled"))) == []
    f = only(run_one(check, inventory(repo(fork=True, secret_scanning="disabled"))))
    assert f.status == Status.FAIL and "(fork)" in f.message


def test_collection_error_on_the_facet_is_inconclusive() -> None:
    r = repo()
    err = error("GET /repos/acme/app", ("GitHub::Repository#security",), resource_uid=r.uid)
    f = only(run_one("github.code.secret_scanning_enabled", inventory(r, errors=(err,))))
    assert f.status == Status.INCONCLUSIVE
    # an error on another facet does not touch this check
    other = error("GET alerts", ("GitHub::Repository#alerts",), resource_uid=r.uid)
    g = only(run_one("github.code.secret_scanning_enabled", inventory(r, errors=(other,))))
    assert g.status == Status.PASS


@pytest.mark.parametrize(("last", "setup", "status", "words"), [
    ({"created_at": RECENT, "tool": "CodeQL", "ref": "refs/heads/main"}, "configured",
     Status.PASS, "default setup"),
    ({"created_at": RECENT, "tool": "Semgrep", "ref": "refs/heads/main"}, "not-configured",
     Status.PASS, "a workflow"),
    ({"created_at": OLD, "tool": "CodeQL", "ref": "refs/heads/main"}, "configured",
     Status.FAIL, "91 days old (at most 30)"),
    ({}, "not-configured", Status.FAIL, "no analysis"),
    (None, None, Status.INCONCLUSIVE, "not read"),
], ids=["recent", "workflow", "stale", "none", "unknown"])
def test_code_scanning_analysis(last: Any, setup: Any, status: Status, words: str) -> None:
    f = only(run_one("github.code.code_scanning_analysis_recent", inventory(repo(
        code_scanning_last_analysis=last, code_scanning_default_setup=setup))))
    assert f.status == status and words in f.message, f.message


def test_code_scanning_age_is_a_parameter() -> None:
    r = repo(code_scanning_last_analysis={"created_at": OLD, "tool": "CodeQL", "ref": "x"})
    f = only(run_one("github.code.code_scanning_analysis_recent", inventory(r),
                     max_analysis_age_days=100))
    assert f.status == Status.PASS


def alerts(**sev: tuple[int, str]) -> dict[str, Any]:
    return {k: {"count": n, "oldest": t} for k, (n, t) in sev.items()}


@pytest.mark.parametrize(("summary", "status", "severity", "words"), [
    ({}, Status.PASS, None, "open: none"),
    (alerts(high=(3, RECENT), low=(9, OLD)), Status.PASS, None, "3 high"),
    (alerts(critical=(2, RECENT)), Status.FAIL, "high", "2 open critical, the oldest from "
     "2025-12-20 (11 days, SLA 7)"),
    (alerts(high=(4, OLD)), Status.FAIL, "medium", "4 open high, the oldest from 2025-10-01"),
], ids=["none", "within", "critical-late", "high-late"])
def test_dependabot_sla(summary: Any, status: Status, severity: str | None, words: str) -> None:
    f = only(run_one("github.code.dependabot_alerts_within_sla",
                     inventory(repo(dependabot_alerts=summary))))
    assert f.status == status and words in f.message, f.message
    if severity:
        assert f.severity.label == severity


def test_sla_unknown_off_and_public() -> None:
    check = "github.code.dependabot_alerts_within_sla"
    off = only(run_one(check, inventory(repo(dependabot_alerts=None, vulnerability_alerts=False))))
    assert off.status == Status.INCONCLUSIVE and "alerts are off" in off.message
    unread = only(run_one(check, inventory(repo(dependabot_alerts=None))))
    assert unread.status == Status.INCONCLUSIVE and "not read" in unread.message
    public = only(run_one(check, inventory(repo(visibility="public",
                                                dependabot_alerts=alerts(critical=(1, OLD))))))
    assert public.severity.label == "critical"
    lenient = only(run_one(check, inventory(repo(dependabot_alerts=alerts(critical=(1, RECENT)))),
                           critical_days=30))
    assert lenient.status == Status.PASS


def test_code_scanning_sla() -> None:
    check = "github.code.code_scanning_alerts_within_sla"
    f = only(run_one(check, inventory(repo(code_scanning_alerts=alerts(high=(1, OLD))))))
    assert f.status == Status.FAIL and "code scanning alerts past their SLA" in f.message
    off = only(run_one(check, inventory(repo(code_scanning_alerts=None,
                                             code_scanning_default_setup="not-configured",
                                             code_scanning_last_analysis={}))))
    assert off.status == Status.INCONCLUSIVE and "off" in off.message


def test_secret_alerts_name_types_and_never_values() -> None:
    check = "github.code.secret_scanning_alerts_resolved"
    summary = {"count": 2, "oldest": RECENT, "types": ["AWS Access Key ID", "GitHub PAT"]}
    f = only(run_one(check, inventory(repo(secret_scanning_alerts=summary))))
    assert f.status == Status.FAIL and f.severity.label == "high"
    assert "2 open secret scanning alert(s) (AWS Access Key ID, GitHub PAT)" in f.message
    assert f.evidence["types"] == ["AWS Access Key ID", "GitHub PAT"]
    graced = only(run_one(check, inventory(repo(secret_scanning_alerts=summary)), secret_days=30))
    assert graced.status == Status.PASS
    clean = only(run_one(check, inventory(repo(secret_scanning_alerts={"count": 0}))))
    assert clean.status == Status.PASS
    off = only(run_one(check, inventory(repo(secret_scanning_alerts=None,
                                             secret_scanning="disabled"))))
    assert off.status == Status.INCONCLUSIVE and "secret scanning is off" in off.message
    public = only(run_one(check, inventory(repo(secret_scanning_alerts=summary,
                                                visibility="public"))))
    assert public.severity.label == "critical"
