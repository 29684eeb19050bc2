"""What one active Azure grant gives its principal now (posture.iam.azure.RbacIndex.effective):
Owner power held or self-assigned, Contributor power, where, whether it is certain, and what an
undecided condition surely leaves (the floor); the grant itself never counts as the Owner that
makes its own escalation moot."""

from __future__ import annotations

from support.azure import (
    CONTRIBUTOR,
    OWNER,
    READER,
    RG,
    ROLES,
    SUB_SCOPE,
    UAA,
    inventory,
    role_assignment,
)

from posture.iam.azure import ASSIGN, Effective, RbacIndex
from posture.iam.azure_roles import Power
from posture.model import Asset

WRITE = "Microsoft.Authorization/roleAssignments/write"
GUARD = f"(!(ActionMatches{{'{WRITE}'}})) OR "
ONLY_READER = GUARD + ("(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
                       "ForAnyOfAnyValues:GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7})")
UNKNOWN_ENV = GUARD + "(@Environment[isPrivateLink] StringEquals 'x')"
NO_GUARD = "@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'x'"


def effective(*grants: Asset) -> list[Effective]:
    rbac = RbacIndex(inventory(*grants))
    return [rbac.effective(g) for g in rbac.active("5A000000-0000-0000-0000-000000000001")]


def one(grant: Asset) -> tuple[Power, bool, Power, str | None]:
    (e,) = effective(grant)
    return e.power, e.certain, e.floor, e.technique


def test_roles_without_conditions() -> None:
    assert one(role_assignment("o", OWNER)) == (Power.OWNER, True, Power.NONE, None)
    assert one(role_assignment("c", CONTRIBUTOR)) == (Power.CONTRIBUTOR, True, Power.NONE, None)
    assert one(role_assignment("r", READER)) == (Power.NONE, True, Power.NONE, None)
    uaa = effective(role_assignment("u", UAA, scope=RG))[0]
    assert (uaa.power, uaa.technique, uaa.via, uaa.at) == (Power.OWNER, ASSIGN, "Owner", RG)
    ghost = effective(role_assignment("g", f"{ROLES}/dddddddd-0000-0000-0000-000000000001"))[0]
    assert ghost.role is None and not ghost.certain


def test_an_owner_condition_decides_assignments_and_leaves_a_floor() -> None:
    # constrained to assign Reader: every action but access management, certain
    assert one(role_assignment("o", OWNER, condition=ONLY_READER)) == (
        Power.CONTRIBUTOR, True, Power.CONTRIBUTOR, None)
    # role assignments undecided: Owner uncertain, Contributor surely held
    assert one(role_assignment("o", OWNER, condition=UNKNOWN_ENV)) == (
        Power.OWNER, False, Power.CONTRIBUTOR, ASSIGN)
    # no guard: even its ordinary actions are undecided - no floor
    assert one(role_assignment("o", OWNER, condition=NO_GUARD)) == (
        Power.OWNER, False, Power.NONE, ASSIGN)
    # the conditioned grant does not make itself "already Owner"; another Owner grant does
    with_owner = effective(role_assignment("o", OWNER, condition=UNKNOWN_ENV),
                           role_assignment("o2", OWNER, scope=SUB_SCOPE))
    assert sorted((e.power, e.certain) for e in with_owner) == [(Power.NONE, True),
                                                                (Power.OWNER, True)]


def test_a_contributor_condition() -> None:
    assert one(role_assignment("c", CONTRIBUTOR, condition=ONLY_READER)) == (
        Power.CONTRIBUTOR, True, Power.CONTRIBUTOR, None)
    assert one(role_assignment("c", CONTRIBUTOR, condition=NO_GUARD)) == (
        Power.CONTRIBUTOR, False, Power.NONE, None)
    denied = "ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/read'}"
    assert one(role_assignment("c", CONTRIBUTOR, condition=denied))[0] is Power.NONE
