"""The Azure checks on small hand-built inventories: pass, fail and trap cases, no mocks."""

from __future__ import annotations

from typing import Any

from support.azure import (
    OWNER,
    READER,
    RG,
    ROLES,
    az,
    error,
    inventory,
    load_balancer,
    nat_rule,
    nic,
    nsg,
    one_vm,
    public_ip,
    role_assignment,
    role_definition,
    rule,
    subnet,
    vm,
    vnet,
)
from support.checks import by_uid, only, run_one

from posture.model import Status

SA = "Microsoft.Storage/storageAccounts"
SQL = "Microsoft.Sql/servers"
DB = "Microsoft.Sql/servers/databases"
KV = "Microsoft.KeyVault/vaults"
KEY = "Microsoft.KeyVault/vaults/keys"
GW = "Microsoft.Network/applicationGateways"
SUBSCRIPTION = "Microsoft.Resources/subscriptions"
PEERING = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"


def statuses(check_id: str, *assets: Any, **params: Any) -> dict[str, Status]:
    return {
        uid: f.status for uid, f in by_uid(run_one(check_id, inventory(*assets), **params)).items()
    }


def _host(
    name: str, subnet_nsg: Any = None, nic_nsg: Any = None, address: str | None = "20.0.0.1"
) -> list[Any]:
    return one_vm(subnet_nsg, nic_nsg, public_ip(f"pip-{name}", address), name=name)


# -- network -------------------------------------------------------------------------------------


def test_admin_ports_exposed_shadowed_and_private() -> None:
    check = "azure.network.admin_ports_not_internet_reachable"
    open_ = nsg("open", rule("rdp", 100, src="Internet", ports="3389"))
    f = only(run_one(check, inventory(*_host("exposed", subnet_nsg=open_))))
    assert f.status is Status.FAIL and f.evidence["paths"][0]["entry"] == "public-ip"
    shadow = nsg(
        "shadow",
        rule("deny", 100, "deny", src="Internet", ports="3389"),
        rule("allow", 200, src="*", ports="3389"),
    )
    assert only(run_one(check, inventory(*_host("s", subnet_nsg=shadow)))).status is Status.PASS
    f = only(run_one(check, inventory(*_host("p", subnet_nsg=open_, address=None))))
    assert f.status is Status.PASS and "latent" in f.message


def test_admin_ports_unknown_when_an_nsg_listing_failed() -> None:
    check = "azure.network.admin_ports_not_internet_reachable"
    listed = nsg("not-listed")
    assets = [a for a in _host("h", subnet_nsg=listed) if a.uid != listed.uid]
    errors = (
        error(
            "network", "NetworkSecurityGroups_ListAll", ("Microsoft.Network/networkSecurityGroups",)
        ),
    )
    findings = run_one(check, inventory(*assets, errors=errors))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}


def test_db_ports_through_a_public_load_balancer() -> None:
    check = "azure.network.db_ports_not_internet_reachable"
    sn = subnet("db", "10.0.4.0/24")
    sql = nat_rule("sql", 11433, 1433)
    card = nic("nic-db", sn, "10.0.4.4", nat_rules=(sql["id"],))
    pip = public_ip("pip-lb", "20.0.0.9")
    lb = load_balancer(pip, nat_rules=(sql,))
    f = only(run_one(check, inventory(vnet(), sn, card, pip, lb, vm("db", card))))
    assert f.status is Status.FAIL and f.evidence["paths"][0]["frontend_port"] == 11433


def test_bastion_pattern() -> None:
    check = "azure.network.admin_access_only_from_bastion"
    bastion = subnet("AzureBastionSubnet", "10.0.0.0/26")
    good = nsg(
        "good",
        rule("bastion", 100, src="10.0.0.0/26", ports=["22", "3389"]),
        rule("deny", 200, "deny", src="*", ports="*", protocol="*"),
    )
    assert statuses(check, bastion, *_host("h", subnet_nsg=good)) == {vm("h").uid: Status.PASS}
    # no NSG and no public address: only the Bastion subnet (and no other VM) reaches it
    assert statuses(check, bastion, *_host("h", address=None)) == {vm("h").uid: Status.PASS}
    # a VM of another subnet reaches it, and it that VM: reported once per unfiltered subnet
    app = subnet("app", "10.0.3.0/24")
    card = nic("nic-o", app, "10.0.3.4")
    found = statuses(check, bastion, app, card, vm("o", card), *_host("h", address=None))
    assert found == {app.uid: Status.FAIL, subnet("web", "10.0.2.0/24").uid: Status.FAIL}
    # more: tests/graph/azure/test_azure_lateral.py


