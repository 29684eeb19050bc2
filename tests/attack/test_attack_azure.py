"""The Azure join (posture.attack.azure): VM → managed identities → active role assignments →
Owner of the subscription. Each grade on a small estate: Owner (system- and user-assigned),
a role that assigns itself Owner, Contributor, a resource group's Owner, conditions, what is not
counted (Reader, one resource, a PIM eligibility), what is unknown (a role or a listing not
collected, a principal id missing), the ranking between them, and the network half on every
port (public IP, load balancer, private, undecided)."""

from __future__ import annotations

from typing import Any

from support.azure import (
    CONTRIBUTOR,
    MI,
    NET,
    OWNER,
    READER,
    RG,
    ROLES,
    SUB_SCOPE,
    UAA,
    az,
    error,
    identified,
    inventory,
    nsg,
    one_vm,
    public_ip,
    role_assignment,
    rule,
)

from posture.attack.azure import NO_GATE, AzureAttack, level, managed_identities
from posture.attack.path import AttackPath, Power, Reached
from posture.graph.azure.reach import AzureNetwork
from posture.iam.azure import RbacIndex
from posture.model import Asset, CollectionError

WEB = nsg("nsg-web", rule("https", 100, src="Internet", ports="443"))
PIP = public_ip("pip-h", "20.0.0.9", "Standard")
OPS = "0b000000-0000-0000-0000-00000000000b"
ONLY_READER = (
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
    "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
    "ForAnyOfAnyValues:GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}))"
)
UNDECIDABLE = "@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'x'"
MG = "/providers/Microsoft.Management/managementGroups/corp"
SUB = SUB_SCOPE.rsplit("/", 1)[-1]


def path_of(*rbac: Asset, network: Any = None, system: str | None = MI,
            users: dict[str, str | None] | None = None,
            errors: tuple[CollectionError, ...] = ()) -> AttackPath:
    assets = identified(network if network is not None else one_vm(WEB, pip=PIP), system, users)
    inv = inventory(*assets, *rbac, errors=errors)
    attack = AzureAttack.of(inv, AzureNetwork(inv), RbacIndex(inv))
    ((vm, endpoints),) = attack.hosts()
    return attack.path(vm, endpoints)


def owner(name: str = "ra-owner", principal: str = MI, scope: str = SUB_SCOPE,
          condition: str | None = None) -> Asset:
    return role_assignment(name, OWNER, principal, scope, condition)


def test_system_assigned_owner_joins_the_exposed_port() -> None:
    path = path_of(owner())
    assert path.identity.state is Power.ADMIN and not path.identity.gate
    assert path.identity.label == "the system-assigned identity of h"
    assert path.network.state is Reached.EXPOSED and path.network.ports == "tcp/443"
    assert path.summary() == (
        f"internet -> tcp/443 -> h -> managed identity h (system-assigned) -> administrator of "
        f"subscription {SUB}"
    )
    assert [(h["kind"], h["layer"]) for h in path.hops()] == [
        ("internet", "network"), ("public-ip", "network"), ("nsg (subnet)", "network"),
        ("nic (no NSG)", "network"), ("port", "network"), ("interface", "network"),
        ("asset", "network"), ("managed identity", "identity"), ("administrator of", "identity"),
    ]
    evidence = path.evidence()
    (held,) = evidence["identity"]["role_assignments"]
    assert (held["role_name"], held["state"], held["scope"]) == ("Owner", "admin", SUB_SCOPE)
    assert evidence["identity"]["metadata_service"] == NO_GATE  # nothing gates it on Azure
    assert "gate" not in evidence
    assert evidence["paths"][0]["entry"] == "public-ip" and evidence["paths"][0]["hops"]


