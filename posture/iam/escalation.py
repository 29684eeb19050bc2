"""Privilege-escalation techniques: who can become whom, or become an administrator.

Each function yields :class:`Edge` objects found with the evaluator. An edge ``P -> Q`` means P
can obtain Q's permissions (assume it, mint its credentials, join it); ``P -> ADMIN`` means P can
grant itself every permission. Techniques that rewrite a principal's own policies are void when
a permissions boundary caps that principal and it cannot remove the boundary; their requests
carry ``iam:PolicyARN`` (AdministratorAccess) and ``iam:PermissionsBoundary`` (the target's), so
a grant limited to a read-only policy or to a capped target is decided, not conditional. The
SCPs of a member account that take away the power to grant permissions cap its principals the
same way, and no principal of the account can remove them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from posture.iam.conditions import ABSENT, Value
from posture.iam.evaluate import Decision, Evaluator, ResourcePolicy, Verdict
from posture.iam.policy import Effect, Policy
from posture.iam.principals import Principal

ADMIN = "posture:admin"
# the policy an escalation attaches: an AWS-managed policy that exists in every account
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    technique: str  # e.g. "iam:PassRole+ec2:RunInstances"
    detail: str  # one sentence for the report
    verdicts: tuple[tuple[str, Verdict], ...]  # (action on resource, verdict) that grant it
    conditional: bool = False

    def evidence(self) -> dict[str, object]:
        return {
            "from": self.source,
            "to": self.target,
            "technique": self.technique,
            "detail": self.detail,
            "conditional": self.conditional,
            "grants": [{"request": req, **v.evidence()} for req, v in self.verdicts],
        }


# service principal -> the actions that, with iam:PassRole, run code as the passed role
PASSROLE_TECHNIQUES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ec2.amazonaws.com", ("ec2:RunInstances",), "instance/posture-probe"),
    (
        "lambda.amazonaws.com",
        ("lambda:CreateFunction", "lambda:InvokeFunction"),
        "function:posture-probe",
    ),
    ("cloudformation.amazonaws.com", ("cloudformation:CreateStack",), "stack/posture-probe/probe"),
    ("glue.amazonaws.com", ("glue:CreateDevEndpoint",), "devEndpoint/posture-probe"),
    (
        "ecs-tasks.amazonaws.com",
        ("ecs:RegisterTaskDefinition", "ecs:RunTask"),
        "task-definition/posture-probe:1",
    ),
)
_SERVICE_OF = {
    "ec2": "ec2",
    "lambda": "lambda",
    "cloudformation": "cloudformation",
    "glue": "glue",
    "ecs": "ecs",
}

SELF_POLICY_ACTIONS = {
    "user": ("iam:PutUserPolicy", "iam:AttachUserPolicy"),
    "role": ("iam:PutRolePolicy", "iam:AttachRolePolicy"),
    "group": ("iam:PutGroupPolicy", "iam:AttachGroupPolicy"),
}
_BOUNDARY_REMOVAL = {
    "user": "iam:DeleteUserPermissionsBoundary",
    "role": "iam:DeleteRolePermissionsBoundary",
}


def _edge(
    src: Principal,
    target: str,
    technique: str,
    detail: str,
    grants: list[tuple[str, Verdict]],
    conditional: bool = False,
) -> Edge:
    cond = conditional or any(v.decision == Decision.CONDITIONAL for _, v in grants)
    return Edge(src.arn, target, technique, detail, tuple(grants), cond)


def try_grant(
    ev: Evaluator,
    p: Principal,
    action: str,
    resource: str,
    rp: ResourcePolicy | None = None,
    extra: Mapping[str, Value] | None = None,
) -> Verdict | None:
    if rp is None and not ev.can_ever(p, action):
        return None
    verdict = ev.evaluate(p, action, resource, rp, extra)
    return verdict if verdict.decision.possible else None


def direct_admin(ev: Evaluator, p: Principal) -> Iterator[Edge]:
    verdict = ev.admin(p)
    if verdict.decision.possible:
        yield _edge(
            p,
            ADMIN,
            "admin-policy",
            f"{p.name}'s policies allow every action on every resource",
            [("*:* on *", verdict)],
        )


def policy_context(action: str, target: Principal | None) -> dict[str, Value]:
    """The condition keys a policy-writing request carries: ``iam:PolicyARN`` (the admin policy
    it would attach) and ``iam:PermissionsBoundary`` (the target's boundary; absent on a target
    without one, or on a future principal)."""
    extra: dict[str, Value] = {}
    if action.startswith("iam:Attach"):
        extra["iam:policyarn"] = (ADMIN_POLICY,)
    if action in SELF_POLICY_ACTIONS["user"] + SELF_POLICY_ACTIONS["role"]:
        bound = None if target is None else target.asset.attr("permissions_boundary_arn")
        extra["iam:permissionsboundary"] = (str(bound),) if bound else ABSENT
    return extra


def boundary_stays(ev: Evaluator, target: Principal, actor: Principal) -> bool:
    """The target's boundary would cap what new policies grant (the actor cannot remove it), or
    its organisation's SCPs do (no principal of a member account can remove them)."""
    if ev.capped(target):
        return True
    if target.boundary is None and not target.boundary_unknown:
        return False
    removal = _BOUNDARY_REMOVAL.get(target.kind)
    return removal is None or try_grant(ev, actor, removal, target.arn) is None