def test_storage_blob_public_access() -> None:
    check = "azure.network.storage_blob_public_access_disabled"
    assert statuses(
        check,
        az(SA, f"{RG}/sa/off", allow_blob_public_access=False),
        az(SA, f"{RG}/sa/on", allow_blob_public_access=True),
        az(SA, f"{RG}/sa/unset", allow_blob_public_access=None),
    ) == {f"{RG}/sa/off": Status.PASS, f"{RG}/sa/on": Status.FAIL, f"{RG}/sa/unset": Status.FAIL}


def test_keyvault_network() -> None:
    # the SQL public endpoint (public network access, firewall rules): test_checks_azure_exposure
    assert statuses(
        "azure.network.keyvault_network_restricted",
        az(KV, f"{RG}/v/private", public_network_access="Disabled"),
        az(KV, f"{RG}/v/deny", public_network_access="Enabled", network_default_action="Deny"),
        az(KV, f"{RG}/v/open", public_network_access="Enabled", network_default_action="Allow"),
    ) == {f"{RG}/v/private": Status.PASS, f"{RG}/v/deny": Status.PASS, f"{RG}/v/open": Status.FAIL}


# -- transit ------------------------------------------------------------------------------------


def test_storage_tls_and_https() -> None:
    assert statuses(
        "azure.transit.storage_min_tls12",
        az(SA, f"{RG}/sa/a", minimum_tls_version="TLS1_2"),
        az(SA, f"{RG}/sa/b", minimum_tls_version="TLS1_1"),
        az(SA, f"{RG}/sa/c", minimum_tls_version=None),
    ) == {f"{RG}/sa/a": Status.PASS, f"{RG}/sa/b": Status.FAIL, f"{RG}/sa/c": Status.FAIL}
    assert statuses(
        "azure.transit.storage_https_only",
        az(SA, f"{RG}/sa/a", https_only=True),
        az(SA, f"{RG}/sa/b", https_only=False),
    ) == {f"{RG}/sa/a": Status.PASS, f"{RG}/sa/b": Status.FAIL}


def test_sql_tls() -> None:
    assert statuses(
        "azure.transit.sql_min_tls12",
        az(SQL, f"{RG}/s/a", minimal_tls_version="1.3"),
        az(SQL, f"{RG}/s/b", minimal_tls_version="1.1"),
        az(SQL, f"{RG}/s/c", minimal_tls_version="None"),
    ) == {f"{RG}/s/a": Status.PASS, f"{RG}/s/b": Status.FAIL, f"{RG}/s/c": Status.FAIL}


def test_application_gateway_tls() -> None:
    def gw(name: str, *tls: str | None) -> Any:
        listeners = [
            {"name": f"l{i}", "protocol": "https", "min_tls_version": v} for i, v in enumerate(tls)
        ]
        listeners.append({"name": "http", "protocol": "http", "min_tls_version": None})
        return az(GW, f"{RG}/gw/{name}", listeners=listeners, ssl_policy=None)

    assert statuses(
        "azure.transit.appgw_min_tls12",
        gw("a", "TLSv1_2"),
        gw("b", "TLSv1_2", "TLSv1_0"),
        gw("c", "default/unknown"),
        az(GW, f"{RG}/gw/http-only", listeners=[{"protocol": "http"}]),
    ) == {f"{RG}/gw/a": Status.PASS, f"{RG}/gw/b": Status.FAIL, f"{RG}/gw/c": Status.INCONCLUSIVE}


# -- encryption ---------------------------------------------------------------------------------


