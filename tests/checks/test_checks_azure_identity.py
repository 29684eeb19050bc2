"""Entra ID checks on small inventories: pass, fail, not collected (INCONCLUSIVE) and traps."""

from __future__ import annotations

from support.azure import inventory
from support.azure_entra import (
    BASE,
    SECURITY_ADMIN,
    USER,
    defaults,
    directory,
    entra,
    graph_error,
    group,
    policy,
    role,
    tenant,
    user,
)
from support.checks import by_uid, only, run_one

from posture.azure import APPLICATION, CA_POLICY, DIRECTORY_ROLE
from posture.iam.entra import GLOBAL_ADMIN
from posture.model import Severity, Status

ALL = "azure.identity.mfa_required_for_all_users"
ADMINS = "azure.identity.mfa_required_for_admin_roles"
REGISTERED = "azure.identity.users_mfa_registered"
GUESTS = "azure.identity.no_privileged_roles_for_guests"
STANDING = "azure.identity.no_standing_privileged_directory_roles"

ALICE, GINA, ERIN, BG = "a1", "g1", "e1", "b1"
GUEST_TYPES = ["b2bcollaborationguest", "internalguest"]


def _alice() -> object:
    return user(ALICE, "Alice Admin")


def test_guest_excluded_from_one_policy_but_covered_by_another_is_covered() -> None:
    inv = directory(
        _alice(), user(GINA, "Gina Partner", guest=True),
        policy("Require MFA for all users", include_users=["All"], exclude_users=[GINA]),
        policy("Require MFA for guests", controls=(), strength="Multifactor authentication",
               include_guests=GUEST_TYPES),
    )
    found = only(run_one(ALL, inv))
    assert found.status is Status.PASS, found.message
    assert "Gina Partner (gina@contoso.example) is excluded from 'Require MFA for all users' " \
        "but covered by 'Require MFA for guests'" in found.message
    assert found.resource_name == "Contoso"


def test_excluded_user_without_other_policy_fails_and_is_named() -> None:
    inv = directory(
        _alice(), user(ERIN, "Erin Exempt"),
        group("gx", "CA Exclusions", [ERIN]),
        policy("Require MFA for all users", include_users=["All"], exclude_groups=["gx"]),
        # report-only and app-limited policies enforce nothing for every sign-in
        policy("Admins pilot", state="enabledForReportingButNotEnforced", include_users=["All"]),
        policy("Portal MFA", apps=("c44b4083-3bb0-49c1-b47d-974e53cbdf3c",),
               include_users=["All"]),
    )
    found = only(run_one(ALL, inv))
    assert found.status is Status.FAIL
    assert "1 of 2 enabled user(s) can sign in without MFA: Erin Exempt (erin@contoso.example)" \
        " (excluded from 'Require MFA for all users')" in found.message
    assert [u["user"] for u in found.evidence["uncovered"]] == [
        "Erin Exempt (erin@contoso.example)"]
    assert found.evidence["uncovered"][0]["narrowed_policies"] == [
        "Portal MFA (only some cloud apps)"]


def test_security_defaults_cover_everyone_and_break_glass_exclusion_is_accepted() -> None:
    assert only(run_one(ALL, directory(_alice(), defaults(True)))).status is Status.PASS
    inv = directory(
        _alice(), user(BG, "Break Glass", employee_type="BreakGlass"), defaults(False),
        policy("Require MFA for all users", include_users=["All"], exclude_users=[BG]),
    )
    found = only(run_one(ALL, inv))
    assert found.status is Status.PASS
    assert found.evidence["break_glass_excluded"] == ["Break Glass (break@contoso.example)"]


def test_unknown_group_membership_is_inconclusive_and_not_read_is_inconclusive() -> None:
    inv = directory(
        _alice(), group("gx", "CA Exclusions", None),
        policy("Require MFA for all users", include_users=["All"], exclude_groups=["gx"]),
    )
    assert only(run_one(ALL, inv)).status is Status.INCONCLUSIVE
    # a scan that did not read Entra ID at all (no tenant asset): one INCONCLUSIVE per account
    for check_id in (ALL, ADMINS, REGISTERED, GUESTS, STANDING,
                     "azure.identity.app_credentials_short_lived"):
        found = only(run_one(check_id, inventory()))
        assert found.status is Status.INCONCLUSIVE and "Entra ID was not read" in found.message