def modify_policies(ev: Evaluator, actor: Principal, target: Principal) -> Iterator[Edge]:
    """``actor`` rewrites the permissions of ``target`` (itself, one of its groups, or another
    principal it can reach): put or attach a policy, or a new default policy version."""
    if target.kind == "group" or boundary_stays(ev, target, actor):
        return
    holders = [target] + [ev.principals[g] for g in group_arns(ev, target)]
    for holder in holders:
        for action in SELF_POLICY_ACTIONS[holder.kind]:
            extra = policy_context(action, holder)
            verdict = try_grant(ev, actor, action, holder.arn, extra=extra)
            if verdict is not None:
                yield _edge(
                    actor,
                    ADMIN,
                    action,
                    f"{actor.name} can {action} on {holder.kind} {holder.name} and grant it '*'",
                    [(f"{action} on {holder.arn}", verdict)],
                )
    for policy in target.policies:
        asset = ev.store.assets.get(policy.label)
        if asset is None or asset.attr("aws_managed") is not False:
            continue
        verdict = try_grant(ev, actor, "iam:CreatePolicyVersion", policy.label)
        if verdict is not None:
            yield _edge(
                actor,
                ADMIN,
                "iam:CreatePolicyVersion",
                f"{actor.name} can write a new default version of {asset.name}, which "
                f"applies to {target.name}",
                [(f"iam:CreatePolicyVersion on {policy.label}", verdict)],
            )
        verdict = try_grant(ev, actor, "iam:SetDefaultPolicyVersion", policy.label)
        if verdict is not None:
            yield _edge(
                actor,
                ADMIN,
                "iam:SetDefaultPolicyVersion",
                f"{actor.name} can switch {asset.name} to another version (non-default "
                "versions are not collected: conditional)",
                [(f"iam:SetDefaultPolicyVersion on {policy.label}", verdict)],
                conditional=True,
            )


def group_arns(ev: Evaluator, p: Principal) -> list[str]:
    if p.kind != "user":
        return []
    groups = ev.groups_by_name()
    return [groups[n] for n in p.asset.attr("group_names") or () if n in groups]


def credentials(ev: Evaluator, p: Principal, users: list[Principal]) -> Iterator[Edge]:
    """Mint another user's credentials: access key, console password (new or reset)."""
    able = [
        a
        for a in ("iam:CreateAccessKey", "iam:UpdateLoginProfile", "iam:CreateLoginProfile")
        if ev.can_ever(p, a)
    ]
    if not able:
        return
    for u in users:
        if u.arn == p.arn:
            continue
        console = u.asset.attr("has_console_password")
        login = "iam:UpdateLoginProfile" if console else "iam:CreateLoginProfile"
        for action in (a for a in able if a in ("iam:CreateAccessKey", login)):
            verdict = try_grant(ev, p, action, u.arn)
            if verdict is not None:
                yield _edge(
                    p,
                    u.arn,
                    action,
                    f"{p.name} can {action} for user {u.name} and sign in as it",
                    [(f"{action} on {u.arn}", verdict)],
                )
                break


