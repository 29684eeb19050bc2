"""Service control policies: the ceiling an AWS Organization puts on its member accounts.

AWS's documented evaluation (Organizations user guide, "SCP evaluation"): SCPs never grant.
For a principal of a member account, a request is permitted only if, at *every* level of the
account's path (the root, each OU, the account itself), at least one attached SCP allows it, and
no SCP at any level denies it (an explicit deny wins). Conditions are three-valued, as for
identity policies (:mod:`posture.iam.conditions`); ``NotAction``/``NotResource`` apply.

SCPs do not apply to the management account, to service-linked roles (path
``/aws-service-role/``), or to principals outside the organisation acting through a resource
policy (the evaluator only evaluates the account's own principals). ``aws:RequestedRegion`` is
the caller's choice: a request is judged in the best region the SCPs name (a region-restricting
SCP fences the other regions, not the principal).

The organisation context of a member's snapshot (the executor injects it) is three asset types
in region ``global``: the organisation, the account with its path, and one policy per SCP
attached on that path. With ``scps_known`` false nothing is fenced, and verdicts that an SCP
could change say so (:data:`UNREAD`). A level on the path with no SCP read is undecided (AWS
keeps at least one SCP on every level while SCPs are enabled); no SCP on any level means SCPs
are not enabled, and nothing is fenced.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.iam.actions import ActionCatalogue
from posture.iam.conditions import RequestContext, Truth, all_true
from posture.iam.policy import Effect, Policy, Statement, parse_policy
from posture.model import Asset, Inventory

ORGANIZATION = "AWS::Organizations::Organization"
ORG_ACCOUNT = "AWS::Organizations::Account"
ORG_POLICY = "AWS::Organizations::Policy"
SCP_TYPE = "SERVICE_CONTROL_POLICY"
UNREAD = (
    "SCPs could not be read; an SCP on the account's organisation path may deny what this "
    "verdict allows"
)
_REGION = "aws:requestedregion"


@dataclass(frozen=True, slots=True)
class Organization:
    """The organisation a snapshot's accounts belong to, as the executor describes it."""

    id: str
    management_account: str
    feature_set: str
    accounts: Mapping[str, Mapping[str, Any]]  # account id -> {"id","name","status","ou_path"}
    scps_known: bool
    trails_known: bool

    @classmethod
    def of(cls, asset: Asset) -> Organization:
        entries = asset.attr("accounts") or []
        return cls(
            id=str(asset.attr("id") or asset.name),
            management_account=str(asset.attr("management_account_id") or asset.account),
            feature_set=str(asset.attr("feature_set") or "ALL"),
            accounts={str(e.get("id")): e for e in entries if isinstance(e, Mapping)},
            scps_known=bool(asset.attr("scps_known")),
            trails_known=bool(asset.attr("trails_known")),
        )

    def member(self, account: str) -> bool:
        return account in self.accounts or account == self.management_account

    def describe(self, account: str) -> str:
        """``"sandbox-1 (111122223333, OU Root/Sandbox)"``, or the id when not a member."""
        entry = self.accounts.get(account)
        if entry is None:
            return account
        path = "/".join(str(x) for x in entry.get("ou_path") or ())
        return f"{entry.get('name') or account} ({account}" + (f", OU {path})" if path else ")")

    def pins(self, values: tuple[str, ...], key: str) -> bool | None:
        """Whether a PrincipalOrgID / PrincipalOrgPaths condition's values name this
        organisation (True), only others (False); None for values that are patterns."""
        ids = [v.split("/", 1)[0] for v in values]
        if key == "aws:principalorgid" and any("*" in v or "?" in v for v in ids):
            return None
        return any(i == self.id for i in ids)


def organization(inventory: Inventory) -> Organization | None:
    """The snapshot's organisation (None: a standalone account)."""
    for asset in inventory.of(ORGANIZATION):
        return Organization.of(asset)
    return None


@dataclass(frozen=True, slots=True)
class Level:
    """One level of an account's path (root, OU, the account) and the SCPs attached to it."""

    target: str
    kind: str  # "root" | "OU" | "account"
    name: str
    policies: tuple[Policy, ...]

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name} ({self.target})" if self.name else self.target


@dataclass(frozen=True, slots=True)
class ScpDecision:
    """The SCPs' verdict on one request: TRUE (within the ceiling), FALSE, or UNKNOWN."""

    truth: Truth
    denied_by: tuple[Statement, ...] = ()
    conditional: tuple[Statement, ...] = ()
    reasons: tuple[str, ...] = ()


