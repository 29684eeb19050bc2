"""Admin-equivalence through service-account impersonation (posture/iam/gcp.py): token
creator, key admin and act-as edges, chains, conditions, custom roles, cross-project accounts."""

from __future__ import annotations

from typing import Any

from support.gcp import PROJECT_ID, binding, gasset, gcp_error, project, results

from posture.model import Asset, CollectionError, Finding, Status

CHECK = "gcp.iam.no_admin_via_sa_impersonation"
TOKEN = "roles/iam.serviceAccountTokenCreator"
USER = "roles/iam.serviceAccountUser"
BOB = "user:bob@acme.example"


def sa(
    name: str, *bindings: dict[str, Any], proj: str = PROJECT_ID, unknown: bool = False
) -> Asset:
    email = f"{name}@{proj}.iam.gserviceaccount.com"
    return gasset(
        "iam.googleapis.com/ServiceAccount",
        f"//iam.googleapis.com/projects/{proj}/serviceAccounts/{email}",
        name=email,
        project=proj,
        email=email,
        disabled=False,
        user_managed_key_ids=[],
        iam_bindings=None if unknown else list(bindings),
    )


def member(name: str, proj: str = PROJECT_ID) -> str:
    return f"serviceAccount:{name}@{proj}.iam.gserviceaccount.com"


def run(*assets: Asset, errors: tuple[CollectionError, ...] = ()) -> dict[str, Finding]:
    return results(CHECK, *assets, errors=errors)


def status(*assets: Asset) -> Status:
    return run(*assets)[PROJECT_ID].status


def test_project_level_token_creator_on_an_editor_account_is_admin() -> None:
    got = run(
        project(bindings=[binding("roles/editor", member("ci")), binding(TOKEN, BOB)]),
        sa("ci"),
        sa("reader"),
    )[PROJECT_ID]
    assert got.status is Status.FAIL and BOB in got.message
    path = got.evidence["paths"][0]
    assert path["admin_role"] == "roles/editor" and path["on_project"] == PROJECT_ID
    assert path["steps"] == [
        {
            "principal": BOB,
            "action": "can mint access tokens for",
            "service_account": f"ci@{PROJECT_ID}.iam.gserviceaccount.com",
            "role": TOKEN,
            "granted_on": f"project {PROJECT_ID}",
        }
    ]


def test_traps_not_admin() -> None:
    # the impersonated account holds no basic role
    assert status(project(bindings=[binding(TOKEN, BOB)]), sa("reader")) is Status.PASS
    # token creator on a harmless account only, the admin account untouched
    assert (
        status(
            project(bindings=[binding("roles/editor", member("ci"))]),
            sa("ci"),
            sa("reader", binding(TOKEN, BOB)),
        )
        is Status.PASS
    )
    # the principal is already Owner: nothing gained (other checks report it)
    assert (
        status(
            project(
                bindings=[
                    binding("roles/editor", member("ci")),
                    binding("roles/owner", BOB),
                    binding(TOKEN, BOB),
                ]
            ),
            sa("ci"),
        )
        is Status.PASS
    )
    # a conditional admin binding on the account is not standing admin
    cond = {"title": "until friday", "expression": "request.time < timestamp('2026-01-02')"}
    assert (
        status(
            project(bindings=[binding("roles/editor", member("ci"), condition=cond)]),
            sa("ci", binding(TOKEN, BOB)),
        )
        is Status.PASS
    )


def test_act_as_needs_a_role_that_runs_workloads() -> None:
    admin = binding("roles/editor", member("ci"))
    # actAs alone: no way to run anything as the account
    assert status(project(bindings=[admin, binding(USER, BOB)]), sa("ci")) is Status.PASS
    # with Cloud Run developer on the same project: a Cloud Run service running as ci
    got = run(
        project(bindings=[admin, binding(USER, BOB), binding("roles/run.developer", BOB)]),
        sa("ci"),
    )[PROJECT_ID]
    assert got.status is Status.FAIL
    assert got.evidence["paths"][0]["steps"][0]["action"] == "can act as"
    # a custom role might grant a deploy permission: not decided
    assert (
        status(
            project(
                bindings=[admin, binding(USER, BOB), binding(f"projects/{PROJECT_ID}/roles/x", BOB)]
            ),
            sa("ci"),
        )
        is Status.INCONCLUSIVE
    )


def test_conditional_grants_are_inconclusive_and_key_admin_is_an_edge() -> None:
    cond = {"title": "incident", "expression": "request.time < timestamp('2026-01-02')"}
    admin = binding("roles/editor", member("ci"))
    got = run(project(bindings=[admin]), sa("ci", binding(TOKEN, BOB, condition=cond)))
    assert got[PROJECT_ID].status is Status.INCONCLUSIVE
    assert "incident" in got[PROJECT_ID].evidence["possible"][0]["steps"][0]["undecided"]
    key_admin = binding("roles/iam.serviceAccountKeyAdmin", BOB)
    assert status(project(bindings=[admin]), sa("ci", key_admin)) is Status.FAIL


def test_chains_of_service_accounts() -> None:
    got = run(
        project(bindings=[binding("roles/owner", member("root"))]),
        sa("hop", binding(TOKEN, BOB)),
        sa("root", binding(TOKEN, member("hop"))),
    )
    fail = got[PROJECT_ID]
    assert fail.status is Status.FAIL
    bob = next(p for p in fail.evidence["paths"] if p["principal"] == BOB)
    assert [s["service_account"].split("@")[0] for s in bob["steps"]] == ["hop", "root"]
    assert member("hop") in fail.message  # the intermediate account is itself admin-equivalent


def test_cross_project_admin_account() -> None:
    other = "acme-tools"
    got = run(
        project(bindings=[binding("roles/editor", member("builder", other))]),
        project(other, "999", bindings=[binding(TOKEN, BOB)]),
        sa("builder", proj=other),
    )
    assert got[PROJECT_ID].status is Status.FAIL  # admin gained on acme-test
    assert got[other].status is Status.PASS


def test_unknown_policies() -> None:
    admin = binding("roles/editor", member("ci"))
    unknown = sa("ci", unknown=True)
    err = gcp_error(
        "iam",
        "serviceAccounts.getIamPolicy",
        ("iam.googleapis.com/ServiceAccount#iam_policy",),
        resource_uid=unknown.uid,
    )
    got = run(project(bindings=[admin]), unknown, errors=(err,))
    assert got[PROJECT_ID].status is Status.INCONCLUSIVE
    assert got[unknown.name].status is Status.INCONCLUSIVE  # the account itself: not verified
    assert run(project(bindings=None))[PROJECT_ID].status is Status.INCONCLUSIVE
