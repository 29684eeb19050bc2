"""github.cicd.*: long-lived cloud keys in Actions secrets, and the CI-to-cloud join — which
workflow runs of a repository reach which cloud identity, through which gate (the traps: a
pull_request trust to an admin role fails CRITICAL; a trust restricted to an environment with
reviewers passes; a ruleset-protected default branch is a gate, an `evaluate` one is not; a
custom OIDC subject template is evaluated, or INCONCLUSIVE when it holds unknowable claims)."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import by_uid, only, run_one
from support.github import (
    UNPROTECTED,
    environment,
    error,
    inventory,
    org,
    repo,
    ruleset,
    secret,
)
from support.github_cloud import (
    ADMIN,
    aws_account,
    azure_identity,
    gcp_pool,
    github_role,
    run_joined,
    sub,
)

from posture.model import Status

KEYS = "github.cicd.no_long_lived_cloud_keys"
JOIN = "github.cicd.pull_request_to_production_admin"


# --- long-lived cloud keys ------------------------------------------------------------------


def test_cloud_key_secrets_named_at_every_level_never_valued() -> None:
    inv = inventory(
        org(actions_secrets=[secret("NPM_TOKEN"), secret("prod_azure_credentials")]),
        repo(actions_secrets=[secret("AWS_SECRET_ACCESS_KEY"), secret("AWS_REGION")]),
        repo("clean", actions_secrets=[secret("SLACK_WEBHOOK")]),
        environment(secrets=[secret("GCP_SA_KEY", updated="2025-12-01T00:00:00Z")]),
        repo("unread", actions_secrets=None),
    )
    found = by_uid(run_one(KEYS, inv))
    org_f = found["github.com/acme"]
    assert org_f.status == Status.FAIL and "prod_azure_credentials (azure" in org_f.message
    app = found["github.com/acme/app"]
    assert app.status == Status.FAIL and app.severity.label == "high"  # deploys to production
    assert "1 Actions secret(s) of repository acme/app hold long-lived cloud keys: " \
           "AWS_SECRET_ACCESS_KEY (aws, updated 2025-10-01)" in app.message
    env = found["github.com/acme/app/environments/production"]
    assert env.status == Status.FAIL and "GCP_SA_KEY (gcp, updated 2025-12-01)" in env.message
    assert found["github.com/acme/clean"].status == Status.PASS
    assert found["github.com/acme/unread"].status == Status.INCONCLUSIVE
    assert app.evidence["cloud_key_secrets"] == [
        {"name": "AWS_SECRET_ACCESS_KEY", "cloud": "aws", "updated_at": "2025-10-01T10:00:00Z"}]


@pytest.mark.parametrize(("name", "cloud"), [
    ("AWS_ACCESS_KEY_ID", "aws"), ("aws_secret_access_key_prod", "aws"),
    ("AZURE_CLIENT_SECRET", "azure"), ("ARM_CLIENT_SECRET", "azure"),
    ("GOOGLE_CREDENTIALS", "gcp"), ("DEPLOY_SERVICE_ACCOUNT_KEY", "gcp"),
    ("AWS_REGION", None), ("MY_AWS_SECRET_ACCESS_KEYS", None), ("GCP_PROJECT", None),
])
def test_cloud_key_table(name: str, cloud: str | None) -> None:
    from posture.github import cloud_key

    assert cloud_key(name) == cloud


# --- the join -------------------------------------------------------------------------------


def join(*github: Any, cloud: Any) -> Any:
    return only(run_joined(JOIN, inventory(org(), *github), cloud))


def test_without_a_cloud_snapshot_one_inconclusive_per_organisation() -> None:
    f = only(run_one(JOIN, inventory(org(), repo(), repo("other"))))
    assert f.status == Status.INCONCLUSIVE and f.resource_uid == "github.com/acme"
    assert "--cloud" in f.message
    g = only(run_one(JOIN, inventory(repo())))  # a --repo scan: no organisation asset
    assert g.status == Status.INCONCLUSIVE and g.resource_type == "posture::Account"


def test_pull_request_trust_to_admin_role_fails_critical_with_its_path() -> None:  # the trap
    cloud = aws_account(github_role("deploy", sub("StringEquals", "repo:acme/app:pull_request"),
                                    ADMIN))
    f = join(repo(), environment(), cloud=cloud)
    assert (f.status, f.severity.label) == (Status.FAIL, "critical")
    assert f.message.startswith(
        "repository acme/app's workflow on a pull request can assume role deploy, which is "
        "admin-equivalent in production account 123456789012; nothing gates a pull request")
    assert [h["kind"] for h in f.evidence["path"]] == [
        "pull request", "workflow", "OIDC token", "role", "administrator"]
    assert f.evidence["path"][2]["id"] == "repo:acme/app:pull_request"
    assert f.evidence["clouds"] == [{"provider": "aws", "scan_id": "test-scan",
                                     "accounts": ["123456789012"]}]


def test_environment_trust_with_reviewers_passes_naming_the_gate() -> None:  # the trap
    cloud = aws_account(github_role(
        "deploy", sub("StringEquals", "repo:acme/app:environment:production"), ADMIN))
    f = join(repo(), environment(), cloud=cloud)
    assert f.status == Status.PASS
    assert "only through a gate: environment production requires approval by " \
           "acme/release-managers" in f.message


@pytest.mark.parametrize(("env", "status", "words"), [
    ({"required_reviewers": [], "deployment_branch_policy": None}, Status.FAIL,
     "has no required reviewers and any branch may deploy to it"),
    ({"required_reviewers": []}, Status.PASS,
     "deploys from protected branches: branch main requires a pull request with 1 approving"),
    (None, Status.FAIL, "environment production does not exist"),
    ({"required_reviewers": [], "deployment_branch_policy": {
        "protected_branches": False, "custom_branch_policies": True},
      "branch_policies": [{"name": "release/*", "type": "branch"}]}, Status.INCONCLUSIVE,
     "release/*, whose protection is not collected"),
], ids=["no-gate", "protected-branches", "missing", "other-branches"])
def test_environment_gates(env: dict[str, Any] | None, status: Status, words: str) -> None:
    cloud = aws_account(github_role(
        "deploy", sub("StringEquals", "repo:acme/app:environment:production"), ADMIN))
    envs = [] if env is None else [environment(**env)]
    f = join(repo(), *envs, cloud=cloud)
    assert f.status == status and words in f.message, f.message


@pytest.mark.parametrize(("attrs", "status", "words"), [
    ({}, Status.PASS, "branch main requires a pull request with 1 approving review(s) "
     "(classic branch protection)"),
    ({"branch_protection": UNPROTECTED, "rules": ruleset()}, Status.PASS, "(ruleset main)"),
    ({"branch_protection": UNPROTECTED, "rules": ruleset(enforcement="evaluate")}, Status.FAIL,
     "branch main does not require a reviewed pull request"),
    ({"branch_protection": UNPROTECTED}, Status.FAIL, "does not require a reviewed pull"),
    ({"branch_protection": UNPROTECTED,
      "rules": ruleset(bypass=(("RepositoryRole", 4, "always"),))}, Status.FAIL,
     "but write role may bypass it"),
    ({"branch_protection": None, "rules": []}, Status.INCONCLUSIVE, "was not read"),
], ids=["classic", "ruleset", "evaluate", "unprotected", "writers-bypass", "unknown"])
def test_default_branch_trust(attrs: dict[str, Any], status: Status, words: str) -> None:
    cloud = aws_account(github_role("deploy", sub("StringEquals",
                                                  "repo:acme/app:ref:refs/heads/main"), ADMIN))
    f = join(repo(**attrs), cloud=cloud)
    assert f.status == status and words in f.message, f.message


def test_any_branch_trust_fails_through_a_new_branch() -> None:
    cloud = aws_account(github_role("deploy", sub("StringLike",
                                                  "repo:acme/app:ref:refs/heads/*"), ADMIN))
    f = join(repo(), cloud=cloud)
    assert f.status == Status.FAIL and "on a new branch can assume" in f.message
    assert "anyone with write access can push a new branch" in f.message


def test_a_named_non_default_branch_is_inconclusive() -> None:
    cloud = aws_account(github_role("deploy", sub("StringEquals",
                                                  "repo:acme/app:ref:refs/heads/release"), ADMIN))
    f = join(repo(), cloud=cloud)
    assert f.status == Status.INCONCLUSIVE and "branch release is not the default" in f.message


@pytest.mark.parametrize(("statements", "production", "severity", "words"), [
    ((ADMIN,), True, "critical", "is admin-equivalent in production account"),
    ((ADMIN,), None, "critical", "is admin-equivalent in account"),
    ((ADMIN,), False, "high", "is admin-equivalent in non-production account"),
    ((), True, "high", "is not admin-equivalent in production account"),
    ((), False, "medium", "is not admin-equivalent in non-production account"),
], ids=["admin-prod", "admin-unknown", "admin-dev", "plain-prod", "plain-dev"])
def test_severity_by_power_and_production(statements: tuple[Any, ...], production: bool | None,
                                          severity: str, words: str) -> None:
    trust = sub("StringLike", "repo:acme/*")
    f = join(repo(), cloud=aws_account(github_role("deploy", trust, *statements),
                                       production=production))
    assert (f.status, f.severity.label) == (Status.FAIL, severity), f.message
    assert words in f.message


def test_other_organisations_trusts_do_not_reach_and_archived_is_skipped() -> None:
    cloud = aws_account(github_role("deploy", sub("StringLike", "repo:contoso/*"), ADMIN))
    f = join(repo(), repo("old", archived=True), cloud=cloud)
    assert f.status == Status.PASS and "no cloud identity in the audited snapshots " \
        "(aws 123456789012) admits a workflow token of repository acme/app" in f.message


def test_custom_subject_template_is_evaluated() -> None:
    owner_wide = aws_account(github_role("deploy", sub("StringLike", "repository_owner:acme:*"),
                                         ADMIN))
    keys = ["repository_owner", "context"]
    f = only(run_joined(JOIN, inventory(org(oidc_sub_claim_keys=keys), repo()), owner_wide))
    assert f.status == Status.FAIL and f.evidence["path"][2]["id"] == \
        "repository_owner:acme:pull_request"
    # the default-format trust does not match the custom subject: nothing reaches it
    exact = aws_account(github_role("deploy", sub("StringEquals",
                                                  "repo:acme/app:pull_request"), ADMIN))
    g = only(run_joined(JOIN, inventory(org(oidc_sub_claim_keys=keys), repo()), exact))
    assert g.status == Status.PASS and "no cloud identity" in g.message
    # the repository's own template wins over the organisation's
    h = only(run_joined(JOIN, inventory(org(oidc_sub_claim_keys=keys),
                                        repo(oidc_sub_claim_keys=["repo", "context"])), exact))
    assert h.status == Status.FAIL


def test_unknowable_or_unread_templates_are_inconclusive() -> None:
    cloud = aws_account(github_role("deploy", sub("StringLike", "repo:acme/*"), ADMIN))
    f = only(run_joined(JOIN, inventory(org(), repo(oidc_sub_claim_keys=[
        "repo", "context", "job_workflow_ref"])), cloud))
    assert f.status == Status.INCONCLUSIVE and "job_workflow_ref" in f.message
    g = only(run_joined(JOIN, inventory(org(oidc_sub_claim_keys=None), repo()), cloud))
    assert g.status == Status.INCONCLUSIVE and "template was not read" in g.message


def test_azure_and_gcp_identities_join_too() -> None:
    az = azure_identity("repo:acme/app:pull_request")
    f = join(repo(), cloud=az)
    assert (f.status, f.severity.label) == (Status.FAIL, "critical")
    assert "managed identity id-ci, which has Owner power in subscription" in f.message
    gated = gcp_pool("assertion.repository == 'acme/app' && "
                     "assertion.environment == 'production'")
    g = join(repo(), environment(), cloud=gated)
    assert g.status == Status.PASS and "service account deployer@x" in g.message
    assert "production project acme-test" in g.message
    wide = gcp_pool("assertion.repository_owner == 'acme'")
    h = join(repo(), cloud=wide)
    assert (h.status, h.severity.label) == (Status.FAIL, "critical")


def test_several_clouds_worst_path_first() -> None:
    aws = aws_account(github_role("deploy", sub("StringEquals",
                                                "repo:acme/app:environment:production"), ADMIN))
    az = azure_identity("repo:acme/app:pull_request")
    f = only(run_joined(JOIN, inventory(org(), repo(), environment()), aws, az))
    assert f.status == Status.FAIL and "managed identity" in f.message
    assert {p["cloud"] for p in f.evidence["ci_paths"]} == {"aws", "azure"}


def test_cloud_collection_errors_never_pass() -> None:
    from support.aws import collection_error

    err = collection_error("iam", "ListRoles", ("AWS::IAM::Role#listing",), region="global")
    cloud = aws_account(production=True, errors=(err,))
    f = join(repo(), cloud=cloud)
    assert f.status == Status.INCONCLUSIVE and "not verified: iam:ListRoles" in f.message


def test_github_collection_errors_never_pass() -> None:
    cloud = aws_account(github_role(
        "deploy", sub("StringEquals", "repo:acme/app:environment:production"), ADMIN))
    env = environment()
    err = error("GET environments", ("GitHub::Environment",), resource_uid=repo().uid)
    f = only(run_joined(JOIN, inventory(org(), repo(), env, errors=(err,)), cloud))
    assert f.status == Status.INCONCLUSIVE