def test_user_assigned_identity_that_assigns_itself_owner() -> None:
    uaa = role_assignment("ra-uaa", UAA, OPS)
    identity = path_of(uaa, system=None, users={"id-ops": OPS}).identity
    assert identity.state is Power.ADMIN and identity.label == "user-assigned identity id-ops"
    assert identity.text.startswith(
        f"User Access Administrator at subscription {SUB}: it can "
        "assign itself Owner")
    assert [(h["kind"], h["rule"]) for h in identity.hops][1:] == [
        ("role", f"assignment at subscription {SUB}"),
        ("administrator of", "assigns itself Owner"),
    ]
    # a condition constraining what it may assign to Reader removes the escalation
    narrow = role_assignment("ra-uaa", UAA, OPS, condition=ONLY_READER)
    assert path_of(narrow, system=None, users={"id-ops": OPS}).identity.state is Power.NONE


def test_conditions_are_conditional() -> None:
    conditional = path_of(owner(condition=UNDECIDABLE)).identity
    assert conditional.state is Power.CONDITIONAL and not conditional.grade
    assert conditional.text.startswith(f"Owner at subscription {SUB} under a condition (its "
                                       "condition cannot be decided for Owner")
    # a decided lesser power is named beside it
    both = path_of(owner(condition=UNDECIDABLE),
                   role_assignment("ra-rg", CONTRIBUTOR, scope=RG)).identity
    assert both.state is Power.CONDITIONAL
    assert "; decided: Contributor at resource group rg" in both.text
    # a condition that leaves Contributor's own actions undecided: conditional, short of admin
    contributor = path_of(role_assignment("ra-c", CONTRIBUTOR, condition=UNDECIDABLE)).identity
    assert (contributor.state, contributor.grade) == (Power.CONDITIONAL, "contributor")


