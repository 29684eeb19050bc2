"""github.deploy.*: production environments (by name) require reviewers, restrict deployment
branches, and have their deployments on record."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import only, run_one
from support.github import environment, error, inventory, repo

from posture.github_ci import production_environment
from posture.model import Status

REVIEWERS = "github.deploy.production_environment_reviewers_required"
BRANCHES = "github.deploy.production_environment_branches_restricted"
LOGGED = "github.deploy.production_deployments_logged"
USER = {"type": "User", "login": "alice"}


@pytest.mark.parametrize(("name", "production"), [
    ("production", True), ("prod", True), ("PRD", True), ("live", True), ("prod-eu", True),
    ("eu_production", True), ("staging", False), ("non-prod", False), ("preprod", False),
    ("prod-staging", False), ("development", False), ("delivery", False),
])
def test_production_names(name: str, production: bool) -> None:
    assert production_environment(name) is production


@pytest.mark.parametrize(("attrs", "status", "severity", "words"), [
    ({}, Status.PASS, "high", "requires approval by team acme/release-managers"),
    ({"required_reviewers": []}, Status.FAIL, "high", "requires no reviewer"),
    ({"required_reviewers": [USER], "prevent_self_review": False}, Status.FAIL, "medium",
     "its lone reviewer may approve their own deployment"),
    ({"prevent_self_review": False}, Status.FAIL, "medium", "a reviewer may approve"),
    ({"can_admins_bypass": True}, Status.FAIL, "low", "administrators may bypass"),
], ids=["pass", "none", "lone-self", "self", "admins"])
def test_reviewers(attrs: dict[str, Any], status: Status, severity: str, words: str) -> None:
    f = only(run_one(REVIEWERS, inventory(repo(), environment(**attrs))))
    assert (f.status, f.severity.label) == (status, severity), f.message
    assert words in f.message and "environment production of acme/app" in f.message


def test_only_production_environments_of_live_repositories_are_judged() -> None:
    inv = inventory(repo(), repo("old", archived=True),
                    environment("staging", required_reviewers=[]),
                    environment("production", repository="old", required_reviewers=[]))
    assert run_one(REVIEWERS, inv) == []


@pytest.mark.parametrize(("attrs", "status", "words"), [
    ({}, Status.PASS, "only protected branches"),
    ({"deployment_branch_policy": None}, Status.FAIL, "any branch may deploy"),
    ({"deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
      "branch_policies": [{"name": "main", "type": "branch"}]}, Status.PASS, "only branch main"),
    ({"deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
      "branch_policies": [{"name": "*", "type": "branch"}]}, Status.FAIL, "a * branch policy"),
    ({"deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
      "branch_policies": None}, Status.INCONCLUSIVE, "not read"),
], ids=["protected", "none", "main", "star", "unknown"])
def test_branches(attrs: dict[str, Any], status: Status, words: str) -> None:
    f = only(run_one(BRANCHES, inventory(repo(), environment(**attrs))))
    assert f.status == status and words in f.message, f.message


def test_branch_policy_read_error_is_inconclusive() -> None:
    env = environment(deployment_branch_policy={"protected_branches": False,
                                                 "custom_branch_policies": True},
                      branch_policies=[{"name": "main", "type": "branch"}])
    err = error("GET branch policies", ("GitHub::Environment#branch_policies",),
                resource_uid=env.uid)
    assert only(run_one(BRANCHES, inventory(repo(), env, errors=(err,)))).status == \
        Status.INCONCLUSIVE


@pytest.mark.parametrize(("last", "status", "words"), [
    (None, Status.INCONCLUSIVE, "not read"),
    ({}, Status.PASS, "no deployment"),
    ({"created_at": "2025-12-30T08:00:00Z", "ref": "main", "sha": "abc", "creator": "bot",
      "state": "success"}, Status.PASS, "the newest on 2025-12-30 (success, ref main, by bot)"),
], ids=["unknown", "never", "deployed"])
def test_deployments_logged(last: Any, status: Status, words: str) -> None:
    f = only(run_one(LOGGED, inventory(repo(), environment(last_deployment=last))))
    assert f.status == status and words in f.message, f.message
