"""Azure RBAC vocabulary for the identity semantics: the role-assignment asset types, the
built-in roles posture names, a role's control-plane permissions (per permission block:
``actions`` minus ``notActions``, Azure's ``*`` wildcard, case-insensitive; ``dataActions`` grant no
control-plane power) graded by :class:`Power`, scopes and their containment, and the grants
(assignments and PIM eligibilities) read from the inventory (attrs in docs/azure-assets.md).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from posture.iam.entra import PrincipalNames
from posture.model import Asset

MANAGEMENT_GROUP = "Microsoft.Management/managementGroups"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITION = "Microsoft.Authorization/roleDefinitions"
ELIGIBILITY = "Microsoft.Authorization/roleEligibilityScheduleInstances"

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"

ASSIGN = "Microsoft.Authorization/roleAssignments/write"
DEFINE = "Microsoft.Authorization/roleDefinitions/write"
_ATTR = "request[microsoft.authorization/roleassignments:{}]"
ROLE_ATTR, PRINCIPAL_ATTR, TYPE_ATTR = (
    _ATTR.format(k) for k in ("roledefinitionid", "principalid", "principaltype")
)


class Power(IntEnum):
    NONE = 0
    CONTRIBUTOR = 1  # every action but the authorization writes: no access management
    ASSIGN = 2  # writes role assignments: Owner one assignment away
    OWNER = 3  # every action


@dataclass(frozen=True, slots=True)
class Block:
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()

    def allows(self, action: str) -> bool:
        def hit(patterns: Iterable[str]) -> bool:
            return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)

        return hit(self.actions) and not hit(self.not_actions)


@dataclass(frozen=True, slots=True)
class Role:
    guid: str
    name: str
    custom: bool
    blocks: tuple[Block, ...]
    assignable_scopes: tuple[str, ...] = ("/",)
    uid: str | None = None  # the collected definition

    def allows(self, action: str) -> bool:
        return any(b.allows(action) for b in self.blocks)

    @property
    def power(self) -> Power:
        if any("*" in b.actions and not b.not_actions for b in self.blocks):
            return Power.OWNER
        if self.allows(ASSIGN):
            return Power.ASSIGN
        if any("*" in b.actions for b in self.blocks):
            return Power.CONTRIBUTOR
        return Power.NONE

    def assignable_at(self, scope: str) -> bool:
        return any(covers(s, scope) for s in self.assignable_scopes)

    @classmethod
    def of(cls, asset: Asset) -> Role:
        blocks = asset.attr("permissions")
        if blocks is None:  # a definition normalized before per-block permissions were kept
            blocks = [{"actions": asset.attr("actions"), "not_actions": asset.attr("not_actions")}]
        return cls(
            asset.uid.rsplit("/", 1)[-1].lower(),
            str(asset.attr("role_name") or asset.name),
            asset.attr("role_type") == "CustomRole",
            tuple(
                Block(tuple(b.get("actions") or ()), tuple(b.get("not_actions") or ()))
                for b in blocks
            ),
            tuple(str(s).lower() for s in asset.attr("assignable_scopes") or ("/",)),
            asset.uid,
        )


_CONTRIBUTOR_EXCLUDED = (
    "Microsoft.Authorization/*/Delete",
    "Microsoft.Authorization/*/Write",
    "Microsoft.Authorization/elevateAccess/Action",
)
BUILTIN: dict[str, Role] = {
    r.guid: r
    for r in (
        Role(OWNER, "Owner", False, (Block(("*",)),)),
        Role(CONTRIBUTOR, "Contributor", False, (Block(("*",), _CONTRIBUTOR_EXCLUDED),)),
        Role(
            USER_ACCESS_ADMIN,
            "User Access Administrator",
            False,
            (Block(("*/read", "Microsoft.Authorization/*", "Microsoft.Support/*")),),
        ),
        Role(
            RBAC_ADMIN,
            "Role Based Access Control Administrator",
            False,
            (
                Block(
                    (
                        ASSIGN,
                        "Microsoft.Authorization/roleAssignments/delete",
                        "*/read",
                        "Microsoft.Support/*",
                    )
                ),
            ),
        ),
        Role(READER, "Reader", False, (Block(("*/read",)),)),
    )
}
"""The built-in roles this module names, for when their definition was not collected."""


def covers(
    outer: str, inner: str, below: Mapping[str, frozenset[str]] | None = None
) -> bool:
    """Whether an assignment at ``outer`` applies at ``inner`` (both ARM ids, any case).

    ``below``: management group id (lower case) → the subscription ids below it, when the
    hierarchy was collected (``--management-group``); a group there covers exactly those
    subscriptions and what they contain. A group not there is an ancestor of every subscription
    that listed its assignment (ARM lists the assignments inherited from above)."""
    outer, inner = outer.lower().rstrip("/") or "/", inner.lower().rstrip("/") or "/"
    if outer in ("/", inner) or inner.startswith(outer + "/"):
        return True
    if "/managementgroups/" not in outer or "/managementgroups/" in inner:
        return False
    if below is not None and outer in below:
        parts = inner.strip("/").split("/")
        return len(parts) >= 2 and parts[0] == "subscriptions" and parts[1] in below[outer]
    return True


def scope_label(scope: str) -> str:
    parts = scope.strip("/").split("/")
    if not parts or parts == [""]:
        return "the tenant root"
    if "managementgroups" in [p.lower() for p in parts]:
        return f"management group {parts[-1]}"
    if len(parts) == 2:
        return f"subscription {parts[1]}"
    if len(parts) == 4 and parts[2].lower() == "resourcegroups":
        return f"resource group {parts[3]}"
    return f"resource {parts[-1]}"


@dataclass(frozen=True, slots=True)
class Grant:
    """A role held at a scope: an assignment (active, or a PIM activation) or an eligibility."""

    asset: Asset
    principal_id: str
    principal_type: str
    role_guid: str
    scope: str
    condition: str | None
    eligible: bool

    @property
    def activated(self) -> bool:
        return (self.asset.attr("pim") or {}).get("assignment_type") == "Activated"

    @classmethod
    def of(cls, asset: Asset) -> Grant:
        return cls(
            asset,
            str(asset.attr("principal_id") or ""),
            str(asset.attr("principal_type") or "Unknown"),
            str(asset.attr("role_definition_id") or "").rsplit("/", 1)[-1].lower(),
            str(asset.attr("scope") or "/").lower(),
            asset.attr("condition"),
            asset.type == ELIGIBILITY,
        )


def principal_label(grant: Grant, names: PrincipalNames | None = None) -> str:
    """The grant's principal by display name when ``names`` (the directory read) holds it
    (:meth:`posture.iam.entra.PrincipalNames.label`), else ``ServicePrincipal 5e4f…``: ARM's
    principal type and the object id."""
    if names is None:
        return f"{grant.principal_type} {grant.principal_id}"
    return names.label(grant.principal_id, grant.principal_type)


def role_label(role: Role | None, grant: Grant) -> str:
    if role is None:
        return f"role {grant.role_guid}"
    return f"{role.name} (custom role)" if role.custom else role.name
