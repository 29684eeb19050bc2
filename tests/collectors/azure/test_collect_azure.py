"""The Azure collector with the real SDK clients against the loopback HTTPS fake of ARM.

The fake serves recorded responses in ARM's REST shapes (``fixtures/azure/arm``), pages with
absolute ``nextLink`` URLs, requires the bearer token its own Entra ID endpoint issued, and
injects 403 and 429 answers.
"""

from __future__ import annotations

import time

import pytest
from support.azure import DEV, SERVICE_PRINCIPAL, SUB, TENANT
from support.azure_collect import collect_fake, collect_fresh, names

from posture.collectors.azure.base import AzureTarget
from posture.collectors.azure.collector import collect, role_definition
from posture.collectors.azure.compute import identity_attrs
from posture.demo.azure_fake import TOKEN, FakeArm
from posture.errors import CollectorError
from posture.model import Inventory

RG = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    """One clean collection shared by the read-only tests of this module."""
    return collect_fresh(tmp_path_factory.mktemp("tls"))


def test_every_subscription_and_every_type_is_collected(estate: Inventory) -> None:
    assert estate.errors == ()
    assert estate.meta.accounts == (SUB, DEV)  # two pages of /subscriptions
    assert names(estate, "Microsoft.Compute/virtualMachines") == {
        "vm-web",
        "vm-app",
        "vm-double",
        "vm-private",
        "vm-lb",
        "vm-fw",
    }
    # networkInterfaces come in two pages (nextLink)
    assert names(estate, "Microsoft.Network/networkInterfaces") == {
        "nic-web",
        "nic-app",
        "nic-double",
        "nic-private",
        "nic-lb",
        "nic-fw",
    }
    assert names(estate, "Microsoft.Network/virtualNetworks/subnets") == {
        "AzureBastionSubnet",
        "AzureFirewallSubnet",
        "web",
        "app",
        "db",
        "default",
    }
    assert names(estate, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings") == {
        "prod-to-dev",
        "dev-to-prod",
    }
    assert names(estate, "Microsoft.KeyVault/vaults/keys") == {"cmk-good", "cmk-bad"}
    assert names(estate, "Microsoft.Sql/servers/databases") == {"master", "appdb", "legacydb"}
    assert names(estate, "Microsoft.Authorization/roleAssignments") >= {
        "Owner → a11ce000-0000-0000-0000-000000000001"
    }
    assert names(estate, "Microsoft.Authorization/roleEligibilityScheduleInstances") == {
        "Owner ⇢ da7e0000-0000-0000-0000-000000000004",
        "User Access Administrator ⇢ f4a40000-0000-0000-0000-000000000009",
    }
    # built-in roles nobody uses are not kept; custom ones always are, and so are the roles a
    # condition names (Backup Reader: what the RBAC administrator may assign)
    assert names(estate, "Microsoft.Authorization/roleDefinitions") == {
        "Owner",
        "Contributor",
        "Reader",
        "User Access Administrator",
        "Role Based Access Control Administrator",
        "Backup Reader",
        "Subscription Admin",
        "Role Assigner",
        "VM Operator",
    }
    for type_ in (
        "Microsoft.Network/azureFirewalls",
        "Microsoft.Network/firewallPolicies",
        "Microsoft.Network/bastionHosts",
        "Microsoft.Network/loadBalancers",
        "Microsoft.Network/applicationSecurityGroups",
        "Microsoft.Compute/disks",
        "Microsoft.Resources/subscriptions",
    ):
        assert estate.of(type_), type_


def test_uids_are_lower_case_and_back_references_resolve(estate: Inventory) -> None:
    assert all(a.uid == a.uid.lower() for a in estate.assets)
    nic = estate.get(f"{RG}/microsoft.network/networkinterfaces/nic-double")
    assert nic is not None and nic.name == "nic-double"
    # ARM upper-cased the resource group in the back-reference (RG-SUB)
    assert estate.get(nic.attr("nsg_id")) is not None
    assert estate.get(nic.attr("ip_configurations")[0]["subnet_id"]) is not None
    vm = estate.get(f"{RG}/microsoft.compute/virtualmachines/vm-web")
    assert vm is not None and [estate.get(n) is not None for n in vm.attr("nic_ids")] == [True]


