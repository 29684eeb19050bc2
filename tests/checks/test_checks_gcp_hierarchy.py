"""Inherited IAM and audit configs on GCP (posture.gcp.effective_grants / merged_audit): grants
on folders and the organisation count on every project below and are named in the findings;
an organisation's audit config covers the project, its exemptions too; an ancestor whose policy
is unknown turns a PASS it could overturn into INCONCLUSIVE while a FAIL stands."""

from __future__ import annotations

from support.gcp import PROJECT_ID, ancestor, audit, binding, gasset, gcp_error, project, results

from posture.gcp import effective_grants, lineage
from posture.model import Status

FOLDER = "folders/300"
ORG = "organizations/42"
ORG_UID = f"//cloudresourcemanager.googleapis.com/{ORG}"
BASIC = "gcp.iam.no_basic_roles_for_users"
AUDIT = "gcp.audit.data_access_logs_enabled"
IMPERSONATION = "gcp.iam.no_project_level_sa_impersonation"
ADMIN_VIA_SA = "gcp.iam.no_admin_via_sa_impersonation"
POLICY = "gcp.iam.no_project_iam_policy_escalation"
ALL = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


def tree(
    *, folder: list | None = None, org: list | None = None, org_audit: list | None = None,
    own: list | None = None, own_audit: list | None = None, org_unknown: bool = False,
) -> tuple:
    return (
        project(bindings=own or [], audit_configs=own_audit or [], parent=FOLDER),
        ancestor(FOLDER, "Prod", ORG, bindings=folder or []),
        ancestor(ORG, "acme.example", bindings=org or [], audit_configs=org_audit or [],
                 unknown_policy=org_unknown),
    )


def test_owner_granted_on_a_folder_fails_the_project_and_names_the_folder() -> None:
    got = results(BASIC, *tree(folder=[binding("roles/owner", "user:eve@acme.example")]))
    f = got[PROJECT_ID]
    assert f.status == Status.FAIL
    assert "user:eve@acme.example (granted on folders/300 (Prod), inherited)" in f.message
    assert f.evidence["grants"][0]["granted_on"] == "folders/300 (Prod)"


def test_effective_grants_walk_folder_then_organisation() -> None:
    from support.gcp import ginventory

    inv = ginventory(*tree(folder=[binding("roles/viewer", "group:a@x")],
                           org=[binding("roles/browser", "group:b@x")]))
    proj = inv.get(f"//cloudresourcemanager.googleapis.com/projects/{PROJECT_ID}")
    assert proj is not None
    assert [(g.member, g.source) for g in effective_grants(inv, proj) or ()] == [
        ("group:a@x", "folders/300 (Prod)"),
        ("group:b@x", "organizations/42 (acme.example)"),
    ]
    assert lineage(inv, proj).gaps == ()


def test_organisation_audit_config_covers_the_project() -> None:
    got = results(AUDIT, *tree(org_audit=[audit(*ALL)], own_audit=[audit("ADMIN_READ")]))
    f = got[PROJECT_ID]
    assert f.status == Status.PASS, f.message
    assert "inherited from organizations/42 (acme.example)" in f.message


def test_exemption_made_on_the_organisation_is_flagged_on_the_project() -> None:
    org_audit = [audit(*ALL, exempted={"DATA_READ": ["user:svc@acme.example"]})]
    f = results(AUDIT, *tree(org_audit=org_audit, own_audit=[audit(*ALL)]))[PROJECT_ID]
    assert f.status == Status.FAIL
    assert "user:svc@acme.example (exempted on organizations/42 (acme.example), inherited)" in (
        f.message
    )


def test_project_missing_logs_under_a_folder_that_logs_nothing_still_fails() -> None:
    f = results(AUDIT, *tree(own_audit=[audit("ADMIN_READ")]))[PROJECT_ID]
    assert f.status == Status.FAIL and "DATA_READ, DATA_WRITE" in f.message


def test_unknown_organisation_policy_is_inconclusive_where_it_could_matter() -> None:
    denied = gcp_error("cloudresourcemanager", "organizations.getIamPolicy",
                       ("cloudresourcemanager.googleapis.com/Organization#iam_policy",), ORG_UID)
    estate = tree(org_unknown=True, own_audit=[audit(*ALL)])
    audit_got = results(AUDIT, *estate, errors=(denied,))
    assert audit_got[PROJECT_ID].status == Status.INCONCLUSIVE
    assert "the IAM policy of organizations/42 (acme.example) could not be read" in (
        audit_got[PROJECT_ID].message
    )
    assert audit_got["acme.example"].status == Status.INCONCLUSIVE  # the engine, on the org
    missing = results(AUDIT, *tree(org_unknown=True, own_audit=[audit("ADMIN_READ")]))
    assert missing[PROJECT_ID].status == Status.INCONCLUSIVE  # the org might log the rest
    assert results(BASIC, *estate)[PROJECT_ID].status == Status.INCONCLUSIVE
    failing = tree(org_unknown=True, own=[binding("roles/owner", "user:a@acme.example")])
    assert results(BASIC, *failing)[PROJECT_ID].status == Status.FAIL  # an allow only adds
    assert results(IMPERSONATION, *estate)[PROJECT_ID].status == Status.INCONCLUSIVE
    assert results(POLICY, *estate)[PROJECT_ID].status == Status.INCONCLUSIVE
    assert results(ADMIN_VIA_SA, *estate)[PROJECT_ID].status == Status.INCONCLUSIVE


def test_ancestor_not_collected_and_project_outside_an_organisation() -> None:
    lone = project(bindings=[], audit_configs=[audit(*ALL)])
    assert results(BASIC, lone)[PROJECT_ID].status == Status.PASS  # no parent: no ancestors
    assert results(AUDIT, lone)[PROJECT_ID].status == Status.PASS
    orphan = project(bindings=[], audit_configs=[audit(*ALL)], parent=FOLDER)
    f = results(BASIC, orphan)[PROJECT_ID]
    assert f.status == Status.INCONCLUSIVE and "folders/300 (an ancestor) was not collected" in (
        f.message
    )


def test_token_creator_on_a_folder_reaches_every_service_account_below() -> None:
    email = f"admin-sa@{PROJECT_ID}.iam.gserviceaccount.com"
    sa = gasset(
        "iam.googleapis.com/ServiceAccount",
        f"//iam.googleapis.com/projects/{PROJECT_ID}/serviceAccounts/{email}",
        name=email, email=email, disabled=False, user_managed_key_ids=[], iam_bindings=[],
    )
    estate = tree(
        folder=[binding("roles/iam.serviceAccountTokenCreator", "user:mallory@acme.example")],
        own=[binding("roles/editor", f"serviceAccount:{email}")],
    )
    f = results(ADMIN_VIA_SA, *estate, sa)[PROJECT_ID]
    assert f.status == Status.FAIL and "user:mallory@acme.example" in f.message
    step = f.evidence["paths"][0]["steps"][0]
    assert step["granted_on"] == f"folders/300 (Prod), inherited by project {PROJECT_ID}"
    wide = results(IMPERSONATION, *estate, sa)[PROJECT_ID]
    assert wide.status == Status.FAIL and "granted on folders/300 (Prod), inherited" in wide.message


def test_project_iam_admin_on_the_organisation_can_make_itself_owner_below() -> None:
    estate = tree(org=[binding("roles/resourcemanager.projectIamAdmin", "user:ivan@acme.example")])
    f = results(POLICY, *estate)[PROJECT_ID]
    assert f.status == Status.FAIL
    assert "granted on organizations/42 (acme.example), inherited" in f.message
    assert f.evidence["paths"][0]["inherited"] is True
