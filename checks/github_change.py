"""Change control on GitHub: the default branch's effective protection — classic branch
protection and active rulesets together (posture.github.enforcement) — one property per check,
each finding naming the branch, the property and the sources that enforce it. Archived
repositories are not judged; forks are, and say so; a public or production repository keeps the
check's severity, the others get one lower."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from posture.engine import CheckContext, Result
from posture.github import (
    ADMIN_WORDS,
    REPOSITORY,
    Enforcement,
    Property,
    Source,
    enforcement,
    facet,
    judged,
)
from posture.github_ci import weigh
from posture.model import Principle, Severity
from posture.registry import check

READS = {facet(REPOSITORY, "branch_protection"), facet(REPOSITORY, "rules")}
PRINCIPLES = (Principle.CHANGE_CONTROL,)


def _names(sources: tuple[Source, ...] | list[Source]) -> str:
    return ", ".join(s.name for s in sources)


def _judge(ctx: CheckContext, prop: Property, ok: Callable[[Source], bool] = lambda s: True,
           short: Callable[[Enforcement], str] | None = None) -> Iterator[Result]:
    """PASS when a source enforces ``prop`` (and ``ok`` accepts it) that nobody but
    administrators may bypass (the admins check judges those); FAIL (MEDIUM) when every such
    source may be bypassed by others, naming them; FAIL when none enforces it; INCONCLUSIVE
    when none does as far as read but a source was not read."""
    for repo in ctx.inventory.of(REPOSITORY):
        if not judged(repo):
            continue
        w, e = weigh(ctx.inventory, repo), enforcement(repo, prop)
        good = [s for s in e.sources if ok(s)]
        lead = f"default branch {e.branch}: {prop.value}"
        evidence = e.evidence()
        binding = [s for s in good if not s.others_bypass]
        if binding:
            yield ctx.passed(repo, f"{lead} by {_names(binding)}{w.suffix}", **evidence)
        elif good:
            who = sorted({b for s in good for b in s.others_bypass})
            # the write role bypassing is every writer: as good as unprotected
            grade = (w.severity(ctx.spec.severity) if "write role" in who
                     else min(Severity.MEDIUM, ctx.spec.severity))
            yield ctx.fail_at(grade, repo,
                              f"{lead} only by {_names(good)}, which {', '.join(who)} may "
                              f"bypass{w.suffix}", **evidence)
        elif e.unknown:
            yield ctx.unknown(repo, f"{lead}: not by what was read; {', '.join(e.unknown)} "
                              f"not read{w.suffix}", **evidence)
        else:
            why = short(e) if short and e.sources else "not enforced"
            inactive = f" ({'; '.join(e.inactive)} does not enforce)" if e.inactive else ""
            yield ctx.fail_at(w.severity(ctx.spec.severity), repo,
                              f"default branch {e.branch}: {prop.value}: {why}{inactive}"
                              f"{w.suffix}", **evidence)


def _admins(e: Enforcement) -> str:
    return ", ".join(sorted({b for s in e.sources for b in s.bypass if b in ADMIN_WORDS}))


@check("github.change.default_branch_pull_request_required", Severity.HIGH, PRINCIPLES,
       reads=READS, params={"min_approvals": 1})
def default_branch_pull_request_required(ctx: CheckContext) -> Iterator[Result]:
    """The default branch accepts changes only through reviewed pull requests

    Without a pull request requirement with at least `min_approvals` approving reviews (1 by
    default), anyone with write access pushes straight to the branch that is built and deployed:
    no second person sees the change. Enforced by classic branch protection or by an active
    ruleset (a ruleset in `evaluate` mode enforces nothing); a bypass actor other than
    administrators (a team, an app, the write role) weakens it to MEDIUM.

    Remediation: Protect the default branch with a ruleset (or branch protection) requiring a
    pull request with at least one approving review, without bypass actors.
    """
    need = int(ctx.param("min_approvals"))
    yield from _judge(ctx, Property.PULL_REQUEST, lambda s: (s.approvals or 0) >= need,
                      lambda e: f"a pull request is required but with at most "
                      f"{max(s.approvals or 0 for s in e.sources)} approving review(s) "
                      f"(at least {need} wanted)")


@check("github.change.default_branch_stale_reviews_dismissed", Severity.MEDIUM, PRINCIPLES,
       reads=READS)
def default_branch_stale_reviews_dismissed(ctx: CheckContext) -> Iterator[Result]:
    """Approvals of the default branch's pull requests are dismissed when new commits arrive

    An approval that survives new pushes lets the author change the pull request after it was
    approved and merge code nobody reviewed.

    Remediation: Turn on "Dismiss stale pull request approvals when new commits are pushed" in
    the ruleset's pull request rule (or the branch protection).
    """
    yield from _judge(ctx, Property.STALE_REVIEWS)


@check("github.change.default_branch_status_checks_required", Severity.MEDIUM, PRINCIPLES,
       reads=READS)
def default_branch_status_checks_required(ctx: CheckContext) -> Iterator[Result]:
    """The default branch requires status checks to pass before merging

    Required status checks (tests, builds, scans) make the checks a gate rather than advice: a
    change that breaks them cannot be merged.

    Remediation: Require the CI's status checks in the ruleset (or branch protection) of the
    default branch.
    """
    yield from _judge(ctx, Property.STATUS_CHECKS)


@check("github.change.default_branch_force_push_blocked", Severity.HIGH, PRINCIPLES,
       reads=READS)
def default_branch_force_push_blocked(ctx: CheckContext) -> Iterator[Result]:
    """Force pushes to the default branch are blocked

    A force push rewrites the branch's history: reviewed commits can be replaced and the record
    of what was deployed lost.

    Remediation: Block force pushes on the default branch (ruleset rule "Block force pushes",
    or leave "Allow force pushes" off in branch protection).
    """
    yield from _judge(ctx, Property.FORCE_PUSH)


@check("github.change.default_branch_deletion_blocked", Severity.MEDIUM, PRINCIPLES,
       reads=READS)
def default_branch_deletion_blocked(ctx: CheckContext) -> Iterator[Result]:
    """The default branch cannot be deleted

    Deleting the default branch (and pushing it again) discards its protection history and
    lets anyone allowed to delete it replace its content.

    Remediation: Restrict deletions of the default branch (ruleset rule "Restrict deletions",
    or leave "Allow deletions" off in branch protection).
    """
    yield from _judge(ctx, Property.DELETION)


@check("github.change.default_branch_admins_not_exempt", Severity.HIGH, PRINCIPLES,
       reads=READS)
def default_branch_admins_not_exempt(ctx: CheckContext) -> Iterator[Result]:
    """The default branch's protection binds administrators too

    Protection that exempts administrators (classic protection without "Do not allow bypassing
    the above settings", or a ruleset letting organisation owners or the repository admin role
    bypass it `always`) lets them push unreviewed changes, and a stolen administrator session
    does the same. For every enforced property, some source must bind administrators.

    Remediation: Enable "Do not allow bypassing the above settings" (enforce_admins), and
    remove administrators from rulesets' bypass list (or give them `pull_request` bypass only
    where a break-glass path is needed).
    """
    for repo in ctx.inventory.of(REPOSITORY):
        if not judged(repo):
            continue
        w = weigh(ctx.inventory, repo)
        found = [enforcement(repo, p) for p in Property]
        branch = found[0].branch
        evidence = {"properties": [e.evidence() for e in found]}
        exempt = [e for e in found
                  if e.sources and all(s.admins_exempt for s in e.sources) and not e.unknown]
        unknown = sorted({u for e in found for u in e.unknown})
        if exempt:
            grouped: dict[tuple[str, str], list[str]] = {}
            for e in exempt:
                grouped.setdefault((_admins(e), _names(e.sources)), []).append(e.prop.value)
            what = "; ".join(f"{', '.join(props)} ({who} exempt by {names})"
                             for (who, names), props in grouped.items())
            yield ctx.fail_at(w.severity(ctx.spec.severity), repo, f"default branch {branch}: "
                              f"administrators may bypass {what}{w.suffix}", **evidence)
        elif unknown:
            yield ctx.unknown(repo, f"default branch {branch}: whether administrators are bound "
                              f"is unknown; {', '.join(unknown)} not read{w.suffix}", **evidence)
        elif not any(e.sources for e in found):
            yield ctx.fail_at(w.severity(ctx.spec.severity), repo, f"default branch {branch} "
                              f"is not protected: nothing binds administrators{w.suffix}",
                              **evidence)
        else:
            bound = ", ".join(e.prop.value for e in found if e.sources)
            yield ctx.passed(repo, f"default branch {branch}: administrators are bound by "
                             f"{bound}{w.suffix}", **evidence)
