"""azure.iam.no_role_assignment_escalation on small inventories: who can make itself Owner by
writing role assignments or widening its own custom role, with the traps (conditions, PIM
eligibility, Owner itself, notActions, dataActions, permission blocks, scopes)."""

from __future__ import annotations

from typing import Any

from support.azure import (
    OWNER,
    READER,
    RG,
    ROLES,
    SUB,
    SUB_SCOPE,
    UAA,
    inventory,
    role_assignment,
)
from support.azure import role_definition as rd
from support.checks import by_uid, run_one

from posture.model import Asset, Finding, Severity, Status

CHECK = "azure.iam.no_role_assignment_escalation"
MG = "/providers/microsoft.management/managementgroups/corp"
RBAC_ADMIN = f"{ROLES}/f58310d9-a9f6-439a-9e8d-f62e7b41a168"
READER_GUID = READER.rsplit("/", 1)[1]
OWNER_GUIDS = (
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635, f58310d9-a9f6-439a-9e8d-f62e7b41a168, "
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
)
WRITE = "Microsoft.Authorization/roleAssignments/write"


def constrain_roles(operator: str, guids: str, extra: str = "") -> str:
    """Microsoft's delegation template: constrain what roleAssignments/write may assign."""
    return (
        f"((!(ActionMatches{{'{WRITE}'}})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] {operator} "
        f"{{{guids}}}{extra})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] {operator} "
        f"{{{guids}}}))"
    )


ONLY_READER = constrain_roles("ForAnyOfAnyValues:GuidEquals", READER_GUID)
NOT_ADMIN_ROLES = constrain_roles("ForAnyOfAllValues:GuidNotEquals", OWNER_GUIDS)


def ra(name: str, role: str, principal: str | None = None, **kw: Any) -> Asset:
    """An active assignment of ``role`` to user ``name`` (or to ``principal``; ``ptype``: another
    type of principal); ``kw``: ``scope``, ``condition``, ``pim``."""
    return role_assignment(name, role, principal or name, **{"ptype": "User", **kw})


def eligible(name: str, role: str, principal: str | None = None) -> Asset:
    """A PIM eligibility for ``role`` of user ``name`` (or of ``principal``)."""
    return role_assignment(name, role, principal or name, eligible=True, ptype="User")


def findings(*assets: Asset) -> dict[str, Finding]:
    return {f.resource_name: f for f in by_uid(run_one(CHECK, inventory(*assets))).values()}


def test_user_access_administrator_at_the_subscription_is_high() -> None:
    f = findings(ra("uaa", UAA))["uaa"]
    assert f.status is Status.FAIL and f.severity is Severity.HIGH
    assert f.message == (
        f"User uaa can make itself Owner at subscription {SUB}: its User Access Administrator "
        f"assignment at subscription {SUB} allows {WRITE} (no condition)"
    )
    ev = f.evidence
    assert (ev["outcome"], ev["becomes"], ev["via_role"], ev["scope"]) == (
        "escalates",
        "owner",
        "Owner",
        SUB_SCOPE.lower(),
    )
    assert [h["id"] for h in ev["path"]] == ["User uaa", "User Access Administrator", "Owner"]


def test_service_principals_and_managed_identities_are_principals_too() -> None:
    assigner = rd("c1", (["Microsoft.Authorization/*", "*/read"], []))
    f = findings(assigner, ra("mi", assigner.uid, ptype="ServicePrincipal"))["mi"]
    assert f.status is Status.FAIL
    assert f.message.startswith(f"ServicePrincipal mi can make itself Owner at subscription {SUB}")
    assert "role-c1 (custom role)" in f.message


def test_a_condition_limiting_assignable_roles_to_reader_removes_the_escalation() -> None:
    f = findings(ra("rbac", RBAC_ADMIN, condition=ONLY_READER))["rbac"]
    assert f.status is Status.PASS
    assert "its condition admits no privileged role" in f.message
    assert f.evidence["condition"] == ONLY_READER


