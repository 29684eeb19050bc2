"""`posture demo azure`: the packaged loopback fake of ARM (HTTPS, throw-away CA, token
endpoint), the real collector and SDK clients with a service principal from the environment,
the same reports as the AWS demo, and the one-line error without the Azure SDKs."""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.azure import DEV, SERVICE_PRINCIPAL, SUB
from support.reports import status_in
from typer.testing import CliRunner

from posture.cli.main import app

runner = CliRunner()
SP_VARS = tuple(SERVICE_PRINCIPAL)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("azure-demo")
    before = {key: os.environ.get(key) for key in SP_VARS}
    result = runner.invoke(
        app, ["demo", "azure", "-o", str(folder), "-q", "--snapshot-out", str(folder / "inv.json")]
    )
    assert result.exit_code == 0, result.output
    # the service principal's variables were set for the collection only
    assert {key: os.environ.get(key) for key in SP_VARS} == before
    doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    yield folder, result, doc


def test_demo_azure_writes_the_reports(demo: tuple[Path, Any, dict[str, Any]]) -> None:
    folder, result, doc = demo
    for name in ("findings.csv", "findings.json", "report.html", "inv.json"):
        assert (folder / name).stat().st_size > 0, name
    assert "Open the HTML report" in result.output
    findings = doc["findings"]
    assert {f["provider"] for f in findings} == {"azure"}
    assert {f["account"] for f in findings} >= {SUB, DEV}
    failing = {p for f in findings if f["status"] == "FAIL" for p in f["principles"]}
    assert len(failing) >= 6, failing


def test_demo_azure_verdicts_of_named_checks(demo: tuple[Path, Any, dict[str, Any]]) -> None:
    _, _, doc = demo
    expected = {
        # real exposures through a public IP, a load balancer NAT rule and a firewall DNAT
        ("azure.network.admin_ports_not_internet_reachable", "vm-web"): "FAIL",
        ("azure.network.admin_ports_not_internet_reachable", "vm-lb"): "FAIL",
        ("azure.network.admin_ports_not_internet_reachable", "vm-fw"): "FAIL",
        # traps: priority shadowing, subnet allow / NIC deny, private-only VM
        ("azure.network.admin_ports_not_internet_reachable", "vm-app"): "PASS",
        ("azure.network.admin_ports_not_internet_reachable", "vm-double"): "PASS",
        ("azure.network.admin_ports_not_internet_reachable", "vm-private"): "PASS",
        # ... the private VM's open NSG is latent, and only latent
        ("azure.network.no_latent_sensitive_port_exposure", "vm-private"): "FAIL",
        ("azure.network.no_latent_sensitive_port_exposure", "vm-app"): "PASS",
        ("azure.network.no_latent_sensitive_port_exposure", "vm-double"): "PASS",
        ("azure.network.no_latent_sensitive_port_exposure", "vm-web"): "PASS",
        # SQL: open to the internet / only 'Allow Azure services' / disabled with stale rules
        ("azure.network.sql_not_open_to_internet", "sql-legacy"): "FAIL",
        ("azure.network.sql_public_network_access_disabled", "sql-reporting"): "FAIL",
        ("azure.network.sql_not_open_to_internet", "sql-reporting"): "PASS",
        ("azure.network.sql_not_open_to_internet", "sql-prod"): "PASS",
        ("azure.network.sql_public_network_access_disabled", "sql-prod"): "PASS",
        ("azure.network.sql_allow_azure_services_disabled", "sql-reporting"): "FAIL",
        ("azure.network.sql_allow_azure_services_disabled", "sql-prod"): "PASS",
        ("azure.transit.appgw_min_tls12", "appgw-default"): "INCONCLUSIVE",
        ("azure.segregation.no_prod_nonprod_peering", "prod-to-dev"): "FAIL",
        # a password in vm-web's user data, a SAS token in vm-app's CustomScript fileUris
        ("azure.secrets.vm_user_data_no_plaintext_secrets", "vm-web"): "FAIL",
        ("azure.secrets.vm_user_data_no_plaintext_secrets", "vm-app"): "PASS",
        ("azure.secrets.vm_extension_settings_no_plaintext_secrets", "vm-app"): "FAIL",
        ("azure.secrets.vm_extension_settings_no_plaintext_secrets", "vm-web"): "PASS",
        # storage account keys: Shared Key off (old keys authorise nothing) / on, keys never
        # rotated and no expiration policy / not set (on), a policy but the keys still stale
        ("azure.iam.storage_shared_key_access_disabled", "stprodlogs"): "PASS",
        ("azure.iam.storage_shared_key_access_disabled", "stlegacy"): "FAIL",
        ("azure.iam.storage_shared_key_access_disabled", "stunset"): "FAIL",
        ("azure.iam.storage_account_keys_rotated", "stprodlogs"): "PASS",
        ("azure.iam.storage_account_keys_rotated", "stlegacy"): "FAIL",
        ("azure.iam.storage_account_keys_rotated", "stunset"): "FAIL",
    }
    for (check_id, name), status in expected.items():
        assert status_in(doc, check_id, name) == status, (check_id, name)
    rotated = {f["resource_name"]: f["severity"] for f in doc["findings"]
               if f["check_id"] == "azure.iam.storage_account_keys_rotated"}
    assert (rotated["stlegacy"], rotated["stunset"]) == ("high", "medium")


