"""Identity data on GCP read with the real clients from the loopback fake: the Compute Engine
project's common instance metadata (google-cloud-compute), the effective identity organisation
policies (the Org Policy v2 discovery client), Privileged Access Manager entitlements (REST through
google-auth's AuthorizedSession, two pages); a denied call recorded against what it leaves
unknown, and the checks INCONCLUSIVE there; a disabled PAM API is an answer, not an error."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import by_uid, run_one
from support.gcp_collect import collect_denied, project_scope

from posture.collectors.gcp import oslogin, pam
from posture.collectors.gcp.base import ProjectScope
from posture.collectors.gcp.collector import MODULES, PACKAGE, all_permissions
from posture.collectors.gcp.orgpolicy_identity import normalize_list_policy
from posture.collectors.runner import declared_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import COMPUTE_PROJECT, ORG_POLICY, PAM_ENTITLEMENT
from posture.model import Status

NEW = ("oslogin", "orgpolicy_identity", "pam")


def test_compute_project_metadata_kept_settings_only(gcp_fake: FakeGoogle) -> None:
    scope = project_scope(gcp_fake, "acme-prod")
    [asset] = oslogin.collect(scope)
    assert (asset.uid, asset.type, asset.account, asset.region) == (
        "//compute.googleapis.com/projects/acme-prod", COMPUTE_PROJECT, "acme-prod", "global")
    assert asset.attr("metadata") == {"enable-oslogin": "TRUE"}
    assert asset.attr("metadata_keys") == ["enable-oslogin", "ssh-keys"]
    assert asset.attr("default_service_account") == (
        "111111111111-compute@developer.gserviceaccount.com")
    # values never reach the snapshot, not even the project-wide ssh keys
    items = asset.raw["commonInstanceMetadata"]["items"]
    assert {i["key"] for i in items} == {"enable-oslogin", "ssh-keys"}
    assert "ssh-ed25519" not in str(asset.raw)
    assert scope.errors == []


def test_effective_identity_policies(gcp_fake: FakeGoogle) -> None:
    from posture.collectors.gcp import orgpolicy_identity

    got = {a.name: a for a in orgpolicy_identity.collect(project_scope(gcp_fake, "acme-prod"))}
    assert {n: (a.type, a.attr("enforced")) for n, a in got.items()} == {
        "compute.requireOsLogin": (ORG_POLICY, False),
        "iam.disableServiceAccountKeyCreation": (ORG_POLICY, False),
        "iam.allowedPolicyMemberDomains": (ORG_POLICY, True),
    }
    domains = got["iam.allowedPolicyMemberDomains"]
    assert (domains.uid, domains.attr("allowed_values"), domains.attr("allow_all")) == (
        "//orgpolicy.googleapis.com/projects/acme-prod/policies/iam.allowedPolicyMemberDomains",
        ["C01abcde2"], False)
    dev = {a.name: a.attr("enforced")
           for a in orgpolicy_identity.collect(project_scope(gcp_fake, "acme-dev"))}
    assert dev == {"compute.requireOsLogin": True, "iam.disableServiceAccountKeyCreation": True,
                   "iam.allowedPolicyMemberDomains": False}  # allowAll


def test_pam_entitlements_over_two_pages(gcp_fake: FakeGoogle) -> None:
    scope = project_scope(gcp_fake, "acme-prod")
    got = {a.name: a for a in pam.collect(scope)}
    assert scope.errors == []
    assert set(got) == {"prod-owner-breakglass", "prod-iam-admin"}
    owner = got["prod-owner-breakglass"]
    assert (owner.type, owner.region, owner.uid) == (
        PAM_ENTITLEMENT, "global", "//privilegedaccessmanager.googleapis.com/projects/acme-prod/"
        "locations/global/entitlements/prod-owner-breakglass")
    assert {k: owner.attr(k) for k in ("role_bindings", "eligible_principals",
                                       "max_request_duration_seconds", "approval_required",
                                       "approval_steps", "resource")} == {
        "role_bindings": [{"role": "roles/owner", "condition": None}],
        "eligible_principals": ["group:prod-oncall@acme.example", "user:alice@acme.example"],
        "max_request_duration_seconds": 3600,
        "approval_required": True,
        "approval_steps": [{"approvers": ["group:security-leads@acme.example"],
                            "approvals_needed": 1}],
        "resource": "//cloudresourcemanager.googleapis.com/projects/acme-prod",
    }
    assert got["prod-iam-admin"].attr("approval_required") is False
    listed = [r for r in gcp_fake.requests if r.path.endswith("/entitlements")]
    assert {r.query.get("pageToken") for r in listed} >= {None, "1"}


def test_pam_api_disabled_is_no_error(gcp_fake: FakeGoogle) -> None:
    scope = project_scope(gcp_fake, "acme-dev")
    assert pam.collect(scope) == []
    assert scope.errors == []


@pytest.mark.parametrize(("seconds", "expected"), [
    ("3600s", 3600), ("1.5s", 1), ("", None), (None, None), ("1h", None)])
def test_duration_seconds(seconds: Any, expected: int | None) -> None:
    assert pam.duration_seconds(seconds) == expected


def test_denied_calls_make_only_their_checks_inconclusive() -> None:
    key = "iam.disableServiceAccountKeyCreation"
    inv = collect_denied("GET /v1/projects/acme-prod/locations/global/entitlements",
                         "GET /compute/v1/projects/acme-prod",
                         f"GET /v2/projects/acme-prod/policies/{key}:getEffectivePolicy")
    assert sorted((e.service, e.operation, e.code, e.asset_types, e.resource_uid)
                  for e in inv.errors) == [
        ("compute", "projects.get", "PERMISSION_DENIED", (COMPUTE_PROJECT,),
         "//compute.googleapis.com/projects/acme-prod"),
        ("orgpolicy", "policies.getEffectivePolicy", "PERMISSION_DENIED", (ORG_POLICY,),
         f"//orgpolicy.googleapis.com/projects/acme-prod/policies/{key}"),
        ("privilegedaccessmanager", "entitlements.list", "PERMISSION_DENIED",
         (PAM_ENTITLEMENT,), None),
    ]
    compute = inv.get("//compute.googleapis.com/projects/acme-prod")
    assert compute is not None and compute.attr("metadata") is None

    def by_name(check: str) -> dict[str, Status]:
        return {f.resource_name: f.status for f in by_uid(run_one(check, inv)).values()}

    login = by_name("gcp.identity.os_login_enabled")
    # the project default is unknown; instances that set their own value are still judged
    assert login["acme-prod"] == Status.INCONCLUSIVE
    assert (login["web-1"], login["app-1"], login["win-1"]) == (
        Status.FAIL, Status.PASS, Status.INCONCLUSIVE)
    keys = by_name("gcp.identity.sa_key_creation_disabled")
    assert keys["acme-prod"] == Status.FAIL  # the 400-day-old key decides without the policy
    pam_found = by_name("gcp.identity.pam_entitlements_time_limited")
    assert list(pam_found.values()) == [Status.INCONCLUSIVE]
    # standing grants do not depend on PAM: a failed listing leaves the FAIL standing
    assert by_name("gcp.identity.no_standing_privileged_access")["acme-prod"] == Status.FAIL


def test_permissions_grow_by_exactly_the_new_reads() -> None:
    old = set(declared_permissions(PACKAGE, [m for m in MODULES if m not in NEW]))
    new = set(declared_permissions(PACKAGE, NEW))
    assert new - old == {"compute.projects.get", "privilegedaccessmanager.entitlements.list"}
    assert new - old <= set(all_permissions())


@pytest.mark.parametrize(("rules", "enforced", "allowed"), [
    ([], False, []),
    ([{"allowAll": True}], False, []),
    ([{"values": {"allowedValues": ["C0b", "C0a"]}}], True, ["C0a", "C0b"]),
    ([{"denyAll": True}], True, []),
    ([{"values": {"allowedValues": ["C0a"]}}, {"allowAll": True}], False, ["C0a"]),
    ([{"values": {"allowedValues": ["C0a"]},
       "condition": {"expression": "resource.matchTag('1/env', 'prod')"}}], None, []),
])
def test_list_policy_normalization(rules: list[dict[str, Any]], enforced: bool | None,
                                   allowed: list[str]) -> None:
    scope = ProjectScope("p", None)  # type: ignore[arg-type]  # normalize needs no client
    got = normalize_list_policy(scope, "iam.allowedPolicyMemberDomains",
                                {"name": "projects/1/policies/x", "spec": {"rules": rules}})
    assert (got.attr("enforced"), got.attr("allowed_values")) == (enforced, allowed)