WITHIN = ScpDecision(Truth.TRUE)


@dataclass(frozen=True, slots=True)
class Ceiling:
    """What the SCPs leave on every resource: ``sure`` (unconditionally), ``any`` (possibly),
    and the statements whose conditions were undecidable."""

    sure: int
    any: int
    conditional: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class Fence:
    """The SCPs on one member account's path; ``known`` false: they could not be read."""

    account: str
    organization: str
    known: bool
    levels: tuple[Level, ...]
    names: Mapping[str, str]  # policy label (ARN) -> policy name
    regions: tuple[str, ...] = field(init=False)
    resource_free: bool = field(init=False)  # no statement names a specific resource
    keys: tuple[str, ...] = field(init=False)  # the condition keys the SCPs test
    _fast: int = field(init=False, repr=False)  # every level allows, unconditionally, on "*"
    _denied: int = field(init=False, repr=False)  # some SCP statement denies (any condition)

    def __post_init__(self) -> None:
        regions: dict[str, None] = {}
        fast, denied = -1, 0
        for level in self.levels:
            here = 0
            for s in _statements(level):
                for c in s.conditions:
                    if c.key == _REGION:
                        regions.update((v, None) for v in c.values if "*" not in v)
                if s.effect == Effect.DENY:
                    denied |= s.action_mask
                elif not s.conditions and s.resources == ("*",) and not s.not_resource:
                    here |= s.action_mask
            fast &= here
        object.__setattr__(self, "regions", tuple(regions))
        keys = {c.key for level in self.levels for s in _statements(level) for c in s.conditions}
        object.__setattr__(self, "keys", tuple(sorted(keys)))
        object.__setattr__(
            self,
            "resource_free",
            all(
                s.resources == ("*",) and not s.not_resource
                for level in self.levels
                for s in _statements(level)
            ),
        )
        object.__setattr__(self, "_fast", fast if self.levels else 0)
        object.__setattr__(self, "_denied", denied)

    def _contexts(self, ctx: RequestContext) -> Iterator[RequestContext]:
        """The request as the caller may send it: in each region the SCPs name, or unknown."""
        yield ctx
        for region in self.regions:
            yield ctx.with_values({_REGION: (region,)})

    def decide(
        self,
        action: str,
        bit: int | None,
        resource: str,
        variables: Mapping[str, str],
        ctx: RequestContext,
    ) -> ScpDecision:
        if bit is not None and self._fast >> bit & 1 and not self._denied >> bit & 1:
            return WITHIN
        matching = [
            (level, [s for s in _statements(level)
                     if s.matches_action(action, bit) and s.matches_resource(resource, variables)])
            for level in self.levels
        ]
        best: ScpDecision | None = None
        for c in self._contexts(ctx):
            found = self._decide(action, matching, c)
            if best is None or found.truth > best.truth:
                best = found
            if best.truth == Truth.TRUE:
                break
        assert best is not None
        return best

    def _decide(
        self, action: str, matching: list[tuple[Level, list[Statement]]], ctx: RequestContext
    ) -> ScpDecision:
        """The verdict in one context; ``matching``: each level with its statements that match
        the action and resource (the same in every context)."""
        deny, deny_maybe, reasons = [], [], []
        truth = Truth.TRUE
        maybe: list[Statement] = []
        for level, statements in matching:
            sure_here = maybe_here = False
            for s in statements:
                t = all_true(s.conditions, ctx) if s.conditions else Truth.TRUE
                if s.effect == Effect.DENY:
                    if t == Truth.TRUE:
                        deny.append(s)
                        reasons.append(f"{self._name(s)} at {level.label} denies {action}")
                    elif t == Truth.UNKNOWN:
                        deny_maybe.append(s)
                elif t == Truth.TRUE:
                    sure_here = True
                elif t == Truth.UNKNOWN:
                    maybe_here = True
                    maybe.append(s)
            if not level.policies:
                truth = min(truth, Truth.UNKNOWN)
                reasons.append(f"no SCP attached at {level.label} was read")
            elif not sure_here:
                truth = min(truth, Truth.UNKNOWN if maybe_here else Truth.FALSE)
                if not maybe_here:
                    reasons.append(
                        f"no SCP at {level.label} ({self._policy_names(level)}) allows {action}"
                    )
        if deny:
            return ScpDecision(Truth.FALSE, tuple(deny), (), tuple(reasons))
        if deny_maybe:
            truth = min(truth, Truth.UNKNOWN)
            reasons += [f"{self._name(s)} denies {action} under conditions" for s in deny_maybe]
        if truth == Truth.UNKNOWN and maybe:
            reasons.append(f"SCPs allow {action} only under conditions")
        return ScpDecision(truth, (), tuple(maybe + deny_maybe), tuple(reasons))

    def ceiling(self, ctx: RequestContext, full: int) -> Ceiling:
        """The actions the SCPs allow on every resource for a principal with context ``ctx``
        (each action in the best region the SCPs name). It depends on ``ctx`` only through
        :attr:`keys`."""
        sure = any_ = 0
        cond: list[Statement] = []
        for c in self._contexts(ctx):
            c_sure, c_any, c_cond = self._ceiling(c, full)
            sure, any_ = sure | c_sure, any_ | c_any
            cond += c_cond
        return Ceiling(sure, any_, tuple(dict.fromkeys(cond)))

    def explain(self, ctx: RequestContext, removed: int, catalogue: ActionCatalogue) -> tuple[
        str, ...
    ]:
        """Which SCP at which level removes the actions of ``removed``, in words."""
        reasons: list[str] = []
        for level in self.levels:
            allowed = 0
            for s in _statements(level):
                t = all_true(s.conditions, ctx) if s.conditions else Truth.TRUE
                if s.effect == Effect.ALLOW and s.all_resources:
                    allowed |= s.action_mask if t != Truth.FALSE else 0
                elif s.effect == Effect.DENY and s.action_mask & removed and _everywhere(s) and (
                    t == Truth.TRUE
                ):
                    reasons.append(
                        f"{self._name(s)} at {level.label} denies "
                        f"{_some(catalogue, s.action_mask & removed)}"
                    )
            gap = removed & ~allowed
            if level.policies and gap:
                reasons.append(
                    f"the SCPs at {level.label} ({self._policy_names(level)}) allow no "
                    f"{_some(catalogue, gap)}"
                )
        return tuple(dict.fromkeys(reasons))

    def _ceiling(self, ctx: RequestContext, full: int) -> tuple[int, int, list[Statement]]:
        sure, any_ = full, full
        d_sure = d_maybe = 0
        cond: list[Statement] = []
        for level in self.levels:
            l_sure = l_maybe = 0
            for s in _statements(level):
                if s.effect == Effect.DENY and not _everywhere(s):
                    continue
                if s.effect == Effect.ALLOW and not s.all_resources:
                    continue
                t = all_true(s.conditions, ctx) if s.conditions else Truth.TRUE
                if t == Truth.UNKNOWN:
                    cond.append(s)
                if s.effect == Effect.DENY:
                    d_sure |= s.action_mask if t == Truth.TRUE else 0
                    d_maybe |= s.action_mask if t == Truth.UNKNOWN else 0
                elif t == Truth.TRUE:
                    l_sure |= s.action_mask
                elif t == Truth.UNKNOWN:
                    l_maybe |= s.action_mask
            if not level.policies:
                l_maybe = full
            sure &= l_sure
            any_ &= l_sure | l_maybe
        return sure & ~(d_sure | d_maybe), any_ & ~d_sure, cond

    def _name(self, s: Statement) -> str:
        name = self.names.get(s.policy, s.policy)
        return f"SCP {name}" + (f" (statement {s.sid})" if s.sid else "")

    def _policy_names(self, level: Level) -> str:
        return ", ".join(self.names.get(p.label, p.label) for p in level.policies)


