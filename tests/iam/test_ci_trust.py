"""posture.iam.ci_trust: the cloud identities a GitHub Actions token can become, the same shape on
AWS, Azure and GCP — who the trust admits (over a token's claims), what the identity can do
and where — and the tokens a workflow run presents (GitHub's default and custom subjects)."""

from __future__ import annotations

import pytest
from support.azure import CONTRIBUTOR, READER
from support.github_cloud import (
    ADMIN,
    POOL,
    aws_account,
    azure_identity,
    gcp_pool,
    github_role,
    sub,
)

from posture.iam.ci_trust import CiTrust, Grade, ci_gaps, ci_trusts, workflow_claims
from posture.iam.conditions import Truth
from posture.iam.oidc_trust import Breadth
from posture.model import Provider


def claims(context: str, repository: str = "acme/app") -> dict[str, str]:
    return workflow_claims(repository, context)[0]


def one(trusts: tuple[CiTrust, ...]) -> CiTrust:
    assert len(trusts) == 1, trusts
    return trusts[0]


def test_aws_role_admits_claims_and_is_graded() -> None:
    t = one(ci_trusts(aws_account(github_role(
        "deploy", sub("StringLike", "repo:acme/app:environment:*"), ADMIN))))
    assert (t.provider, t.kind, t.name, t.account) == (Provider.AWS, "role", "deploy",
                                                        "123456789012")
    assert t.admission.breadth == Breadth.ENVIRONMENT
    assert t.admits(claims("environment:production")) is Truth.TRUE
    assert t.admits(claims("pull_request")) is Truth.FALSE
    assert t.admits(claims("environment:production", "acme/other")) is Truth.FALSE
    assert t.power.grade is Grade.ADMIN and t.power.scopes == ("123456789012",)
    assert t.names("acme") and not t.names("contoso")


def test_aws_plain_role_and_roles_without_github_trust() -> None:
    t = one(ci_trusts(aws_account(github_role("reader", sub("StringEquals",
                                                            "repo:acme/app:pull_request")))))
    assert t.power.grade is Grade.NONE and t.power.words == "is not admin-equivalent"
    assert ci_trusts(aws_account()) == ()


@pytest.mark.parametrize(("role", "grade", "words"), [
    (None, Grade.ADMIN, "has Owner power"),
    (CONTRIBUTOR, Grade.PRIVILEGED, "has Contributor power"),
    (READER, Grade.NONE, "holds no privileged role"),
])
def test_azure_identity(role: str | None, grade: Grade, words: str) -> None:
    inv = azure_identity("repo:acme/app:environment:production",
                         **({"role": role} if role else {}))
    t = one(ci_trusts(inv))
    assert (t.kind, t.power.grade, t.power.words) == ("managed identity", grade, words)
    assert t.admits(claims("environment:production")) is Truth.TRUE
    assert t.admits(claims("environment:Production")) is Truth.FALSE  # Azure compares exactly
    assert t.admission.breadth == Breadth.EXACT
    if grade is not Grade.NONE:
        assert t.power.scopes == ("11111111-1111-1111-1111-111111111111",)


def test_gcp_service_account_through_the_pool() -> None:
    inv = gcp_pool("assertion.repository == 'acme/app' && "
                   "assertion.environment == 'production'")
    t = one(ci_trusts(inv))
    assert (t.kind, t.name, t.power.grade, t.power.scopes) == (
        "service account", "deployer@x", Grade.ADMIN, ("acme-test",))
    assert t.admits(claims("environment:production")) is Truth.TRUE
    assert t.admits(claims("pull_request")) is Truth.FALSE
    assert t.admission.breadth == Breadth.EXACT


def test_gcp_member_narrowing_and_no_power() -> None:
    member = f"principalSet://iam.googleapis.com/{POOL}/attribute.repository/acme/app"
    t = one(ci_trusts(gcp_pool(None, owner=False, members=(member,))))
    assert t.power.grade is Grade.NONE
    assert t.admits(claims("pull_request")) is Truth.TRUE
    assert t.admits(claims("pull_request", "acme/other")) is Truth.FALSE


def test_gaps_name_what_leaves_the_trusts_unknown() -> None:
    from support.aws import collection_error

    err = collection_error("iam", "ListRoles", ("AWS::IAM::Role#listing",), region="global")
    other = collection_error("ec2", "DescribeVolumes", ("AWS::EC2::Volume",))
    assert ci_gaps(aws_account(errors=(err, other))) == (err,)


@pytest.mark.parametrize(("context", "keys", "expected_sub", "unknown"), [
    ("pull_request", (), "repo:acme/app:pull_request", ()),
    ("environment:prod", ("repo", "context"), "repo:acme/app:environment:prod", ()),
    ("ref:refs/heads/main", ("repository_owner", "ref_type", "context"),
     "repository_owner:acme:ref_type:branch:ref:refs/heads/main", ()),
    ("environment:prod", ("repo", "context", "job_workflow_ref"), None, ("job_workflow_ref",)),
    ("pull_request", ("repository_visibility", "repository"),
     "repository_visibility:private:repository:acme/app", ()),
])
def test_workflow_claims(context: str, keys: tuple[str, ...], expected_sub: str | None,
                         unknown: tuple[str, ...]) -> None:
    found, missing = workflow_claims("acme/app", context, keys=keys, visibility="private")
    assert found.get("sub") == expected_sub and missing == unknown
    assert found["repository"] == "acme/app" and found["repository_owner"] == "acme"


def test_environment_job_ref_is_the_one_given() -> None:
    found, _ = workflow_claims("acme/app", "environment:prod", ref="refs/heads/main")
    assert (found["environment"], found["ref"], found["ref_type"]) == (
        "prod", "refs/heads/main", "branch")
