"""CI-to-cloud on GitHub: long-lived cloud keys kept as Actions secrets, and — joined with the
cloud snapshots audited beside the GitHub one (``posture audit github.json --cloud aws.json``) —
the path from an unreviewed change to a cloud identity's power (posture.github_ci)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result, Subject
from posture.github import (
    ENVIRONMENT,
    ORGANIZATION,
    REPOSITORY,
    cloud_key,
    facet,
    judged,
)
from posture.github_ci import CiPath, ci_paths, cloud_reach, production_environment, weigh
from posture.iam.ci_trust import Grade, ci_gaps
from posture.iam.conditions import Truth
from posture.identity.model import Production
from posture.model import Asset, Principle, Severity
from posture.registry import check


def _holders(ctx: CheckContext) -> Iterator[tuple[Asset, Any, str, Severity]]:
    """(asset, its secrets, in words, severity) of the organisations, repositories and
    environments: HIGH for the organisation's (shared), a public or production repository's
    and a production environment's, MEDIUM otherwise."""
    for org in ctx.inventory.of(ORGANIZATION):
        yield org, org.attr("actions_secrets"), f"organisation {org.name}", Severity.HIGH
    for repo in ctx.inventory.of(REPOSITORY):
        w = weigh(ctx.inventory, repo)
        archived = " (archived)" if repo.attr("archived") else ""
        yield (repo, repo.attr("actions_secrets"), f"repository {repo.name}{archived}",
               w.severity(Severity.HIGH))
    for env in ctx.inventory.of(ENVIRONMENT):
        name = str(env.attr("environment") or env.name)
        repo_name = str(env.attr("repository") or "").split("/", 1)[-1]
        grade = Severity.HIGH if production_environment(name) else Severity.MEDIUM
        yield env, env.attr("secrets"), f"environment {name} of {repo_name}", grade


@check("github.cicd.no_long_lived_cloud_keys", Severity.HIGH,
       (Principle.JUST_IN_TIME, Principle.SECRETS),
       reads={facet(ORGANIZATION, "secrets"), facet(REPOSITORY, "secrets"),
              facet(ENVIRONMENT, "secrets")})
def no_long_lived_cloud_keys(ctx: CheckContext) -> Iterator[Result]:
    """Workflows reach the clouds through OIDC federation, not long-lived keys in secrets

    An Actions secret named like a cloud access key (`AWS_SECRET_ACCESS_KEY`,
    `AZURE_CLIENT_SECRET`, `AZURE_CREDENTIALS`, `GOOGLE_CREDENTIALS`, `GCP_SA_KEY`,
    `*_SERVICE_ACCOUNT_KEY`... the table in posture.github, matched case-insensitively as a
    whole `_`-separated part of the name) holds a standing credential: it never expires, every
    workflow that may read the secret can exfiltrate it, and it outlives the person who created
    it. Federation (GitHub's OIDC token exchanged for short-lived cloud credentials) needs none.
    The finding names the secrets and when they were last updated, never a value.

    Remediation: Configure OIDC federation (an IAM role trusting
    token.actions.githubusercontent.com, an Azure federated credential, a GCP workload identity
    pool) restricted to the repository's environment, switch the workflow to it, then delete
    the secret and deactivate the key at the cloud.
    """
    for asset, secrets, what, grade in _holders(ctx):
        if secrets is None:
            yield ctx.unknown(asset, f"the Actions secrets of {what} were not read")
            continue
        hits = [(s, c) for s in secrets if (c := cloud_key(str(s.get("name") or "")))]
        listed = [{"name": s.get("name"), "cloud": c, "updated_at": s.get("updated_at")}
                  for s, c in hits]
        if hits:
            names = ", ".join(f"{s.get('name')} ({c}, updated {str(s.get('updated_at'))[:10]})"
                              for s, c in hits)
            yield ctx.fail_at(grade, asset, f"{len(hits)} Actions secret(s) of {what} hold "
                              f"long-lived cloud keys: {names}", cloud_key_secrets=listed)
        else:
            yield ctx.passed(asset, f"no Actions secret of {what} is named like a long-lived "
                             f"cloud key ({len(secrets)} secret(s))")


def _severity(p: CiPath) -> Severity:
    grade, prod = p.reach.trust.power.grade, p.reach.env.production
    if grade is Grade.ADMIN:
        return Severity.HIGH if prod is Production.NO else Severity.CRITICAL
    if grade is Grade.CONDITIONAL or prod is Production.YES:
        return Severity.HIGH
    return Severity.MEDIUM


def _lands(p: CiPath) -> str:
    """``role deploy, which is admin-equivalent in production account 1234``."""
    t, env = p.reach.trust, p.reach.env.production
    prod = {Production.YES: "production ", Production.NO: "non-production "}.get(env, "")
    return f"{t.kind} {t.name}, which {t.power.words} in {prod}{p.reach.where}"


def _rank(p: CiPath) -> tuple[Any, ...]:
    # a stable sort: equal paths keep their order (pull request, default branch, new branch...)
    return (-_severity(p), -p.reach.trust.power.grade)


