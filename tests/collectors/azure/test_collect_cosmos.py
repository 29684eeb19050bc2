"""Cosmos DB accounts through ARM REST against the loopback fake: the demo's account that
accepts every Azure datacenter (IP rule 0.0.0.0) beside the portal's addresses, keys enabled and
no customer key; a failed listing recorded for the type."""

from __future__ import annotations

from support.azure import SUB
from support.azure_collect import collect_fake
from support.checks import run_one

from posture.demo.azure_fake import FakeArm
from posture.model import Severity, Status

ACCOUNT = "Microsoft.DocumentDB/databaseAccounts"


def test_account_and_demo_verdicts(fake: FakeArm) -> None:
    inv = collect_fake(fake)
    assert inv.errors == ()
    (cosmos,) = inv.of(ACCOUNT)
    assert (cosmos.name, cosmos.region, cosmos.account) == ("cosmos-catalog", "westeurope", SUB)
    assert {k: cosmos.attr(k) for k in ("public_network_access", "ip_rules",
                                        "vnet_filter_enabled", "local_auth_disabled",
                                        "cmk_key_uri", "minimal_tls_version",
                                        "min_tls_version")} == {
        "public_network_access": "Enabled",
        "ip_rules": ["0.0.0.0", "13.88.56.148", "13.91.105.215", "4.210.172.107",
                     "40.91.218.243"],
        "vnet_filter_enabled": False, "local_auth_disabled": False, "cmk_key_uri": None,
        "minimal_tls_version": "Tls12", "min_tls_version": "1.2"}
    found = {check_id: [(f.status, f.severity) for f in run_one(check_id, inv)]
             for check_id in ("azure.data.cosmos_not_open_to_internet",
                              "azure.data.cosmos_local_auth_disabled",
                              "azure.data.cosmos_customer_managed_key",
                              "azure.data.cosmos_min_tls12")}
    assert found == {
        "azure.data.cosmos_not_open_to_internet": [(Status.FAIL, Severity.MEDIUM)],
        "azure.data.cosmos_local_auth_disabled": [(Status.FAIL, Severity.MEDIUM)],
        "azure.data.cosmos_customer_managed_key": [(Status.FAIL, Severity.LOW)],
        "azure.data.cosmos_min_tls12": [(Status.PASS, Severity.HIGH)]}
