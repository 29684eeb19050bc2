"""Least privilege on GCP: no member can make itself Owner, now or one change away.

These checks read :mod:`posture.iam.gcp_escalation` over the run's impersonation graph. Owners
of a project gain nothing and are never reported here (the basic-role checks judge them); a
member with a path to admin through service-account impersonation is
``gcp.iam.no_admin_via_sa_impersonation``'s finding, and a member with any real path to admin of
a project (that one, or a policy rewrite) is never also latent on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from posture.engine import CheckContext, Result
from posture.gcp import FOLDER, ORGANIZATION, PROJECT, SERVICE_ACCOUNT, lineage
from posture.iam.gcp import build_impersonation_graph
from posture.iam.gcp_escalation import (
    LatentImpersonation,
    PolicyEscalation,
    ProjectEscalations,
    project_escalations,
)
from posture.model import Asset, Inventory, Principle, Severity
from posture.registry import check

POLICY = f"{PROJECT}#iam_policy"
INHERITED = frozenset({f"{FOLDER}#iam_policy", f"{ORGANIZATION}#iam_policy"})
IMPERSONATION_CHECK = "gcp.iam.no_admin_via_sa_impersonation"
POLICY_CHECK = "gcp.iam.no_project_iam_policy_escalation"


def _escalations(ctx: CheckContext) -> dict[str, ProjectEscalations]:
    def build(inv: Inventory) -> dict[str, ProjectEscalations]:
        graph = ctx.derived("gcp.iam.identity_graph", build_impersonation_graph)
        return project_escalations(inv, graph)

    return ctx.derived("gcp.iam.escalations", build)


def _projects(ctx: CheckContext) -> Iterator[tuple[Asset, str, ProjectEscalations | None]]:
    """Each project with its id and its escalations (None when its IAM policy is unknown)."""
    found = _escalations(ctx)
    for project in ctx.inventory.of(PROJECT):
        pid = str(project.attr("project_id") or project.account)
        yield project, pid, found.get(pid)


_Escalation = TypeVar("_Escalation", PolicyEscalation, LatentImpersonation)


def _by_certainty(found: Sequence[_Escalation]) -> tuple[list[_Escalation], list[_Escalation]]:
    """``found`` split into the certain escalations and the possible (conditional) ones."""
    return [e for e in found if e.certain], [e for e in found if not e.certain]


def _writer(e: PolicyEscalation) -> str:
    role = f"{e.role} granted on {e.granted_on}, inherited" if e.granted_on else e.role
    through = f"through {e.holder}, which holds {role}" if e.via else role
    return f"{e.member} ({through}{'' if e.becomes == 'roles/owner' else f'; up to {e.becomes}'})"


@check("gcp.iam.no_project_iam_policy_escalation", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={POLICY, f"{SERVICE_ACCOUNT}#listing", f"{SERVICE_ACCOUNT}#iam_policy", *INHERITED})
def no_project_iam_policy_escalation(ctx: CheckContext) -> Iterator[Result]:
    """No member can grant itself Owner by rewriting a project's IAM policy

    resourcemanager.projects.setIamPolicy lets its holder grant any role on the project,
    roles/owner to itself included: it is Owner in waiting. Members already Owner gain nothing; a
    delegated-grant condition listing only non-admin roles removes the escalation; other conditions
    and custom roles (not expanded) are inconclusive.

    Remediation: Keep Project IAM Admin, Security Admin and Organization Administrator for the
    project's owners, or bind them with a condition that limits the roles they may grant
    (iam.googleapis.com/modifiedGrantsByRole) to non-admin roles; remove who can impersonate
    service accounts holding them.
    """
    for project, _pid, result in _projects(ctx):
        if result is None:
            yield ctx.unknown(project, "project IAM policy unknown")
            continue
        certain, possible = _by_certainty(result.writers)
        evidence = {
            "paths": [e.evidence() for e in certain],
            "possible": [e.evidence() for e in possible],
            "restricted": [r.evidence() for r in result.restricted],
            "owners": list(result.owners),
        }
        if certain:
            who = "; ".join(_writer(e) for e in certain)
            yield ctx.fail(
                project,
                f"can grant themselves Owner by rewriting the IAM policy: {who}",
                **evidence,
            )
        elif possible:
            who = "; ".join(f"{_writer(e)}: {e.why}" for e in possible)
            yield ctx.unknown(project, f"may grant themselves Owner: {who}", **evidence)
        elif gap := lineage(ctx.inventory, project).gap:
            yield ctx.unknown(
                project,
                f"no member but its owners can rewrite the IAM policy on what was read, but "
                f"inherited grants are unknown: {gap}",
                **evidence,
            )
        else:
            note = ""
            if result.restricted:
                note = "; delegated grants limited to non-admin roles: " + ", ".join(
                    f"{r.member} ({', '.join(r.grantable)})" for r in result.restricted
                )
            yield ctx.passed(
                project, f"no member but its owners can rewrite the IAM policy{note}", **evidence
            )


def _latent_sentence(latent: list[LatentImpersonation]) -> str:
    if len(latent) == 1:
        who = f"{latent[0].member} becomes administrator by {latent[0].how}"
    else:
        who = ", ".join(f"{x.member} (by {x.how})" for x in latent) + " become administrator"
    text = f"{latent[0].missing}; the moment one does, {who}"
    today = sorted({a for x in latent for a in x.today})
    if today:
        text += f" (reaching today, short of administrator: {', '.join(today)})"
    return text


@check("gcp.iam.no_latent_privilege_escalation", Severity.MEDIUM, (Principle.LEAST_PRIVILEGE,),
       reads={POLICY, f"{SERVICE_ACCOUNT}#listing", *INHERITED})
def no_latent_privilege_escalation(ctx: CheckContext) -> Iterator[Result]:
    """No member is one service account away from administrator of a project

    A project-level impersonation grant covers every service account of the project, present and
    future. While none holds Owner or Editor the member is not an administrator, but the day one
    does (a deployment granting Editor to a new account), it is, with nobody changing its own
    grants. Members with a real path today are reported by the impersonation and IAM-policy checks
    instead, and a grant that depends on a condition or an unexpanded custom role is inconclusive.

    Remediation: Grant Service Account Token Creator / Key Admin / User on the individual service
    accounts a member needs, never on the project, so that an account created or promoted later is
    not automatically theirs.
    """
    gaps = [
        e
        for e in ctx.inventory.errors_affecting({f"{SERVICE_ACCOUNT}#listing"})
        if e.resource_uid is None
    ]
    for project, pid, result in _projects(ctx):
        if result is None:
            yield ctx.unknown(project, "project IAM policy unknown")
            continue
        certain, possible = _by_certainty(result.latent)
        latent = [x.evidence() for x in certain or possible]
        evidence = {
            "latent": latent,
            "paths": [x["path"] for x in latent],
            "conditional": not certain,
        }
        if certain and any(e.covers(pid, project.region) for e in gaps):
            yield ctx.unknown(
                project,
                f"the service accounts of project {pid} could not be listed, so whether one "
                f"holds a basic admin role is not known: {_latent_sentence(certain)}",
                **evidence,
            )
        elif certain:
            yield ctx.fail(project, _latent_sentence(certain), **evidence)
        elif possible:
            reasons = "; ".join(f"{x.member}: {x.why}" for x in possible)
            yield ctx.unknown(
                project,
                f"under conditions: {_latent_sentence(possible)} ({reasons})",
                **evidence,
            )
        elif gap := lineage(ctx.inventory, project).gap:
            yield ctx.unknown(
                project,
                "no project-level impersonation grant waits for a privileged service account "
                f"on what was read, but inherited grants are unknown: {gap}",
            )
        elif result.not_latent:
            yield ctx.passed(
                project,
                f"the project-level impersonation grants of {', '.join(result.not_latent)} are "
                "not latent: they are administrator or have a path today (judged by "
                f"{IMPERSONATION_CHECK} and {POLICY_CHECK})",
                not_latent=list(result.not_latent),
            )
        else:
            yield ctx.passed(
                project,
                "no project-level impersonation grant waits for a privileged service account",
            )
