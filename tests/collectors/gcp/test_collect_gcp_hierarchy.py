"""The projects' ancestors with the real Resource Manager v3 clients against the loopback fake:
folders up to the organisation, their IAM policies and audit configs (each collected once), a
denied organizations.getIamPolicy recorded against the organisation, and the permissions."""

from __future__ import annotations

from support.checks import by_uid, run_one
from support.gcp_collect import collect_denied, collect_fake

from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle, load_routes
from posture.model import Status

RM = "//cloudresourcemanager.googleapis.com"
ORG = "organizations/500000000001"
PROD = f"{RM}/projects/acme-prod"
DEV = f"{RM}/projects/acme-dev"


def test_ancestors_and_their_policies_are_collected_once(gcp_fake: FakeGoogle) -> None:
    start = len(gcp_fake.requests)
    inv = collect_fake(gcp_fake.base)
    got = {a.uid: a for a in inv.assets if a.type.endswith(("/Folder", "/Organization"))}
    assert {uid: (a.account, a.name, a.attr("parent")) for uid, a in got.items()} == {
        f"{RM}/folders/300000000001": ("folders/300000000001", "Production", ORG),
        f"{RM}/folders/300000000002": ("folders/300000000002", "Development",
                                       "folders/300000000003"),
        f"{RM}/folders/300000000003": ("folders/300000000003", "Non-production", ORG),
        f"{RM}/{ORG}": (ORG, "acme.example", None),
    }
    org = got[f"{RM}/{ORG}"]
    assert org.attr("audit_configs") == [
        {"service": "allServices", "log_types": {"DATA_READ": [], "DATA_WRITE": []}}
    ]
    assert org.attr("directory_customer_id") == "C01abcde2"
    assert got[f"{RM}/folders/300000000001"].attr("iam_bindings")[0] == {
        "role": "roles/owner", "members": ["group:prod-oncall@acme.example"], "condition": None
    }
    calls = [r.path for r in gcp_fake.requests[start:] if r.path.startswith("/v3/organizations")]
    assert sorted(calls) == [f"/v3/{ORG}", f"/v3/{ORG}:getIamPolicy"]  # shared: once
    assert [e.operation for e in inv.errors] == ["instances.list"]  # only the demo's 403 on SQL

    basic = by_uid(run_one("gcp.iam.no_basic_roles_for_users", inv))[PROD]
    assert basic.status == Status.FAIL
    assert "group:prod-oncall@acme.example (granted on folders/300000000001 (Production), " \
        "inherited)" in basic.message
    logs = by_uid(run_one("gcp.audit.data_access_logs_enabled", inv))[PROD]
    assert logs.status == Status.PASS, logs.message  # the organisation logs DATA_READ/WRITE


def test_denied_organisation_policy_is_recorded_and_makes_verdicts_inconclusive() -> None:
    inv = collect_denied(f"POST /v3/{ORG}:getIamPolicy", projects=("acme-prod", "acme-dev"))
    errors = {(e.account, e.operation, e.code, e.asset_types, e.resource_uid) for e in inv.errors
              if e.service == "cloudresourcemanager"}
    assert errors == {(ORG, "organizations.getIamPolicy", "PERMISSION_DENIED",
                       ("cloudresourcemanager.googleapis.com/Organization#iam_policy",),
                       f"{RM}/{ORG}")}
    org = inv.get(f"{RM}/{ORG}")
    assert org is not None and org.attr("iam_bindings") is None and org.name == "acme.example"
    logs = by_uid(run_one("gcp.audit.data_access_logs_enabled", inv))
    assert logs[PROD].status == Status.INCONCLUSIVE  # the organisation might log the rest
    assert logs[DEV].status == Status.INCONCLUSIVE  # complete, but exemptions might come down
    assert "organizations/500000000001 (acme.example) could not be read" in logs[DEV].message
    assert logs[f"{RM}/{ORG}"].status == Status.INCONCLUSIVE
    basic = by_uid(run_one("gcp.iam.no_basic_roles_for_users", inv))
    assert basic[PROD].status == Status.FAIL  # an allow policy can only add


def test_single_project_whose_folder_cannot_be_read_keeps_working() -> None:
    inv = collect_denied("GET /v3/folders/300000000002",
                         "POST /v3/folders/300000000002:getIamPolicy",
                         projects=("acme-dev",), routes=load_routes(("acme-dev",)))
    folder = inv.get(f"{RM}/folders/300000000002")
    assert folder is not None and folder.attr("parent") is None
    assert inv.get(f"{RM}/folders/300000000003") is None  # the chain stops there
    ops = sorted(e.operation for e in inv.errors if e.service == "cloudresourcemanager")
    assert ops == ["folders.get", "folders.getIamPolicy"]
    f = by_uid(run_one("gcp.iam.no_project_iam_policy_escalation", inv))[DEV]
    assert f.status == Status.INCONCLUSIVE and "folders/300000000002" in f.message


def test_permissions_name_the_hierarchy_reads() -> None:
    assert {
        "resourcemanager.folders.get",
        "resourcemanager.folders.getIamPolicy",
        "resourcemanager.organizations.get",
        "resourcemanager.organizations.getIamPolicy",
    } <= set(all_permissions())
