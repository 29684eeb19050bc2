"""gcp.iam.no_project_iam_policy_escalation and gcp.iam.no_latent_privilege_escalation on small
inventories (posture/iam/gcp_escalation.py): setIamPolicy holders, delegated-grant conditions,
custom roles, chains through service accounts, and latent project-level impersonation that
becomes a real path when an Editor account appears - never both."""

from __future__ import annotations

from typing import Any

from support.gcp import PROJECT_ID, binding, gasset, gcp_error, project, results

from posture.model import Asset, Finding, Severity, Status

POLICY_CHECK = "gcp.iam.no_project_iam_policy_escalation"
LATENT_CHECK = "gcp.iam.no_latent_privilege_escalation"
IMPERSONATION_CHECK = "gcp.iam.no_admin_via_sa_impersonation"
IAM_ADMIN = "roles/resourcemanager.projectIamAdmin"
SECURITY_ADMIN = "roles/iam.securityAdmin"
TOKEN = "roles/iam.serviceAccountTokenCreator"
ACT_AS = "roles/iam.serviceAccountUser"
BOB = "user:bob@acme.example"
CAROL = "user:carol@acme.example"
CUSTOM = f"projects/{PROJECT_ID}/roles/accessManager"


def sa(name: str, *bindings: dict[str, Any]) -> Asset:
    email = f"{name}@{PROJECT_ID}.iam.gserviceaccount.com"
    return gasset(
        "iam.googleapis.com/ServiceAccount",
        f"//iam.googleapis.com/projects/{PROJECT_ID}/serviceAccounts/{email}",
        name=email,
        email=email,
        disabled=False,
        user_managed_key_ids=[],
        iam_bindings=list(bindings),
    )


def member(name: str) -> str:
    return f"serviceAccount:{name}@{PROJECT_ID}.iam.gserviceaccount.com"


def delegated(*roles: str) -> dict[str, str]:
    listed = ", ".join(f"'{r}'" for r in roles)
    return {
        "title": "delegated grants",
        "expression": "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', [])"
        f".hasOnly([{listed}])",
    }


def policy(*bindings: dict[str, Any], extra: tuple[Asset, ...] = ()) -> Finding:
    return results(POLICY_CHECK, project(bindings=list(bindings)), *extra)[PROJECT_ID]


def latent(*bindings: dict[str, Any], extra: tuple[Asset, ...] = ()) -> Finding:
    return results(LATENT_CHECK, project(bindings=list(bindings)), *extra)[PROJECT_ID]


def test_project_iam_admin_can_grant_itself_owner() -> None:
    f = policy(binding(IAM_ADMIN, BOB))
    assert f.status is Status.FAIL and f.severity is Severity.HIGH
    assert f.message == (
        f"can grant themselves Owner by rewriting the IAM policy: {BOB} ({IAM_ADMIN})"
    )
    assert [h["id"] for h in f.evidence["paths"][0]["path"]] == [
        BOB, PROJECT_ID, "roles/owner",
    ]
    # Editor is not Owner: an Editor with Security Admin still escalates
    f = policy(binding("roles/editor", CAROL), binding(SECURITY_ADMIN, CAROL))
    assert f.status is Status.FAIL and CAROL in f.message


def test_owners_gain_nothing_and_are_not_reported_twice() -> None:
    f = policy(binding("roles/owner", BOB), binding(IAM_ADMIN, BOB))
    assert f.status is Status.PASS and f.evidence["owners"] == [BOB]
    assert policy(binding("roles/owner", BOB)).status is Status.PASS


def test_conditions_on_the_grant() -> None:
    # delegated role grants limited to viewer roles: no escalation
    f = policy(binding(IAM_ADMIN, BOB, condition=delegated("roles/viewer", "roles/browser")))
    assert f.status is Status.PASS
    assert f.evidence["restricted"][0]["may_grant"] == ["roles/viewer", "roles/browser"]
    assert "delegated grants limited to non-admin roles" in f.message
    # ... but a list naming Editor is an escalation to Editor
    f = policy(binding(IAM_ADMIN, BOB, condition=delegated("roles/viewer", "roles/editor")))
    assert f.status is Status.FAIL and "up to roles/editor" in f.message
    # any other condition cannot be decided
    expiry = {"title": "until friday", "expression": "request.time < timestamp('2026-01-02')"}
    f = policy(binding(IAM_ADMIN, BOB, condition=expiry))
    assert f.status is Status.INCONCLUSIVE and "until friday" in f.message


