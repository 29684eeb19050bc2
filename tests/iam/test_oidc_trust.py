"""posture.iam.oidc_trust: who on GitHub a role's trust admits, decided by IAM condition
semantics over probe subjects (StringEquals vs StringLike, set operators, Deny, statements)."""

from __future__ import annotations

from typing import Any

import pytest

from posture.iam.actions import ActionCatalogue
from posture.iam.conditions import Truth
from posture.iam.oidc_trust import Breadth, breadth_of, describe, github_trusts
from posture.iam.policy import parse_policy

PROVIDER = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"
AUD = "token.actions.githubusercontent.com:aud"
CATALOGUE = ActionCatalogue({"sts:AssumeRoleWithWebIdentity": "Write",
                             "sts:AssumeRole": "Write"})  # type: ignore[dict-item]


def stmt(condition: dict[str, Any] | None = None, effect: str = "Allow",
         principal: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect, "Action": "sts:AssumeRoleWithWebIdentity",
                           "Principal": principal or {"Federated": PROVIDER}}
    if condition is not None:
        out["Condition"] = condition
    return out


def breadth(*statements: dict[str, Any]) -> tuple[Breadth, str]:
    policy = parse_policy({"Statement": list(statements)}, "t", CATALOGUE)
    (trust,) = github_trusts(policy, CATALOGUE)
    return trust.admission.breadth, trust.admission.who


AUD_OK = {AUD: "sts.amazonaws.com"}


@pytest.mark.parametrize(("condition", "expected", "words"), [
    (None, Breadth.ANY_REPOSITORY, "any repository on GitHub"),
    ({"StringEquals": AUD_OK}, Breadth.ANY_REPOSITORY, "any repository on GitHub"),
    ({"StringLike": {SUB: "repo:*"}}, Breadth.ANY_REPOSITORY, "any repository"),
    ({"StringLike": {SUB: "*"}}, Breadth.ANY_REPOSITORY, "any repository"),
    ({"StringLike": {SUB: "repo:*/app:*"}}, Breadth.ANY_REPOSITORY, "any repository"),
    ({"StringLike": {SUB: "repo:acme/*"}}, Breadth.OWNER,
     "any repository of owner acme on any branch, including pull requests"),
    ({"StringLike": {SUB: "repo:acme/app:*"}}, Breadth.PULL_REQUEST, "acme/app: pull requests"),
    ({"StringEquals": {SUB: "repo:acme/app:pull_request"}}, Breadth.PULL_REQUEST,
     "acme/app: pull requests"),
    ({"StringLike": {SUB: "repo:acme/app:ref:refs/heads/*"}}, Breadth.BRANCH,
     "acme/app: any branch or tag"),
    ({"StringLike": {SUB: "repo:acme/app:environment:*"}}, Breadth.ENVIRONMENT,
     "acme/app: any environment"),
    ({"StringLike": {SUB: "repo:acme/app:ref:refs/heads/release/*"}}, Breadth.PATTERN,
     "release/*"),
    ({"StringEquals": {SUB: "repo:acme/app:environment:production", **AUD_OK}}, Breadth.EXACT,
     "only repository acme/app, environment production"),
    ({"StringLike": {SUB: "repo:acme/app:ref:refs/heads/main"}}, Breadth.EXACT,
     "only repository acme/app, branch main"),
    ({"StringEquals": {SUB: "repo:acme/*"}}, Breadth.NOTHING, "no subject"),  # literal: no glob
    ({"StringEquals": {SUB: "repo:acme/app:ref:refs/heads/main", AUD: "api://other"}},
     Breadth.NOTHING, "no subject"),
    ({"StringLike": {SUB: "job_workflow_ref:acme/wf/.github/workflows/deploy.yml@refs/heads/main"}},
     Breadth.WORKFLOW_CALLER, "calls the reusable workflow acme/wf/"),
    ({"StringLike": {SUB: "repo:acme/*:job_workflow_ref:acme/wf/.github/workflows/d.yml@*"}},
     Breadth.OWNER, "owner acme"),
    ({"ForAnyValue:StringLike": {SUB: ["repo:acme/app:environment:production", "repo:*"]}},
     Breadth.ANY_REPOSITORY, "any repository"),
    ({"ForAllValues:StringEquals": {SUB: "repo:acme/app:environment:production"}},
     Breadth.EXACT, "environment production"),
], ids=["no-condition", "aud-only", "repo-star", "star", "any-owner-app", "owner", "repo-any",
        "pull-request", "any-branch", "any-env", "branch-pattern", "environment-production",
        "like-literal-branch", "equals-is-literal", "wrong-audience", "workflow-only",
        "owner-workflow", "one-of-many-values", "forallvalues"])
def test_breadth(condition: dict[str, Any] | None, expected: Breadth, words: str) -> None:
    got, who = breadth(stmt(condition))
    assert got == expected, who
    assert words in who


def test_statements_are_or_and_deny_wins() -> None:
    prod = stmt({"StringEquals": {SUB: "repo:acme/app:environment:production"}})
    prs = stmt({"StringEquals": {SUB: "repo:acme/app:pull_request"}})
    assert breadth(prod, prs)[0] == Breadth.PULL_REQUEST
    no_prs = stmt({"StringLike": {SUB: "*:pull_request"}}, effect="Deny",
                  principal={"Federated": PROVIDER})
    owner = stmt({"StringLike": {SUB: "repo:acme/*"}})
    assert breadth(owner, no_prs) == (Breadth.OWNER, "any repository of owner acme on any branch")
    only_app = stmt({"StringNotLike": {SUB: "repo:acme/app:*"}}, effect="Deny",
                    principal="*")
    assert breadth(stmt(), only_app)[0] == Breadth.PULL_REQUEST  # deny narrows to acme/app


def test_other_providers_and_actions_are_not_github_trust() -> None:
    eks = stmt(principal={"Federated": PROVIDER.replace(
        "token.actions.githubusercontent.com", "oidc.eks.us-east-1.amazonaws.com/id/X")})
    assume = {**stmt(), "Action": "sts:AssumeRole"}
    for s in (eks, assume):
        assert github_trusts(parse_policy({"Statement": [s]}, "t", CATALOGUE), CATALOGUE) == []


def test_undecidable_condition_is_conditional() -> None:
    policy = parse_policy({"Statement": [stmt({"StringEquals": {
        SUB: "repo:acme/app:environment:production", "aws:SourceIp": "10.0.0.1"}})]}, "t",
        CATALOGUE)
    (trust,) = github_trusts(policy, CATALOGUE)
    assert trust.admission.breadth == Breadth.NOTHING and trust.admission.conditional


def test_exact_subjects_and_words() -> None:
    adm = breadth_of({"repo:acme/app:environment:production": Truth.TRUE})
    assert adm.breadth == Breadth.EXACT
    assert breadth_of({"repo:acme/app:pull_request": Truth.TRUE}).breadth == Breadth.PULL_REQUEST
    assert describe("repo:acme/app:ref:refs/tags/v1") == "repository acme/app, tag v1"