def test_demo_azure_role_assignment_escalation(demo: tuple[Path, Any, dict[str, Any]]) -> None:
    _, _, doc = demo
    found = {f["resource_name"]: (f["status"], f["severity"]) for f in doc["findings"]
             if f["check_id"] == "azure.iam.no_role_assignment_escalation"}
    # standing assignments that write role assignments (a custom role, User Access
    # Administrator held by a group) are HIGH; a PIM eligibility is one activation away (MEDIUM);
    # the RBAC administrator limited by its condition to Reader and Backup Reader, and Owner
    # itself (the admin checks' finding), pass; Reader and Contributor give no finding
    expected = {
        "Role Assigner → ca401000-0000-0000-0000-000000000003": ("FAIL", "high"),
        "User Access Administrator → 9a0a0000-0000-0000-0000-000000000007": ("FAIL", "high"),
        "User Access Administrator ⇢ f4a40000-0000-0000-0000-000000000009": ("FAIL", "medium"),
        "Role Based Access Control Administrator → 5e4f1ce0-0000-0000-0000-000000000008": (
            "PASS", "high"),
        "Owner → a11ce000-0000-0000-0000-000000000001": ("PASS", "high"),
        "Owner → ca401000-0000-0000-0000-000000000003": ("PASS", "high"),
        "Owner → e4140000-0000-0000-0000-000000000005": ("PASS", "high"),
        "Owner ⇢ da7e0000-0000-0000-0000-000000000004": ("PASS", "high"),
        # the managed identities the attack-path demo gives vm-web and vm-private
        "Owner → 3a7e0000-0000-0000-0000-00000000000a": ("PASS", "high"),
        "Owner → 1d000000-0000-0000-0000-00000000000b": ("PASS", "high"),
    }
    assert {n: found.get(n) for n in expected} == expected
    assert not [n for n in found if n.startswith(("Reader →", "Contributor →"))]


def test_demo_azure_rbac_findings_name_principals(
    demo: tuple[Path, Any, dict[str, Any]]
) -> None:
    _, _, doc = demo
    # the demo reads Entra ID: RBAC findings name users by display name (the id in evidence);
    # principals the directory read does not hold (a group no policy names, a service
    # principal and managed identities absent from the fixture) keep ARM's type and the id
    messages = {(f["check_id"], f["resource_name"]): f for f in doc["findings"]
                if f["check_id"].startswith("azure.iam.no_")}
    escalation = "azure.iam.no_role_assignment_escalation"
    standing = "azure.iam.no_standing_privileged_roles"
    carol = messages[(escalation, "Role Assigner → ca401000-0000-0000-0000-000000000003")]
    assert carol["message"].startswith(
        f"Carol Cloud (carol@contoso.example, user ca401000…) can make itself Owner at "
        f"subscription {SUB}: its Role Assigner (custom role) assignment")
    assert (carol["evidence"]["principal_id"], carol["evidence"]["principal_name"]) == (
        "ca401000-0000-0000-0000-000000000003", "Carol Cloud")
    assert messages[(escalation, "User Access Administrator ⇢ f4a40000-0000-0000-0000-"
                     "000000000009")]["message"].startswith(
        "Frank Ops (frank@contoso.example, user f4a40000…) is eligible (PIM) for User Access "
        "Administrator")
    assert messages[(standing, "Owner → a11ce000-0000-0000-0000-000000000001")]["message"] == (
        "standing Owner assignment to Alice Admin (alice@contoso.example, user a11ce000…) at "
        "subscription scope")
    assert messages[(standing, "Owner ⇢ da7e0000-0000-0000-0000-000000000004")]["message"] == (
        "Owner is PIM-eligible for Dave Departed (dave@contoso.example, user da7e0000…) "
        "(not standing)")
    group = messages[(escalation, "User Access Administrator → 9a0a0000-0000-0000-0000-"
                      "000000000007")]
    assert group["message"].startswith("Group 9a0a0000-0000-0000-0000-000000000007 can make")
    assert group["evidence"]["principal_name"] is None