def join_groups(ev: Evaluator, p: Principal, groups: list[Principal]) -> Iterator[Edge]:
    if p.kind != "user" or not ev.can_ever(p, "iam:AddUserToGroup"):
        return
    mine = set(p.asset.attr("group_names") or ())
    for g in groups:
        if g.name in mine:
            continue
        verdict = try_grant(ev, p, "iam:AddUserToGroup", g.arn)
        if verdict is not None:
            yield _edge(
                p,
                g.arn,
                "iam:AddUserToGroup",
                f"{p.name} can add itself to group {g.name}",
                [(f"iam:AddUserToGroup on {g.arn}", verdict)],
            )


def rewrite_trust(ev: Evaluator, p: Principal, roles: list[Principal]) -> Iterator[Edge]:
    if not ev.can_ever(p, "iam:UpdateAssumeRolePolicy"):
        return
    for r in roles:
        if r.arn == p.arn:
            continue
        verdict = try_grant(ev, p, "iam:UpdateAssumeRolePolicy", r.arn)
        if verdict is not None:
            yield _edge(
                p,
                r.arn,
                "iam:UpdateAssumeRolePolicy",
                f"{p.name} can rewrite the "
                f"trust policy of {r.name} to trust itself, then assume it",
                [(f"iam:UpdateAssumeRolePolicy on {r.arn}", verdict)],
            )


def trust_policy(ev: Evaluator, role: Principal) -> Policy:
    return ev.store.resource_policy(f"{role.arn}#trust", role.asset.attr("trust_policy"))


def trusted_services(policy: Policy) -> set[str]:
    out: set[str] = set()
    for s in policy.statements:
        if s.effect == Effect.ALLOW and s.principal is not None and not s.not_principal:
            out.update(x.lower() for x in s.principal.services)
    return out


def assume(ev: Evaluator, p: Principal, role: Principal) -> Iterator[Edge]:
    if p.arn == role.arn:
        return
    rp = ResourcePolicy(trust_policy(ev, role), role.account, "trust")
    verdict = try_grant(ev, p, "sts:AssumeRole", role.arn, rp)
    if verdict is not None:
        yield _edge(
            p,
            role.arn,
            "sts:AssumeRole",
            f"{p.name} can assume {role.name}",
            [(f"sts:AssumeRole on {role.arn}", verdict)],
        )


def run_grants(
    ev: Evaluator, p: Principal, actions: tuple[str, ...], resource: str
) -> list[tuple[str, Verdict]] | None:
    """The verdicts that let ``p`` run code in a service (each of ``actions`` on a new resource
    of it), or None when one is not possible."""
    grants: list[tuple[str, Verdict]] = []
    for action in actions:
        svc = action.split(":", 1)[0]
        arn = f"arn:aws:{_SERVICE_OF[svc]}:us-east-1:{p.account}:{resource}"
        verdict = try_grant(ev, p, action, arn)
        if verdict is None:
            return None
        grants.append((f"{action} on {arn}", verdict))
    return grants


def pass_role(
    ev: Evaluator,
    p: Principal,
    by_service: dict[str, list[Principal]],
) -> Iterator[Edge]:
    """iam:PassRole of a role that a service assumes, plus that service's run-code actions."""
    if not ev.can_ever(p, "iam:PassRole"):
        return
    for service, actions, resource in PASSROLE_TECHNIQUES:
        roles = by_service.get(service)
        if not roles:
            continue
        grants = run_grants(ev, p, actions, resource)
        if grants is not None:
            for r in roles:
                verdict = try_grant(
                    ev, p, "iam:PassRole", r.arn, extra={"iam:passedtoservice": (service,)}
                )
                if verdict is not None:
                    technique = "iam:PassRole+" + "+".join(actions)
                    yield _edge(
                        p,
                        r.arn,
                        technique,
                        f"{p.name} can pass {r.name} to "
                        f"{service} and run code as it ({', '.join(actions)})",
                        [(f"iam:PassRole on {r.arn}", verdict), *grants],
                    )