def test_denied_policy_listing_makes_a_pass_inconclusive_naming_the_permission() -> None:
    error = graph_error("ConditionalAccessPolicies_List", (CA_POLICY,), "Policy.Read.All")
    inv = directory(_alice(), defaults(False), errors=(error,))
    findings = run_one(ALL, inv)
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}
    assert any("Policy.Read.All" in f.message for f in findings)


def test_admins_judged_through_groups_roles_and_eligibility() -> None:
    bob, carol = user("b0", "Bob Builder"), user("c0", "Carol Cloud")
    inv = directory(
        _alice(), bob, carol, user(BG, "Break Glass", employee_type="break-glass"),
        group("gh", "Helpdesk Admins", ["b0"]),
        role("r1", ALICE), role("r2", "gh", SECURITY_ADMIN), role("r3", BG),
        role("r4", "c0", eligible=True),
        # only the admin roles: Alice is included by her role, Carol once she activates it
        policy("MFA for admins", include_roles=[GLOBAL_ADMIN], exclude_users=[BG]),
    )
    found = by_uid(run_one(ADMINS, inv))
    status = {f.resource_name: f.status for f in found.values()}
    assert status == {"Alice Admin": Status.PASS, "Carol Cloud": Status.PASS,
                      "Bob Builder": Status.FAIL, "Break Glass": Status.PASS}
    bob_finding = next(f for f in found.values() if f.resource_name == "Bob Builder")
    assert bob_finding.message == ("Bob Builder (bob@contoso.example) (Security Administrator) "
                                   "can sign in without MFA: no enforced MFA policy applies")


def test_mfa_registration_severity_by_privilege_and_guests_not_judged() -> None:
    inv = directory(
        user(ALICE, "Alice Admin", mfa=False), user("d0", "Dan Dev", mfa=False),
        user("f0", "Fay Fine"), user(GINA, "Gina Partner", guest=True, mfa=False),
        user("x0", "Xavier Gone", enabled=False, mfa=None), user("u0", "Una Unlisted", mfa=None),
        role("r1", ALICE),
    )
    found = {f.resource_name: f for f in run_one(REGISTERED, inv)}
    assert {n: (f.status, f.severity) for n, f in found.items()} == {
        "Alice Admin": (Status.FAIL, Severity.HIGH),
        "Dan Dev": (Status.FAIL, Severity.MEDIUM),
        "Fay Fine": (Status.PASS, Severity.HIGH),
        "Una Unlisted": (Status.INCONCLUSIVE, Severity.HIGH),
    }
    assert "holds Global Administrator (2 of 4 enabled member users:" in \
        found["Alice Admin"].message
    error = graph_error("UserRegistrationDetails_List", (f"{USER}#registration",),
                        "AuditLog.Read.All")
    denied = run_one(REGISTERED, directory(user("f0", "Fay Fine"), errors=(error,)))
    assert {f.status for f in denied} == {Status.INCONCLUSIVE}
    assert all("AuditLog.Read.All" in f.message for f in denied)