def _statements(level: Level) -> Iterator[Statement]:
    for p in level.policies:
        yield from p.statements


def _everywhere(s: Statement) -> bool:
    """A deny that applies on every resource (or all but a few, NotResource)."""
    return s.all_resources or s.not_resource


def _some(catalogue: ActionCatalogue, mask: int, limit: int = 4) -> str:
    names = catalogue.names(mask, limit)
    more = mask.bit_count() - len(names)
    return ", ".join(names) + (f" (+{more} more)" if more > 0 else "")


def exempt(principal: Asset) -> bool:
    """Service-linked roles are outside every SCP."""
    return bool(principal.attr("service_linked")) or str(principal.attr("path") or "").startswith(
        "/aws-service-role/"
    )


def fences(inventory: Inventory, catalogue: ActionCatalogue) -> dict[str, Fence]:
    """The SCP fence of every member account of the snapshot (the management account, and
    accounts whose SCPs are not in effect, have none)."""
    org = organization(inventory)
    if org is None or org.feature_set.upper() != "ALL":
        return {}
    policies = [
        p for p in inventory.of(ORG_POLICY) if str(p.attr("type") or SCP_TYPE) == SCP_TYPE
    ]
    parsed = {p.uid: parse_policy(p.attr("document"), p.uid, catalogue) for p in policies}
    names = {p.uid: str(p.attr("name") or p.name) for p in policies}
    out: dict[str, Fence] = {}
    for acct in inventory.of(ORG_ACCOUNT):
        account = str(acct.attr("id") or acct.account)
        if acct.attr("management") or account == org.management_account:
            continue
        if not org.scps_known:
            out[account] = Fence(account, org.id, False, (), {})
            continue
        path = [p for p in acct.attr("parent_path") or () if isinstance(p, Mapping)]
        steps = [(str(p.get("id")), _kind(p), str(p.get("name") or "")) for p in path]
        steps.append((account, "account", str(acct.attr("name") or acct.name)))
        levels = tuple(
            Level(
                target,
                kind,
                name,
                tuple(
                    parsed[p.uid]
                    for p in policies
                    if target in (p.attr("targets") or ()) and not parsed[p.uid].unparsed
                ),
            )
            for target, kind, name in steps
        )
        if any(level.policies for level in levels):
            out[account] = Fence(account, org.id, True, levels, names)
    return out


