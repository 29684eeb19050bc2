"""PostgreSQL and MySQL flexible servers through ARM REST against the loopback fake, with each
server's firewall rules and TLS server parameters: the demo's public PostgreSQL server (open to
0.0.0.0-255.255.255.255 and to every Azure service) and its VNet-integrated MySQL server that
still accepts TLS 1.0; failed detail reads recorded on the server, facet by facet."""

from __future__ import annotations

from support.azure import SUB
from support.azure_collect import collect_fake
from support.checks import run_one

from posture.collectors.azure.collector import all_permissions
from posture.collectors.azure.dbflex import min_tls
from posture.demo.azure_fake import FakeArm
from posture.model import Inventory, Status

POSTGRES = "Microsoft.DBforPostgreSQL/flexibleServers"
MYSQL = "Microsoft.DBforMySQL/flexibleServers"
PG = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.dbforpostgresql/" \
     "flexibleservers/pg-orders"
MY = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.dbformysql/" \
     "flexibleservers/mysql-billing"


def test_servers_rules_and_parameters(estate: Inventory) -> None:
    assert estate.errors == ()
    pg, my = estate.get(PG), estate.get(MY)
    assert pg is not None and my is not None
    assert (pg.type, my.type, pg.name, my.region) == (POSTGRES, MYSQL, "pg-orders", "westeurope")
    assert [(r["start_ip"], r["end_ip"]) for r in pg.attr("firewall_rules")] == [
        ("0.0.0.0", "0.0.0.0"), ("0.0.0.0", "255.255.255.255")]
    assert {k: pg.attr(k) for k in ("engine", "public_network_access", "require_secure_transport",
                                    "tls_parameter", "min_tls_version", "data_encryption",
                                    "backup_retention_days", "geo_redundant_backup")} == {
        "engine": "postgresql", "public_network_access": "Enabled",
        "require_secure_transport": True, "tls_parameter": "TLSv1.2", "min_tls_version": "1.2",
        "data_encryption": "SystemManaged", "backup_retention_days": 7,
        "geo_redundant_backup": "Disabled"}
    assert {k: my.attr(k) for k in ("engine", "public_network_access", "delegated_subnet_id",
                                    "min_tls_version", "cmk_key_uri", "firewall_rules")} == {
        "engine": "mysql", "public_network_access": "Disabled",
        "delegated_subnet_id": "/subscriptions/11111111-1111-1111-1111-111111111111/"
        "resourcegroups/rg-prod/providers/microsoft.network/virtualnetworks/vnet-prod/subnets/db",
        "min_tls_version": "1.0", "cmk_key_uri": "https://kv-prod.vault.azure.net/keys/"
        "mysql-billing/9e2c1b7a5d4f4e3c8b6a0f1e2d3c4b5a", "firewall_rules": []}


def test_lowest_accepted_protocol() -> None:
    assert [min_tls(v) for v in ("TLSv1.2", "TLSv1.2,TLSv1.3", "TLSv1,TLSv1.1,TLSv1.2",
                                 "tlsv1.3", "", None)] == ["1.2", "1.2", "1.0", "1.3", None, None]


def test_demo_verdicts(estate: Inventory) -> None:
    expected = {
        "azure.data.flexible_server_not_open_to_internet": ("FAIL", "PASS"),
        "azure.data.flexible_server_allow_azure_services_disabled": ("FAIL", "PASS"),
        # trap: the private MySQL server still accepts TLS 1.0
        "azure.data.flexible_server_tls12_enforced": ("PASS", "FAIL"),
        "azure.data.flexible_server_customer_managed_key": ("FAIL", "PASS"),
        "azure.data.flexible_server_backups_retained": ("FAIL", "PASS"),
    }
    for check_id, (pg, my) in expected.items():
        found = {f.resource_name: f.status.value for f in run_one(check_id, estate)}
        assert found == {"pg-orders": pg, "mysql-billing": my}, check_id


def test_failed_detail_reads_are_recorded_per_facet(fake: FakeArm) -> None:
    fake.fail(f"{PG}/firewallrules", 403, "AuthorizationFailed", "no firewallRules/read")
    fake.fail(f"{MY}/configurations/tls_version", 403, "AuthorizationFailed", "no read")
    inv = collect_fake(fake)
    assert {(e.operation, e.resource_uid, e.asset_types) for e in inv.errors} == {
        ("FirewallRules_ListByServer", PG, (f"{POSTGRES}#firewall_rules",)),
        ("Configurations_Get", MY, (f"{MYSQL}#parameters",))}
    pg, my = inv.get(PG), inv.get(MY)
    assert pg is not None and pg.attr("firewall_rules") is None
    assert my is not None and my.attr("min_tls_version") is None
    assert my.attr("require_secure_transport") is True  # the other parameter was read
    net = {f.resource_uid: f.status for f in
           run_one("azure.data.flexible_server_not_open_to_internet", inv)}
    tls = {f.resource_uid: f.status for f in
           run_one("azure.data.flexible_server_tls12_enforced", inv)}
    assert (net[PG], net[MY], tls[PG], tls[MY]) == (
        Status.INCONCLUSIVE, Status.PASS, Status.PASS, Status.INCONCLUSIVE)


def test_permissions() -> None:
    assert {f"{t}/{what}" for t in (POSTGRES, MYSQL)
            for what in ("read", "firewallRules/read", "configurations/read")} <= set(
        all_permissions())
