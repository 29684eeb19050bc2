"""Managed data services on Azure: PostgreSQL/MySQL flexible servers (public endpoint judged like
Azure SQL's firewall, 'Allow Azure services', TLS server parameters by protocol version,
customer key, backups), Cosmos DB (firewall with the 0.0.0.0 Azure-datacenters rule, keys,
customer key, TLS) and storage accounts (default network action, double encryption, customer
key)."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import error, inventory
from support.azure_platforms import COSMOS, MYSQL, POSTGRES, STORAGE, cosmos, flex, rule, storage
from support.checks import only, run_one

from posture.model import Severity, Status

OPEN = "azure.data.flexible_server_not_open_to_internet"
AZURE = "azure.data.flexible_server_allow_azure_services_disabled"
TLS = "azure.data.flexible_server_tls12_enforced"
FLEX_CMK = "azure.data.flexible_server_customer_managed_key"
BACKUPS = "azure.data.flexible_server_backups_retained"
COSMOS_OPEN = "azure.data.cosmos_not_open_to_internet"
COSMOS_KEYS = "azure.data.cosmos_local_auth_disabled"
COSMOS_CMK = "azure.data.cosmos_customer_managed_key"
COSMOS_TLS = "azure.data.cosmos_min_tls12"
ST_NET = "azure.data.storage_network_default_deny"
ST_INFRA = "azure.data.storage_infrastructure_encryption"
ST_CMK = "azure.data.storage_customer_managed_key"

ALL = rule("AllowAll", "0.0.0.0", "255.255.255.255")
SERVICES = rule("AllowAllAzureServicesAndResourcesWithinAzureIps", "0.0.0.0", "0.0.0.0")
OFFICE = rule("office", "203.0.113.0", "203.0.113.255")


def _one(check_id: str, *assets: Any, **params: Any) -> tuple[Status, Severity, str]:
    found = only(run_one(check_id, inventory(*assets), **params))
    return found.status, found.severity, found.message


PUBLIC = {"public_network_access": "Enabled"}


@pytest.mark.parametrize(("attrs", "open_", "services"), [
    ({}, Status.PASS, Status.PASS),
    # trap: VNet integration means no public endpoint, whatever rules a template left
    ({"delegated_subnet_id": "/subscriptions/s/x/subnets/db", "public_network_access": None,
      "firewall_rules": [ALL]}, Status.PASS, Status.PASS),
    ({**PUBLIC, "firewall_rules": [ALL, SERVICES]}, Status.FAIL, Status.FAIL),
    ({**PUBLIC, "firewall_rules": [OFFICE]}, Status.PASS, Status.PASS),
    # 'Allow Azure services' alone: not the internet, a finding of its own
    ({**PUBLIC, "firewall_rules": [SERVICES]}, Status.PASS, Status.FAIL),
    # narrow rules that add up to a /1 are the internet
    ({**PUBLIC, "firewall_rules": [rule("a", "1.0.0.0", "127.255.255.255")]}, Status.FAIL,
     Status.PASS),
    ({**PUBLIC, "firewall_rules": None}, Status.INCONCLUSIVE, Status.INCONCLUSIVE),
    ({"public_network_access": None}, Status.INCONCLUSIVE, Status.INCONCLUSIVE),
])
def test_flexible_server_endpoint(attrs: dict[str, Any], open_: Status, services: Status) -> None:
    for engine in ("postgresql", "mysql"):
        server = flex(engine=engine, **attrs)
        assert _one(OPEN, server)[0] == open_, (engine, attrs)
        assert _one(AZURE, server)[0] == services, (engine, attrs)


def test_flexible_server_messages() -> None:
    server = flex(**PUBLIC, firewall_rules=[SERVICES, ALL])
    assert _one(OPEN, server)[::2] == (
        Status.FAIL, "firewall rule(s) AllowAll (0.0.0.0-255.255.255.255) admit 3,702,390,784 "
        "public IPv4 addresses: the PostgreSQL login is reachable from the internet")
    assert _one(AZURE, server)[::2] == (
        Status.FAIL, "firewall rule AllowAllAzureServicesAndResourcesWithinAzureIps "
        "(0.0.0.0-0.0.0.0) admits every Azure resource, of any subscription or tenant")
    # a narrower policy threshold
    assert _one(OPEN, flex(**PUBLIC, firewall_rules=[OFFICE]), max_prefix_len=24)[0] == (
        Status.FAIL)


@pytest.mark.parametrize(("attrs", "status", "message"), [
    ({}, Status.PASS, "TLS is required, 1.2 or later"),
    ({"require_secure_transport": False}, Status.FAIL, "unencrypted connections are accepted "
     "(require_secure_transport is off)"),
    # trap: TLS required, but TLS 1.0 still among the accepted protocols
    ({"tls_parameter": "TLSv1,TLSv1.1,TLSv1.2", "min_tls_version": "1.0"}, Status.FAIL,
     "TLS 1.0 is accepted (TLSv1,TLSv1.1,TLSv1.2)"),
    ({"min_tls_version": None}, Status.INCONCLUSIVE, "its TLS server parameters were not read"),
])
def test_flexible_server_tls(attrs: dict[str, Any], status: Status, message: str) -> None:
    assert _one(TLS, flex(engine="mysql", **attrs))[::2] == (status, message)


def test_flexible_server_detail_failures_scope_the_checks() -> None:
    server = flex(**PUBLIC, firewall_rules=[OFFICE])
    params = error("postgresql", "Configurations_Get", (f"{POSTGRES}#parameters",),
                   resource_uid=server.uid)
    assert only(run_one(TLS, inventory(server, errors=(params,)))).status == (
        Status.INCONCLUSIVE)
    assert only(run_one(OPEN, inventory(server, errors=(params,)))).status == Status.PASS
    listing = error("mysql", "Servers_List", (MYSQL,))
    for check_id in (OPEN, AZURE, TLS, FLEX_CMK, BACKUPS):
        assert {f.status for f in run_one(check_id, inventory(errors=(listing,)))} == {
            Status.INCONCLUSIVE}, check_id


def test_flexible_server_key_and_backups() -> None:
    assert _one(FLEX_CMK, flex())[0] == Status.PASS
    assert _one(FLEX_CMK, flex(data_encryption="SystemManaged", cmk_key_uri=None))[0:2] == (
        Status.FAIL, Severity.LOW)
    assert _one(FLEX_CMK, flex(data_encryption=None, cmk_key_uri=None))[0] == Status.INCONCLUSIVE
    assert _one(BACKUPS, flex())[::2] == (Status.PASS, "backups are kept 35 days, geo-redundant")
    assert _one(BACKUPS, flex(backup_retention_days=7, geo_redundant_backup="Disabled")) == (
        Status.FAIL, Severity.MEDIUM, "backups are kept 7 days (fewer than 14), in the server's "
        "region only")
    assert _one(BACKUPS, flex(geo_redundant_backup="Disabled"))[0:2] == (
        Status.FAIL, Severity.LOW)
    assert _one(BACKUPS, flex(backup_retention_days=7), min_retention_days=7)[0] == Status.PASS
    assert _one(BACKUPS, flex(backup_retention_days=None))[0] == Status.INCONCLUSIVE


PORTAL = ["13.91.105.215", "4.210.172.107", "13.88.56.148", "40.91.218.243"]


@pytest.mark.parametrize(("attrs", "status", "severity", "message"), [
    ({}, Status.PASS, Severity.HIGH, "public network access is disabled: private endpoints "
     "only"),
    ({**PUBLIC}, Status.FAIL, Severity.HIGH, "the account accepts all networks (no IP rule, no "
     "virtual network filter)"),
    # trap: 0.0.0.0 is not an address: it is every Azure datacenter
    ({**PUBLIC, "ip_rules": ["0.0.0.0", *PORTAL]}, Status.FAIL, Severity.MEDIUM,
     "IP rule 0.0.0.0 accepts connections from every Azure datacenter, any customer's resources "
     "included"),
    ({**PUBLIC, "ip_rules": PORTAL}, Status.PASS, Severity.HIGH,
     "only selected networks: 4 public address(es) and 0 subnet(s)"),
    ({**PUBLIC, "vnet_filter_enabled": True, "vnet_rule_subnet_ids": ["a"]}, Status.PASS,
     Severity.HIGH, "only selected networks: 0 public address(es) and 1 subnet(s)"),
    ({**PUBLIC, "ip_rules": ["0.0.0.0/1", "128.0.0.0/1"]}, Status.FAIL, Severity.HIGH,
     "IP rules admit 3,702,390,784 public addresses: the account is reachable from the "
     "internet"),
    ({"public_network_access": "SecuredByPerimeter"}, Status.INCONCLUSIVE, Severity.HIGH,
     "public network access is 'SecuredByPerimeter', a value posture does not evaluate"),
])
def test_cosmos_firewall(attrs: dict[str, Any], status: Status, severity: Severity,
                         message: str) -> None:
    assert _one(COSMOS_OPEN, cosmos(**attrs)) == (status, severity, message)


def test_cosmos_keys_key_and_tls() -> None:
    assert _one(COSMOS_KEYS, cosmos())[0] == Status.PASS
    assert _one(COSMOS_KEYS, cosmos(local_auth_disabled=False))[0] == Status.FAIL
    assert _one(COSMOS_CMK, cosmos())[0] == Status.PASS
    assert _one(COSMOS_CMK, cosmos(cmk_key_uri=None))[0] == Status.FAIL
    assert _one(COSMOS_TLS, cosmos())[0] == Status.PASS
    assert _one(COSMOS_TLS, cosmos(minimal_tls_version="Tls", min_tls_version="1.0"))[::2] == (
        Status.FAIL, "TLS 1.0 is accepted (minimalTlsVersion Tls)")
    assert _one(COSMOS_TLS, cosmos(minimal_tls_version=None, min_tls_version=None))[0] == (
        Status.INCONCLUSIVE)
    listing = error("cosmosdb", "DatabaseAccounts_List", (COSMOS,))
    for check_id in (COSMOS_OPEN, COSMOS_KEYS, COSMOS_CMK, COSMOS_TLS):
        assert {f.status for f in run_one(check_id, inventory(errors=(listing,)))} == {
            Status.INCONCLUSIVE}, check_id


@pytest.mark.parametrize(("attrs", "status", "message"), [
    ({}, Status.PASS, "the firewall denies by default; IP rules admit 0 public address(es), 0 "
     "subnet(s)"),
    ({"network_default_action": "Allow"}, Status.FAIL, "the firewall's default action is "
     "Allow: every network reaches the account"),
    ({"network_default_action": "Allow", "public_network_access": "Disabled"}, Status.PASS,
     "public network access is disabled: private endpoints only"),
    # trap: Deny by default, but an IP rule for the whole internet
    ({"ip_rules": ["0.0.0.0/0"]}, Status.FAIL, "the default action is Deny but IP rules admit "
     "3,702,390,784 public addresses"),
    ({"network_default_action": None}, Status.INCONCLUSIVE, "the firewall's default action was "
     "not reported"),
])
def test_storage_network(attrs: dict[str, Any], status: Status, message: str) -> None:
    assert _one(ST_NET, storage(**attrs))[::2] == (status, message)


def test_storage_encryption() -> None:
    assert _one(ST_INFRA, storage())[0] == Status.PASS
    assert _one(ST_INFRA, storage(infrastructure_encryption=False))[0] == Status.FAIL
    assert _one(ST_INFRA, storage(infrastructure_encryption=None))[0] == Status.FAIL
    assert _one(ST_CMK, storage())[0] == Status.PASS
    assert _one(ST_CMK, storage(key_source="Microsoft.Storage"))[0:2] == (
        Status.FAIL, Severity.LOW)
    assert _one(ST_CMK, storage(key_source=None))[0] == Status.INCONCLUSIVE
    listing = error("storage", "StorageAccounts_List", (STORAGE,))
    for check_id in (ST_NET, ST_INFRA, ST_CMK):
        assert {f.status for f in run_one(check_id, inventory(errors=(listing,)))} == {
            Status.INCONCLUSIVE}, check_id