def test_normalized_attributes(estate: Inventory) -> None:
    nsg = estate.get(f"{RG}/microsoft.network/networksecuritygroups/nsg-app-subnet")
    assert nsg is not None
    assert [(r["priority"], r["access"], r["destination_ports"]) for r in nsg.attr("rules")] == [
        (100, "deny", ["22", "3389"]),
        (200, "allow", ["22", "3389"]),
    ]
    assert len(nsg.attr("default_rules")) == 6
    gateways = {
        g.name: g.attr("min_tls_version")
        for g in estate.of("Microsoft.Network/applicationGateways")
    }
    assert gateways == {
        "appgw-legacy": "TLSv1_0",
        "appgw-default": "default/unknown",
        "appgw-modern": "TLSv1_2",
    }
    policy = estate.of("Microsoft.Network/firewallPolicies")[0]
    assert policy.attr("nat_rules")[0]["translated_address"] == "10.0.3.10"
    keys = {
        k.name: (k.attr("expires"), k.attr("auto_rotation_enabled"))
        for k in estate.of("Microsoft.KeyVault/vaults/keys")
    }
    assert keys == {"cmk-good": ("2027-01-01T00:00:00+00:00", True), "cmk-bad": (None, False)}
    dbs = {d.name: d.attr("tde_state") for d in estate.of("Microsoft.Sql/servers/databases")}
    assert dbs == {"master": "Disabled", "appdb": "Enabled", "legacydb": "Disabled"}
    owner_erin = estate.get(
        f"/subscriptions/{SUB}/providers/microsoft.authorization/"
        "roleassignments/b1000000-0000-0000-0000-000000000006"
    )
    assert owner_erin is not None and owner_erin.attr("pim")["assignment_type"] == "Activated"
    delegated = estate.get(
        f"/subscriptions/{SUB}/providers/microsoft.authorization/"
        "roleassignments/b1000000-0000-0000-0000-000000000008"
    )
    assert delegated is not None and delegated.attr("condition_version") == "2.0"
    assert "a795c7a0-d4a2-40c1-ae25-d81f01202912" in delegated.attr("condition")
    contributor = estate.get(
        f"/subscriptions/{SUB}/providers/microsoft.authorization/"
        "roledefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    )
    assert contributor is not None
    [block] = contributor.attr("permissions")  # per permission block, as ARM gives them
    assert block["actions"] == ["*"] and "Microsoft.Authorization/*/Write" in block["not_actions"]
    assert block["data_actions"] == [] and block["not_data_actions"] == []
    eligible = {e.name: e.attr("condition")
                for e in estate.of("Microsoft.Authorization/roleEligibilityScheduleInstances")}
    assert set(eligible.values()) == {None}
    storage = {
        s.name: s.attr("minimum_tls_version")
        for s in estate.of("Microsoft.Storage/storageAccounts")
    }
    assert storage == {"stprodlogs": "TLS1_2", "stlegacy": "TLS1_0", "stunset": None}
    created = "2025-01-01T00:00:00+00:00"  # ARM's seven fractional digits, normalized
    keys = {
        s.name: (
            s.attr("allow_shared_key_access"),
            s.attr("key_creation_time"),
            s.attr("key_expiration_days"),
            s.attr("creation_time"),
        )
        for s in estate.of("Microsoft.Storage/storageAccounts")
    }
    assert keys == {
        "stprodlogs": (False, {"key1": created, "key2": created}, 90, created),
        "stlegacy": (True, {"key1": created, "key2": created}, None, created),
        "stunset": (None, {"key1": created, "key2": created}, 90, created),
    }
    sub = estate.get(f"/subscriptions/{SUB}")
    assert sub is not None and sub.attr("activity_log_diagnostic_settings")[0]["has_destination"]


def test_managed_identities_of_vms(estate: Inventory) -> None:
    """Role assignments name principals by principalId: the VM keeps its system-assigned
    identity's and each user-assigned identity's (resource id, lower-case, and principalId)."""
    vms = {v.name: v for v in estate.of("Microsoft.Compute/virtualMachines")}
    web, fw, lb = vms["vm-web"], vms["vm-fw"], vms["vm-lb"]
    assert (web.attr("identity_type"), web.attr("identity_principal_id")) == (
        "SystemAssigned", "3a7e0000-0000-0000-0000-00000000000a")
    assert web.attr("identity_tenant_id") == TENANT and web.attr("user_assigned_identities") == []
    assert fw.attr("identity_principal_id") is None
    assert fw.attr("user_assigned_identities") == [{
        "id": f"{RG}/microsoft.managedidentity/userassignedidentities/id-app",
        "name": "id-app",
        "principal_id": "1d000000-0000-0000-0000-00000000000c",
        "client_id": "c1000000-0000-0000-0000-00000000000c",
    }]
    assert (lb.attr("identity_type"), lb.attr("user_assigned_identities")) == (None, [])
    # the identity's role assignment names the same principal
    owners = {a.attr("principal_id") for a in estate.of("Microsoft.Authorization/roleAssignments")
              if a.attr("role_name") == "Owner"}
    assert web.attr("identity_principal_id") in owners


def test_identity_attrs_of_both_kinds() -> None:
    mi = f"/subscriptions/{SUB}/resourceGroups/RG/providers/Microsoft.ManagedIdentity/"
    both = identity_attrs({
        "type": "SystemAssigned, UserAssigned", "principalId": "AB-1", "tenantId": TENANT,
        "userAssignedIdentities": {f"{mi}userAssignedIdentities/id-b": {"principalId": "p-b"},
                                   f"{mi}userAssignedIdentities/id-a": {"principalId": "p-a",
                                                                        "clientId": "c-a"}},
    })
    assert both["identity_principal_id"] == "ab-1"
    assert [(u["name"], u["principal_id"], u["client_id"])
            for u in both["user_assigned_identities"]] == [("id-a", "p-a", "c-a"),
                                                            ("id-b", "p-b", None)]
    assert both["user_assigned_identities"][0]["id"] == (
        f"{mi}userAssignedIdentities/id-a".lower())
    assert identity_attrs({"type": "None"})["identity_principal_id"] is None
    assert identity_attrs(None) == {"identity_type": None, "identity_principal_id": None,
                                    "identity_tenant_id": None, "user_assigned_identities": []}


def test_a_403_on_one_provider_is_a_collection_error(fake: FakeArm) -> None:
    fake.fail(
        f"/subscriptions/{DEV}/providers/microsoft.sql",
        403,
        "AuthorizationFailed",
        "The client does not have authorization to perform action 'Microsoft.Sql/servers/read'",
    )
    inv = collect_fake(fake)
    assert [
        (e.account, e.region, e.service, e.operation, e.code, e.asset_types) for e in inv.errors
    ] == [
        (
            DEV,
            "global",
            "sql",
            "Servers_List",
            "AuthorizationFailed",
            ("Microsoft.Sql/servers", "Microsoft.Sql/servers/databases"),
        )
    ]
    assert inv.of("Microsoft.Sql/servers")  # the other subscription is unaffected


def test_a_detail_call_failure_names_the_resource_and_facet(fake: FakeArm) -> None:
    vault = f"{RG}/microsoft.keyvault/vaults/kv-prod"
    fake.fail(f"{vault}/keys", 403, "Forbidden", "denied")
    inv = collect_fake(fake)
    (err,) = inv.errors
    assert err.resource_uid == vault and err.region == "westeurope"
    assert err.asset_types == ("Microsoft.KeyVault/vaults/keys", "Microsoft.KeyVault/vaults#keys")
    assert inv.get(vault) is not None and inv.get(vault).attr("key_count") is None  # type: ignore[union-attr]


def test_sql_server_firewall_rules(estate: Inventory, fake: FakeArm) -> None:
    rules = {
        s.name: [(r["name"], r["start_ip"], r["end_ip"]) for r in s.attr("firewall_rules")]
        for s in estate.of("Microsoft.Sql/servers")
    }
    assert rules["sql-reporting"] == [
        ("AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0"),
        ("office-hq", "203.0.113.0", "203.0.113.255"),
    ]
    assert rules["sql-legacy"] == [  # sorted by address, not by name or listing order
        ("AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0"),
        ("anyone-low", "0.0.0.0", "127.255.255.255"),
        ("anyone-high", "128.0.0.0", "255.255.255.255"),
    ]
    server = f"{RG}/microsoft.sql/servers/sql-legacy"
    fake.fail(f"{server}/firewallrules", 403, "AuthorizationFailed", "no firewallRules/read")
    inv = collect_fake(fake)
    (err,) = inv.errors
    assert (err.operation, err.resource_uid, err.asset_types) == (
        "FirewallRules_ListByServer",
        server,
        ("Microsoft.Sql/servers#firewall_rules",),
    )
    legacy = inv.get(server)
    assert legacy is not None and legacy.attr("firewall_rules") is None
    assert legacy.attr("public_network_access") == "Enabled"  # the rest of the server is kept


def test_a_429_with_retry_after_is_retried(fake: FakeArm) -> None:
    path = f"/subscriptions/{SUB}/providers/microsoft.storage/storageaccounts"
    fake.fail(path, 429, "TooManyRequests", "throttled", times=1, headers={"Retry-After": "1"})
    started = time.monotonic()
    inv = collect_fake(fake, retries=2)
    assert inv.errors == ()
    assert len(inv.of("Microsoft.Storage/storageAccounts")) == 3
    assert (
        fake.paths().count(f"/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts")
        == 2
    )
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_requested_subscriptions_only(fake: FakeArm) -> None:
    inv = collect_fake(fake, subscriptions=(DEV,))
    assert inv.meta.accounts == (DEV,)
    assert {a.account for a in inv.assets} == {DEV}


def test_unknown_subscription_and_bad_credentials_fail_fast(fake: FakeArm) -> None:
    with pytest.raises(CollectorError, match="unknown Azure subscription"):
        collect_fake(fake, subscriptions=("99999999-9999-9999-9999-999999999999",))
    fake.fail("/subscriptions", 401, "InvalidAuthenticationToken", "expired token")
    with pytest.raises(CollectorError, match=r"InvalidAuthenticationToken|credential"):
        collect_fake(fake)


def test_default_credential_reads_the_environment(
    fake: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in SERVICE_PRINCIPAL.items():
        monkeypatch.setenv(key, value)
    target = AzureTarget(
        subscriptions=(DEV,),
        arm_endpoint=fake.base,
        authority_host=fake.base,
        ca_bundle=str(fake.ca),
        retry_total=0,
    )
    inv = collect(target)  # DefaultAzureCredential → EnvironmentCredential → the fake authority
    assert inv.meta.accounts == (DEV,) and fake.token_requests >= 1
    assert f"/{TENANT}/oauth2/v2.0/token" in fake.paths()
    assert TOKEN  # every ARM call carried it: the fake answers 401 otherwise


def test_role_definition_is_read_only() -> None:
    role = role_definition()
    assert role["IsCustom"] and role["Actions"]
    assert all(a.lower().endswith("/read") for a in role["Actions"])
    assert "Microsoft.Sql/servers/firewallRules/read" in role["Actions"]
    assert not role["DataActions"]
