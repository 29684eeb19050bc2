"""The identity builders on small inventories, per cloud: sign-in path, MFA, standing vs just in
time, production, and unknown as a value (never a silent "no")."""

from __future__ import annotations

from typing import Any

from support.aws import ACCOUNT, asset, inventory
from support.azure import SUB, az
from support.azure import inventory as az_inventory
from support.azure_entra import ACCOUNT as TENANT_ACCOUNT
from support.azure_entra import directory, group, policy, role, user
from support.gcp import gasset, ginventory
from support.iam import ARN, allow, service
from support.iam import role as iam_role
from support.iam import user as iam_user
from support.identity import assignment, permission_set, root_user

from posture.gcp import FOLDER, PAM_ENTITLEMENT, PROJECT
from posture.iam.azure_roles import ROLE_ASSIGNMENT
from posture.identity import aws_identities, azure_identities, gcp_identities, identity_view
from posture.identity import model as im
from posture.model import Inventory

STORE_USER = "arn:aws:identitystore:::user/id-carol"
STORE_GROUP = "arn:aws:identitystore:::group/id-admins"


def accesses(view: im.IdentityView, identity: str) -> list[im.Access]:
    return [a for a in view.accesses if a.identity == identity]


def by_name(view: im.IdentityView) -> dict[str, Any]:
    return {i.name: i for i in view.identities}


# -- AWS ----------------------------------------------------------------------------------------


def center(*extra: Any) -> Inventory:
    carol = asset("AWS::IdentityStore::User", STORE_USER, name="Carol Diaz", region="global",
                  user_id="id-carol", user_name="carol", display_name="Carol Diaz",
                  identity_store_id="d-1")
    admins = asset("AWS::IdentityStore::Group", STORE_GROUP, name="admins", region="global",
                   group_id="id-admins", display_name="admins", identity_store_id="d-1",
                   member_user_ids=["id-carol"])
    admin_ps = permission_set("Admin", {"Statement": [allow("*")]},
                              assignments=[assignment("admins")])
    read_ps = permission_set("Read", {"Statement": [allow("s3:GetObject")]},
                             assignments=[assignment("carol", "USER")])
    return inventory(carol, admins, admin_ps, read_ps, *extra)


def vpc(env: str) -> Any:
    return asset("AWS::EC2::VPC", f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-{env}", name=env,
                 tags={"Environment": env}, vpc_id=f"vpc-{env}")


def test_aws_sso_group_member_holds_standing_admin_on_production() -> None:
    view = aws_identities(center(vpc("production"), vpc("dev")))
    carol = by_name(view)["Carol Diaz"]
    assert (carol.kind, carol.sign_in, carol.mfa) == (im.Kind.HUMAN, im.SignIn.SSO, im.Mfa.UNKNOWN)
    admin, read = accesses(view, STORE_USER)
    assert (admin.role, admin.privilege, admin.duration, admin.via) == (
        "permission set Admin", im.Privilege.ADMIN, im.Duration.STANDING, "group admins")
    assert admin.production is im.Production.YES and "Environment=production" in \
        admin.production_basis
    assert (read.privilege, read.via, read.privileged) == (
        im.Privilege.READ, "direct account assignment", False)
    assert [a.via for a in accesses(view, STORE_GROUP)] == ["account assignment"]
    assert view.rows()[0].identity.name == "Carol Diaz"  # standing admin, MFA unknown


def test_aws_environment_unknown_without_tags_or_organisation() -> None:
    view = aws_identities(center())
    assert {a.production for a in view.accesses} == {im.Production.UNKNOWN}
    dev = aws_identities(center(vpc("dev")))
    assert {a.production for a in dev.accesses} == {im.Production.NO}


def console_user(name: str, devices: list[str] | None, keys: list[dict[str, Any]]) -> Any:
    base = iam_user(name, allow("*"))
    attrs = {**base.attrs, "has_console_password": True, "mfa_devices": devices,
             "access_keys": keys}
    return asset("AWS::IAM::User", base.uid, region="global", **attrs)


def report(*rows: dict[str, Any]) -> Any:
    return asset("AWS::IAM::CredentialReport", f"{ARN}:credential-report", region="global",
                 users=list(rows))


def test_aws_mfa_unknown_when_the_credential_report_was_not_collected() -> None:
    view = aws_identities(inventory(console_user("dan", None, [])))
    dan = by_name(view)["dan"]
    assert (dan.kind, dan.sign_in, dan.mfa) == (im.Kind.HUMAN, im.SignIn.LOCAL, im.Mfa.UNKNOWN)
    assert "credential report not collected" in dan.mfa_basis
    (admin,) = accesses(view, dan.id)
    assert admin.standing_admin and admin.privileged


