"""The GitHub collector with the real client (PyGithub) against the loopback fake of the REST API
(posture.demo.github_fake, organisation ``acme``): the listing's two pages, a secondary rate
limit retried, "feature off" answers (404, 403 "…disabled…") as known values and a missing
permission (403) as a gap, the archived repository's skipped calls, rulesets with their bypass
actors, environments and deployments, alert summaries."""

from __future__ import annotations

import pytest
from support.github_collect import collect_fake

from posture.collectors.github.base import ENVIRONMENT, ORGANIZATION, REPOSITORY
from posture.demo.github_fake import FakeGithub
from posture.model import GLOBAL, CollectionError, Inventory, Provider

H = "github.com/acme"
REPOS = ("payments-api", "web", "infra", "legacy-billing", "docs-fork")


@pytest.fixture(scope="module")
def inv(github_fake: FakeGithub) -> Inventory:
    return collect_fake(github_fake)


def repo(inv: Inventory, name: str) -> dict[str, object]:
    found = inv.get(f"{H}/{name}")
    assert found is not None, name
    return dict(found.attrs)


def test_every_repository_is_collected_across_the_listing_pages(
    inv: Inventory, github_fake: FakeGithub
) -> None:
    assert {a.uid: a.type for a in inv.assets} == {
        H: ORGANIZATION,
        **{f"{H}/{name}": REPOSITORY for name in REPOS},
        f"{H}/payments-api/environments/production": ENVIRONMENT,
        f"{H}/payments-api/environments/staging": ENVIRONMENT,
        f"{H}/web/environments/production": ENVIRONMENT,
    }
    listing = [r for r in github_fake.requests if r.path == "/orgs/acme/repos"]
    assert [r.query.get("page") for r in listing] == [None, "2"]  # followed the Link header
    assert {a.provider for a in inv.assets} == {Provider.GITHUB}
    assert {(a.account, a.region) for a in inv.assets} == {("acme", GLOBAL)}
    assert inv.meta.accounts == ("acme",)
    assert inv.get(f"{H}/payments-api").name == "acme/payments-api"  # type: ignore[union-attr]
    assert github_fake.unmatched == []  # every call the collector made is a recorded answer


def test_the_missing_permission_is_the_only_gap(inv: Inventory) -> None:
    assert inv.errors == (
        CollectionError(
            provider=Provider.GITHUB, account="acme", region=GLOBAL, service="repos",
            operation="GET /repos/{owner}/{repo}/branches/{branch}/protection",
            code="Forbidden", message="Resource not accessible by personal access token",
            asset_types=(f"{REPOSITORY}#branch_protection",), resource_uid=f"{H}/infra",
        ),
    )
    assert repo(inv, "infra")["branch_protection"] is None  # unknown, not "unprotected"


def test_the_secondary_rate_limit_is_retried(inv: Inventory, github_fake: FakeGithub) -> None:
    assert github_fake.count("/repos/acme/infra/actions/secrets") == 2
    assert [s["name"] for s in repo(inv, "infra")["actions_secrets"]] == [  # type: ignore[attr-defined]
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AZURE_CLIENT_SECRET", "GCP_SA_KEY",
    ]


def test_features_github_reports_off_are_known_values(inv: Inventory) -> None:
    web = repo(inv, "web")
    assert {k: web[k] for k in (
        "vulnerability_alerts", "dependabot_alerts", "secret_scanning", "secret_scanning_alerts",
        "code_scanning_default_setup", "code_scanning_last_analysis", "code_scanning_alerts",
        "branch_protection", "rules", "advanced_security",
    )} == {
        "vulnerability_alerts": False,  # 404 on vulnerability-alerts
        "dependabot_alerts": None,  # 403 "Dependabot alerts are disabled": off, no error
        "secret_scanning": "disabled",
        "secret_scanning_alerts": None,  # 404 "Secret scanning is disabled"
        "code_scanning_default_setup": "not-configured",
        "code_scanning_last_analysis": {},  # 404 "no analysis found"
        "code_scanning_alerts": None,
        "branch_protection": {"protected": False},  # 404 "Branch not protected"
        "rules": [],
        "advanced_security": None,  # GitHub leaves it out on public repositories
    }
    assert not [e for e in inv.errors if e.resource_uid == f"{H}/web"]
    assert repo(inv, "payments-api")["vulnerability_alerts"] is True  # 204


def test_archived_repository_is_marked_and_its_detail_calls_skipped(
    inv: Inventory, github_fake: FakeGithub
) -> None:
    legacy = repo(inv, "legacy-billing")
    assert legacy["archived"] is True
    assert github_fake.paths("/repos/acme/legacy-billing") == ["/repos/acme/legacy-billing"]
    assert legacy["secret_scanning"] == "disabled"  # from its payload, still read
    for skipped in ("branch_protection", "rules", "dependabot_alerts", "vulnerability_alerts",
                    "actions_secrets", "code_scanning_default_setup"):
        assert skipped not in legacy, skipped
    assert not [a for a in inv.of(ENVIRONMENT) if "legacy-billing" in a.uid]
    fork = repo(inv, "docs-fork")
    assert (fork["fork"], fork["archived"], fork["branch_protection"]) == (
        True, False, {"protected": False})


