"""The GitHub normalizers on their own: GitHub's REST JSON in, the attributes of
docs/github-assets.md out (no client, no server)."""

from __future__ import annotations

from posture.collectors.github.actions import normalize_allowed, normalize_oidc
from posture.collectors.github.alerts import summarize
from posture.collectors.github.base import OFF, expand, without_links
from posture.collectors.github.environments import normalize_branch_policies, reviewer
from posture.collectors.github.protection import normalize_protection, normalize_rules

CLASSIC = {  # GET …/branches/main/protection as GitHub answers it (a branch with every switch)
    "url": "https://api.github.com/repos/o/r/branches/main/protection",
    "required_status_checks": {"strict": True, "contexts": ["build (3.10)"],
                               "checks": [{"context": "build (3.10)", "app_id": 15368},
                                          {"context": "lint", "app_id": None}]},
    "required_pull_request_reviews": {"dismiss_stale_reviews": False,
                                      "require_code_owner_reviews": True,
                                      "require_last_push_approval": False,
                                      "required_approving_review_count": 2},
    "required_signatures": {"enabled": True},
    "enforce_admins": {"enabled": True},
    "allow_force_pushes": {"enabled": False},
    "allow_deletions": {"enabled": True},
    "restrictions": {"users": [], "teams": [], "apps": []},
}


def test_classic_branch_protection() -> None:
    assert normalize_protection(CLASSIC) == {
        "protected": True,
        "required_approving_review_count": 2,
        "dismiss_stale_reviews": False,
        "require_code_owner_reviews": True,
        "require_last_push_approval": False,
        "required_status_checks": ["build (3.10)", "lint"],
        "strict_status_checks": True,
        "enforce_admins": True,
        "allow_force_pushes": False,
        "allow_deletions": True,
        "required_signatures": True,
        "restrict_pushes": True,
    }
    bare = normalize_protection({"enforce_admins": {"enabled": False}})
    assert bare is not None
    assert (bare["required_approving_review_count"], bare["required_status_checks"],
            bare["restrict_pushes"]) == (None, [], False)  # no pull request reviews required
    assert normalize_protection(OFF) == {"protected": False}
    assert normalize_protection(None) is None


def test_rules_keep_withheld_bypass_actors_unknown() -> None:
    rules = [{"type": "pull_request", "ruleset_id": 9, "ruleset_source_type": "Repository",
              "ruleset_source": "o/r", "parameters": {"required_approving_review_count": 1}}]
    ruleset = {"id": 9, "name": "main", "enforcement": "evaluate"}  # no bypass_actors key
    [rule] = normalize_rules(rules, {9: ruleset})
    assert (rule["enforcement"], rule["bypass_actors"], rule["ruleset_name"]) == (
        "evaluate", None, "main")


def test_alert_summaries_never_carry_secrets() -> None:
    alerts = [
        {"state": "open", "created_at": "2026-01-02T00:00:00Z", "secret": "s3cr3t-value",
         "secret_type": "aws_access_key_id", "secret_type_display_name": "AWS Access Key ID"},
        {"state": "open", "created_at": "2026-01-01T00:00:00Z", "secret": "other-value",
         "secret_type": "custom_pattern"},
        {"state": "resolved", "created_at": "2025-01-01T00:00:00Z", "secret_type": "x"},
    ]
    assert summarize("secret_scanning_alerts", alerts) == {
        "count": 2, "oldest": "2026-01-01T00:00:00Z",
        "types": ["AWS Access Key ID", "custom_pattern"]}
    assert summarize("secret_scanning_alerts", []) == {"count": 0, "oldest": None, "types": []}
    assert summarize("secret_scanning_alerts", OFF) is None


def test_code_scanning_severity_falls_back_to_the_rule_severity() -> None:
    alerts = [
        {"state": "open", "created_at": "2026-02-01T00:00:00Z",
         "rule": {"severity": "error", "security_severity_level": "critical"}},
        {"state": "open", "created_at": "2026-01-01T00:00:00Z", "rule": {"severity": "warning"}},
        {"state": "open", "created_at": "2026-03-01T00:00:00Z", "rule": {"severity": "note"}},
        {"state": "open", "created_at": "2026-03-01T00:00:00Z", "rule": {"severity": "none"}},
    ]
    assert summarize("code_scanning_alerts", alerts) == {
        "critical": {"count": 1, "oldest": "2026-02-01T00:00:00Z"},
        "medium": {"count": 1, "oldest": "2026-01-01T00:00:00Z"},
        "low": {"count": 1, "oldest": "2026-03-01T00:00:00Z"},
    }
    assert summarize("dependabot_alerts", []) == {}


def test_actions_settings() -> None:
    assert normalize_oidc({"use_default": True}) == []
    assert normalize_oidc({"use_default": False, "include_claim_keys": ["repo", "ref"]}) == [
        "repo", "ref"]
    assert normalize_oidc({"include_claim_keys": ["repo"]}) == ["repo"]  # an organisation's
    assert normalize_oidc(OFF) == []
    assert normalize_oidc(None) is None
    selected = normalize_allowed(
        {"enabled_repositories": "selected", "allowed_actions": "selected"},
        {"github_owned_allowed": True, "verified_allowed": False,
         "patterns_allowed": ["docker/*"]})
    assert selected == {
        "actions_enabled_repositories": "selected", "allowed_actions": "selected",
        "selected_actions": {"github_owned_allowed": True, "verified_allowed": False,
                             "patterns_allowed": ["docker/*"]},
        "sha_pinning_required": None,  # an older server: the key is absent
    }


def test_environment_parts() -> None:
    assert reviewer({"type": "Team", "reviewer": {"slug": "ops", "name": "Ops"}}) == {
        "type": "Team", "login": "ops"}
    assert normalize_branch_policies([{"name": "v*", "type": "tag"}, {"name": "main"}]) == [
        {"name": "main", "type": "branch"}, {"name": "v*", "type": "tag"}]
    assert normalize_branch_policies(None) is None


def test_paths_and_evidence() -> None:
    assert expand("/repos/{owner}/{repo}/branches/{branch}/protection",
                  {"owner": "o", "repo": "r", "branch": "release/1.0"}) == (
        "/repos/o/r/branches/release/1.0/protection")
    assert expand("/repos/{owner}/{repo}/environments/{environment_name}/secrets",
                  {"owner": "o", "repo": "r", "environment_name": "prod eu/1"}) == (
        "/repos/o/r/environments/prod%20eu%2F1/secrets")
    assert without_links({"html_url": "h", "hooks_url": "x", "temp_clone_token": "t",
                          "owner": {"url": "u", "login": "o"}, "items": [{"secret": "s"}]}) == {
        "html_url": "h", "owner": {"url": "u", "login": "o"}, "items": [{}]}
