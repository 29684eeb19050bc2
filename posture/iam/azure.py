"""Privilege escalation through Azure RBAC: who can make itself Owner, and how.

A role's control-plane permissions (:mod:`posture.iam.azure_roles`: per permission block,
``actions`` minus ``notActions``; ``dataActions`` are not counted) are graded by :class:`Power`:
every action (Owner, a custom ``*``) is administrator;
``Microsoft.Authorization/roleAssignments/write`` (User Access Administrator, Role Based Access
Control Administrator, custom roles with the action or ``Microsoft.Authorization/*``) is one
assignment away from Owner; ``*`` minus the authorization
writes (Contributor) changes every resource but grants no access.

Two techniques turn a grant (a role assignment, or a PIM eligibility: one activation away) into
more power at its scope and below, for the principal it names (user, group, service principal,
managed identity; group membership is not expanded):

- **assign**: ``roleAssignments/write`` lets the principal assign itself any role assignable at
  the scope. The assignment's *condition* (ABAC, :mod:`posture.iam.azure_condition`) is evaluated
  for a self-assignment of each privileged role (Owner, User Access Administrator, RBAC
  Administrator, Contributor, every collected role of that power, every role the condition names)
  with ``RoleDefinitionId``, ``PrincipalId`` and ``PrincipalType`` known: a condition limiting
  ``RoleDefinitionId`` to unprivileged roles removes the escalation; one that admits a privileged
  role only for other principals, or that cannot be decided, leaves it undecided.
- **define**: ``roleDefinitions/write`` over every assignable scope of a custom role the principal
  holds (an active assignment) lets it widen that role to ``*``: Owner-equivalent wherever the
  role is assigned to it.

A principal already holding an active Owner-power grant at the scope or above gains nothing. The
management group and root assignments a subscription listing returns are its ancestors' and cover
everything in it; when management groups were scanned (``--management-group``) their collected
hierarchy (``Microsoft.Management/managementGroups`` assets) says exactly which subscriptions a
group's assignment covers.

:meth:`RbacIndex.effective` says what one active grant gives its principal *now*, escalations
included - Owner power (the role itself, or a role it can assign itself / widen) or Contributor
power (a ``*`` role without the authorization writes, or one whose condition admits no role that
assigns roles) - where, and whether that is certain: what a workload holding the principal's
token (a VM's managed identity) can do (:mod:`posture.attack.azure`). A condition on an Owner or
``*`` grant is evaluated twice: for an ordinary control-plane action (:data:`ORDINARY`; the
delegation templates let it through: the role's other actions are then surely held, the
``floor``) and for a self-assignment of each privileged role, as above; what it leaves open is
uncertain, never assumed either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from posture.iam.azure_condition import Request, evaluate, guids
from posture.iam.azure_roles import (
    ASSIGN,
    BUILTIN,
    CONTRIBUTOR,
    DEFINE,
    ELIGIBILITY,
    MANAGEMENT_GROUP,
    OWNER,
    PRINCIPAL_ATTR,
    RBAC_ADMIN,
    ROLE_ASSIGNMENT,
    ROLE_ATTR,
    ROLE_DEFINITION,
    TYPE_ATTR,
    USER_ACCESS_ADMIN,
    Grant,
    Power,
    Role,
    covers,
    scope_label,
)
from posture.iam.conditions import Truth
from posture.model import Inventory


class Outcome(StrEnum):
    UNKNOWN_ROLE = "unknown_role"  # the role definition was not collected
    ADMIN = "admin"  # the role is Owner-power itself: the admin checks judge it
    COVERED = "covered"  # an eligibility already activated: judged on the active assignment
    ALREADY = "already"  # the principal already holds Owner power here: nothing to gain
    ESCALATES = "escalates"
    UNDECIDED = "undecided"  # a condition or an uncollected role leaves it open
    RESTRICTED = "restricted"  # the condition rules every privileged role out
    NONE = "none"  # no technique applies


_RANK = {
    Outcome.ESCALATES: 5,
    Outcome.UNDECIDED: 4,
    Outcome.RESTRICTED: 3,
    Outcome.ALREADY: 2,
    Outcome.NONE: 1,
}


@dataclass(frozen=True, slots=True)
class Assessment:
    grant: Grant
    role: Role | None
    outcome: Outcome
    technique: str | None = None  # ASSIGN or DEFINE
    power: Power = Power.NONE  # what the principal becomes
    via: str | None = None  # the role it assigns itself, or its custom role it widens
    at: str | None = None  # where it gains that power
    reason: str = ""  # what decides (a condition's verdict, what is missing, what it allows)
    allowed: tuple[str, ...] = ()  # the privileged roles the condition still admits

    def evidence(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "technique": self.technique,
            "becomes": None if self.power is Power.NONE else self.power.name.lower(),
            "via_role": self.via,
            "at_scope": self.at,
            "reason": self.reason or None,
            "condition": self.grant.condition,
            "condition_admits": list(self.allowed),
        }


@dataclass(frozen=True, slots=True)
class Effective:
    """What one active grant gives its principal: the power it holds or can give itself, and
    where. ``role`` None: the role definition was not collected (power unknown)."""

    grant: Grant
    role: Role | None
    power: Power  # OWNER: Owner power, held or self-assigned; NONE: nothing privileged
    at: str  # the scope of that power
    certain: bool = True  # False: a condition leaves it open
    technique: str | None = None  # ASSIGN or DEFINE: the principal gives itself the power
    via: str | None = None  # the role it assigns itself, or its custom role it widens
    reason: str = ""
    floor: Power = Power.NONE  # held whatever an undecided condition decides


ORDINARY = "Microsoft.Compute/virtualMachines/write"
"""A control-plane action outside access management: what a condition does to the ordinary
actions of an Owner or ``*`` grant (Microsoft's delegation templates let every action through
but the role-assignment writes and deletes they constrain)."""


def _star(role: Role) -> bool:
    """Every action (but what ``notActions`` subtract) in some block: Contributor power at least,
    whatever happens to the authorization writes."""
    return any("*" in b.actions for b in role.blocks)


class RbacIndex:
    """The roles and grants of an inventory, with the escalation assessment of each grant."""

    def __init__(self, inventory: Inventory) -> None:
        self.roles: dict[str, Role] = dict(BUILTIN)
        for d in inventory.of(ROLE_DEFINITION):
            role = Role.of(d)
            self.roles[role.guid] = role
        self.grants = [Grant.of(a) for a in inventory.of(ROLE_ASSIGNMENT, ELIGIBILITY)]
        # management group → the subscriptions below it, where the hierarchy was collected
        self.below: dict[str, frozenset[str]] = {
            mg.uid.lower(): frozenset(str(s).lower() for s in mg.attr("subscriptions") or ())
            for mg in inventory.of(MANAGEMENT_GROUP)
        }
        self.by_principal: dict[str, list[Grant]] = {}
        self._active: dict[str, list[Grant]] = {}  # by lower-case principal id
        for g in self.grants:
            self.by_principal.setdefault(g.principal_id, []).append(g)
            if not g.eligible:
                self._active.setdefault(g.principal_id.lower(), []).append(g)

    def role(self, guid: str) -> Role | None:
        return self.roles.get(guid)

    def held(self, principal: str, scope: str, excluding: Grant | None = None) -> set[Power]:
        """The powers the principal's active grants (but ``excluding``) give at ``scope``."""
        return {
            r.power
            for g in self.by_principal.get(principal, ())
            if not g.eligible and g is not excluding and covers(g.scope, scope, self.below)
            and (r := self.role(g.role_guid))
        }

    def assess(self, g: Grant) -> Assessment:
        role = self.role(g.role_guid)
        if role is None:
            return Assessment(g, None, Outcome.UNKNOWN_ROLE, reason="role definition not collected")
        if role.power is Power.OWNER:
            return Assessment(g, role, Outcome.ADMIN, power=Power.OWNER, at=g.scope)
        if g.eligible and any(
            o.activated and o.role_guid == g.role_guid and o.scope == g.scope
            for o in self.by_principal.get(g.principal_id, ())
        ):
            return Assessment(g, role, Outcome.COVERED)
        found = [self._assign(g, role)] if role.allows(ASSIGN) else []
        if role.allows(DEFINE):
            found.append(self._define(g, role))
        found.append(Assessment(g, role, Outcome.NONE))  # last: a technique's verdict first
        return max(found, key=lambda a: (_RANK[a.outcome], a.power))

    def active(self, principal: str) -> list[Grant]:
        """The principal's active grants (assignments; PIM eligibilities left out)."""
        return self._active.get(principal.lower(), [])

    def effective(self, g: Grant) -> Effective:
        """What the active grant ``g`` gives its principal now (see the module docstring)."""
        role = self.role(g.role_guid)
        if role is None:
            return Effective(g, None, Power.NONE, g.scope, False, reason="role definition not "
                             "collected")
        if g.condition and (role.power is Power.OWNER or _star(role)):
            return self._conditioned(g, role)
        if role.power is Power.OWNER:
            return Effective(g, role, Power.OWNER, g.scope)
        a = self.assess(g)
        if a.outcome in (Outcome.ESCALATES, Outcome.UNDECIDED):
            return Effective(g, role, a.power, a.at or g.scope, a.outcome is Outcome.ESCALATES,
                             a.technique, a.via, a.reason)
        if _star(role):
            return Effective(g, role, Power.CONTRIBUTOR, g.scope, reason=a.reason)
        return Effective(g, role, Power.NONE, g.scope, technique=a.technique, reason=a.reason)

    def _conditioned(self, g: Grant, role: Role) -> Effective:
        """An Owner or ``*`` grant with a condition: the condition decides its ordinary actions
        (:data:`ORDINARY`: the delegation template lets them through) and whether it may assign
        itself Owner; the ordinary actions it surely keeps are its ``floor``."""
        ordinary = evaluate(g.condition, Request(ORDINARY, {}))
        floor = Power.CONTRIBUTOR if ordinary is Truth.TRUE else Power.NONE
        a = self._assign(g, role, excluding=g) if role.allows(ASSIGN) else None
        if a is not None and a.outcome is Outcome.ESCALATES and a.power is Power.OWNER:
            return Effective(g, role, Power.OWNER, g.scope, True, ASSIGN, a.via, a.reason,
                             floor=floor)
        if a is not None and a.outcome is Outcome.UNDECIDED:
            return Effective(g, role, Power.OWNER, g.scope, False, ASSIGN, a.via, a.reason,
                             floor=floor)
        if a is not None and a.outcome is Outcome.ALREADY:
            return Effective(g, role, Power.NONE, g.scope, reason=a.reason)
        if ordinary is Truth.FALSE:
            return Effective(g, role, Power.NONE, g.scope, reason="its condition denies the "
                             "role's other actions")
        why = a.reason if a is not None else ""
        if ordinary is Truth.UNKNOWN:
            why = "under a condition that cannot be decided for the role's other actions"
        return Effective(g, role, Power.CONTRIBUTOR, g.scope, ordinary is Truth.TRUE, reason=why,
                         floor=floor)

    def _candidates(self, g: Grant) -> dict[str, Role | None]:
        """Privileged roles the principal could assign itself at the grant's scope."""
        out: dict[str, Role | None] = {
            guid: r for guid, r in self.roles.items() if r.power >= Power.CONTRIBUTOR
        }
        for guid in guids(g.condition):
            out.setdefault(guid, self.role(guid))
        return {guid: r for guid, r in out.items() if r is None or r.assignable_at(g.scope)}

    def _assign(self, g: Grant, role: Role, excluding: Grant | None = None) -> Assessment:
        held = self.held(g.principal_id, g.scope, excluding)
        if Power.OWNER in held:
            return Assessment(
                g, role, Outcome.ALREADY, ASSIGN, reason="already holds Owner power there"
            )
        yes: dict[Power, list[Role]] = {}
        maybe: list[str] = []
        for guid, cand in sorted(self._candidates(g).items(), key=_owner_first):
            mine = {
                ROLE_ATTR: [guid],
                PRINCIPAL_ATTR: [g.principal_id],
                TYPE_ATTR: [g.principal_type],
            }
            t_self = evaluate(g.condition, Request(ASSIGN, mine))
            t_other = evaluate(g.condition, Request(ASSIGN, {ROLE_ATTR: [guid]}))
            if cand is None:
                if t_self is not Truth.FALSE:
                    maybe.append(f"role {guid} (not collected)")
                continue
            power = Power.OWNER if cand.power >= Power.ASSIGN else cand.power
            if power in held:
                continue
            if t_self is Truth.TRUE:
                yes.setdefault(power, []).append(cand)
            elif t_self is Truth.UNKNOWN:
                maybe.append(cand.name)
            elif t_other is not Truth.FALSE:
                maybe.append(f"{cand.name} for other principals")
        allowed = tuple(r.name for p in sorted(yes, reverse=True) for r in yes[p])
        admits = f"its condition admits {', '.join(allowed)}" if g.condition else "no condition"
        if Power.OWNER in yes:
            return Assessment(
                g,
                role,
                Outcome.ESCALATES,
                ASSIGN,
                Power.OWNER,
                yes[Power.OWNER][0].name,
                g.scope,
                admits,
                allowed,
            )
        if maybe:
            return Assessment(
                g,
                role,
                Outcome.UNDECIDED,
                ASSIGN,
                Power.OWNER,
                None,
                g.scope,
                "its condition cannot be decided for " + ", ".join(maybe),
                allowed,
            )
        if Power.CONTRIBUTOR in yes:
            return Assessment(
                g,
                role,
                Outcome.ESCALATES,
                ASSIGN,
                Power.CONTRIBUTOR,
                yes[Power.CONTRIBUTOR][0].name,
                g.scope,
                f"{admits} but no role that can assign roles",
                allowed,
            )
        return Assessment(
            g,
            role,
            Outcome.RESTRICTED,
            ASSIGN,
            reason="its condition admits no privileged role for the principal itself",
        )

    def _define(self, g: Grant, role: Role) -> Assessment:
        verdict = evaluate(g.condition, Request(DEFINE, {}))
        own = [
            (o, c)
            for o in self.by_principal.get(g.principal_id, ())
            if not o.eligible
            and (c := self.role(o.role_guid)) is not None
            and c.custom
            and c.power < Power.OWNER
            and all(covers(g.scope, s, self.below) for s in c.assignable_scopes)
            and Power.OWNER not in self.held(g.principal_id, o.scope)
        ]
        if verdict is Truth.FALSE or not own:
            why = (
                "its condition forbids writing role definitions"
                if verdict is Truth.FALSE
                else "it holds no custom role whose assignable scopes all lie within "
                f"{scope_label(g.scope)}"
            )
            return Assessment(g, role, Outcome.NONE, DEFINE, reason=why)
        held, custom = own[0]
        outcome = Outcome.ESCALATES if verdict is Truth.TRUE else Outcome.UNDECIDED
        why = (
            f"it can widen its own custom role {custom.name} (assigned at "
            f"{scope_label(held.scope)}) to '*'"
        )
        if verdict is Truth.UNKNOWN:
            why += "; the condition of the grant cannot be decided"
        return Assessment(g, role, outcome, DEFINE, Power.OWNER, custom.name, held.scope, why)


def _owner_first(item: tuple[str, Role | None]) -> tuple[int, int, str]:
    """Owner, then the built-in roles that assign roles, then the rest by power."""
    guid, role = item
    builtin = (OWNER, USER_ACCESS_ADMIN, RBAC_ADMIN, CONTRIBUTOR)
    rank = builtin.index(guid) if guid in builtin else len(builtin)
    return (rank, -int(role.power) if role is not None else 0, guid)


def assessments(inventory: Inventory) -> Mapping[str, Assessment]:
    """The assessment of every role assignment and eligibility, by asset uid."""
    index = RbacIndex(inventory)
    return {g.asset.uid: index.assess(g) for g in index.grants}