def test_aws_mfa_from_the_credential_report() -> None:
    uid = f"{ARN}:user/dan"
    key = [{"status": "Active"}]
    off = aws_identities(inventory(console_user("dan", None, []),
                                   report({"arn": uid, "mfa_active": False})))
    assert by_name(off)["dan"].mfa is im.Mfa.NOT_REGISTERED
    on = aws_identities(inventory(console_user("dan", None, []),
                                  report({"arn": uid, "mfa_active": True})))
    assert by_name(on)["dan"].mfa is im.Mfa.ENFORCED
    keyed = aws_identities(inventory(console_user("dan", None, key),
                                     report({"arn": uid, "mfa_active": True})))
    assert by_name(keyed)["dan"].mfa is im.Mfa.REGISTERED  # access keys sign without MFA


def test_aws_root_and_workloads() -> None:
    ops = iam_role("ops", service("ec2.amazonaws.com"), allow("*"))
    app = iam_role("app", service("ec2.amazonaws.com"), allow("s3:GetObject"))
    view = aws_identities(inventory(root_user(in_report=False), ops, app,
                                    iam_user("ci", allow("*"))))
    names = by_name(view)
    assert names["ops"].kind is im.Kind.WORKLOAD
    assert "ec2.amazonaws.com" in names["ops"].sign_in_basis
    assert "app" not in names  # a workload role without admin power is not an identity here
    assert names["ci"].kind is im.Kind.WORKLOAD  # no console password: access keys only
    root = names[f"root ({ACCOUNT})"]
    assert (root.sign_in, root.mfa) == (im.SignIn.LOCAL, im.Mfa.UNKNOWN)
    assert accesses(view, root.id)[0].standing_admin
    shown = [r.identity.name for r in view.shown()]
    assert shown[0] == f"root ({ACCOUNT})"  # the only human, standing admin


def test_identity_view_is_none_without_identities() -> None:
    assert identity_view(inventory(vpc("dev"))) is None


# -- Azure --------------------------------------------------------------------------------------

ALICE, ERIN, CAROL = (f"a{i}000000-0000-0000-0000-00000000000{i}" for i in (1, 2, 3))
GROUP_ID = "60000000-0000-0000-0000-0000000000c1"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def rbac(oid: str, principal: str, ptype: str = "User", **extra: Any) -> Any:
    return az(ROLE_ASSIGNMENT, f"/subscriptions/{SUB}/providers/microsoft.authorization/"
              f"roleassignments/{oid}", name=f"Owner → {principal}", region="global",
              scope=f"/subscriptions/{SUB}", scope_level="subscription",
              principal_id=principal, principal_type=ptype,
              role_definition_id=f"/subscriptions/{SUB}/providers/microsoft.authorization/"
              f"roledefinitions/{OWNER}", role_name="Owner", condition=None,
              **{"pim": None, **extra})


def subscription(name: str) -> Any:
    return az("Microsoft.Resources/subscriptions", f"/subscriptions/{SUB}", name=name,
              region="global", display_name=name, subscription_id=SUB)


def azure_estate() -> Inventory:
    return directory(
        user(ALICE, "Alice Admin"), user(ERIN, "Erin Exempt", mfa=False),
        user(CAROL, "Carol Cloud", mfa=None),
        group(GROUP_ID, "Exempt", [ERIN]),
        policy("Require MFA", include_users=["All"], exclude_groups=[GROUP_ID]),
        role("ga-1", ALICE), role("ga-2", CAROL, eligible=True),
        rbac("ra-1", ALICE), rbac("ra-2", ERIN, pim={"assignment_type": "Activated",
                                                     "end": "2026-01-01T06:00:00Z"}),
        subscription("contoso-prod"),
    )


def test_azure_standing_global_administrator_with_enforced_mfa() -> None:
    view = azure_identities(azure_estate())
    alice = next(i for i in view.identities if i.name.startswith("Alice Admin"))
    assert (alice.sign_in, alice.mfa) == (im.SignIn.SSO, im.Mfa.ENFORCED)
    assert "Require MFA" in alice.mfa_basis
    roles = {a.role: a for a in accesses(view, alice.id)}
    ga = roles["directory role Global Administrator"]
    assert ga.standing_admin and ga.production is im.Production.YES  # elevates to every sub
    assert roles["Owner"].scope == "subscription contoso-prod" and roles["Owner"].standing_admin


