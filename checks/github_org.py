"""Organisation settings on GitHub: two-factor authentication required, workflow tokens
read-only by default, which actions workflows may use, and whether workflows may approve pull
requests (the last two on the organisation, the token and approval settings on every
repository as well: a repository may be more permissive than its organisation's default)."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.github import ORGANIZATION, REPOSITORY, facet, judged
from posture.model import Asset, Principle, Severity
from posture.registry import check

ORG_ACTIONS = facet(ORGANIZATION, "actions")
REPO_ACTIONS = facet(REPOSITORY, "actions")


def _orgs_and_repos(ctx: CheckContext) -> Iterator[tuple[Asset, str]]:
    for org in ctx.inventory.of(ORGANIZATION):
        yield org, f"organisation {org.name}"
    for repo in ctx.inventory.of(REPOSITORY):
        if judged(repo):
            yield repo, f"repository {repo.name}"


@check("github.org.two_factor_required", Severity.HIGH, (Principle.MFA,),
       reads={facet(ORGANIZATION, "listing")})
def two_factor_required(ctx: CheckContext) -> Iterator[Result]:
    """The organisation requires two-factor authentication of its members

    Without the requirement, a member signing in with a password alone — phished, reused,
    guessed — gets write access to the organisation's code and its deployments. GitHub shows the
    setting only to an owner's token: without one it is INCONCLUSIVE, never PASS.

    Remediation: Require two-factor authentication (Organization settings > Authentication
    security), after members without it were warned; on Enterprise Cloud prefer SAML SSO with
    the identity provider's MFA.
    """
    for org in ctx.inventory.of(ORGANIZATION):
        flag = org.attr("two_factor_requirement_enabled")
        if flag is None:
            yield ctx.unknown(org, "the two-factor requirement is shown only to an owner's "
                              "token; scan with one to decide")
        elif flag:
            yield ctx.passed(org, f"organisation {org.name} requires two-factor authentication")
        else:
            yield ctx.fail(org, f"organisation {org.name} does not require two-factor "
                           "authentication")


@check("github.org.workflow_token_read_only", Severity.MEDIUM, (Principle.LEAST_PRIVILEGE,),
       reads={ORG_ACTIONS, REPO_ACTIONS})
def workflow_token_read_only(ctx: CheckContext) -> Iterator[Result]:
    """Workflow tokens are read-only unless a workflow asks for more

    With the default `GITHUB_TOKEN` permission "read and write", every job of every workflow —
    a compromised action, a dependency's build script — can push code, create releases and
    change issues; with "read", a workflow grants itself write scopes explicitly
    (`permissions:`), where review sees them. Judged on the organisation and each repository.

    Remediation: Set "Workflow permissions" to "Read repository contents and packages
    permissions" on the organisation and every repository; add `permissions:` blocks to the
    workflows that need more.
    """
    for asset, what in _orgs_and_repos(ctx):
        value = asset.attr("default_workflow_permissions")
        if value is None:
            yield ctx.unknown(asset, f"the default workflow permissions of {what} were not read")
        elif value == "read":
            yield ctx.passed(asset, f"workflow tokens of {what} are read-only by default")
        else:
            yield ctx.fail(asset, f"workflow tokens of {what} can write by default "
                           f"({value})", default_workflow_permissions=value)


@check("github.org.allowed_actions_restricted", Severity.MEDIUM, (Principle.SECURE_CODE,),
       reads={ORG_ACTIONS})
def allowed_actions_restricted(ctx: CheckContext) -> Iterator[Result]:
    """Workflows may use only the organisation's own, GitHub's or selected actions

    With every action allowed, any workflow can run any public action at any version: third-
    party code that reads the workflow's secrets and tokens. Restricting to local, GitHub-owned,
    verified creators' or listed actions (pinned by SHA) keeps that code reviewed.

    Remediation: Set "Policies" under Actions > General to "Allow <org> actions and reusable
    workflows" or to selected actions, listing the third-party actions in use by SHA.
    """
    for org in ctx.inventory.of(ORGANIZATION):
        enabled, allowed = org.attr("actions_enabled_repositories"), org.attr("allowed_actions")
        evidence = {"actions_enabled_repositories": enabled, "allowed_actions": allowed,
                    "selected_actions": org.attr("selected_actions")}
        if enabled == "none":
            yield ctx.passed(org, f"GitHub Actions are disabled in organisation {org.name}",
                             **evidence)
        elif allowed is None:
            yield ctx.unknown(org, f"the allowed actions of organisation {org.name} were not "
                              "read", **evidence)
        elif allowed == "all":
            yield ctx.fail(org, f"workflows of organisation {org.name} may use any action",
                           **evidence)
        else:
            yield ctx.passed(org, f"workflows of organisation {org.name} may use "
                             f"{allowed.replace('_', ' ')} actions only", **evidence)


@check("github.org.workflows_cannot_approve_pull_requests", Severity.MEDIUM,
       (Principle.CHANGE_CONTROL,), reads={ORG_ACTIONS, REPO_ACTIONS})
def workflows_cannot_approve_pull_requests(ctx: CheckContext) -> Iterator[Result]:
    """Workflows cannot approve pull requests

    When GitHub Actions may create and approve pull requests, a workflow (run by anyone who can
    push a branch) approves its own pull request with the `GITHUB_TOKEN`, and the required
    review is met by nobody. Judged on the organisation and each repository.

    Remediation: Turn off "Allow GitHub Actions to create and approve pull requests" on the
    organisation and every repository.
    """
    for asset, what in _orgs_and_repos(ctx):
        value = asset.attr("can_approve_pull_request_reviews")
        if value is None:
            yield ctx.unknown(asset, f"whether workflows of {what} may approve pull requests "
                              "was not read")
        elif value:
            yield ctx.fail(asset, f"workflows of {what} may approve pull requests")
        else:
            yield ctx.passed(asset, f"workflows of {what} cannot approve pull requests")