def test_sql_tde() -> None:
    assert statuses(
        "azure.encryption.sql_tde_enabled",
        az(DB, f"{RG}/d/on", tde_state="Enabled"),
        az(DB, f"{RG}/d/off", tde_state="Disabled"),
        az(DB, f"{RG}/d/master", tde_state="Disabled", system_database=True),
        az(DB, f"{RG}/d/unknown", tde_state=None),
    ) == {
        f"{RG}/d/on": Status.PASS,
        f"{RG}/d/off": Status.FAIL,
        f"{RG}/d/unknown": Status.INCONCLUSIVE,
    }


def test_key_vault_recoverability() -> None:
    vaults = (
        az(KV, f"{RG}/v/good", purge_protection_enabled=True, soft_delete_enabled=None),
        az(KV, f"{RG}/v/bad", purge_protection_enabled=False, soft_delete_enabled=False),
    )
    expected = {f"{RG}/v/good": Status.PASS, f"{RG}/v/bad": Status.FAIL}
    assert statuses("azure.encryption.keyvault_purge_protection_enabled", *vaults) == expected
    assert statuses("azure.encryption.keyvault_soft_delete_enabled", *vaults) == expected


def test_keys_expiry_and_rotation() -> None:
    keys = (
        az(
            KEY,
            f"{RG}/k/good",
            enabled=True,
            expires="2027-01-01T00:00:00+00:00",
            auto_rotation_enabled=True,
        ),
        az(KEY, f"{RG}/k/bad", enabled=True, expires=None, auto_rotation_enabled=False),
        az(KEY, f"{RG}/k/disabled", enabled=False, expires=None),
    )
    expected = {f"{RG}/k/good": Status.PASS, f"{RG}/k/bad": Status.FAIL}
    assert statuses("azure.encryption.keyvault_key_expiry_set", *keys) == expected
    assert statuses("azure.encryption.keyvault_key_rotation_enabled", *keys) == expected


def test_key_listing_failure_makes_its_vault_inconclusive() -> None:
    vault = f"{RG}/v/kv"
    errors = (
        error(
            "keyvault", "Keys_List", (KEY, f"{KV}#keys"), resource_uid=vault, region="westeurope"
        ),
    )
    findings = run_one(
        "azure.encryption.keyvault_key_expiry_set", inventory(az(KV, vault), errors=errors)
    )
    assert [(f.resource_uid, f.status) for f in findings] == [(vault, Status.INCONCLUSIVE)]


# -- identity -----------------------------------------------------------------------------------


def _ra(name: str, role: str, ptype: str = "User", level: str = "subscription", **kw: Any) -> Any:
    """An active assignment of ``role`` to principal ``name`` at a scope of ``level``."""
    return role_assignment(name, role, name, ptype=ptype, scope_level=level, **kw)


def _rd(
    guid: str, actions: list[str], not_actions: list[str] | None = None, kind: str = "CustomRole"
) -> Any:
    return role_definition(guid, (actions, not_actions or []), kind=kind)


def test_standing_privileged_roles() -> None:
    writer = _rd("c0ffee", ["Microsoft.Authorization/*/write", "*/read"])
    narrow = _rd("beef", ["*"], ["Microsoft.Authorization/*"])  # '*' minus authorization
    reader = _rd(READER.rsplit("/", 1)[1], ["*/read"], kind="BuiltInRole")
    found = statuses(
        "azure.iam.no_standing_privileged_roles",
        writer,
        narrow,
        reader,
        _ra("owner-user", OWNER),
        _ra("owner-sp", OWNER, ptype="ServicePrincipal"),
        _ra("owner-rg", OWNER, level="resource_group"),
        _ra("reader", READER),
        _ra("activated", OWNER, pim={"assignment_type": "Activated", "end": "2026-01-01"}),
        _ra("writer", writer.uid),
        _ra("narrow", narrow.uid),
        _ra("ghost", f"{ROLES}/x"),
        role_assignment("e", OWNER, "dave", eligible=True, ptype="User"),
    )
    short = {uid.rsplit("/", 1)[-1]: s for uid, s in found.items()}
    assert short == {
        "owner-user": Status.FAIL,
        "activated": Status.PASS,
        "writer": Status.FAIL,
        "ghost": Status.INCONCLUSIVE,
        "e": Status.PASS,
        "narrow": Status.FAIL,
    }


