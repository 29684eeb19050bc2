"""Deployment control on GitHub: environments whose name says production (posture.github_ci:
``production``, ``prod``, ``prd``, ``live``, alone or as a word of the name, and no
non-production word) require reviewers, restrict the branches that deploy, and have their
deployments on record. Environments of archived repositories are not judged."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.github import ENVIRONMENT, REPOSITORY, facet, judged
from posture.github_ci import production_environments
from posture.model import Asset, Principle, Severity
from posture.registry import check

PRINCIPLES = (Principle.CHANGE_CONTROL, Principle.SEGREGATION)


def _production(ctx: CheckContext) -> Iterator[tuple[Asset, Asset, str]]:
    """(repository, production environment, ``environment E of O/R``)."""
    for repo in ctx.inventory.of(REPOSITORY):
        if judged(repo):
            for env in production_environments(ctx.inventory, repo):
                name = env.attr("environment") or env.name
                yield repo, env, f"environment {name} of {repo.name}"


@check("github.deploy.production_environment_reviewers_required", Severity.HIGH, PRINCIPLES,
       reads={facet(ENVIRONMENT, "listing")})
def production_environment_reviewers_required(ctx: CheckContext) -> Iterator[Result]:
    """Deployments to production environments wait for a reviewer's approval

    A production environment without required reviewers deploys whatever a workflow sends it:
    the approval the policy asks for is not enforced (HIGH). With reviewers, a reviewer who may
    approve their own deployment (`prevent_self_review` off) is no second person (MEDIUM), and
    administrators who may bypass the rule (`can_admins_bypass`, GitHub's default) leave it
    optional for them (LOW).

    Remediation: Add required reviewers (a team, not one person) to the environment's
    protection rules, turn on "Prevent self-review" and off "Allow administrators to bypass
    configured protection rules".
    """
    for _, env, what in _production(ctx):
        reviewers = env.attr("required_reviewers") or []
        who = [f"{r.get('type', 'User').lower()} {r.get('login')}" for r in reviewers]
        evidence = {"required_reviewers": who, "prevent_self_review": env.attr(
            "prevent_self_review"), "can_admins_bypass": env.attr("can_admins_bypass")}
        lone = len(reviewers) == 1 and reviewers[0].get("type") == "User"
        if not reviewers:
            yield ctx.fail(env, f"{what} requires no reviewer: any workflow deploys to it",
                           **evidence)
        elif not env.attr("prevent_self_review"):
            whom = "its lone reviewer" if lone else "a reviewer"
            yield ctx.fail_at(Severity.MEDIUM, env, f"{what} requires approval by "
                              f"{', '.join(who)}, but {whom} may approve their own deployment",
                              **evidence)
        elif env.attr("can_admins_bypass"):
            yield ctx.fail_at(Severity.LOW, env, f"{what} requires approval by {', '.join(who)}, "
                              "but administrators may bypass it", **evidence)
        else:
            yield ctx.passed(env, f"{what} requires approval by {', '.join(who)}, self-review "
                             "prevented, administrators bound", **evidence)


@check("github.deploy.production_environment_branches_restricted", Severity.MEDIUM, PRINCIPLES,
       reads={facet(ENVIRONMENT, "branch_policies")})
def production_environment_branches_restricted(ctx: CheckContext) -> Iterator[Result]:
    """Production environments accept deployments only from protected or named branches

    Without a deployment branch policy, a workflow on any branch — one pushed a minute ago,
    never reviewed — can deploy to the environment (its reviewers, if any, are the only gate).
    Protected branches only, or custom policies naming branches, restrict it; a `*` policy
    names every branch and restricts nothing.

    Remediation: Set the environment's deployment branches to "Protected branches only", or to
    selected branches such as the default branch (`main`), never `*`.
    """
    for _, env, what in _production(ctx):
        policy = env.attr("deployment_branch_policy")
        names = env.attr("branch_policies")
        evidence = {"deployment_branch_policy": policy, "branch_policies": names}
        if policy is None:
            yield ctx.fail(env, f"any branch may deploy to {what}", **evidence)
        elif policy.get("protected_branches"):
            yield ctx.passed(env, f"only protected branches may deploy to {what}", **evidence)
        elif names is None:
            yield ctx.unknown(env, f"the deployment branch policies of {what} were not read",
                              **evidence)
        elif any(str(p.get("name")).strip("*") == "" for p in names):
            yield ctx.fail(env, f"a * branch policy lets any branch deploy to {what}",
                           **evidence)
        else:
            shown = ", ".join(f"{p.get('type', 'branch')} {p.get('name')}" for p in names)
            yield ctx.passed(env, f"only {shown or 'no branch'} may deploy to {what}",
                             **evidence)


@check("github.deploy.production_deployments_logged", Severity.LOW,
       (Principle.CHANGE_CONTROL, Principle.AUDITABLE),
       reads={facet(ENVIRONMENT, "deployments")})
def production_deployments_logged(ctx: CheckContext) -> Iterator[Result]:
    """Deployments to production environments are on record

    GitHub records every deployment a workflow job makes to an environment (who, which ref and
    commit, its state): the evidence that production changes went through the approved path.
    The finding names the newest deployment, or that none was ever recorded (nothing has been
    deployed through the environment); INCONCLUSIVE when the deployments could not be read.
    Deployments made outside GitHub environments leave no record here.

    Remediation: Deploy to production only from workflow jobs that name the environment
    (`environment: production`), so every deployment is recorded and passes its protection.
    """
    for _, env, what in _production(ctx):
        last = env.attr("last_deployment")
        seen = env.attr("deployments_seen")
        if last is None:
            yield ctx.unknown(env, f"the deployments of {what} were not read")
        elif not last:
            yield ctx.passed(env, f"no deployment to {what} is on record (never deployed "
                             "through it)", last_deployment=last, deployments_seen=seen)
        else:
            about = [str(last["state"])] if last.get("state") else []
            about += [f"{k} {last[v]}" for k, v in (("ref", "ref"), ("by", "creator"))
                      if last.get(v)]
            yield ctx.passed(env, f"deployments to {what} are on record, the newest on "
                             f"{str(last.get('created_at'))[:10]} ({', '.join(about)})",
                             last_deployment=last, deployments_seen=seen)
