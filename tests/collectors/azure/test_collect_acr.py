"""Container registries through ARM REST against the loopback fake: the demo's Standard registry
(admin user on, no firewall below Premium, unresolved image vulnerabilities from Defender), the
firewall fields of a Premium one, and a failed listing recorded for the type."""

from __future__ import annotations

from support.azure import SUB, inventory
from support.azure_collect import collect_fake
from support.checks import run_one

from posture.collectors.azure.acr import normalize_registry
from posture.collectors.azure.base import AzureTarget, ClientFactory, SubscriptionScope
from posture.demo.azure_fake import FakeArm
from posture.model import Status

REGISTRY = "Microsoft.ContainerRegistry/registries"
ACR = (f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.containerregistry/"
       "registries/acrprod")


def test_registry_and_demo_verdicts(fake: FakeArm) -> None:
    inv = collect_fake(fake)
    assert inv.errors == ()
    (acr,) = inv.of(REGISTRY)
    assert (acr.uid, acr.name, acr.region) == (ACR, "acrprod", "westeurope")
    assert {k: acr.attr(k) for k in ("sku", "admin_user_enabled", "anonymous_pull_enabled",
                                     "public_network_access", "network_rules_apply",
                                     "network_default_action", "login_server")} == {
        "sku": "Standard", "admin_user_enabled": True, "anonymous_pull_enabled": False,
        "public_network_access": "Enabled", "network_rules_apply": False,
        "network_default_action": None, "login_server": "acrprod.azurecr.io"}
    verdicts = {check_id: {f.resource_name: f.status for f in run_one(check_id, inv)}
                for check_id in ("azure.kubernetes.registry_admin_user_disabled",
                                 "azure.kubernetes.registry_not_public",
                                 "azure.kubernetes.registry_anonymous_pull_disabled")}
    assert verdicts == {
        "azure.kubernetes.registry_admin_user_disabled": {"acrprod": Status.FAIL},
        "azure.kubernetes.registry_not_public": {"acrprod": Status.FAIL},
        "azure.kubernetes.registry_anonymous_pull_disabled": {"acrprod": Status.PASS}}


def test_premium_firewall_fields() -> None:
    scope = SubscriptionScope(SUB, ClientFactory(None, AzureTarget()))
    item = {"id": ACR.replace("acrprod", "acrcore"), "name": "acrcore", "location": "westeurope",
            "sku": {"name": "Premium", "tier": "Premium"},
            "properties": {
                "publicNetworkAccess": "Enabled", "privateEndpointConnections": [{"id": "pe1"}],
                "networkRuleSet": {"defaultAction": "Deny", "ipRules": [
                    {"action": "Allow", "value": "203.0.113.0/28"}]}}}
    asset = normalize_registry(scope, item)
    assert (asset.attr("network_rules_apply"), asset.attr("network_default_action"),
            asset.attr("ip_rules"), asset.attr("private_endpoint_count")) == (
        True, "Deny", ["203.0.113.0/28"], 1)
    found = run_one("azure.kubernetes.registry_not_public", inventory(asset))
    assert [f.status for f in found] == [Status.PASS]