def _kind(entry: Mapping[str, Any]) -> str:
    kind = str(entry.get("type") or "").upper()
    if kind == "ROOT" or str(entry.get("id", "")).startswith("r-"):
        return "root"
    return "OU"


@dataclass(frozen=True, slots=True)
class AccountGrant:
    """One Allow statement of a resource or trust policy that names other accounts (or any
    principal pinned to an organisation), split into inside and outside the organisation."""

    statement: Statement
    inside: tuple[str, ...]
    outside: tuple[str, ...]
    pin: str  # the organisation condition that keeps outsiders out ("" when none)

    def evidence(self, org: Organization | None) -> dict[str, Any]:
        def name(a: str) -> str:
            return org.describe(a) if org is not None else a

        return {
            "statement": dict(self.statement.raw),
            "inside_organization": [name(a) for a in self.inside],
            "outside_organization": [name(a) for a in self.outside],
            "organization_condition": self.pin or None,
        }


_ORG_KEYS = ("aws:principalorgid", "aws:principalorgpaths")
_POSITIVE = ("stringequals", "stringlike", "stringequalsignorecase")


def _org_pin(stmt: Statement, org: Organization | None) -> tuple[str, bool | None]:
    """(condition text, whether it pins the caller to this organisation: True; to others only:
    False; None when the statement has no organisation condition or it names a pattern)."""
    for c in stmt.conditions:
        if c.key in _ORG_KEYS and c.base in _POSITIVE and not c.if_exists and c.values:
            text = f"{c.operator}:{c.key}={','.join(c.values)}"
            if org is None:
                return text, None
            return text, org.pins(c.values, c.key)
    return "", None


def account_grants(
    policy: Policy, own: str, org: Organization | None, mask: int | None = None
) -> list[AccountGrant]:
    """The Allow statements of ``policy`` (on a resource of account ``own``) that grant other
    accounts: a named account is inside when it is a member of ``org`` or the statement pins
    the caller to ``org`` (aws:PrincipalOrgID / PrincipalOrgPaths); ``*`` counts only when
    pinned to an organisation (unpinned, it is public: another check's matter). ``mask``:
    only statements naming one of these actions."""
    out = []
    for s in policy.statements:
        if s.effect != Effect.ALLOW or s.principal is None:
            continue
        if mask is not None and not s.action_mask & mask:
            continue
        text, pinned = _org_pin(s, org)
        wildcard = s.principal.wildcard or s.not_principal
        named = [] if s.not_principal else [a for a in s.principal.accounts() if a != own]
        inside: list[str] = []
        outside: list[str] = []
        if wildcard and pinned is not None:
            where = inside if pinned else outside
            where.append(f"organization {org.id if pinned and org else text}")
        for acct in named:
            member = org is not None and (pinned is True or org.member(acct))
            (inside if member else outside).append(acct)
        if inside or outside:
            out.append(AccountGrant(s, tuple(inside), tuple(outside), text))
    return out
