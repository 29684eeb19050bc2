"""Entra ID through Microsoft Graph and Defender for Cloud JIT policies, collected by the real
collector (azure-core pipeline, ClientSecretCredential) against the loopback HTTPS fake serving
recorded Graph responses (``fixtures/azure/graph``: ``@odata.context``, ``@odata.nextLink``)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from support.azure import SUB, TENANT
from support.azure_collect import collect_fake, collect_fresh, names
from support.checks import run_one

from posture.collectors.azure.base import AzureTarget
from posture.collectors.azure.collector import graph_permissions, role_definition
from posture.demo.azure_fake import FakeArm, fixtures_root
from posture.model import Inventory, Status

ACCOUNT = f"tenants/{TENANT}"


def _collect(fake: FakeArm, graph: bool = True, retries: int = 0) -> Inventory:
    return collect_fake(fake, retries, graph_endpoint=fake.base if graph else None)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return collect_fresh(tmp_path_factory.mktemp("tls"), graph=True)


def test_every_graph_type_is_collected_with_display_names(estate: Inventory) -> None:
    assert estate.errors == ()
    [tenant] = estate.of("microsoft.graph.organization")
    assert (tenant.uid, tenant.account, tenant.name) == (f"/tenants/{TENANT}", ACCOUNT, "Contoso")
    # two pages of /users (@odata.nextLink with $skiptoken)
    assert len(estate.of("microsoft.graph.user")) == 9
    assert "Frank Ops" in names(estate, "microsoft.graph.user")
    assert names(estate, "microsoft.graph.unifiedRoleAssignment") >= {
        "Global Administrator → Alice Admin", "Helpdesk Administrator → Helpdesk Admins",
        "Directory Readers → reporting-app"}
    assert names(estate, "microsoft.graph.unifiedRoleEligibilitySchedule") == {
        "Global Administrator ⇢ Carol Cloud"}
    assert names(estate, "microsoft.graph.group") == {"CA Exclusions", "Helpdesk Admins"}
    assert len(estate.of("microsoft.graph.conditionalAccessPolicy")) == 4
    assert [d.attr("enabled") for d in
            estate.of("microsoft.graph.identitySecurityDefaultsEnforcementPolicy")] == [False]
    assert all(a.account == ACCOUNT for a in estate.assets if a.type.startswith("microsoft."))


def test_normalized_graph_attributes(estate: Inventory) -> None:
    users = {u.name: u for u in estate.of("microsoft.graph.user")}
    assert (users["Bob Builder"].attr("mfa_registered"), users["Alice Admin"].attr(
        "mfa_methods")) == (False, ["microsoftAuthenticatorPush", "fido2"])
    assert users["Dave Departed"].attr("mfa_registered") is None  # disabled: not in the report
    assert users["Gina Partner"].attr("user_type") == "Guest"
    assert users["Break Glass 1"].attr("employee_type") == "break-glass"
    policy = next(p for p in estate.of("microsoft.graph.conditionalAccessPolicy")
                  if p.name == "Require MFA for guests")
    assert policy.attr("include_guests")[:2] == ["b2bcollaborationguest",
                                                 "b2bcollaborationmember"]
    assert policy.attr("authentication_strength") == "Multifactor authentication"
    legacy = next(p for p in estate.of("microsoft.graph.conditionalAccessPolicy")
                  if p.name == "Block legacy authentication")
    assert legacy.attr("client_app_types") == ["exchangeActiveSync", "other"]
    grants = {g.name: g for g in estate.of("microsoft.graph.unifiedRoleAssignment")}
    assert grants["Privileged Role Administrator → Frank Ops"].attr("pim")[
        "assignment_type"] == "Activated"
    assert grants["Global Administrator → Alice Admin"].attr("role_privileged") is True
    helpdesk = next(g for g in estate.of("microsoft.graph.group") if g.name == "Helpdesk Admins")
    assert helpdesk.attr("member_user_ids") == ["b0b00000-0000-0000-0000-000000000002"]
    [jit] = estate.of("Microsoft.Security/locations/jitNetworkAccessPolicies")
    assert jit.account == SUB and jit.attr("vm_ids") == [
        f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.compute/"
        "virtualmachines/vm-lb"]
    assert [p["number"] for p in jit.attr("virtual_machines")[0]["ports"]] == [22, 3389]


def test_credentials_keep_dates_only(tmp_path: Path) -> None:
    root = tmp_path / "graph"
    shutil.copytree(fixtures_root().parent / "graph", root)
    apps = root / "v1.0" / "applications.json"
    doc = json.loads(apps.read_text(encoding="utf-8"))
    cred = doc["value"][0]["passwordCredentials"][0]
    cred.update(secretText="s3cr3t-VALUE-never-kept", hint="s3c")
    apps.write_text(json.dumps(doc), encoding="utf-8")
    with FakeArm(tmp_path / "tls", graph_root=root) as fake:
        inv = _collect(fake)
    text = json.dumps([a.raw for a in inv.assets] + [a.attrs for a in inv.assets])
    assert "s3cr3t" not in text and "s3c" not in text
    app = next(a for a in inv.of("microsoft.graph.application") if a.name == "deploy-pipeline")
    assert {c["end"] for c in app.attr("credentials")} == {
        "2027-06-01T00:00:00Z", "2025-01-01T00:00:00Z"}


def test_denied_graph_call_names_the_permission_and_checks_are_inconclusive(
    fake: FakeArm,
) -> None:
    fake.fail("/v1.0/reports/", 403, "Authorization_RequestDenied",
              "Insufficient privileges to complete the operation.")
    fake.fail("/v1.0/identity/conditionalaccess", 403, "Authorization_RequestDenied",
              "Insufficient privileges to complete the operation.")
    inv = _collect(fake)
    errors = {(e.account, e.operation, e.code) for e in inv.errors}
    assert errors == {
        (ACCOUNT, "UserRegistrationDetails_List", "Authorization_RequestDenied"),
        (ACCOUNT, "ConditionalAccessPolicies_List", "Authorization_RequestDenied"),
    }
    assert all("needs Graph application permission" in e.message for e in inv.errors)
    registered = run_one("azure.identity.users_mfa_registered", inv)
    assert registered and {f.status for f in registered} == {Status.INCONCLUSIVE}
    assert any("AuditLog.Read.All" in f.message for f in registered)
    every = run_one("azure.identity.mfa_required_for_all_users", inv)
    assert {f.status for f in every} == {Status.INCONCLUSIVE}  # never FAIL on unread policies
    assert any("Policy.Read.All" in f.message for f in every)
    # what the denied calls do not feed is still judged
    standing = run_one("azure.identity.no_standing_privileged_directory_roles", inv)
    assert Status.FAIL in {f.status for f in standing}


def test_throttled_graph_call_is_retried_after_retry_after(fake: FakeArm) -> None:
    fake.fail("/v1.0/users", 429, "TooManyRequests", "Too many requests", times=1,
              headers={"Retry-After": "1"})
    started = time.monotonic()
    inv = _collect(fake, retries=2)
    assert inv.errors == () and len(inv.of("microsoft.graph.user")) == 9
    assert time.monotonic() - started >= 1.0
    # the throttled call, its retry, then the second page
    assert fake.paths().count("/v1.0/users") == 3


def test_no_graph_endpoint_reads_no_entra_and_checks_say_so(fake: FakeArm) -> None:
    inv = _collect(fake, graph=False)
    assert not [p for p in fake.paths() if p.startswith("/v1.0/")]
    assert not [a for a in inv.assets if a.type.startswith("microsoft.graph")]
    found = run_one("azure.identity.mfa_required_for_all_users", inv)
    assert {f.status for f in found} == {Status.INCONCLUSIVE}
    assert "pass --graph-endpoint" in found[0].message


def test_graph_endpoint_of_each_cloud_and_permissions() -> None:
    assert AzureTarget().graph == "https://graph.microsoft.com"
    assert AzureTarget(arm_endpoint="https://management.usgovcloudapi.net/").graph == \
        "https://graph.microsoft.us"
    assert AzureTarget(arm_endpoint="https://127.0.0.1:8443").graph is None
    assert AzureTarget(arm_endpoint="https://127.0.0.1:8443",
                       graph_endpoint="https://127.0.0.1:8443/").graph == "https://127.0.0.1:8443"
    assert graph_permissions() == (
        "Application.Read.All", "AuditLog.Read.All", "GroupMember.Read.All",
        "Organization.Read.All", "Policy.Read.All", "RoleManagement.Read.Directory",
        "User.Read.All")
    assert "Microsoft.Security/locations/jitNetworkAccessPolicies/read" in \
        role_definition()["Actions"]


def test_next_link_off_the_endpoint_is_refused() -> None:
    from posture.collectors.azure.graph import RestClient

    client = RestClient(object(), "https://graph.example/v1.0", "https://graph.example/.default")
    with pytest.raises(ValueError, match="refusing to follow"):
        client.get("https://elsewhere.example/v1.0/users")


def test_permissions_command_lists_graph_permissions_apart() -> None:
    from typer.testing import CliRunner

    from posture.cli.main import app

    graph = CliRunner().invoke(app, ["permissions", "azure", "--graph"])
    assert graph.exit_code == 0
    doc = json.loads(graph.output)
    assert doc["type"] == "Application" and "Policy.Read.All" in doc["permissions"]
    role = json.loads(CliRunner().invoke(app, ["permissions", "azure"]).output)
    assert "RoleManagement.Read.Directory" in role["Description"]
    assert not [a for a in role["Actions"] if "Read.All" in a]  # Graph is not an ARM action
