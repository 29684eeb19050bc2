"""Azure exposure checks on small hand-built inventories: latent NSG exposure (never conflated
with real exposure) and Azure SQL's public endpoint (public network access, firewall rules,
'Allow Azure services')."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import (
    NET,
    RG,
    az,
    error,
    inventory,
    load_balancer,
    nat_rule,
    nsg,
    one_vm,
    public_ip,
    rule,
)
from support.checks import by_uid, only, run_one

from posture.model import Finding, Status

LATENT = "azure.network.no_latent_sensitive_port_exposure"
ADMIN = "azure.network.admin_ports_not_internet_reachable"
DBPORTS = "azure.network.db_ports_not_internet_reachable"
SQL_OPEN = "azure.network.sql_not_open_to_internet"
SQL_AZURE = "azure.network.sql_allow_azure_services_disabled"
SQL = "Microsoft.Sql/servers"
FIREWALL = "Microsoft.Network/azureFirewalls"


def _run(check_id: str, assets: list[Any], **params: Any) -> Finding:
    return only(run_one(check_id, inventory(*assets), **params))


OPEN_SSH = nsg("open-ssh", rule("ssh-any", 110, src="Internet", ports="22"))


# -- latent exposure ------------------------------------------------------------------------------


def test_private_vm_with_open_nsg_is_latent_only() -> None:
    assets = one_vm(subnet_nsg=OPEN_SSH)  # no public IP, no load balancer, no DNAT
    latent = _run(LATENT, assets)
    assert latent.status is Status.FAIL
    assert "open-ssh/ssh-any (subnet, priority 110)" in latent.message
    assert (
        "tcp/22" in latent.message and "missing layer is an internet entry point" in latent.message
    )
    (evidence,) = latent.evidence["latent"]
    assert evidence["port"] == 22 and evidence["admitted_by"][0]["rule"] == "ssh-any"
    # the CRITICAL check does not report it as exposed
    critical = _run(ADMIN, assets)
    assert critical.status is Status.PASS and "latent" in critical.message


def test_really_exposed_vm_is_not_latent() -> None:
    assets = one_vm(subnet_nsg=OPEN_SSH, pip=public_ip("pip-h", "20.0.0.1", sku="Standard"))
    assert _run(ADMIN, assets).status is Status.FAIL
    latent = _run(LATENT, assets)
    assert latent.status is Status.PASS
    assert "real exposure on tcp/22 is reported by the CRITICAL checks" in latent.message


def test_priority_shadowing_is_not_latent() -> None:
    shadow = nsg(
        "shadow",
        rule("deny-internet", 100, "deny", src="Internet", ports=["22", "3389"]),
        rule("allow-any", 200, src="*", ports=["22", "3389"]),
    )
    assert _run(LATENT, one_vm(subnet_nsg=shadow)).status is Status.PASS
    # the same rules in the other priority order are latent
    unshadowed = nsg(
        "unshadowed",
        rule("deny-internet", 300, "deny", src="Internet", ports=["22", "3389"]),
        rule("allow-any", 200, src="*", ports=["22", "3389"]),
    )
    assert _run(LATENT, one_vm(subnet_nsg=unshadowed)).status is Status.FAIL


@pytest.mark.parametrize("open_at", ["subnet", "nic"])
def test_allowed_at_one_level_denied_at_the_other_is_blocked_not_latent(open_at: str) -> None:
    closed = nsg("closed", rule("deny-all", 4000, "deny", src="*", ports="*", protocol="*"))
    layers = {"subnet_nsg": OPEN_SSH, "nic_nsg": closed}
    if open_at == "nic":
        layers = {"subnet_nsg": closed, "nic_nsg": OPEN_SSH}
    finding = _run(LATENT, one_vm(**layers))
    assert finding.status is Status.PASS, finding.message


def test_partially_exposed_vm_is_latent_on_the_other_port_only() -> None:
    both = nsg("both", rule("ssh-sql", 100, src="*", ports=["22", "1433"]))
    ssh = nat_rule("ssh", 50022, 22)
    lb_ip = public_ip("pip-lb", "20.0.0.9", sku="Standard")
    lb = load_balancer(lb_ip, nat_rules=(ssh,), sku="Standard")
    assets = one_vm(subnet_nsg=both, extra=(lb, lb_ip), nat_rules=(ssh["id"],))
    assert _run(ADMIN, assets).status is Status.FAIL  # tcp/22 through the NAT rule
    assert _run(DBPORTS, assets).status is Status.PASS  # nothing delivers tcp/1433
    latent = _run(LATENT, assets)
    assert latent.status is Status.FAIL
    assert "tcp/1433;" in latent.message and "tcp/22" not in latent.message
    assert [e["port"] for e in latent.evidence["latent"]] == [1433]


def test_specific_sources_and_other_service_tags_are_not_latent() -> None:
    office = nsg("office", rule("office", 100, src="203.0.113.0/24", ports="22"))
    cloud = nsg("cloud", rule("azurecloud", 100, src="AzureCloud", ports="22"))
    for group in (office, cloud):
        assert _run(LATENT, one_vm(subnet_nsg=group)).status is Status.PASS


def test_no_nsg_at_all_is_no_latent_rule_and_standard_public_ip_is_closed() -> None:
    finding = _run(LATENT, one_vm())
    assert finding.status is Status.PASS and "no NSG path" in finding.message
    # Standard SKU public IPs admit nothing without an NSG (secure by default); Basic ones do
    standard = one_vm(pip=public_ip("pip-h", "20.0.0.1", sku="Standard"))
    critical = _run(ADMIN, standard)
    assert critical.status is Status.PASS and "secure by default" in critical.message
    assert _run(LATENT, standard).status is Status.PASS
    basic = one_vm(pip=public_ip("pip-h", "20.0.0.1", sku="Basic"))
    assert _run(ADMIN, basic).status is Status.FAIL
    # with an NSG the Standard public IP is open as far as the NSG admits
    assert _run(
        ADMIN, one_vm(nic_nsg=OPEN_SSH, pip=public_ip("p", "20.0.0.1", "Standard"))
    ).status is (Status.FAIL)


def test_a_firewall_dnat_blocked_by_the_nsg_leaves_the_internet_rule_latent() -> None:
    # the firewall SNATs: NSGs see its private address (VirtualNetwork), which is denied first
    group = nsg(
        "vnet-denied",
        rule("deny-vnet-ssh", 100, "deny", src="VirtualNetwork", ports="22"),
        rule("ssh-internet", 200, src="Internet", ports="22"),
    )
    firewall = az(
        FIREWALL,
        f"{NET}/azurefirewalls/fw",
        private_ips=["10.0.1.4"],
        firewall_policy_id=None,
        nat_rules=[
            {
                "collection": "dnat",
                "name": "ssh-to-h",
                "protocols": ["tcp"],
                "source_addresses": ["*"],
                "destination_addresses": ["20.0.0.50"],
                "destination_ports": ["22"],
                "translated_address": "10.0.2.4",
                "translated_port": "22",
            }
        ],
    )
    assets = one_vm(subnet_nsg=group, extra=(firewall,))
    assert _run(ADMIN, assets).status is Status.PASS
    latent = _run(LATENT, assets)
    assert latent.status is Status.FAIL
    assert "firewall-dnat fw, is blocked" in latent.message and "deny-vnet-ssh" in latent.message


def test_latent_is_inconclusive_when_an_nsg_or_the_public_ip_was_not_collected() -> None:
    assets = [a for a in one_vm(subnet_nsg=OPEN_SSH) if a.uid != OPEN_SSH.uid]
    errors = (
        error(
            "network", "NetworkSecurityGroups_ListAll", ("Microsoft.Network/networkSecurityGroups",)
        ),
    )
    findings = run_one(LATENT, inventory(*assets, errors=errors))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}
    ghost = public_ip("pip-ghost", "20.0.0.1")
    assets = [a for a in one_vm(subnet_nsg=OPEN_SSH, pip=ghost) if a.uid != ghost.uid]
    finding = _run(LATENT, assets)
    assert finding.status is Status.INCONCLUSIVE and "not collected" in finding.message
    # where the NSG denies the port anyway, the missing public IP does not matter
    closed = nsg("closed")
    assets = [a for a in one_vm(subnet_nsg=closed, pip=ghost) if a.uid != ghost.uid]
    assert _run(LATENT, assets).status is Status.PASS


# -- Azure SQL's public endpoint --------------------------------------------------------------


def _fw(name: str, start: str, end: str) -> dict[str, str]:
    return {"name": name, "start_ip": start, "end_ip": end}


AZURE_SERVICES = _fw("AllowAllWindowsAzureIps", "0.0.0.0", "0.0.0.0")
EVERYONE = _fw("AllowAll", "0.0.0.0", "255.255.255.255")
OFFICE = _fw("office", "203.0.113.0", "203.0.113.255")


def _server(name: str, access: str | None, *rules: dict[str, str] | None) -> Any:
    firewall = None if rules == (None,) else list(rules)
    return az(
        SQL,
        f"{RG}/providers/microsoft.sql/servers/{name}",
        public_network_access=access,
        firewall_rules=firewall,
    )


SERVERS = (
    _server("disabled-open", "Disabled", AZURE_SERVICES, EVERYONE),
    _server("everyone", "Enabled", EVERYONE),
    _server("azure-only", "Enabled", AZURE_SERVICES, OFFICE),
    _server("office", "Enabled", OFFICE),
    _server("no-rules", "Enabled"),
    # two /9 halves of one public /8: neither is wide alone, together they are
    _server(
        "halves",
        "Enabled",
        _fw("a", "20.0.0.0", "20.127.255.255"),
        _fw("b", "20.128.0.0", "20.255.255.255"),
    ),
    # a private /8: no internet client has such an address
    _server("private-range", "Enabled", _fw("vnet", "10.0.0.0", "10.255.255.255")),
    # 0.0.0.0-0.0.0.255 is an ordinary (unroutable) range, not "Allow Azure services"
    _server("zero-net", "Enabled", _fw("zero", "0.0.0.0", "0.0.0.255")),
    _server("unknown-access", None, EVERYONE),
)

ALL_PASS = dict.fromkeys((s.name for s in SERVERS), Status.PASS)
"""Every server PASSes: each test names its exceptions."""


def _statuses(check_id: str, *assets: Any, **params: Any) -> dict[str, Status]:
    found = by_uid(run_one(check_id, inventory(*assets), **params))
    return {uid.rsplit("/", 1)[-1]: f.status for uid, f in found.items()}


def test_sql_open_to_the_internet_needs_public_access_and_a_wide_range() -> None:
    assert _statuses(SQL_OPEN, *SERVERS) == {
        **ALL_PASS, "everyone": Status.FAIL, "halves": Status.FAIL,
        "unknown-access": Status.INCONCLUSIVE,
    }
    findings = {f.resource_name: f for f in run_one(SQL_OPEN, inventory(*SERVERS))}
    assert "AllowAll (0.0.0.0-255.255.255.255)" in findings["everyone"].message
    assert "reachable from the internet" in findings["everyone"].message
    assert (
        "a (20.0.0.0-20.127.255.255), b (20.128.0.0-20.255.255.255)" in findings["halves"].message
    )
    assert "do not apply" in findings["disabled-open"].message
    # the threshold is a parameter: with /24 as "the internet", the office range counts
    assert _statuses(SQL_OPEN, SERVERS[3], max_prefix_len=24) == {"office": Status.FAIL}


def test_allow_azure_services_is_its_own_lower_severity_finding() -> None:
    assert _statuses(SQL_AZURE, *SERVERS) == {
        **ALL_PASS, "azure-only": Status.FAIL, "unknown-access": Status.INCONCLUSIVE,
    }
    finding = only([f for f in run_one(SQL_AZURE, inventory(*SERVERS)) if f.status is Status.FAIL])
    assert finding.severity.label == "medium"
    assert "any subscription or tenant" in finding.message and "internet" not in finding.message
    assert only(run_one(SQL_OPEN, inventory(SERVERS[0]))).severity.label == "critical"


def test_sql_firewall_rules_not_collected() -> None:
    enabled = _server("enabled", "Enabled", None)
    disabled = _server("disabled", "Disabled", None)
    errors = (
        error(
            "sql",
            "FirewallRules_ListByServer",
            (f"{SQL}#firewall_rules",),
            resource_uid=enabled.uid,
            region="westeurope",
        ),
    )
    for check_id in (SQL_OPEN, SQL_AZURE):
        found = by_uid(run_one(check_id, inventory(enabled, disabled, errors=errors)))
        assert found[enabled.uid].status is Status.INCONCLUSIVE
        assert "FirewallRules_ListByServer" in found[enabled.uid].message
        # with public network access disabled the rules do not matter
        assert found[disabled.uid].status is Status.PASS


def test_public_network_access_setting_is_its_own_control() -> None:
    # CIS 5.1.7: the setting itself, whatever the firewall admits today
    statuses = _statuses("azure.network.sql_public_network_access_disabled", *SERVERS)
    assert statuses == {
        "disabled-open": Status.PASS,
        "everyone": Status.FAIL,
        "azure-only": Status.FAIL,
        "office": Status.FAIL,
        "no-rules": Status.FAIL,
        "halves": Status.FAIL,
        "private-range": Status.FAIL,
        "zero-net": Status.FAIL,
        "unknown-access": Status.INCONCLUSIVE,
    }
    office = only(run_one("azure.network.sql_public_network_access_disabled",
                          inventory(SERVERS[3])))
    assert office.severity.label == "high" and "only barrier" in office.message