def test_custom_roles_are_not_expanded() -> None:
    f = policy(binding(CUSTOM, BOB))
    assert f.status is Status.INCONCLUSIVE
    assert f"custom role {CUSTOM} is not expanded" in f.message
    assert "resourcemanager.projects.setIamPolicy" in f.evidence["possible"][0]["undecided"]
    # a certain escalation of another member decides the project
    assert policy(binding(CUSTOM, BOB), binding(IAM_ADMIN, CAROL)).status is Status.FAIL


def test_impersonating_a_service_account_that_can_rewrite_the_policy() -> None:
    f = policy(
        binding(SECURITY_ADMIN, member("access-bot")),
        extra=(sa("access-bot", binding(TOKEN, BOB)),),
    )
    assert f.status is Status.FAIL
    bob = next(p for p in f.evidence["paths"] if p["member"] == BOB)
    assert bob["holder"] == member("access-bot") and bob["steps"][0]["role"] == TOKEN
    assert f"{BOB} (through {member('access-bot')}, which holds {SECURITY_ADMIN})" in f.message


def test_project_level_token_creator_without_a_privileged_account_is_latent() -> None:
    f = latent(binding(TOKEN, BOB), extra=(sa("reader"),))
    assert f.status is Status.FAIL and f.severity is Severity.MEDIUM
    assert f.message == (
        f"no service account of project {PROJECT_ID} holds a basic admin role today; the moment "
        f"one does, {BOB} becomes administrator by minting its tokens (reaching today, short of "
        f"administrator: reader@{PROJECT_ID}.iam.gserviceaccount.com)"
    )
    assert [h["kind"] for h in f.evidence["paths"][0]] == ["principal", "missing", ""]
    assert f.evidence["latent"][0]["holder"] == BOB


def test_latent_becomes_a_real_path_when_an_editor_account_is_added_never_both() -> None:
    before = (project(bindings=[binding(TOKEN, BOB)]), sa("ci"))
    after = (
        project(bindings=[binding(TOKEN, BOB), binding("roles/editor", member("ci"))]),
        sa("ci"),
    )
    assert results(LATENT_CHECK, *before)[PROJECT_ID].status is Status.FAIL
    assert results(IMPERSONATION_CHECK, *before)[PROJECT_ID].status is Status.PASS
    assert results(LATENT_CHECK, *after)[PROJECT_ID].status is Status.PASS
    assert results(IMPERSONATION_CHECK, *after)[PROJECT_ID].status is Status.FAIL


def test_latent_traps() -> None:
    # act-as alone runs nothing: no power at all; with a role that deploys, it is latent
    assert latent(binding(ACT_AS, BOB)).status is Status.PASS
    f = latent(binding(ACT_AS, BOB), binding("roles/run.developer", BOB))
    assert f.status is Status.FAIL and "by running a workload as it" in f.message
    # already Editor of the project, or escalating by rewriting the policy: not latent
    assert latent(binding(TOKEN, BOB), binding("roles/editor", BOB)).status is Status.PASS
    assert latent(binding(TOKEN, BOB), binding(IAM_ADMIN, BOB)).status is Status.PASS
    # a conditional grant: inconclusive
    expiry = {"title": "incident", "expression": "request.time < timestamp('2026-01-02')"}
    f = latent(binding(TOKEN, BOB, condition=expiry))
    assert f.status is Status.INCONCLUSIVE and "incident" in f.message
    # act-as with a custom role: a possible path by rewriting the policy, judged there
    f = latent(binding(ACT_AS, BOB), binding(CUSTOM, BOB))
    assert f.status is Status.PASS and f.evidence["not_latent"] == [BOB]
    # key admin on the project is the same latent power
    f = latent(binding("roles/iam.serviceAccountKeyAdmin", CAROL))
    assert f.status is Status.FAIL and "by creating a key for it" in f.message


def test_unknown_project_policy_or_service_accounts() -> None:
    for check in (POLICY_CHECK, LATENT_CHECK):
        got = results(check, project(bindings=None))[PROJECT_ID]
        assert got.status is Status.INCONCLUSIVE
    # the accounts could not be listed: an Editor account may already exist
    listing = gcp_error(
        "iam",
        "serviceAccounts.list",
        ("iam.googleapis.com/ServiceAccount", "iam.googleapis.com/ServiceAccountKey"),
    )
    got = results(LATENT_CHECK, project(bindings=[binding(TOKEN, BOB)]), errors=(listing,))
    assert got[PROJECT_ID].status is Status.INCONCLUSIVE
    assert "could not be listed" in got[PROJECT_ID].message