def test_azure_excluded_user_eligible_role_and_activation() -> None:
    view = azure_identities(azure_estate())
    names = {i.name.split(" (")[0]: i for i in view.identities}
    erin = names["Erin Exempt"]
    assert erin.mfa is im.Mfa.NOT_REGISTERED and "excluded from 'Require MFA'" in erin.mfa_basis
    (owner,) = accesses(view, erin.id)
    assert owner.duration is im.Duration.TIME_BOUND and "PIM activation" in owner.duration_basis
    (ga,) = accesses(view, names["Carol Cloud"].id)
    assert ga.duration is im.Duration.ELIGIBLE and not ga.standing_admin
    assert view.rows()[0].identity is names["Alice Admin"]
    assert view.summary().standing_admin == 1


def test_azure_rbac_without_entra_is_unknown_not_absent() -> None:
    view = azure_identities(az_inventory(rbac("ra-1", ALICE)))
    (who,) = view.identities
    assert (who.kind, who.sign_in, who.mfa) == (im.Kind.HUMAN, im.SignIn.UNKNOWN, im.Mfa.UNKNOWN)
    assert view.gaps and "Entra ID was not read" in view.gaps[0]
    assert accesses(view, who.id)[0].production is im.Production.UNKNOWN
    assert TENANT_ACCOUNT.startswith("tenants/")


# -- GCP ----------------------------------------------------------------------------------------


def project(bindings: list[dict[str, Any]], **labels: str) -> Any:
    return gasset(PROJECT, "//cloudresourcemanager.googleapis.com/projects/acme-test",
                  name="acme-test", project_id="acme-test", parent="folders/1",
                  iam_bindings=bindings, labels=labels, state="ACTIVE")


def folder(name: str, bindings: list[dict[str, Any]]) -> Any:
    return gasset(FOLDER, "//cloudresourcemanager.googleapis.com/folders/1", name="folders/1",
                  resource_name="folders/1", display_name=name, parent=None,
                  iam_bindings=bindings, state="ACTIVE")


def entitlement(member: str, role_name: str) -> Any:
    return gasset(PAM_ENTITLEMENT, "//privilegedaccessmanager.googleapis.com/e/owner",
                  name="owner-jit", entitlement_name="owner-jit",
                  resource="//cloudresourcemanager.googleapis.com/projects/acme-test",
                  eligible_principals=[member], role_bindings=[{"role": role_name}],
                  max_request_duration_seconds=3600, approval_required=True)


def test_gcp_standing_owner_with_a_pam_entitlement_available() -> None:
    expiry = 'request.time < timestamp("2027-01-01T00:00:00Z")'
    bindings = [
        {"role": "roles/owner", "members": ["user:alice@acme.example"]},
        {"role": "roles/owner", "members": ["user:carol@acme.example"],
         "condition": {"title": "until new year", "expression": expiry}},
        {"role": "roles/editor", "members": ["user:gina@acme.example"], "condition": {
            "title": "expires after the migration", "expression": 'resource.name.startsWith("x")'}},
    ]
    inv = ginventory(project(bindings, env="prod"),
                     folder("im.Production", [{"role": "roles/owner",
                                            "members": ["group:oncall@acme.example"]}]),
                     entitlement("user:alice@acme.example", "roles/owner"))
    view = gcp_identities(inv)
    alice = accesses(view, "user:alice@acme.example")
    standing = next(a for a in alice if a.duration is im.Duration.STANDING)
    assert standing.standing_admin and "owner-jit" in standing.note
    assert any(a.duration is im.Duration.ELIGIBLE and "owner-jit" in a.duration_basis
               for a in alice)
    assert standing.production is im.Production.YES and "env=prod" in standing.production_basis
    (carol,) = accesses(view, "user:carol@acme.example")
    assert carol.duration is im.Duration.TIME_BOUND
    (gina,) = accesses(view, "user:gina@acme.example")
    assert gina.duration is im.Duration.STANDING and "does not bound it" in gina.duration_basis
    (oncall,) = accesses(view, "group:oncall@acme.example")
    assert oncall.via == "inherited from folders/1 (im.Production)" and oncall.standing_admin
    who = by_name(view)["alice@acme.example"]
    assert (who.sign_in, who.mfa) == (im.SignIn.UNKNOWN, im.Mfa.UNKNOWN)  # organisation not read
    assert view.summary().groups_unexpanded == 1


def test_gcp_project_policy_not_read_is_a_gap() -> None:
    unread = gasset(PROJECT, "//cloudresourcemanager.googleapis.com/projects/acme-test",
                    name="acme-test", project_id="acme-test", iam_bindings=None)
    view = gcp_identities(ginventory(unread))
    assert not view and view.gaps == ("the IAM policy of project acme-test was not read",)