def test_rulesets_are_read_with_bypass_actors_and_enforcement(inv: Inventory) -> None:
    payments = repo(inv, "payments-api")
    assert payments["branch_protection"] == {"protected": False}  # no classic protection ...
    org_admin = [{"actor_type": "OrganizationAdmin", "actor_id": 1, "bypass_mode": "always"}]
    repo_role = [{"actor_type": "RepositoryRole", "actor_id": 5, "bypass_mode": "pull_request"}]
    org = {"ruleset_id": 7, "ruleset_name": "org baseline", "source_type": "Organization",
           "source": "acme", "enforcement": "active", "bypass_actors": org_admin}
    own = {"ruleset_id": 42, "ruleset_name": "main needs reviews", "source_type": "Repository",
           "source": "acme/payments-api", "enforcement": "active", "bypass_actors": repo_role}
    rules = payments["rules"]  # ... but rulesets: the repository's and the organisation's
    assert [(r["type"], r["ruleset_id"]) for r in rules] == [  # type: ignore[attr-defined]
        ("deletion", 7), ("non_fast_forward", 7), ("non_fast_forward", 42),
        ("pull_request", 42), ("required_status_checks", 42),
    ]
    by = {(r["type"], r["ruleset_id"]): r for r in rules}  # type: ignore[attr-defined]
    assert by[("deletion", 7)] == {"type": "deletion", "parameters": {}, **org}
    assert by[("pull_request", 42)] == {
        "type": "pull_request",
        "parameters": {
            "required_approving_review_count": 2, "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": True, "require_last_push_approval": True,
            "required_review_thread_resolution": False, "allowed_merge_methods": ["squash"],
        },
        **own,
    }


def test_environments_reviewers_branch_policies_and_last_deployment(inv: Inventory) -> None:
    prod = inv.get(f"{H}/payments-api/environments/production")
    assert prod is not None
    attrs = dict(prod.attrs)
    last = attrs.pop("last_deployment")
    assert attrs == {
        "repository": f"{H}/payments-api",
        "environment": "production",
        "required_reviewers": [{"type": "Team", "login": "release-managers"},
                               {"type": "User", "login": "alice-acme"}],
        "prevent_self_review": True,
        "wait_timer": 0,
        "can_admins_bypass": False,
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
        "branch_policies": [{"name": "main", "type": "branch"}],
        "secrets": [{"name": "PROD_DATABASE_URL", "created_at": "2023-04-05T06:07:08Z",
                     "updated_at": attrs["secrets"][0]["updated_at"]}],
        "deployments_seen": 2,
    }
    assert {k: last[k] for k in ("ref", "sha", "creator", "state")} == {
        "ref": "main", "sha": "9f3c2b1a0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
        "creator": "github-actions[bot]", "state": "success",
    }
    web = inv.get(f"{H}/web/environments/production")
    assert web is not None
    assert (web.attrs["required_reviewers"], web.attrs["deployment_branch_policy"],
            web.attrs["branch_policies"], web.attrs["last_deployment"]["state"]) == (
        [], None, [], None)  # no protection; deployed, no status reported
    staging = inv.get(f"{H}/payments-api/environments/staging")
    assert staging is not None
    assert (staging.attrs["last_deployment"], staging.attrs["deployments_seen"]) == ({}, 0)


def test_alerts_are_summarised_per_severity(inv: Inventory) -> None:
    payments = repo(inv, "payments-api")
    dependabot = payments["dependabot_alerts"]
    assert isinstance(dependabot, dict)
    assert sorted(dependabot) == ["critical", "medium"]
    assert dependabot["critical"]["count"] == 1
    assert dependabot["critical"]["oldest"] < dependabot["medium"]["oldest"]  # 45 vs 3 days
    code_scanning = payments["code_scanning_alerts"]
    assert isinstance(code_scanning, dict)
    assert list(code_scanning) == ["high"]
    secrets = payments["secret_scanning_alerts"]
    assert isinstance(secrets, dict)
    assert (secrets["count"], secrets["types"]) == (1, ["Slack API Token"])
    assert repo(inv, "infra")["dependabot_alerts"] == {}  # on, none open
    assert repo(inv, "infra")["secret_scanning_alerts"] == {"count": 0, "oldest": None,
                                                            "types": []}


def test_organisation_settings(inv: Inventory) -> None:
    org = inv.get(H)
    assert org is not None
    assert {k: org.attrs[k] for k in (
        "plan", "two_factor_requirement_enabled", "default_workflow_permissions",
        "allowed_actions", "selected_actions", "oidc_sub_claim_keys",
    )} == {
        "plan": "team", "two_factor_requirement_enabled": False,
        "default_workflow_permissions": "write", "allowed_actions": "all",
        "selected_actions": None, "oidc_sub_claim_keys": ["repo", "context"],
    }
    assert [(s["name"], s["visibility"]) for s in org.attrs["actions_secrets"]] == [
        ("NPM_TOKEN", "private"), ("SLACK_WEBHOOK_URL", "selected")]


def test_repository_settings_and_actions(inv: Inventory) -> None:
    payments = repo(inv, "payments-api")
    assert {k: payments[k] for k in (
        "visibility", "default_branch", "advanced_security", "secret_scanning_push_protection",
        "code_scanning_default_setup", "default_workflow_permissions", "oidc_sub_claim_keys",
    )} == {
        "visibility": "private", "default_branch": "main", "advanced_security": "enabled",
        "secret_scanning_push_protection": "enabled", "code_scanning_default_setup": "configured",
        "default_workflow_permissions": "read", "oidc_sub_claim_keys": ["repo", "context"],
    }
    analysis = payments["code_scanning_last_analysis"]
    assert isinstance(analysis, dict)
    assert (analysis["tool"], analysis["ref"]) == ("CodeQL", "refs/heads/main")
    assert repo(inv, "web")["oidc_sub_claim_keys"] == []  # use_default
