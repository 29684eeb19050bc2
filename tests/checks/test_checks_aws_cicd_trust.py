"""aws.cicd.*: roles trusted by GitHub Actions (who on GitHub can assume them, graded by what
the role can do; the trap: one repository's environment:production is a PASS) and the GitHub
OIDC provider's audience."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support.aws import collection_error, inventory
from support.checks import only, run_one
from support.github_cloud import ISSUER as GITHUB
from support.github_cloud import github_role, sub
from support.iam import allow, doc, role
from support.identity import oidc_provider

from posture.model import Status

TRUST = "aws.cicd.github_oidc_trust_restricted"
AUDIENCE = "aws.cicd.github_oidc_provider_audience_sts"


@pytest.mark.parametrize(("condition", "status", "severity", "words"), [
    (None, Status.FAIL, "critical", "no sub condition: any repository on GitHub"),
    (sub("StringLike", "repo:*"), Status.FAIL, "critical", "any repository on GitHub"),
    (sub("StringLike", "repo:acme/*"), Status.FAIL, "high",
     "any repository of owner acme on any branch, including pull requests"),
    (sub("StringEquals", "repo:acme/app:pull_request"), Status.FAIL, "high", "pull requests"),
    (sub("StringLike", "repo:acme/app:ref:refs/heads/*"), Status.FAIL, "high", "any branch"),
    (sub("StringLike", "repo:acme/app:ref:refs/heads/release/*"), Status.FAIL, "medium",
     "release/*"),
    (sub("StringEquals", "repo:acme/app:environment:production"), Status.PASS, "critical",
     "only repository acme/app, environment production"),
    (sub("StringEquals", "repo:acme/app:ref:refs/heads/main"), Status.PASS, "critical",
     "only repository acme/app, branch main"),
], ids=["no-sub", "any-repo", "owner", "pull-request", "any-branch", "branch-pattern",
        "environment-production-trap", "main-branch"])
def test_github_trust(condition: dict[str, Any] | None, status: Status, severity: str,
                      words: str) -> None:
    f = only(run_one(TRUST, inventory(github_role("deploy", condition), oidc_provider(GITHUB))))
    assert (f.status, f.severity.label) == (status, severity), f.message
    assert words in f.message and "is not admin-equivalent" in f.message


def test_admin_role_raises_severity_and_says_so() -> None:
    admin = github_role("deploy", sub("StringLike", "repo:acme/*"), allow("*"))
    f = only(run_one(TRUST, inventory(admin, oidc_provider(GITHUB))))
    assert f.status == Status.FAIL and f.severity.label == "critical"
    assert "the role is admin-equivalent" in f.message and f.evidence["admin"]


def test_roles_without_github_trust_are_not_judged() -> None:
    ec2 = role("app", doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                           "Action": "sts:AssumeRole"}))
    assert run_one(TRUST, inventory(ec2)) == []


def test_undecidable_conditions_are_inconclusive() -> None:
    cond = {"StringEquals": {f"{GITHUB}:sub": "repo:acme/app:environment:production",
                             "aws:RequestTag/team": "ci"}}
    f = only(run_one(TRUST, inventory(github_role("deploy", cond), oidc_provider(GITHUB))))
    assert f.status == Status.INCONCLUSIVE


def test_not_collected_roles_are_inconclusive() -> None:
    inv = inventory(github_role("deploy", sub("StringEquals",
                                              "repo:acme/app:environment:production")),
                    errors=(collection_error("iam", "ListRoles", ("AWS::IAM::Role#listing",),
                                             region="global"),))
    statuses = {f.status for f in run_one(TRUST, inv)}
    assert Status.PASS not in statuses and Status.INCONCLUSIVE in statuses


@pytest.mark.parametrize(("client_ids", "status"), [
    (["sts.amazonaws.com"], Status.PASS),
    (["sts.amazonaws.com", "api://custom"], Status.FAIL),
    ([], Status.FAIL),
    (None, Status.INCONCLUSIVE),
])
def test_provider_audience(client_ids: Any, status: Status) -> None:
    provider = oidc_provider(GITHUB)
    provider = replace(provider, attrs={**provider.attrs, "client_ids": client_ids})
    other = oidc_provider("oidc.eks.us-east-1.amazonaws.com/id/X")
    f = only(run_one(AUDIENCE, inventory(provider, other)))
    assert f.status == status
