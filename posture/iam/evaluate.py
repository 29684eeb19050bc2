"""The policy evaluator: may this principal perform this action on this resource?

AWS's evaluation logic for one account: an explicit deny anywhere (identity policies, the
permissions boundary, the resource policy) wins; otherwise the request is allowed by an identity
policy (and, with a boundary, by the boundary too) or by a resource policy that names the
principal itself. KMS keys are the exception: the key policy must allow, directly or by
delegating to the account's IAM policies. In a member account of an AWS Organization, the
service control policies on the account's path are a ceiling on every request of its principals
(:mod:`posture.iam.scp`); session policies are not collected and not evaluated.

Conditions are three-valued (:mod:`posture.iam.conditions`): a grant that depends on a condition
the inventory cannot decide is CONDITIONAL, and so is every grant of a principal whose policy
set or boundary is not fully known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from posture.iam.actions import ActionCatalogue, catalogue
from posture.iam.conditions import RequestContext, Truth, Value, all_true, outsider_context
from posture.iam.policy import Effect, Policy, Statement
from posture.iam.principals import PolicyStore, Principal, load_principals
from posture.iam.scp import UNREAD, Ceiling, Fence, ScpDecision, exempt, fences
from posture.model import Inventory


class Decision(StrEnum):
    ALLOWED = "allowed"
    CONDITIONAL = "conditional"  # allowed only if conditions the inventory cannot decide hold
    DENIED = "denied"  # an explicit deny applies
    IMPLICIT_DENY = "implicit-deny"  # nothing allows it

    @property
    def possible(self) -> bool:
        return self in (Decision.ALLOWED, Decision.CONDITIONAL)


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    allowed_by: tuple[Statement, ...] = ()
    denied_by: tuple[Statement, ...] = ()
    conditional: tuple[Statement, ...] = ()  # statements whose conditions were undecidable
    missing: int = 0  # admin verdicts: the catalogue actions not granted (bitset)
    limited_by: tuple[str, ...] = ()  # admin verdicts: boundary that removes part of the grant
    scp: tuple[str, ...] = ()  # what the organisation's SCPs did to the verdict, in words

    @property
    def allowed(self) -> bool:
        return self.decision == Decision.ALLOWED

    def evidence(self) -> dict[str, object]:
        out: dict[str, object] = {"decision": self.decision.value}
        if self.allowed_by:
            out["allowed_by"] = [s.evidence() for s in self.allowed_by]
        if self.denied_by:
            out["denied_by"] = [s.evidence() for s in self.denied_by]
        if self.conditional:
            out["conditional_on"] = [s.evidence() for s in self.conditional]
        if self.limited_by:
            out["limited_by_boundary"] = list(self.limited_by)
        if self.scp:
            out["service_control_policies"] = list(self.scp)
        return out


IMPLICIT = Verdict(Decision.IMPLICIT_DENY)


@dataclass(frozen=True, slots=True)
class ResourcePolicy:
    """A resource-based policy and the kind of resource it sits on (``kms`` is special)."""

    policy: Policy
    account: str
    kind: str = ""


def _match(
    stmts: Iterable[Statement],
    action: str,
    bit: int | None,
    resource: str,
    variables: Mapping[str, str],
    ctx: RequestContext,
) -> tuple[list[Statement], list[Statement]]:
    """(definitely applying, conditionally applying) statements."""
    sure, maybe = [], []
    for s in stmts:
        if not s.matches_action(action, bit) or not s.matches_resource(resource, variables):
            continue
        t = all_true(s.conditions, ctx) if s.conditions else Truth.TRUE
        if t == Truth.TRUE:
            sure.append(s)
        elif t == Truth.UNKNOWN:
            maybe.append(s)
    return sure, maybe


def principal_named(stmt: Statement, arn: str, account: str) -> str | None:
    """How a resource-policy statement names the caller: "direct", "account" or None."""
    spec = stmt.principal
    if spec is None:
        return None
    named = spec.wildcard or arn in spec.aws
    in_account = account in spec.aws or f"arn:aws:iam::{account}:root" in spec.aws
    if stmt.not_principal:
        return None if (named or in_account) else "direct"
    if named:
        return "direct"
    return "account" if in_account else None


class Evaluator:
    """Effective permissions of every principal in one inventory."""

    def __init__(self, inventory: Inventory, actions: ActionCatalogue | None = None) -> None:
        self.inventory = inventory
        self.catalogue = actions or catalogue()
        self.store = PolicyStore(inventory, self.catalogue)
        self.principals = load_principals(inventory, self.store)
        self._admin: dict[str, Verdict] = {}
        self._holders: dict[str, list[Principal]] | None = None
        self._groups: dict[str, str] | None = None
        self._by_action: dict[tuple[str, int], Any] = {}
        self._ident_cache: dict[tuple[Any, ...], Any] = {}
        self.fences = fences(inventory, self.catalogue)
        self._fenced: dict[str, tuple[str, ...]] = {}
        self._scp_cache: dict[tuple[Any, ...], ScpDecision] = {}
        self._ceilings: dict[tuple[Any, ...], Ceiling] = {}
        # SCPs that remove any of these fence an administrator (it cannot grant permissions);
        # SCPs that remove other actions are guardrails on what the account may do at all
        self._core = 0
        for action in _GRANTING:
            self._core |= self.catalogue.expand(action)

    def groups_by_name(self) -> dict[str, str]:
        if self._groups is None:
            self._groups = {p.name: p.arn for p in self.principals.values() if p.kind == "group"}
        return self._groups

    def holders(self, label: str) -> list[Principal]:
        """The principals a managed or inline policy applies to (directly or via a group)."""
        if self._holders is None:
            index: dict[str, list[Principal]] = {}
            for p in self.principals.values():
                for policy in dict.fromkeys(q.label for q in p.policies):
                    index.setdefault(policy, []).append(p)
            self._holders = index
        return self._holders.get(label, [])

    def fence(self, principal: Principal) -> Fence | None:
        """The SCPs that apply to the principal (None: standalone account, management account,
        service-linked role)."""
        if not self.fences:
            return None
        found = self.fences.get(principal.account)
        return None if found is None or exempt(principal.asset) else found

    def evaluate(
        self,
        principal: Principal,
        action: str,
        resource: str,
        resource_policy: ResourcePolicy | None = None,
        extra: Mapping[str, Value] | None = None,
    ) -> Verdict:
        verdict = self._evaluate(principal, action, resource, resource_policy, extra)
        fence = self.fence(principal) if verdict.decision.possible else None
        if fence is None:
            return verdict
        if not fence.known:
            return replace(verdict, scp=(UNREAD,))
        bit = self.catalogue.bit(action)
        key = None
        if fence.resource_free and bit is not None:
            key = (principal.arn, bit, tuple(sorted((extra or {}).items())))
        d = self._scp_cache.get(key) if key is not None else None
        if d is None:
            ctx = principal.context.with_values(extra or {})
            d = fence.decide(action, bit, resource, principal.variables, ctx)
            if key is not None:
                self._scp_cache[key] = d
        if d.truth == Truth.TRUE:
            return verdict
        if d.truth == Truth.FALSE:
            decision = Decision.DENIED if d.denied_by else Decision.IMPLICIT_DENY
            return Verdict(decision, verdict.allowed_by, d.denied_by, scp=d.reasons)
        return replace(
            verdict,
            decision=Decision.CONDITIONAL,
            conditional=verdict.conditional + d.conditional,
            scp=d.reasons,
        )

    def _evaluate(
        self,
        principal: Principal,
        action: str,
        resource: str,
        resource_policy: ResourcePolicy | None,
        extra: Mapping[str, Value] | None,
    ) -> Verdict:
        bit = self.catalogue.bit(action)
        ctx = principal.context.with_values(extra or {})
        var = principal.variables
        deny, deny_maybe, id_allow, id_maybe = self._identity(
            principal, action, bit, resource, ctx, extra
        )
        rp_allow: list[Statement] = []
        rp_maybe: list[Statement] = []
        delegated = resource_policy is None or resource_policy.kind != "kms"
        if resource_policy is not None:
            stmts = [
                s
                for s in resource_policy.policy.statements
                if principal_named(s, principal.arn, principal.account)
            ]
            d, dm = _match(
                [s for s in stmts if s.effect == Effect.DENY], action, bit, resource, var, ctx
            )
            deny, deny_maybe = deny + d, deny_maybe + dm
            for s in stmts:
                if s.effect != Effect.ALLOW:
                    continue
                sure, maybe = _match((s,), action, bit, resource, var, ctx)
                if principal_named(s, principal.arn, principal.account) == "account":
                    delegated = delegated or bool(sure or maybe)
                    continue
                rp_allow += sure
                rp_maybe += maybe
        if deny:
            return Verdict(Decision.DENIED, denied_by=tuple(deny))
        if not delegated:
            id_allow, id_maybe = [], []
        if (
            principal.kind == "role"
            and principal.boundary is not None
            and not (id_allow or id_maybe)
        ):
            rp_allow, rp_maybe = [], []  # a role session's boundary limits resource grants too
        allow = id_allow + rp_allow
        maybe = id_maybe + rp_maybe + deny_maybe
        if allow and not deny_maybe and not principal.unknown:
            return Verdict(Decision.ALLOWED, allowed_by=tuple(allow))
        if allow or id_maybe or rp_maybe:
            return Verdict(Decision.CONDITIONAL, allowed_by=tuple(allow), conditional=tuple(maybe))
        return IMPLICIT

    def _identity(
        self,
        p: Principal,
        action: str,
        bit: int | None,
        resource: str,
        ctx: RequestContext,
        extra: Mapping[str, Value] | None,
    ) -> tuple[list[Statement], list[Statement], list[Statement], list[Statement]]:
        """(denies, conditional denies, allows, conditional allows) of the identity policies and
        the boundary. Memoized per (principal, action) when no statement names a resource."""
        allows, denies, bounds, independent = self._relevant(p, bit)
        key = None
        if independent and bit is not None:
            key = (p.arn, bit, tuple(sorted((extra or {}).items())))
            cached = self._ident_cache.get(key)
            if cached is not None:
                return cached
        var = p.variables
        deny, deny_maybe = _match(denies, action, bit, resource, var, ctx)
        id_allow, id_maybe = _match(allows, action, bit, resource, var, ctx)
        if p.boundary is not None and (id_allow or id_maybe):
            b_sure, b_maybe = _match(bounds, action, bit, resource, var, ctx)
            if not b_sure and not b_maybe:
                id_allow, id_maybe = [], []
            elif not b_sure:
                id_maybe, id_allow = id_allow + id_maybe + b_maybe, []
        out = (deny, deny_maybe, id_allow, id_maybe)
        if key is not None:
            self._ident_cache[key] = out
        return out

    def _relevant(
        self,
        p: Principal,
        bit: int | None,
    ) -> tuple[tuple[Statement, ...], tuple[Statement, ...], tuple[Statement, ...], bool]:
        """The principal's identity Allow and Deny statements and boundary Allow statements
        that name the action, and whether none of them names a specific resource (memoized per
        principal and catalogue action)."""
        bounds_all = p.boundary.allows() if p.boundary is not None else ()
        if bit is None:
            return p.allows, p.denies, bounds_all, False
        key = (p.arn, bit)
        found = self._by_action.get(key)
        if found is None:
            allows = tuple(s for s in p.allows if s.action_mask >> bit & 1)
            denies = tuple(s for s in p.denies if s.action_mask >> bit & 1)
            bounds = tuple(s for s in bounds_all if s.action_mask >> bit & 1)
            independent = all(
                s.resources == ("*",) and not s.not_resource for s in allows + denies + bounds
            )
            found = (allows, denies, bounds, independent)
            self._by_action[key] = found
        return found

    def can_ever(self, principal: Principal, action: str) -> bool:
        """Cheap pre-filter: some identity Allow statement names the action at all."""
        bit = self.catalogue.bit(action)
        if bit is None:
            return any(s.matches_action(action, None) for s in principal.allows)
        return bool(principal.allow_mask >> bit & 1)

    def admin(self, principal: Principal) -> Verdict:
        """Whether the principal may perform every catalogue action on every resource; in a
        member account, every action its SCPs leave, provided they leave it the power to grant
        permissions (:meth:`fenced` says when they do not)."""
        if principal.arn not in self._admin:
            verdict = self._compute_admin(principal)
            fence = self.fence(principal) if verdict.decision.possible else None
            if fence is not None:
                verdict = self._fence_admin(principal, verdict, fence)
            self._admin[principal.arn] = verdict
        return self._admin[principal.arn]

    def fenced(self, principal: Principal) -> tuple[str, ...]:
        """Why an administrator by its own policies is not one after SCPs (empty: it is not
        fenced, or it is no administrator by its policies)."""
        self.admin(principal)
        return self._fenced.get(principal.arn, ())

    def ceiling(self, p: Principal) -> Ceiling | None:
        """What the SCPs leave the principal on every resource (None: no readable SCP applies;
        computed once per principal)."""
        fence = self.fence(p)
        if fence is None or not fence.known:
            return None
        key = (fence.account, tuple(p.context.lookup(k) for k in fence.keys))
        found = self._ceilings.get(key)
        if found is None:
            found = self._ceilings[key] = fence.ceiling(p.context, self.catalogue.all)
        return found

    def _explain(self, p: Principal, removed: int) -> tuple[str, ...]:
        fence = self.fence(p)
        return () if fence is None else fence.explain(p.context, removed, self.catalogue)

    def capped(self, p: Principal) -> bool:
        """The SCPs keep the principal from granting permissions, whatever its own policies
        say: rewriting them (or assuming it) never makes it administrator."""
        ceiling = self.ceiling(p)
        return ceiling is not None and bool(self._core & ~ceiling.any)

    def _fence_admin(self, p: Principal, verdict: Verdict, fence: Fence) -> Verdict:
        if not fence.known:
            return replace(verdict, scp=(UNREAD,))
        full = self.catalogue.all
        ceiling = self.ceiling(p)
        assert ceiling is not None
        if self._core & ~ceiling.any:
            reasons = self._explain(p, full & ~ceiling.any) or ("the SCPs on the account's path",)
            self._fenced[p.arn] = reasons
            return Verdict(
                Decision.IMPLICIT_DENY,
                allowed_by=verdict.allowed_by,
                missing=full & ~ceiling.any,
                scp=reasons,
            )
        notes = self._explain(p, full & ~ceiling.any) if full & ~ceiling.any else ()
        if full & ~ceiling.any:
            lost = (full & ~ceiling.any).bit_count()
            notes = (f"SCP guardrails remove {lost} action(s) from every principal of the "
                     "account; administrator of what the organisation leaves it", *notes)
        if self._core & ~ceiling.sure:
            return replace(
                verdict,
                decision=Decision.CONDITIONAL,
                conditional=verdict.conditional + ceiling.conditional,
                scp=notes,
            )
        return replace(verdict, scp=notes)

    def remaining(self, p: Principal, mask: int) -> tuple[int, tuple[str, ...]]:
        """What is left of ``mask`` (granted on every resource) after the principal's
        unconditional denies and its boundary; and the policies that took the rest away."""
        d_sure, _, d_stmts, _ = self._masks(p.denies, p.context)
        left = mask & ~d_sure
        by = [s.policy for s in d_stmts if s.action_mask & mask]
        if p.boundary is not None:
            b_sure, b_maybe, _, _ = self._masks(p.boundary.allows(), p.context)
            left &= b_sure | b_maybe
            if (b_sure | b_maybe) & mask != mask:
                by.append(p.boundary.label)
        elif p.boundary_unknown:
            by.append("(unknown permissions boundary)")
        ceiling = self.ceiling(p)
        if ceiling is not None:
            if mask & ~ceiling.any & left:
                by += self._explain(p, mask & ~ceiling.any & left)
            left &= ceiling.any
        return left, tuple(dict.fromkeys(by))

    def _masks(
        self,
        stmts: Iterable[Statement],
        ctx: RequestContext,
    ) -> tuple[int, int, list[Statement], list[Statement]]:
        sure = maybe = 0
        sure_s, maybe_s = [], []
        for s in stmts:
            if not s.all_resources and not (s.effect == Effect.DENY and s.not_resource):
                continue
            t = all_true(s.conditions, ctx) if s.conditions else Truth.TRUE
            if t == Truth.TRUE:
                sure |= s.action_mask
                sure_s.append(s)
            elif t == Truth.UNKNOWN:
                maybe |= s.action_mask
                maybe_s.append(s)
        return sure, maybe, sure_s, maybe_s

    def _compute_admin(self, p: Principal) -> Verdict:
        full = self.catalogue.all
        if (p.allow_mask & full) != full:
            return Verdict(Decision.IMPLICIT_DENY, missing=full & ~p.allow_mask)
        ctx = p.context
        a_sure, a_maybe, a_stmts, a_cond = self._masks(p.allows, ctx)
        d_sure, d_maybe, d_stmts, d_cond = self._masks(p.denies, ctx)
        b_sure = b_maybe = full
        b_cond: list[Statement] = []
        if p.boundary is not None:
            b_sure, b_maybe, _, b_cond = self._masks(p.boundary.allows(), ctx)
            b_maybe |= b_sure
        elif p.boundary_unknown:
            b_sure = 0
        eff_sure = a_sure & ~(d_sure | d_maybe) & b_sure
        eff_any = (a_sure | a_maybe) & ~d_sure & b_maybe
        grants = tuple(_covering(a_stmts + a_cond, full))
        if eff_sure == full and not p.unknown:
            return Verdict(Decision.ALLOWED, allowed_by=grants)
        if eff_any == full:
            return Verdict(
                Decision.CONDITIONAL, allowed_by=grants, conditional=tuple(a_cond + d_cond + b_cond)
            )
        blockers = tuple(s for s in d_stmts if s.action_mask & a_sure)
        limited = (p.boundary.label,) if p.boundary is not None and b_maybe != full else ()
        return Verdict(
            Decision.IMPLICIT_DENY,
            allowed_by=grants,
            denied_by=blockers,
            missing=full & ~eff_any,
            limited_by=limited,
        )


POLICY_WRITE_ACTIONS = (
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutGroupPolicy",
    "iam:AttachGroupPolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
"""The actions that write a principal's permissions: its inline and attached policies and the
default version of a managed policy."""

_GRANTING = (*POLICY_WRITE_ACTIONS, "iam:UpdateAssumeRolePolicy")


def broad_grant(policy: Policy, full: int) -> tuple[int, list[Statement]]:
    """Actions a policy alone allows on every resource (its own unconditional denies removed),
    whatever its conditions, and the Allow statements that grant them."""
    allowed = denied = 0
    grants = []
    for s in policy.statements:
        if s.effect == Effect.ALLOW and s.all_resources:
            allowed |= s.action_mask
            grants.append(s)
        elif s.effect == Effect.DENY and not s.conditions and (s.all_resources or s.not_resource):
            denied |= s.action_mask
    return allowed & ~denied & full, grants


def _covering(stmts: list[Statement], full: int) -> list[Statement]:
    """A few statements whose actions together cover ``full`` (largest first)."""
    out, covered = [], 0
    for s in sorted(stmts, key=lambda s: -s.action_mask.bit_count()):
        if s.action_mask & ~covered:
            out.append(s)
            covered |= s.action_mask
        if covered & full == full:
            break
    return out


def world_verdict(
    policy: Policy, action: str, resource: str, actions: ActionCatalogue | None = None,
    context: Mapping[str, Value] | None = None,
) -> Verdict:
    """Whether an arbitrary outside principal may perform ``action`` under a resource policy.
    ``context``: request keys the caller cannot choose (lower-case), e.g. the auth type of the
    Lambda function URL the request comes through (``lambda:functionurlauthtype``)."""
    cat = actions or catalogue()
    bit = cat.bit(action)
    ctx = outsider_context().with_values(context or {})
    stmts = [
        s
        for s in policy.statements
        if s.principal is not None and (s.principal.wildcard if not s.not_principal else True)
    ]
    deny, deny_maybe = _match(
        [s for s in stmts if s.effect == Effect.DENY], action, bit, resource, {}, ctx
    )
    if deny:
        return Verdict(Decision.DENIED, denied_by=tuple(deny))
    allow, maybe = _match(
        [s for s in stmts if s.effect == Effect.ALLOW], action, bit, resource, {}, ctx
    )
    if allow and not deny_maybe:
        return Verdict(Decision.ALLOWED, allowed_by=tuple(allow))
    if allow or maybe:
        return Verdict(
            Decision.CONDITIONAL, allowed_by=tuple(allow), conditional=tuple(maybe + deny_maybe)
        )
    return IMPLICIT