def test_guests_with_privileged_roles() -> None:
    inv = directory(
        user(GINA, "Gina Partner", guest=True), user("g2", "Gus Vendor", guest=True),
        user("g3", "Gail Reader", guest=True),
        role("r1", "g2", SECURITY_ADMIN), role("r2", GINA, eligible=True),
        role("r3", "g3", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", privileged=False),
    )
    found = {f.resource_name: (f.status, f.message) for f in run_one(GUESTS, inv)}
    assert found["Gus Vendor"][0] is Status.FAIL
    assert found["Gina Partner"] == (
        Status.FAIL, "guest Gina Partner (gina@contoso.example) holds Global Administrator")
    assert found["Gail Reader"][0] is Status.PASS


def test_standing_global_admin_vs_pim_activation_eligibility_and_break_glass() -> None:
    inv = directory(
        _alice(), user("f0", "Frank Ops"), user(BG, "Break Glass 1"), user("c0", "Carol Cloud"),
        role("r1", ALICE, pim={"assignment_type": "Assigned", "end": None}),
        role("r2", "f0", SECURITY_ADMIN,
             pim={"assignment_type": "Activated", "end": "2026-01-01T08:00:00Z"}),
        role("r3", BG), role("r4", "c0", eligible=True),
        role("r5", "f0", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", privileged=False),
    )
    found = {f.resource_name: f for f in run_one(STANDING, inv,
                                                 break_glass_accounts=("break@contoso.example",))}
    assert {n: (f.status, f.severity) for n, f in found.items()} == {
        "Global Administrator → a1": (Status.FAIL, Severity.CRITICAL),
        "Security Administrator → f0": (Status.PASS, Severity.HIGH),
        "Global Administrator → b1": (Status.PASS, Severity.HIGH),
        "Global Administrator ⇢ c0": (Status.PASS, Severity.HIGH),
    }
    assert found["Global Administrator → a1"].message == (
        "standing Global Administrator: Alice Admin (alice@contoso.example) holds it permanently")
    assert "Carol Cloud" in found["Global Administrator ⇢ c0"].message
    # a group holding the role names its members; the PIM listing failing leaves PASS undecided
    error = graph_error("RoleAssignmentScheduleInstances_List", (f"{DIRECTORY_ROLE}#pim",),
                        "RoleManagement.Read.Directory")
    inv = directory(user("b0", "Bob Builder"), group("gh", "Helpdesk Admins", ["b0"]),
                    role("r6", "gh", SECURITY_ADMIN),
                    role("r2", "b0", pim={"assignment_type": "Activated", "end": "x"}),
                    errors=(error,))
    results = by_uid(run_one(STANDING, inv))
    group_finding = next(f for f in results.values() if f.resource_name.endswith("gh"))
    assert group_finding.message == ("standing Security Administrator: group Helpdesk Admins "
                                     "(members: Bob Builder) holds it permanently")
    assert Status.INCONCLUSIVE in {f.status for f in results.values()}


def test_tenant_builder_is_the_subject_of_tenant_findings() -> None:
    assert tenant().account == "tenants/33333333-3333-3333-3333-333333333333"


def _app(name: str, *creds: tuple[str, str | None, str | None]) -> object:
    return entra(APPLICATION, f"{BASE}/applications/{name}", name, object_id=name,
                 display_name=name, credentials=[
                     {"kind": kind, "display_name": f"{kind}-{i}", "key_id": str(i),
                      "start": start, "end": end} for i, (kind, start, end) in enumerate(creds)])


def test_app_credentials_long_lived_expired_and_short() -> None:
    # the test scans finish on 2026-01-01: lifetimes and expiry are measured from there
    inv = directory(
        _app("deploy", ("password", "2025-06-01T00:00:00Z", "2027-06-01T00:00:00Z"),
             ("password", "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z")),
        _app("reporting", ("certificate", "2025-10-01T00:00:00Z", "2026-06-01T00:00:00Z")),
        _app("forever", ("password", "2025-10-01T00:00:00Z", None)),
        _app("managed"),
    )
    found = {f.resource_name: f for f in run_one("azure.identity.app_credentials_short_lived",
                                                 inv)}
    assert {n: f.status for n, f in found.items()} == {
        "deploy": Status.FAIL, "reporting": Status.PASS, "forever": Status.FAIL}
    assert found["deploy"].message == (
        "deploy (app registration): client secret 'password-0' valid 730 days (until "
        "2027-06-01), longer than 365; client secret 'password-1' expired 2025-01-01 and is "
        "still present")
    assert "without an end date" in found["forever"].message
    assert not any("secretText" in str(f.evidence) for f in found.values())
    relaxed = run_one("azure.identity.app_credentials_short_lived", inv, max_lifetime_days=800)
    assert {f.resource_name: f.status for f in relaxed}["deploy"] is Status.FAIL  # expired one
