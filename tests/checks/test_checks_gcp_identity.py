"""GCP identity checks on small inventories: OS Login and its 2-step verification (instance values
override the project's), service-account key creation, domain restricted sharing, standing
privileged roles vs PAM entitlements, PAM entitlement limits. Traps: an instance opting out of
its project's OS Login, an "expiring" condition that is no time bound, a start-only condition,
an inherited grant, a key too old although the policy is enforced now."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.gcp import (
    PROJECT_ID,
    ancestor,
    binding,
    compute_project,
    entitlement,
    gcp_error,
    org_policy,
    project,
    results,
    sa_key,
    statuses,
    vm_with_metadata,
)

from posture.iam.gcp import condition_expiry, time_bound
from posture.model import Status

P, F, U = Status.PASS, Status.FAIL, Status.INCONCLUSIVE
OSLOGIN = "gcp.identity.os_login_enabled"
TWO_FA = "gcp.identity.os_login_2fa_enabled"
KEYS = "gcp.identity.sa_key_creation_disabled"
DOMAINS = "gcp.identity.allowed_member_domains_restricted"
STANDING = "gcp.identity.no_standing_privileged_access"
PAM = "gcp.identity.pam_entitlements_time_limited"
ON = {"enable-oslogin": "TRUE"}


def test_os_login_instance_value_overrides_the_project() -> None:
    got = statuses(
        OSLOGIN,
        compute_project(ON),
        vm_with_metadata("inherits", {}),
        vm_with_metadata("opts-out", {"enable-oslogin": "FALSE"}),
        vm_with_metadata("lower-case", {"enable-oslogin": "true"}),
        vm_with_metadata("garbled", {"enable-oslogin": "yes please"}),  # unparsable: project's
        vm_with_metadata("unseen", None),
    )
    assert got == {PROJECT_ID: P, "inherits": P, "opts-out": F, "lower-case": P, "garbled": P,
                   "unseen": U}


def test_os_login_off_by_default_and_the_org_policy_is_evidence_only() -> None:
    found = results(
        OSLOGIN,
        compute_project({}),
        vm_with_metadata("plain", {}),
        vm_with_metadata("own", {"enable-oslogin": "1"}),
        org_policy("compute.requireOsLogin", True),
    )
    assert {k: f.status for k, f in found.items()} == {PROJECT_ID: F, "plain": F, "own": P}
    assert "compute.requireOsLogin is enforced" in found[PROJECT_ID].message
    assert "neither on the instance nor on the project" in found["plain"].message
    assert found["plain"].evidence["org_policy_enforced"] is True


def test_os_login_project_metadata_not_read_is_inconclusive_unless_the_instance_decides() -> None:
    got = statuses(
        OSLOGIN,
        compute_project(None),
        vm_with_metadata("plain", {}),
        vm_with_metadata("own-off", {"enable-oslogin": "FALSE"}),
        errors=(gcp_error("compute", "projects.get", ("compute.googleapis.com/Project",),
                          resource_uid=f"//compute.googleapis.com/projects/{PROJECT_ID}"),),
    )
    assert got == {PROJECT_ID: U, "plain": U, "own-off": F}


def test_os_login_2fa() -> None:
    found = results(
        TWO_FA,
        compute_project({"enable-oslogin": "TRUE", "enable-oslogin-2fa": "TRUE"}),
        vm_with_metadata("inherits", {}),
        vm_with_metadata("no-2fa", {"enable-oslogin-2fa": "FALSE"}),
        vm_with_metadata("no-login", {"enable-oslogin": "FALSE"}),
        vm_with_metadata("unseen", None),
    )
    assert {k: f.status for k, f in found.items()} == {
        PROJECT_ID: P, "inherits": P, "no-2fa": F, "no-login": F, "unseen": U}
    assert "OS Login itself is off" in found["no-login"].message


def test_os_login_2fa_security_keys_count_and_project_without_2fa_fails() -> None:
    got = statuses(
        TWO_FA,
        compute_project(ON),
        vm_with_metadata("sk", {"enable-oslogin-sk": "TRUE"}),
        vm_with_metadata("plain", {}),
    )
    assert got == {PROJECT_ID: F, "sk": P, "plain": F}
    unknown = statuses(TWO_FA, compute_project(None), vm_with_metadata("plain", ON))
    assert unknown == {PROJECT_ID: U, "plain": U}


SA = "app@acme-test.iam.gserviceaccount.com"


def test_key_creation_disabled_needs_the_policy_and_no_old_key() -> None:
    fresh, old = "2025-12-01T00:00:00Z", "2024-01-01T00:00:00Z"
    policy = "iam.disableServiceAccountKeyCreation"
    assert statuses(KEYS, project(), org_policy(policy, True), sa_key(SA, "k1", fresh)) == {
        PROJECT_ID: P}
    # the policy does not revoke a key created before it was enforced
    found = results(KEYS, project(), org_policy(policy, True), sa_key(SA, "k2", old))
    assert found[PROJECT_ID].status == F and "older than 90 days" in found[PROJECT_ID].message
    # disabled keys do not count; the age limit is a parameter
    assert statuses(KEYS, project(), org_policy(policy, True),
                    sa_key(SA, "k3", old, disabled=True)) == {PROJECT_ID: P}
    assert statuses(KEYS, project(), org_policy(policy, True), sa_key(SA, "k4", fresh),
                    max_age_days=10) == {PROJECT_ID: F}
    assert statuses(KEYS, project(), org_policy(policy, False)) == {PROJECT_ID: F}
    # an old key fails even when the policy is unknown; without one, unknown stays unknown
    assert statuses(KEYS, project(), org_policy(policy, None), sa_key(SA, "k5", old)) == {
        PROJECT_ID: F}
    assert statuses(KEYS, project(), org_policy(policy, None, conditional=True)) == {
        PROJECT_ID: U}
    assert statuses(KEYS, project()) == {PROJECT_ID: U}


def test_key_creation_disabled_listing_failed_is_inconclusive() -> None:
    policy = org_policy("iam.disableServiceAccountKeyCreation", True)
    errors = (gcp_error("iam", "serviceAccounts.list", ("iam.googleapis.com/ServiceAccount",
                                                        "iam.googleapis.com/ServiceAccountKey")),)
    got = statuses(KEYS, project(), policy, errors=errors)
    assert got[PROJECT_ID] == U


def test_allowed_member_domains() -> None:
    org = ancestor("organizations/42", "acme.example")
    org = replace(org, attrs={**org.attrs, "directory_customer_id": "C0own"})
    domains = "iam.allowedPolicyMemberDomains"
    found = results(DOMAINS, project(parent="organizations/42"), org,
                    org_policy(domains, True, allowed_values=["C0own"], allow_all=False))
    assert found[PROJECT_ID].status == P
    assert "the organisation's own directory" in found[PROJECT_ID].message
    assert statuses(DOMAINS, project(), org_policy(domains, False, allowed_values=[],
                                                   allow_all=True)) == {PROJECT_ID: F}
    assert statuses(DOMAINS, project(), org_policy(domains, None, conditional=True)) == {
        PROJECT_ID: U}
    assert statuses(DOMAINS, project()) == {PROJECT_ID: U}


EXPIRES = {"title": "until 2026-01-20",
           "expression": 'request.time < timestamp("2026-01-20T00:00:00Z")'}
FAR = {"title": "until 2030", "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")'}
FAKE_EXPIRY = {"title": "temporary, expires after the migration",
               "expression": 'resource.name.startsWith("projects/_/buckets/migration")'}
STARTS = {"title": "access from 2026-01-01",
          "expression": 'request.time > timestamp("2026-01-01T00:00:00Z")'}


@pytest.mark.parametrize(("cond", "bound"), [
    (None, False),
    (EXPIRES, True),
    (FAKE_EXPIRY, False),
    (STARTS, False),
    ({"expression": "request.time.getHours('Europe/Berlin') < 18"}, False),
    ({"expression": '(request.time < timestamp("2026-03-01T00:00:00Z") && '
                    'resource.type == "storage.googleapis.com/Bucket")'}, True),
    ({"expression": 'request.time < timestamp("2026-03-01T00:00:00Z") || '
                    'resource.name == "a && b"'}, False),
    ({"expression": "timestamp('2026-03-01T00:00:00Z') >= request.time"}, True),
])
def test_time_bound_reads_the_expression_not_the_title(cond: dict[str, str] | None,
                                                       bound: bool) -> None:
    assert time_bound(cond) is bound


def test_earliest_expiry_wins_in_a_conjunction() -> None:
    both = {"expression": 'request.time < timestamp("2026-05-01T00:00:00Z") && '
                          'request.time < timestamp("2026-03-01T00:00:00Z")'}
    assert str(condition_expiry(both)) == "2026-03-01 00:00:00+00:00"


def test_standing_privileged_access_traps() -> None:
    bindings = [
        binding("roles/owner", "user:alice@acme.example"),
        binding("roles/owner", "user:carol@acme.example", condition=EXPIRES),
        binding("roles/editor", "user:gina@acme.example", condition=FAKE_EXPIRY),
        binding("roles/editor", "user:hal@acme.example", condition=STARTS),
        binding("roles/iam.securityAdmin", "user:ivy@acme.example", condition=FAR),
        binding("roles/viewer", "user:vic@acme.example"),
        binding("roles/owner", "serviceAccount:ci@acme-test.iam.gserviceaccount.com"),
    ]
    found = results(
        STANDING,
        project(bindings=bindings, parent="folders/1"),
        ancestor("folders/1", "Prod", "organizations/42", bindings=[
            binding("roles/resourcemanager.projectIamAdmin", "group:ops@acme.example")]),
        ancestor("organizations/42", "acme.example"),
        entitlement("owner-jit", ("roles/owner",), ("user:alice@acme.example",), 3600,
                    ("group:security@acme.example",)),
    )[PROJECT_ID]
    assert found.status == F
    standing = {(g["member"], g["role"]) for g in found.evidence["grants"]}
    assert standing == {
        ("user:alice@acme.example", "roles/owner"),
        ("user:gina@acme.example", "roles/editor"),  # "expires" in the title only
        ("user:hal@acme.example", "roles/editor"),  # only starts access
        ("user:ivy@acme.example", "roles/iam.securityAdmin"),  # bound, but 4 years away
        ("group:ops@acme.example", "roles/resourcemanager.projectIamAdmin"),  # inherited
    }
    assert [g["member"] for g in found.evidence["time_bound"]] == ["user:carol@acme.example"]
    assert "PAM entitlement owner-jit (to user:alice@acme.example too) offers it" in found.message
    assert "on folders/1 (Prod), inherited" in found.message
    assert "does not bound it in time" in found.message


def test_standing_privileged_access_pass_unknown_and_params() -> None:
    ok = [binding("roles/owner", "user:carol@acme.example", condition=EXPIRES),
          binding("roles/viewer", "user:vic@acme.example")]
    assert statuses(STANDING, project(bindings=ok)) == {PROJECT_ID: P}
    assert statuses(STANDING, project(bindings=None)) == {PROJECT_ID: U}
    # an inherited policy not read could add a standing grant
    assert statuses(STANDING, project(bindings=ok, parent="folders/1"),
                    ancestor("folders/1", "Prod", "organizations/42", unknown_policy=True),
                    ancestor("organizations/42")) == {PROJECT_ID: U}
    viewer = [binding("roles/viewer", "user:vic@acme.example")]
    assert statuses(STANDING, project(bindings=viewer),
                    privileged_roles=("roles/viewer",)) == {PROJECT_ID: F}
    assert statuses(STANDING, project(bindings=[binding("roles/owner", "user:a@x", condition=FAR)]),
                    max_time_bound_days=3650) == {PROJECT_ID: P}


def test_pam_entitlements_time_limited() -> None:
    got = statuses(
        PAM,
        entitlement("ok", ("roles/owner",), ("user:a@x",), 3600, ("group:sec@x",)),
        entitlement("long", ("roles/owner",), ("user:a@x",), 86400, ("group:sec@x",)),
        entitlement("unapproved", ("roles/editor",), ("user:a@x",), 3600),
        entitlement("viewer", ("roles/viewer",), ("user:a@x",), 3600),
        entitlement("unknown", ("roles/owner",), ("user:a@x",), None, ("group:sec@x",)),
    )
    assert got == {"ok": P, "long": F, "unapproved": F, "viewer": P, "unknown": U}
    assert statuses(PAM, entitlement("long", ("roles/owner",), ("user:a@x",), 86400,
                                     ("group:sec@x",)), max_request_hours=24) == {"long": P}


def test_pam_listing_failed_is_inconclusive() -> None:
    errors = (gcp_error("privilegedaccessmanager", "entitlements.list",
                        ("privilegedaccessmanager.googleapis.com/Entitlement",)),)
    found = results(PAM, errors=errors)
    assert [f.status for f in found.values()] == [U]
