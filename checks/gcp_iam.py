"""Least privilege and just-in-time access on GCP: basic roles, the default compute service
account, project-wide impersonation grants, service-account keys, public IAM bindings.

A project's grants are its effective policy (:func:`posture.gcp.effective_grants`): roles granted
on its folders and organisation count, and a finding names where an inherited grant was made.
An allow can only add, so a FAIL stands whatever is unknown above the project; a PASS that an
ancestor not read could overturn is INCONCLUSIVE, with the ancestor named."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result
from posture.gcp import (
    CRYPTO_KEY,
    FOLDER,
    HUMAN_PREFIXES,
    ORGANIZATION,
    PROJECT,
    SA_KEY,
    SERVICE_ACCOUNT,
    Grant,
    default_compute_sa,
    effective_grants,
    lineage,
    public_grants,
)
from posture.iam.gcp import ImpersonationPath, build_impersonation_graph, time_bound
from posture.model import Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

BASIC_ADMIN = ("roles/owner", "roles/editor")
IMPERSONATION = ("roles/iam.serviceAccountTokenCreator", "roles/iam.serviceAccountUser")
POLICY = f"{PROJECT}#iam_policy"
INHERITED = frozenset({f"{FOLDER}#iam_policy", f"{ORGANIZATION}#iam_policy"})


def _who(found: list[Grant]) -> str:
    """``user:a, group:b (granted on folders/1 (Prod), inherited)``."""
    parts = []
    for member in sorted({g.member for g in found}):
        where = sorted({g.source for g in found if g.member == member and g.inherited})
        own = any(not g.inherited for g in found if g.member == member)
        if where and not own:
            parts.append(f"{member} (granted on {', '.join(where)}, inherited)")
        elif where:
            parts.append(f"{member} (on the project and on {', '.join(where)})")
        else:
            parts.append(member)
    return ", ".join(parts)


@check("gcp.iam.no_basic_roles_for_users", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads={POLICY, *INHERITED})
def no_basic_roles_for_users(ctx: CheckContext) -> Iterator[Result]:
    """No user or group holds a standing Owner or Editor role on a project

    Basic roles grant thousands of permissions across every service. A grant whose IAM condition
    ends it at a fixed time (``request.time < timestamp(...)``) is time-bound, not standing, and
    is reported as evidence only; any other condition (a resource name, a tag, a start time, a
    time of day), whatever its title says, leaves the grant standing. The policy is always read
    as version 3 so conditions are visible.

    Remediation: Replace Owner/Editor with predefined roles scoped to the job; grant elevated
    access just in time (Privileged Access Manager or an IAM condition with an expiry).
    """
    for project in ctx.inventory.of(PROJECT):
        effective = effective_grants(ctx.inventory, project)
        if effective is None:
            yield ctx.unknown(project, "project IAM policy unknown")
            continue
        held = [
            g for g in effective if g.role in BASIC_ADMIN and g.member.startswith(HUMAN_PREFIXES)
        ]
        standing = [g for g in held if not time_bound(g.condition)]
        bounded = [g.evidence() for g in held if time_bound(g.condition)]
        gap = lineage(ctx.inventory, project).gap
        if standing:
            yield ctx.fail(
                project,
                f"standing basic role(s) held by {_who(standing)}",
                grants=[g.evidence() for g in standing],
                time_bound=bounded,
            )
        elif gap:
            yield ctx.unknown(
                project,
                "no standing Owner/Editor on the project, but inherited grants are unknown: "
                f"{gap}",
                time_bound=bounded,
            )
        else:
            yield ctx.passed(
                project, "no standing Owner/Editor for users or groups", time_bound=bounded
            )


@check("gcp.iam.default_compute_sa_not_editor", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={POLICY, f"{PROJECT}#listing", *INHERITED})
def default_compute_sa_not_editor(ctx: CheckContext) -> Iterator[Result]:
    """The default Compute Engine service account does not hold Editor or Owner

    Every instance created with defaults runs as this account; with Editor, any code on any such
    instance can change almost everything in the project.

    Remediation: Remove roles/editor from PROJECT_NUMBER-compute@developer.gserviceaccount.com and
    run instances as dedicated service accounts with narrow roles (or enforce the
    iam.automaticIamGrantsForDefaultServiceAccounts organisation policy).
    """
    for project in ctx.inventory.of(PROJECT):
        sa = default_compute_sa(project)
        effective = effective_grants(ctx.inventory, project)
        if sa is None or effective is None:
            yield ctx.unknown(project, "project number or IAM policy unknown")
            continue
        found = [
            g for g in effective if g.member == f"serviceAccount:{sa}" and g.role in BASIC_ADMIN
        ]
        held = sorted({g.role for g in found})
        inherited = sorted({g.source for g in found if g.inherited})
        gap = lineage(ctx.inventory, project).gap
        if held:
            where = f" (granted on {', '.join(inherited)}, inherited)" if inherited else ""
            yield ctx.fail(project, f"{sa} holds {', '.join(held)}{where}", service_account=sa,
                           roles=held, grants=[g.evidence() for g in found])
        elif gap:
            yield ctx.unknown(project, f"{sa} holds no basic admin role on the project, but "
                              f"inherited grants are unknown: {gap}", service_account=sa)
        else:
            yield ctx.passed(project, f"{sa} holds no basic admin role", service_account=sa)


@check("gcp.iam.no_project_level_sa_impersonation", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={POLICY, *INHERITED})
def no_project_level_sa_impersonation(ctx: CheckContext) -> Iterator[Result]:
    """No principal can impersonate every service account of a project

    At project level these roles let the holder act as every service account in the project,
    including ones with more privileges than the holder: a privilege-escalation path. A conditional
    grant may be narrower and is reported as inconclusive.

    Remediation: Grant Service Account User / Token Creator on the individual service accounts that
    need it, not on the project.
    """
    for project in ctx.inventory.of(PROJECT):
        effective = effective_grants(ctx.inventory, project)
        if effective is None:
            yield ctx.unknown(project, "project IAM policy unknown")
            continue
        found = [g for g in effective if g.role in IMPERSONATION]
        plain = [g for g in found if not g.condition]
        gap = lineage(ctx.inventory, project).gap
        if plain:
            yield ctx.fail(project, f"project-wide impersonation granted to {_who(plain)}",
                           grants=[g.evidence() for g in plain])
        elif found:
            yield ctx.unknown(
                project,
                "project-wide impersonation granted under IAM conditions that cannot be evaluated",
                grants=[g.evidence() for g in found],
            )
        elif gap:
            yield ctx.unknown(project, "no project-level impersonation grant on the project, but "
                              f"inherited grants are unknown: {gap}")
        else:
            yield ctx.passed(project, "no project-level impersonation grant")


@check("gcp.iam.sa_keys_rotated", Severity.MEDIUM, (Principle.JUST_IN_TIME,),
       reads={SA_KEY, f"{SERVICE_ACCOUNT}#keys"}, params={"max_age_days": 90})
def sa_keys_rotated(ctx: CheckContext) -> Iterator[Result]:
    """User-managed service-account keys are younger than the rotation period

    A user-managed key is a long-lived bearer credential that leaks through repositories and
    laptops. Ages are measured at the scan's finish time.

    Remediation: Delete the key after deploying a new one; better, remove user-managed keys
    entirely (workload identity federation, attached service accounts, impersonation) and enforce
    iam.disableServiceAccountKeyCreation.
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_age_days"))
    for key in ctx.inventory.of(SA_KEY):
        if key.attr("key_type") != "USER_MANAGED" or key.attr("disabled"):
            continue
        created = parse_time(key.attr("valid_after_time"))
        if created is None:
            yield ctx.unknown(key, "key creation time unknown")
            continue
        age = age_days(created, now)
        evidence: dict[str, Any] = {
            "age_days": age,
            "valid_after_time": key.attr("valid_after_time"),
            "max_age_days": limit,
        }
        if age > limit:
            yield ctx.fail(key, f"user-managed key is {age} days old (> {limit})", **evidence)
        else:
            yield ctx.passed(key, f"user-managed key is {age} days old", **evidence)


