"""Azure role-assignment conditions (posture/iam/azure_condition.py): Microsoft's delegation
templates, the cross-product operators, three-valued evaluation of what is not known."""

from __future__ import annotations

import pytest

from posture.iam.azure_condition import Request, evaluate, guids, parse
from posture.iam.conditions import Truth

WRITE = "Microsoft.Authorization/roleAssignments/write"
ROLE = "request[microsoft.authorization/roleassignments:roledefinitionid]"
TYPE = "request[microsoft.authorization/roleassignments:principaltype]"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
BACKUP = ("5e467623-bb1f-42f4-a55d-6e525e11384b", "a795c7a0-d4a2-40c1-ae25-d81f01202912")

# "Constrain roles and principal types" (delegate-role-assignments-examples), verbatim layout
TEMPLATE = f"""(
 (
  !(ActionMatches{{'{WRITE}'}})
 )
 OR
 (
  @Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{BACKUP[0]}, {BACKUP[1]}}}
  AND
  @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{'User', 'Group'}}
 )
)
AND
(
 (
  !(ActionMatches{{'Microsoft.Authorization/roleAssignments/delete'}})
 )
 OR
 (
  @Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{BACKUP[0]}, {BACKUP[1]}}}
 )
)"""  # noqa: E501


def write(role: str, ptype: str | None = "User", action: str = WRITE) -> Request:
    attrs = {ROLE: [role]}
    if ptype is not None:
        attrs[TYPE] = [ptype]
    return Request(action, attrs)


def test_the_constrain_roles_template() -> None:
    assert evaluate(TEMPLATE, write(BACKUP[1])) is Truth.TRUE
    assert evaluate(TEMPLATE, write(OWNER)) is Truth.FALSE
    assert evaluate(TEMPLATE, write(BACKUP[0], "ServicePrincipal")) is Truth.FALSE
    # the principal type is not known: Owner is still ruled out, a backup role is not decided
    assert evaluate(TEMPLATE, write(OWNER, None)) is Truth.FALSE
    assert evaluate(TEMPLATE, write(BACKUP[0], None)) is Truth.UNKNOWN
    # an action the condition does not target is allowed; the deletion clause reads @Resource
    assert evaluate(TEMPLATE, Request("Microsoft.Authorization/roleDefinitions/write", {})) is (
        Truth.TRUE
    )
    assert evaluate(TEMPLATE, Request("Microsoft.Authorization/roleAssignments/delete", {})) is (
        Truth.UNKNOWN
    )


@pytest.mark.parametrize(
    ("operator", "values", "role", "expected"),
    [
        ("ForAnyOfAllValues:GuidNotEquals", f"{OWNER}, {READER}", OWNER, Truth.FALSE),
        ("ForAnyOfAllValues:GuidNotEquals", f"{OWNER}, {READER}", BACKUP[0], Truth.TRUE),
        ("ForAnyOfAnyValues:GuidNotEquals", f"{OWNER}, {READER}", OWNER, Truth.TRUE),
        ("ForAllOfAnyValues:GuidEquals", f"{{{READER.upper()}}}", READER, Truth.TRUE),
        ("GuidEquals", READER, READER, Truth.TRUE),
        ("GuidNotEquals", f"{OWNER}, {READER}", READER, Truth.FALSE),
        ("ForAnyOfAnyValues:StringLikeIgnoreCase", "'ACDD*'", READER, Truth.TRUE),
        ("ForAnyOfAnyValues:StringStartsWith", "'acdd'", READER, Truth.TRUE),
        ("ForAnyOfAnyValues:NumericLessThan", "1", READER, Truth.UNKNOWN),
    ],
)
def test_cross_product_operators(operator: str, values: str, role: str, expected: Truth) -> None:
    cond = (
        f"(!(ActionMatches{{'{WRITE}'}})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] {operator} "
        f"{{{values.strip('{}')}}})"
    )
    assert evaluate(cond, write(role)) is expected


def test_logic_wildcards_and_what_is_not_known() -> None:
    # ActionMatches takes Azure's wildcard; NOT and && / || are the same as ! AND OR
    cond = "NOT ActionMatches{'Microsoft.Authorization/*'} || @Principal[x:dept] StringEquals 'a'"
    assert evaluate(cond, write(OWNER)) is Truth.UNKNOWN
    assert evaluate(cond, Request("Microsoft.Compute/virtualMachines/write", {})) is Truth.TRUE
    assert evaluate("SubOperationMatches{'Blob.List'} && ActionMatches{'*'}", write(OWNER)) is (
        Truth.FALSE
    )
    # AND binds tighter than OR
    mixed = "ActionMatches{'*'} OR ActionMatches{'x'} AND ActionMatches{'y'}"
    assert evaluate(mixed, write(OWNER)) is Truth.TRUE
    assert evaluate(None, write(OWNER)) is Truth.TRUE
    assert evaluate("((ActionMatches{", write(OWNER)) is Truth.UNKNOWN
    with pytest.raises(ValueError):
        parse("@Request[a] StringEquals")


def test_guids_names_every_role_and_principal_once() -> None:
    assert guids(TEMPLATE) == list(BACKUP)
    assert guids(None) == []