def test_a_condition_admitting_owner_or_excluding_only_owner_roles() -> None:
    admits_owner = constrain_roles(
        "ForAnyOfAnyValues:GuidEquals", f"{READER_GUID}, 8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    )
    f = findings(ra("rbac", RBAC_ADMIN, condition=admits_owner))["rbac"]
    assert f.status is Status.FAIL and f.severity is Severity.HIGH
    assert "its condition admits Owner" in f.message
    # Microsoft's "all roles but Owner, UAA and RBAC Administrator": Contributor is left
    f = findings(ra("rbac", RBAC_ADMIN, condition=NOT_ADMIN_ROLES))["rbac"]
    assert f.status is Status.FAIL and f.severity is Severity.MEDIUM
    assert f.message.startswith(f"User rbac can make itself Contributor at subscription {SUB}")
    # ... and a custom role that can assign roles, which the exclusion list forgot
    custom = rd("c2", ([WRITE, "*/read"], []))
    f = findings(custom, ra("rbac", RBAC_ADMIN, condition=NOT_ADMIN_ROLES))["rbac"]
    assert f.status is Status.FAIL and f.severity is Severity.HIGH
    assert "assigning itself role-c2, then Owner" in f.message


def test_conditions_that_cannot_be_decided_are_inconclusive() -> None:
    # only service principals may receive roles: a user cannot assign itself, but may make a
    # service principal it controls Owner
    sp_only = (
        f"((!(ActionMatches{{'{WRITE}'}})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:PrincipalType] "
        "ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))"
    )
    tagged = (
        f"((!(ActionMatches{{'{WRITE}'}})) OR "
        "(@Resource[Microsoft.Resources/subscriptions:tags:env] StringEquals 'dev'))"
    )
    unlisted = constrain_roles(
        "ForAnyOfAnyValues:GuidEquals", "5e467623-bb1f-42f4-a55d-6e525e11384b"
    )
    got = findings(
        ra("types", RBAC_ADMIN, condition=sp_only),
        ra("tagged", RBAC_ADMIN, condition=tagged),
        ra("unlisted", RBAC_ADMIN, condition=unlisted),
        ra("garbled", RBAC_ADMIN, condition="((ActionMatches{"),
    )
    assert {n: f.status for n, f in got.items()} == dict.fromkeys(
        ("types", "tagged", "unlisted", "garbled"), Status.INCONCLUSIVE
    )
    assert "Owner for other principals" in got["types"].message
    assert "role 5e467623-bb1f-42f4-a55d-6e525e11384b (not collected)" in got["unlisted"].message


def test_pim_eligibility_is_an_escalation_one_activation_away() -> None:
    f = findings(eligible("pim-uaa", UAA))["pim-uaa"]
    assert f.status is Status.FAIL and f.severity is Severity.MEDIUM
    assert f.message.startswith(
        f"User pim-uaa is eligible (PIM) for User Access Administrator at subscription {SUB}: "
        "once it activates the role it can make itself Owner"
    )
    assert f.evidence["eligible"] and f.evidence["path"][1]["rule"].startswith("PIM eligibility")
    # activated now: the active assignment is the finding (HIGH), the eligibility is covered
    got = findings(
        eligible("el", UAA, principal="erin"),
        ra("act", UAA, principal="erin", pim={"assignment_type": "Activated", "end": "x"}),
    )
    assert (got["act"].status, got["act"].severity) == (Status.FAIL, Severity.HIGH)
    assert got["el"].status is Status.PASS and "activated" in got["el"].message


def test_owner_is_the_admin_checks_finding_not_an_escalation() -> None:
    got = findings(
        ra("owner", OWNER, principal="alice"),
        ra("uaa", UAA, principal="alice"),  # Owner already: nothing to gain
        ra("reader", READER, principal="alice"),
        eligible("pim-owner", OWNER),
    )
    assert {n: f.status for n, f in got.items()} == {
        "owner": Status.PASS,
        "uaa": Status.PASS,
        "pim-owner": Status.PASS,
    }  # the Reader assignment gives no finding at all
    assert "judged by the admin checks" in got["owner"].message
    assert "already holds Owner power" in got["uaa"].message
    # Owner of one resource group only: User Access Administrator on the subscription escalates
    got = findings(
        ra("owner-rg", OWNER, principal="carol", scope=RG),
        ra("uaa", UAA, principal="carol"),
    )
    assert got["uaa"].status is Status.FAIL
    # Owner inherited from the management group covers the subscription
    got = findings(
        ra("owner-mg", OWNER, principal="dan", scope=MG), ra("uaa", UAA, principal="dan")
    )
    assert got["uaa"].status is Status.PASS


def test_not_actions_data_actions_and_permission_blocks() -> None:
    minus_writes = rd("c3", (["*"], ["Microsoft.Authorization/*/write"]))
    data_only = rd("c4", (["*/read"], []), data=["*"])
    # the blocks are separate grants: a notAction of one does not remove another's action
    two_blocks = rd("c5", ([WRITE], []), (["Microsoft.Authorization/*"], [WRITE]))
    got = findings(
        minus_writes,
        data_only,
        two_blocks,
        ra("minus", minus_writes.uid),
        ra("data", data_only.uid),
        ra("blocks", two_blocks.uid),
    )
    assert {n: f.status for n, f in got.items()} == {"blocks": Status.FAIL}


def test_role_definitions_write_widens_its_own_custom_role() -> None:
    deployer = rd("c6", (["Microsoft.Authorization/roleDefinitions/write", "*/read"], []))
    got = findings(deployer, ra("sp", deployer.uid, ptype="ServicePrincipal"))
    f = got["sp"]
    assert f.status is Status.FAIL and f.severity is Severity.HIGH
    assert "can widen its own custom role role-c6" in f.message
    assert [h["kind"] for h in f.evidence["path"]] == ["principal", "role", "custom role", ""]
    # a custom role assignable beyond its scope (the management group) cannot be rewritten
    wide = rd("c7", (["Microsoft.Compute/*/read"], []), scopes=(MG,))
    writer = rd("c8", (["Microsoft.Authorization/roleDefinitions/write"], []), scopes=(MG,))
    got = findings(
        wide, writer, ra("w", writer.uid, principal="eve"), ra("v", wide.uid, principal="eve")
    )
    assert got["w"].status is Status.PASS and "holds no custom role" in got["w"].message


def test_an_uncollected_role_definition_is_inconclusive() -> None:
    f = findings(ra("ghost", f"{ROLES}/00000000-0000-0000-0000-0000000000ff"))["ghost"]
    assert f.status is Status.INCONCLUSIVE


# -- principals by display name -----------------------------------------------------------------

TENANT_ACCOUNT = "tenants/33333333-3333-3333-3333-333333333333"
ALICE = "a11ce000-0000-0000-0000-000000000001"
OPS = "60000000-0000-0000-0000-0000000000c1"
MI = "3a7e0000-0000-0000-0000-00000000000a"


def entra(type_: str, oid: str, name: str, **attrs: Any) -> Asset:
    from support.model import asset_of

    from posture.model import Provider

    return asset_of(Provider.AZURE, f"microsoft.graph.{type_}",
                    f"/{TENANT_ACCOUNT}/{type_}s/{oid}", account=TENANT_ACCOUNT,
                    region="global", name=name, tags=None,
                    attrs={"object_id": oid, "display_name": name, **attrs})


DIRECTORY = (
    entra("user", ALICE, "Alice Admin", user_principal_name="alice@contoso.example",
          user_type="Member"),
    entra("group", OPS, "Cloud Ops"),
    entra("servicePrincipal", MI, "vm-web", service_principal_type="ManagedIdentity"),
)


def test_principals_are_named_from_the_directory_with_the_id_kept() -> None:
    found = findings(*DIRECTORY, ra("uaa", UAA, principal=ALICE),
                     ra("grp", UAA, principal=OPS, ptype="Group"),
                     ra("mi", UAA, principal=MI, ptype="ServicePrincipal"),
                     ra("gone", UAA, principal="dead0000-0000-0000-0000-000000000000"))
    alice = found["uaa"]
    assert alice.message.startswith(
        "Alice Admin (alice@contoso.example, user a11ce000…) can make itself Owner at "
        f"subscription {SUB}")
    assert alice.evidence["path"][0]["id"] == "Alice Admin (alice@contoso.example, user a11ce000…)"
    assert (alice.evidence["principal_id"], alice.evidence["principal_name"],
            alice.evidence["user_principal_name"]) == (ALICE, "Alice Admin",
                                                       "alice@contoso.example")
    assert found["grp"].message.startswith("Cloud Ops (group 60000000…) can make itself Owner")
    assert found["mi"].message.startswith("vm-web (managed identity 3a7e0000…) can make itself")
    # not in the directory read (deleted, or a group no policy names): the type and whole id
    assert found["gone"].message.startswith(
        "User dead0000-0000-0000-0000-000000000000 can make itself Owner")
    assert found["gone"].evidence["principal_name"] is None


def test_without_the_directory_principals_are_named_by_id() -> None:
    f = findings(ra("uaa", UAA, principal=ALICE))["uaa"]
    assert f.message.startswith(f"User {ALICE} can make itself Owner")
    assert f.evidence["principal_name"] is None


def test_display_names_are_one_bounded_line() -> None:
    # a name is whatever its owner typed: newlines and escape sequences do not reach a message
    evil = entra("user", ALICE, "Eve\n\x1b[31mOwner\x1b[0m <b>x</b>" + "y" * 300,
                 user_principal_name="eve@contoso.example", user_type="Member")
    f = findings(evil, ra("uaa", UAA, principal=ALICE))["uaa"]
    who = f.message.split(" can make itself")[0]
    assert "\n" not in who and "\x1b" not in who
    assert who.startswith("Eve [31mOwner [0m <b>x</b>yyy")
    assert who.endswith("… (eve@contoso.example, user a11ce000…)") and len(who) < 170
    # the raw name stays evidence; escaping it is the reporters' business
    assert f.evidence["principal_name"].startswith("Eve\n\x1b[31m")


def test_standing_and_eligible_roles_name_the_principal() -> None:
    found = by_uid(run_one("azure.iam.no_standing_privileged_roles", inventory(
        *DIRECTORY,
        ra("o", OWNER, ALICE, scope_level="subscription"),
        role_assignment("e", OWNER, OPS, eligible=True, ptype="Group"),
    )))
    messages = {uid.rsplit("/", 1)[-1]: f.message for uid, f in found.items()}
    assert messages == {
        "o": "standing Owner assignment to Alice Admin (alice@contoso.example, user a11ce000…) "
             "at subscription scope",
        "e": "Owner is PIM-eligible for Cloud Ops (group 60000000…) (not standing)",
    }
    assert found[f"{SUB_SCOPE}/providers/microsoft.authorization/roleassignments/o"].evidence[
        "principal_id"] == ALICE