@check("gcp.iam.no_public_iam_bindings", Severity.CRITICAL, (Principle.LEAST_PRIVILEGE,),
       reads={POLICY, f"{CRYPTO_KEY}#iam_policy"})
def no_public_iam_bindings(ctx: CheckContext) -> Iterator[Result]:
    """No project or KMS key grants a role to allUsers or allAuthenticatedUsers

    A public binding lets anyone on the internet (allUsers) or any Google account
    (allAuthenticatedUsers) use the resource, e.g. decrypt with a KMS key.

    Remediation: Remove the allUsers / allAuthenticatedUsers members from the policy and grant the
    role to the specific principals that need it (buckets: gcp.storage.bucket_not_public).
    """
    for asset in ctx.inventory.of(PROJECT, CRYPTO_KEY):
        if asset.attr("iam_bindings") is None:
            yield ctx.unknown(asset, "IAM policy unknown")
            continue
        public = public_grants(asset)
        if public:
            roles = sorted({g["role"] for g in public})
            yield ctx.fail(asset, f"public binding(s): {', '.join(roles)}", public_bindings=public)
        else:
            yield ctx.passed(asset, "no public IAM binding")


@check("gcp.iam.no_admin_via_sa_impersonation", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={POLICY, f"{SERVICE_ACCOUNT}#listing", f"{SERVICE_ACCOUNT}#iam_policy", *INHERITED})
def no_admin_via_sa_impersonation(ctx: CheckContext) -> Iterator[Result]:
    """No principal becomes Owner/Editor-equivalent by impersonating a service account

    Whoever can mint tokens for, create keys for, or run workloads as a service account holds its
    permissions: impersonating an account with Owner or Editor is admin access without appearing in
    the project's admin bindings. Paths are followed through chains of service accounts; Service
    Account User counts only with a role that deploys workloads; conditional grants and custom
    roles make a path inconclusive.

    Remediation: Remove Owner/Editor from service accounts (grant the narrow roles their workloads
    need), and grant Token Creator / Service Account User / Key Admin on individual service
    accounts to the principals that must use them, never on the project.
    """
    graph = ctx.derived("gcp.iam.identity_graph", build_impersonation_graph)
    by_project: dict[str, list[ImpersonationPath]] = {}
    for path in graph.paths_to_admin():
        by_project.setdefault(path.project, []).append(path)
    for project in ctx.inventory.of(PROJECT):
        pid = str(project.attr("project_id") or project.account)
        if project.attr("iam_bindings") is None:
            yield ctx.unknown(project, "project IAM policy unknown")
            continue
        paths = by_project.get(pid, [])
        certain = [p for p in paths if p.certain]
        evidence = {
            "paths": [p.evidence() for p in certain],
            "possible": [p.evidence() for p in paths if not p.certain],
        }
        admins = sorted(
            {e for e, held in graph.admin_of.items() for proj, _r in held if proj == pid}
        )
        if certain:
            who = ", ".join(sorted({p.principal for p in certain}))
            yield ctx.fail(
                project,
                f"admin-equivalent through service-account impersonation: {who}",
                **evidence,
            )
        elif paths:
            who = ", ".join(sorted({p.principal for p in paths}))
            yield ctx.unknown(
                project,
                "possible admin-equivalence through service-account impersonation "
                f"(conditional or unexpanded grants): {who}",
                **evidence,
            )
        elif unknown := sorted(e for e in admins if e in graph.unknown_policies):
            yield ctx.unknown(
                project,
                f"who may impersonate {', '.join(unknown)} (Owner/Editor) is unknown: its IAM "
                "policy could not be read",
                admin_service_accounts=admins,
            )
        elif gap := lineage(ctx.inventory, project).gap:
            yield ctx.unknown(
                project,
                "no principal can impersonate a service account holding Owner/Editor on what "
                f"was read, but inherited grants are unknown: {gap}",
                admin_service_accounts=admins,
            )
        else:
            yield ctx.passed(
                project,
                "no principal can impersonate a service account holding Owner/Editor",
                admin_service_accounts=admins,
            )