def test_demo_azure_attack_path(demo: tuple[Path, Any, dict[str, Any]]) -> None:
    folder, _, doc = demo
    check = "azure.network.no_exposed_host_with_admin_identity"
    found = {f["resource_name"]: f for f in doc["findings"] if f["check_id"] == check}
    # vm-web (SSH open to the world through its public IP) runs with a system-assigned identity
    # that is Owner of the subscription: the joined path, CRITICAL; vm-fw (RDP through the
    # firewall's DNAT) with a user-assigned identity that is Contributor of its resource group
    # only: MEDIUM; vm-private holds the same Owner power without an internet path: PASS
    assert {n: (f["status"], f["severity"]) for n, f in found.items()} == {
        "vm-web": ("FAIL", "critical"),
        "vm-fw": ("FAIL", "medium"),
        "vm-private": ("PASS", "critical"),
        "vm-lb": ("PASS", "critical"),
        "vm-app": ("PASS", "critical"),
        "vm-double": ("PASS", "critical"),
    }
    web = found["vm-web"]
    assert web["message"].startswith(
        "attack path: internet -> tcp/22 -> vm-web -> managed identity vm-web (system-assigned) "
        f"-> administrator of subscription {SUB} (exposed on tcp/22, 443)")
    assert [h["kind"] for h in web["evidence"]["attack_path"]][-3:] == [
        "asset", "managed identity", "administrator of"]
    assert "not of the subscription" not in found["vm-fw"]["message"]  # Contributor, not Owner
    assert "every action in resource group rg-prod (the VM's own) but access management" in \
        found["vm-fw"]["message"]
    assert found["vm-private"]["message"].startswith(
        "not reachable from the internet on any tcp port")
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert '<g class="hop identity"' in html  # drawn: network hops, then identity hops


def test_demo_azure_lateral_admin_access_per_nsg(demo: tuple[Path, Any, dict[str, Any]]) -> None:
    _, _, doc = demo
    check = "azure.network.admin_access_only_from_bastion"
    found = {f["resource_name"]: f for f in doc["findings"] if f["check_id"] == check}
    # once per NSG with its VMs listed (no longer once per VM); vm-double admits only the Bastion
    assert {n: (f["status"], f["severity"], f["evidence"].get("affected")) for n, f in
            found.items()} == {
        "nsg-app-subnet": ("FAIL", "high", ["vm-app", "vm-fw"]),
        "nsg-db-nic": ("FAIL", "high", ["vm-private"]),
        "nsg-web-subnet": ("FAIL", "high", ["vm-lb", "vm-web"]),
        "vm-double": ("PASS", "high", None),
    }
    db = found["nsg-db-nic"]
    assert "AllowVnetInBound (priority 65000, default rule of every NSG)" in db["message"]
    # the peered dev VNet (Environment=dev) reaches production's admin ports: HIGH
    dev = [s for s in db["evidence"]["sources"] if s["source"] == "subnet default (10.1.0.0/24)"]
    assert [(s["severity"], s["reason"]) for s in dev] == [("high", "another environment")]
    assert "VNet peering prod-to-dev" in dev[0]["why"]


