"""Identity: effective administrative power, direct or through privilege escalation.

These checks read the identity graph (``posture.iam``): a principal is admin-equivalent when a
path of escalation edges (assume a role, pass a role to a service, mint another user's
credentials, rewrite a policy, join a group) leads it to every permission. Findings carry the
shortest path, each edge with the statements that grant it. In a member account of an AWS
Organization the evaluator applies the SCPs on the account's path: an administrator they fence
passes here, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import identity

from posture.engine import CheckContext, Result
from posture.iam.aws import IDENTITY_READS, path_evidence, principal_kind
from posture.iam.principals import ROLE, USER
from posture.model import Principle, Severity
from posture.registry import check

_FENCED = (
    "its own policies grant every action, but the organisation's SCPs fence it (see "
    "aws.organization.no_admin_policies_behind_scp_fence)"
)


@check("aws.iam.no_privilege_escalation_paths", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads=IDENTITY_READS)
def no_privilege_escalation_paths(ctx: CheckContext) -> Iterator[Result]:
    """No IAM principal can escalate to administrator

    A principal that is not an administrator on paper but can pass an admin role to EC2, rewrite
    its own policy or mint an admin's keys is an administrator in fact. Direct administrators pass
    here (they are judged by the admin checks); a path that depends on a condition the inventory
    cannot decide is inconclusive.

    Remediation: Break the path: scope iam:PassRole to the roles a workload needs (with
    iam:PassedToService), remove iam:Put*/Attach*/CreatePolicyVersion on policies the principal
    holds, restrict CreateAccessKey/LoginProfile and UpdateAssumeRolePolicy to administrators, or
    cap the principal with a permissions boundary.
    """
    graph = identity(ctx)
    for asset in ctx.inventory.of(USER, ROLE):
        if asset.attr("service_linked"):
            continue
        path = graph.admin_path(asset.uid)
        p = graph.principal(asset.uid)
        unknown = list(p.unknown) if p else []
        fenced = graph.evaluator.fenced(p) if p else ()
        if path is None:
            if unknown:
                yield ctx.unknown(asset, "policies incompletely known", unknown=unknown)
            elif fenced:
                yield ctx.passed(asset, _FENCED, service_control_policies=list(fenced))
            else:
                yield ctx.passed(asset, "no path to administrator")
        elif path.direct:
            yield ctx.passed(
                asset,
                "administrator by its own policies (no escalation needed)",
                **path_evidence(graph, asset.uid),
            )
        elif path.conditional:
            yield ctx.unknown(
                asset,
                f"may escalate to administrator under conditions: {path.describe(graph.names())}",
                **path_evidence(graph, asset.uid),
            )
        else:
            yield ctx.fail(
                asset,
                f"can escalate to administrator in {len(path.edges)} step(s): "
                f"{path.describe(graph.names())}",
                **path_evidence(graph, asset.uid),
            )


@check("aws.iam.users_not_admin_equivalent", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads=IDENTITY_READS)
def users_not_admin_equivalent(ctx: CheckContext) -> Iterator[Result]:
    """No IAM user holds standing administrator power

    An IAM user is a standing identity: its password and keys work at any time. One that is
    admin-equivalent, directly or by escalation, is permanent administrator access. Roles are
    judged by the escalation and trust checks.

    Remediation: Give people least-privilege day-to-day access and let them assume a monitored
    admin role (with MFA, short sessions) only when needed, or use IAM Identity Center.
    """
    graph = identity(ctx)
    for user in ctx.inventory.of(USER):
        path = graph.admin_path(user.uid)
        p = graph.principal(user.uid)
        if path is None:
            fenced = graph.evaluator.fenced(p) if p is not None else ()
            if p is not None and p.unknown:
                yield ctx.unknown(user, "policies incompletely known", unknown=list(p.unknown))
            elif fenced:
                yield ctx.passed(user, f"user is not admin-equivalent: {_FENCED}",
                                 service_control_policies=list(fenced))
            else:
                yield ctx.passed(user, "user is not admin-equivalent")
            continue
        how = "directly" if path.direct else "through escalation"
        evidence = {**path_evidence(graph, user.uid), "principal_kind": principal_kind("user")}
        if path.conditional:
            yield ctx.unknown(
                user, f"user may be admin-equivalent {how} under conditions", **evidence
            )
        else:
            yield ctx.fail(
                user, f"user is admin-equivalent {how}: {path.describe(graph.names())}", **evidence
            )


@check("aws.iam.admin_users_have_no_access_keys", Severity.CRITICAL,
       (Principle.JUST_IN_TIME, Principle.LEAST_PRIVILEGE),
       reads=IDENTITY_READS | {f"{USER}#access_keys"})
def admin_users_have_no_access_keys(ctx: CheckContext) -> Iterator[Result]:
    """No admin-equivalent IAM user holds an active access key

    A long-lived access key on an administrator is standing privileged access that leaks through
    code, CI logs and laptops, and works from anywhere until someone revokes it.

    Remediation: Delete the user's access keys; automation that needs admin power should assume a
    role (OIDC federation, instance or task roles) with short-lived credentials.
    """
    graph = identity(ctx)
    for user in ctx.inventory.of(USER):
        keys = user.attr("access_keys")
        if keys is None:
            yield ctx.unknown(user, "access keys unknown")
            continue
        active = [k.get("access_key_id") for k in keys if k.get("status") == "Active"]
        if not active:
            yield ctx.passed(user, "user has no active access key")
            continue
        path = graph.admin_path(user.uid)
        if path is None:
            yield ctx.passed(
                user, "user with access keys is not admin-equivalent", access_key_ids=active
            )
        elif path.conditional:
            yield ctx.unknown(
                user,
                "user with access keys may be admin-equivalent under conditions",
                access_key_ids=active,
                **path_evidence(graph, user.uid),
            )
        else:
            yield ctx.fail(
                user,
                f"admin-equivalent user holds {len(active)} active access key(s)",
                access_key_ids=active,
                **path_evidence(graph, user.uid),
            )
