"""CI-to-cloud trust on AWS: IAM roles that GitHub Actions workflows assume through the account's
``token.actions.githubusercontent.com`` OIDC provider, judged by who on GitHub the trust admits
(posture.iam.oidc_trust) and what the role can do (the identity graph's admin paths)."""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import identity

from posture.engine import CheckContext, Result
from posture.iam.ci_trust import AWS_OIDC_PROVIDER as OIDC_PROVIDER
from posture.iam.ci_trust import READS, Grade, aws_power, aws_role_trusts
from posture.iam.oidc_trust import STS_AUDIENCE, Breadth, audience_note, github_provider
from posture.iam.principals import ROLE
from posture.model import Principle, Provider, Severity
from posture.registry import check


@check(
    "aws.cicd.github_oidc_trust_restricted", Severity.CRITICAL,
    (Principle.LEAST_PRIVILEGE, Principle.SEGREGATION),
    reads=READS[Provider.AWS],
)
def github_oidc_trust_restricted(ctx: CheckContext) -> Iterator[Result]:
    """Roles trusted by GitHub Actions admit only one repository's protected branch or environment

    A role whose trust lets `sts:AssumeRoleWithWebIdentity` from the GitHub Actions OIDC provider
    is assumed by whichever workflow presents a token the trust's `sub` condition admits. Without
    a `sub` condition, or with `repo:*`, any repository on GitHub can assume it (CRITICAL); with
    `repo:OWNER/*`, a pull request, any branch or any environment of a repository, code that has
    not been reviewed — a fork's pull request, a pushed branch — reaches the role (HIGH, CRITICAL
    when the role is admin-equivalent). Conditions are evaluated as IAM does (StringEquals vs
    StringLike, set operators, several statements, Deny) against probe subjects in GitHub's
    documented claim formats, custom `job_workflow_ref` claims included. Whether the admitted
    branch is protected is for the GitHub provider to show.

    Remediation: Pin `token.actions.githubusercontent.com:sub` with StringEquals to
    `repo:OWNER/REPO:environment:production` (an environment with required reviewers) or to a
    protected branch, and `:aud` to `sts.amazonaws.com`.
    """
    graph = identity(ctx)
    for role in ctx.inventory.of(ROLE):
        trusts = aws_role_trusts(graph, role)
        if not trusts:
            continue
        worst = max(trusts, key=lambda t: t.admission.breadth)
        adm = worst.admission
        power = aws_power(graph, role)
        admin, can = power.grade is Grade.ADMIN, power.words
        evidence = {"trusts": [t.evidence() for t in trusts], "admin": power.evidence}
        no_sub = "" if worst.has_sub_condition else "no sub condition: "
        if adm.conditional and adm.breadth <= Breadth.EXACT:
            yield ctx.unknown(role, f"GitHub OIDC trust depends on conditions posture cannot "
                              f"decide (probes: {', '.join(adm.conditional)}); the role {can}",
                              **evidence)
        elif adm.breadth == Breadth.ANY_REPOSITORY:
            yield ctx.fail_at(Severity.CRITICAL, role, f"{no_sub}{adm.who} can assume this "
                              f"role through GitHub Actions; the role {can}", **evidence)
        elif adm.breadth >= Breadth.ENVIRONMENT:
            severity = Severity.CRITICAL if admin else Severity.HIGH
            yield ctx.fail_at(severity, role, f"{adm.who} can assume this role through GitHub "
                              f"Actions; the role {can}", **evidence)
        elif adm.breadth == Breadth.PATTERN:
            yield ctx.fail_at(Severity.HIGH if admin else Severity.MEDIUM, role,
                              f"{adm.who} can assume this role through GitHub Actions (a "
                              f"wildcard admits names anyone with write access creates); the "
                              f"role {can}", **evidence)
        elif adm.breadth == Breadth.EXACT:
            yield ctx.passed(role, f"GitHub Actions trust admits {adm.who}; the role {can}",
                             **evidence)
        else:
            yield ctx.passed(role, f"GitHub Actions trust admits no subject a workflow presents "
                             f"(aud {STS_AUDIENCE}); the role {can}", **evidence)


@check(
    "aws.cicd.github_oidc_provider_audience_sts", Severity.LOW,
    (Principle.LEAST_PRIVILEGE,),
    reads={OIDC_PROVIDER},
)
def github_oidc_provider_audience_sts(ctx: CheckContext) -> Iterator[Result]:
    """The GitHub Actions OIDC provider accepts only the sts.amazonaws.com audience

    GitHub's `aws-actions/configure-aws-credentials` requests tokens for the audience
    `sts.amazonaws.com`; another client id on the provider means tokens minted for some other
    relying party are also accepted by AWS, and roles that do not pin `:aud` accept them too.

    Remediation: Set the provider's client id list to `sts.amazonaws.com` only, and pin
    `token.actions.githubusercontent.com:aud` in every trust.
    """
    for provider in ctx.inventory.of(OIDC_PROVIDER):
        if github_provider(str(provider.attr("arn") or provider.uid)) is None:
            continue
        ids = provider.attr("client_ids")
        if ids is None:
            yield ctx.unknown(provider, "client ids (audiences) not read")
            continue
        note = audience_note(ids)
        if note:
            yield ctx.fail(provider, f"GitHub Actions OIDC provider: {note}", client_ids=ids)
        else:
            yield ctx.passed(provider, f"GitHub Actions OIDC provider accepts only {STS_AUDIENCE}",
                             client_ids=ids)