def _scopes(ctx: CheckContext) -> list[Asset | Subject]:
    orgs: list[Asset | Subject] = list(ctx.inventory.of(ORGANIZATION))
    return orgs or [ctx.account(a) for a in ctx.inventory.meta.accounts]


@check("github.cicd.pull_request_to_production_admin", Severity.CRITICAL,
       (Principle.LEAST_PRIVILEGE, Principle.CHANGE_CONTROL, Principle.SEGREGATION),
       reads={facet(ORGANIZATION, "oidc"), facet(REPOSITORY, "actions"),
              facet(REPOSITORY, "branch_protection"), facet(REPOSITORY, "rules"),
              facet(ENVIRONMENT, "listing"), facet(ENVIRONMENT, "branch_policies")})
def pull_request_to_production_admin(ctx: CheckContext) -> Iterator[Result]:
    """No unreviewed change reaches a cloud administrator through a workflow's OIDC token

    Joins the GitHub snapshot with the cloud snapshots audited beside it (`--cloud`): for every
    repository, each kind of workflow run (a pull request, a push to the default branch or a new
    branch or tag, a job in each environment or a new one) presents an OIDC token whose subject
    the clouds' trusts (IAM roles, Azure federated credentials, GCP workload identity pools) may
    admit. A run that nothing gates (a pull request; a branch without a reviewed pull request
    requirement; an environment without reviewers whose branches are not protected) and whose
    token an identity admits is a path from an unreviewed change to that identity: CRITICAL
    when it is admin-equivalent (HIGH if its scope is known non-production), HIGH when it is not
    but lands in production, MEDIUM otherwise. A path through an approval gate passes, naming
    the gate; a custom OIDC subject template posture cannot evaluate, or a gate not collected,
    is INCONCLUSIVE. Without a cloud snapshot, one INCONCLUSIVE per organisation.

    Remediation: Restrict the cloud trust to `repo:OWNER/REPO:environment:production` and give
    that environment required reviewers and a deployment branch policy; never trust
    `pull_request` or wildcard subjects for privileged identities.
    """
    if not ctx.companions:
        for scope in _scopes(ctx):
            yield ctx.unknown(scope, "no cloud snapshot audited beside this one: run `posture "
                              "audit SNAPSHOT --cloud CLOUD_SNAPSHOT` to join them")
        return
    reach = cloud_reach(ctx.companions)
    gaps = [e.describe() for c in ctx.companions for e in ci_gaps(c)]
    clouds = [{"provider": c.meta.provider.value, "scan_id": c.meta.scan_id,
               "accounts": list(c.meta.accounts)} for c in ctx.companions]
    for repo in ctx.inventory.of(REPOSITORY):
        if judged(repo):
            yield _verdict(ctx, repo, ci_paths(ctx.inventory, repo, reach), gaps, clouds)


def _verdict(ctx: CheckContext, repo: Asset, paths: list[CiPath], gaps: list[str],
             clouds: list[dict[str, Any]]) -> Result:
    paths = sorted(paths, key=_rank)
    ungated = [p for p in paths if p.admitted is Truth.TRUE and p.run.gate.state is Truth.FALSE]
    gated = [p for p in paths if p.run.gate.state is Truth.TRUE]
    undecided = [p for p in paths if p not in ungated and p not in gated]
    evidence: dict[str, Any] = {"clouds": clouds, "ci_paths": [p.evidence() for p in paths]}
    if gaps:
        evidence["cloud_collection_errors"] = gaps
    lead = f"repository {repo.name}'s workflow on"
    if ungated:
        p, more = ungated[0], len(ungated) - 1
        also = f" (+{more} more ungated path(s))" if more else ""
        return ctx.fail_at(_severity(p), repo, f"{lead} {p.run.label} can assume {_lands(p)}; "
                           f"{p.run.gate.words}{also}", path=p.hops(), **evidence)
    if undecided:
        p = undecided[0]
        why = p.undecided or p.run.gate.words
        return ctx.unknown(repo, f"{lead} {p.run.label} may assume {_lands(p)}: {why}",
                           path=p.hops(), **evidence)
    not_seen = f"; not verified: {'; '.join(gaps)}" if gaps else ""
    if gated:
        p, more = gated[0], len(gated) - 1
        also = f" (+{more} more gated path(s))" if more else ""
        text = (f"{lead} {p.run.label} can assume {_lands(p)} only through a gate: "
                f"{p.run.gate.text()}{also}")
        if gaps:
            return ctx.unknown(repo, text + not_seen, path=p.hops(), **evidence)
        return ctx.passed(repo, text, path=p.hops(), **evidence)
    seen = "; ".join(f"{c['provider']} {', '.join(c['accounts'])}" for c in clouds)
    text = f"no cloud identity in the audited snapshots ({seen}) admits a workflow token of " \
           f"repository {repo.name}"
    return ctx.unknown(repo, text + not_seen, **evidence) if gaps else \
        ctx.passed(repo, text, **evidence)