def test_custom_owner_roles_and_vault_rbac() -> None:
    found = statuses(
        "azure.iam.no_custom_owner_roles",
        _rd("a", ["*"]),
        _rd("b", ["Microsoft.Authorization/roleAssignments/write"]),
        _rd("c", ["Microsoft.Compute/virtualMachines/start/action"]),
        _rd("d", ["*"], kind="BuiltInRole"),
    )
    assert sorted((uid[-1], s) for uid, s in found.items()) == [
        ("a", Status.FAIL),
        ("b", Status.FAIL),
        ("c", Status.PASS),
    ]
    assert statuses(
        "azure.iam.keyvault_rbac_authorization",
        az(KV, f"{RG}/v/rbac", rbac_authorization=True),
        az(KV, f"{RG}/v/policies", rbac_authorization=False),
    ) == {f"{RG}/v/rbac": Status.PASS, f"{RG}/v/policies": Status.FAIL}


# -- audit --------------------------------------------------------------------------------------


def _setting(*categories: str, destination: bool = True) -> dict[str, Any]:
    return {"name": "s", "enabled_log_categories": list(categories), "has_destination": destination}


def test_activity_log_exported() -> None:
    def sub(name: str, settings: Any) -> Any:
        return az(
            SUBSCRIPTION,
            f"/subscriptions/{name}",
            region="global",
            activity_log_diagnostic_settings=settings,
        )

    assert statuses(
        "azure.audit.activity_log_exported",
        sub("all", [_setting("Administrative", "Security", "Alert", "Policy")]),
        sub("partial", [_setting("Administrative")]),
        sub("none", []),
        sub("nodest", [_setting("Administrative", destination=False)]),
        sub("unknown", None),
    ) == {
        "/subscriptions/all": Status.PASS,
        "/subscriptions/partial": Status.FAIL,
        "/subscriptions/none": Status.FAIL,
        "/subscriptions/nodest": Status.FAIL,
        "/subscriptions/unknown": Status.INCONCLUSIVE,
    }


def test_keyvault_logging_and_sql_auditing() -> None:
    assert statuses(
        "azure.audit.keyvault_logging_enabled",
        az(KV, f"{RG}/v/a", diagnostic_settings=[_setting("AuditEvent")]),
        az(KV, f"{RG}/v/b", diagnostic_settings=[_setting("AzurePolicyEvaluation")]),
        az(KV, f"{RG}/v/c", diagnostic_settings=None),
    ) == {f"{RG}/v/a": Status.PASS, f"{RG}/v/b": Status.FAIL, f"{RG}/v/c": Status.INCONCLUSIVE}
    assert statuses(
        "azure.audit.sql_auditing_enabled",
        az(SQL, f"{RG}/s/a", auditing={"state": "Enabled"}),
        az(SQL, f"{RG}/s/b", auditing={"state": "Disabled"}),
    ) == {f"{RG}/s/a": Status.PASS, f"{RG}/s/b": Status.FAIL}


# -- segregation --------------------------------------------------------------------------------


def test_prod_nonprod_peering() -> None:
    prod = vnet("prod", tags={"Environment": "prod"})
    dev = vnet("dev", prefixes=("10.1.0.0/16",), tags={"env": "dev"})
    untagged = vnet("x", prefixes=("10.2.0.0/16",))

    def peering(name: str, local: Any, remote_id: str, state: str = "Connected") -> Any:
        return az(
            PEERING,
            f"{local.uid}/virtualnetworkpeerings/{name}",
            vnet_id=local.uid,
            remote_vnet_id=remote_id,
            peering_state=state,
            allow_virtual_network_access=True,
        )

    found = statuses(
        "azure.segregation.no_prod_nonprod_peering",
        prod,
        dev,
        untagged,
        peering("p2d", prod, dev.uid),
        peering("gone", prod, dev.uid, "Disconnected"),
        peering("p2x", prod, untagged.uid),
        peering("d2p", dev, prod.uid),
    )
    assert {uid.rsplit("/", 1)[-1]: s for uid, s in found.items()} == {
        "p2d": Status.FAIL,
        "gone": Status.PASS,
        "p2x": Status.INCONCLUSIVE,
        "d2p": Status.FAIL,
    }