def test_demo_azure_defense_depth(demo: tuple[Path, Any, dict[str, Any]]) -> None:
    folder, _, doc = demo
    depth_id = "azure.network.sensitive_ports_defense_in_depth"
    found = {f["resource_name"]: f for f in doc["findings"] if f["check_id"] == depth_id}
    # the three traps are one change away; the exposed VMs are the exposure checks' (depth 0)
    assert {n: (f["status"], f["evidence"]["depth"]) for n, f in found.items()} == {
        "vm-app": ("FAIL", 1),
        "vm-double": ("FAIL", 1),
        "vm-private": ("FAIL", 1),
    }
    single = {n: (f["evidence"]["single_change"]["layer"], f["evidence"]["single_change"]["rule"])
              for n, f in found.items()}
    assert single == {
        "vm-app": ("subnet-nsg", "deny-admin-internet, priority 100: deny tcp/22,3389 from "
                   "Internet"),
        "vm-double": ("nic-nsg", "deny-all, priority 4000: deny any/* from *"),
        "vm-private": ("public-address", None),
    }
    with (folder / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        depth_cells = {(r["resource_name"], r["check_id"]): r["depth"]
                       for r in csv.DictReader(handle) if r["depth"]}
    admin = "azure.network.admin_ports_not_internet_reachable"
    assert depth_cells == {
        **{(n, admin): "0" for n in ("vm-web", "vm-lb", "vm-fw")},
        **{(n, depth_id): "1" for n in ("vm-app", "vm-double", "vm-private")},
        # the AKS API servers are entry points too: open (0), private cluster (1 change)
        ("aks-prod", "azure.kubernetes.aks_api_server_not_public"): "0",
        ("aks-internal", "azure.kubernetes.aks_api_server_not_public"): "1",
    }
    html = (folder / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="defense-depth">'):]
    section = section[: section.index("</section>")]
    # the three exposed VMs and aks-prod, then three VMs and aks-internal one change away
    assert re.findall(r'<tr data-depth="([^"]+)">', section) == ["0"] * 4 + ["1"] * 4


def test_demo_azure_denied_provider_is_inconclusive(
    demo: tuple[Path, Any, dict[str, Any]],
) -> None:
    _, _, doc = demo
    assert [(e["account"], e["operation"], e["code"]) for e in doc["collection_errors"]] == [
        (DEV, "Servers_List", "AuthorizationFailed")
    ]
    dev_sql = [
        f
        for f in doc["findings"]
        if f["account"] == DEV
        and f["check_id"].startswith(("azure.network.sql_", "azure.transit.sql"))
    ]
    assert dev_sql and {f["status"] for f in dev_sql} == {"INCONCLUSIVE"}
    assert all("AuthorizationFailed" in f["message"] for f in dev_sql)


def test_environment_is_restored_even_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from posture.demo.azure import environment

    monkeypatch.setenv("AZURE_CLIENT_ID", "the-users-own")
    monkeypatch.delenv("AZURE_CLIENT_SECRET", raising=False)
    with (
        pytest.raises(RuntimeError),
        environment({"AZURE_CLIENT_ID": "demo", "AZURE_CLIENT_SECRET": "s"}),
    ):
        assert os.environ["AZURE_CLIENT_ID"] == "demo"
        raise RuntimeError
    assert os.environ["AZURE_CLIENT_ID"] == "the-users-own"
    assert "AZURE_CLIENT_SECRET" not in os.environ


def test_demo_azure_identity_findings(demo: tuple[Path, Any, dict[str, Any]]) -> None:
    _, _, doc = demo
    expected = {
        # a standing Global Administrator; the break-glass account and a PIM activation pass
        ("azure.identity.no_standing_privileged_directory_roles",
         "Global Administrator → Alice Admin"): "FAIL",
        ("azure.identity.no_standing_privileged_directory_roles",
         "Global Administrator → Break Glass 1"): "PASS",
        ("azure.identity.no_standing_privileged_directory_roles",
         "Privileged Role Administrator → Frank Ops"): "PASS",
        ("azure.identity.no_standing_privileged_directory_roles",
         "Global Administrator ⇢ Carol Cloud"): "PASS",
        # users without MFA registered (Bob holds Helpdesk Administrator through a group)
        ("azure.identity.users_mfa_registered", "Bob Builder"): "FAIL",
        ("azure.identity.users_mfa_registered", "Alice Admin"): "PASS",
        ("azure.identity.no_privileged_roles_for_guests", "Gus Vendor"): "FAIL",
        ("azure.identity.mfa_required_for_admin_roles", "Carol Cloud"): "PASS",
        ("azure.identity.app_credentials_short_lived", "deploy-pipeline"): "FAIL",
        # JIT: vm-lb's SSH is under a JIT policy, vm-web's is standing
        ("azure.identity.vm_admin_ports_just_in_time", "vm-lb"): "PASS",
        ("azure.identity.vm_admin_ports_just_in_time", "vm-web"): "FAIL",
    }
    found = {(c, n): s for (c, n) in expected
             for s in [f["status"] for f in doc["findings"]
                       if f["check_id"] == c and f["resource_name"] == n][:1]}
    assert found == expected
    sev = {f["resource_name"]: f["severity"] for f in doc["findings"]
           if f["check_id"] == "azure.identity.users_mfa_registered" and f["status"] == "FAIL"}
    assert sev == {"Bob Builder": "high", "Erin Exempt": "medium"}
    [every] = [f for f in doc["findings"]
               if f["check_id"] == "azure.identity.mfa_required_for_all_users"]
    # the trap: the guest excluded from the all-users policy is covered by the guest policy
    assert every["status"] == "FAIL" and every["resource_name"] == "Contoso"
    assert "Erin Exempt (erin@contoso.example) (excluded from 'Require MFA for all users')" in \
        every["message"]
    assert "Gina Partner (gina_partner.example#EXT#@contoso.example) is excluded from 'Require " \
        "MFA for all users' but covered by 'Require MFA for guests'" in every["message"]