def test_an_owner_condition_decides_what_it_may_assign_not_its_other_actions() -> None:
    # Microsoft's delegation template lets every other action through: constrained to assign
    # Reader only, an Owner is Contributor (every action but access management)
    reader_only = path_of(owner(condition=ONLY_READER)).identity
    assert (reader_only.state, reader_only.grade) == (Power.BROAD, "contributor")
    assert reader_only.text == (f"Owner at subscription {SUB}: every action in subscription "
                                f"{SUB} but access management")
    assert reader_only.hops[-1]["rule"] == "Owner (under a condition)"
    # ... admitting Owner itself, it stays administrator
    owner_ok = path_of(owner(condition=ONLY_READER.replace(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"))).identity
    assert owner_ok.state is Power.ADMIN
    assert owner_ok.text.startswith(f"Owner at subscription {SUB} under a condition (its "
                                    "condition admits Owner")
    # ... undecided for role assignments: conditional, and Contributor decided beside it
    unknown_env = ("(!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
                   "(@Environment[isPrivateLink] StringEquals 'x')")
    open_ = path_of(owner(condition=unknown_env)).identity
    assert open_.state is Power.CONDITIONAL
    assert open_.text.endswith(f"; decided: Owner at subscription {SUB}: every action in "
                               f"subscription {SUB} but access management")


def test_contributor_and_resource_group_grades() -> None:
    contributor = path_of(role_assignment("ra-c", CONTRIBUTOR)).identity
    assert (contributor.state, contributor.grade) == (Power.BROAD, "contributor")
    assert contributor.text.endswith("every action in subscription "
                                     f"{SUB} but access management")
    group = path_of(owner(scope=RG)).identity
    assert (group.state, group.grade) == (Power.BROAD, "resource_group")
    assert group.text == ("Owner at resource group rg: administrator of resource group rg (the "
                          "VM's own) only, not of the subscription")
    other = path_of(owner(scope=f"/subscriptions/{SUB_SCOPE[15:]}/resourcegroups/other")).identity
    assert other.grade == "resource_group" and "(the VM's own)" not in other.text
    # Contributor of the subscription outranks a resource group's Owner
    assert path_of(owner(scope=RG), role_assignment("ra-c", CONTRIBUTOR)).identity.grade == \
        "contributor"


def test_owner_above_the_subscription_is_admin() -> None:
    identity = path_of(owner(scope=MG)).identity
    assert identity.state is Power.ADMIN
    assert identity.hops[-1]["id"] == "management group corp"


def test_what_gives_no_power() -> None:
    reader = path_of(role_assignment("ra-r", READER))
    assert reader.identity.state is Power.NONE
    assert reader.identity.text.startswith("the system-assigned identity of h holds no Owner")
    assert "not evaluated" in reader.network.why  # a VM without power is not swept for ports
    vm_uid = f"{RG}/providers/microsoft.compute/virtualmachines/h"
    assert path_of(owner(scope=vm_uid)).identity.state is Power.NONE  # one resource only
    eligible = role_assignment("el-owner", OWNER, eligible=True)
    assert path_of(eligible).identity.state is Power.NONE  # not active
    bare = path_of(owner(), system=None)
    assert (bare.identity.state, bare.identity.text) == (Power.NONE,
                                                         "the VM has no managed identity")
    other = path_of(owner(principal=OPS))  # someone else's Owner
    assert other.identity.state is Power.NONE


def test_what_is_unknown() -> None:
    custom = f"{ROLES}/dddddddd-0000-0000-0000-000000000001"
    unknown_role = path_of(role_assignment("ra-x", custom)).identity
    assert unknown_role.state is Power.UNKNOWN
    assert "its definition was not collected" in unknown_role.text
    listing = error("authorization", "RoleAssignments_ListForSubscription", (
        "Microsoft.Authorization/roleAssignments",))
    unlisted = path_of(errors=(listing,)).identity
    assert unlisted.state is Power.UNKNOWN and "could not be listed" in unlisted.text
    # a decided Owner stays admin; a decided Contributor names what is not known
    assert path_of(owner(), errors=(listing,)).identity.state is Power.ADMIN
    broad = path_of(role_assignment("ra-c", CONTRIBUTOR), errors=(listing,)).identity
    assert broad.state is Power.BROAD and "not known: the role assignments" in broad.text
    missing = path_of(owner(), system=None, users={"id-ops": None}).identity
    assert missing.state is Power.UNKNOWN
    assert missing.text == "the principal id of user-assigned identity id-ops was not collected"


def test_the_identities_of_a_vm() -> None:
    (vm,) = [a for a in identified(one_vm(), MI, {"id-b": OPS}) if a.type.endswith("Machines")]
    assert [(i.kind, i.name, i.principal_id) for i in managed_identities(vm)] == [
        ("system-assigned", "h", MI), ("user-assigned", "id-b", OPS)
    ]
    assert [level(s) for s in ("/", MG, SUB_SCOPE, RG, f"{RG}/providers/x/y/z")] == [
        "root", "management_group", "subscription", "resource_group", "resource"
    ]


def test_network_half_on_every_port_and_its_traps() -> None:
    wide = nsg("nsg-wide", rule("web", 100, src="Internet", ports=["443", "8000-8080"]),
               rule("ssh", 110, src="*", ports="22"))
    many = path_of(owner(), network=one_vm(wide, pip=PIP)).network
    assert many.state is Reached.EXPOSED and many.ports == "tcp/22, 443, 8000-8080"
    assert many.port == "tcp/22" and len(many.paths) == 3
    private = path_of(owner(), network=one_vm(wide)).network
    assert private.state is Reached.CLOSED
    assert private.why.startswith("the NSGs admit the internet on tcp/22, 443, 8000-8080, but no")
    assert private.evidence["latent"][0]["ports"] == "tcp/22"
    basic = path_of(owner(), network=one_vm(pip=public_ip("pip-b", "20.0.0.8", "Basic"))).network
    assert basic.ports == "tcp/1-65535"  # a Basic SKU public IP without an NSG: every port
    assert basic.fix == "associate an NSG with the subnet or NIC, or remove public IP pip-b"
    assert many.fix == "remove the NSG rule admitting tcp/22 from the internet (rule ssh), or " \
        "public IP pip-h"
    missing_nsg = az("Microsoft.Network/networkSecurityGroups", f"{NET}/networksecuritygroups/x")
    gone = [a for a in one_vm(missing_nsg, pip=PIP) if a.uid != missing_nsg.uid]
    undecided = path_of(owner(), network=gone).network
    assert undecided.state is Reached.UNDECIDED and "not collected" in undecided.why
