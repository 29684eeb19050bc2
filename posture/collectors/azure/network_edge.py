"""The network edge: Azure Firewalls, firewall policies (with rule collection groups), Bastion
hosts and Application Gateways (with their effective minimum TLS version).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from azure.mgmt.network import NetworkManagementClient

from posture.collectors.azure.base import (
    NOT_FOUND,
    SubscriptionScope,
    ip_addresses,
    parallel_map,
    props,
    ref,
    refs,
    region_of,
    resource_group,
    rid,
)
from posture.model import Asset

FIREWALL = "Microsoft.Network/azureFirewalls"
FIREWALL_POLICY = "Microsoft.Network/firewallPolicies"
BASTION = "Microsoft.Network/bastionHosts"
APP_GATEWAY = "Microsoft.Network/applicationGateways"

PERMISSIONS = (
    "Microsoft.Network/azureFirewalls/read", "Microsoft.Network/firewallPolicies/read",
    "Microsoft.Network/firewallPolicies/ruleCollectionGroups/read",
    "Microsoft.Network/bastionHosts/read", "Microsoft.Network/applicationGateways/read",
    "Microsoft.Network/applicationGatewayAvailableSslOptions/read",
    "Microsoft.Network/applicationGatewayAvailableSslOptions/predefinedPolicies/read",
)

UNKNOWN_TLS = "default/unknown"
"""An Application Gateway without an SSL policy gets a default that depends on the API version
it was created with: posture does not guess."""

PREDEFINED_MIN_TLS = {
    "appgwsslpolicy20150501": "TLSv1_0",
    "appgwsslpolicy20170401": "TLSv1_1",
    "appgwsslpolicy20170401s": "TLSv1_2",
    "appgwsslpolicy20220101": "TLSv1_2",
    "appgwsslpolicy20220101s": "TLSv1_2",
}
"""Minimum protocol of Application Gateway's predefined SSL policies (Microsoft Learn,
"Application Gateway TLS policy overview"); others are looked up with the API."""

_TLS_ORDER = ("SSLv3", "TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3")


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(NetworkManagementClient)
    assets: list[Asset] = []
    firewalls = scope.listing(
        "network", "AzureFirewalls_ListAll", (FIREWALL,), client.azure_firewalls.list_all
    )
    assets += [normalize_firewall(scope, f) for f in firewalls or ()]
    policies = scope.listing(
        "network", "FirewallPolicies_ListAll", (FIREWALL_POLICY,), client.firewall_policies.list_all
    )
    assets += parallel_map(lambda p: _policy(scope, client, p), policies or ())
    bastions = scope.listing("network", "BastionHosts_List", (BASTION,), client.bastion_hosts.list)
    assets += [normalize_bastion(scope, b) for b in bastions or ()]
    gateways = scope.listing(
        "network",
        "ApplicationGateways_ListAll",
        (APP_GATEWAY,),
        client.application_gateways.list_all,
    )
    assets += [_gateway(scope, client, g) for g in gateways or ()]
    return assets


def _policy(scope: SubscriptionScope, client: Any, item: Mapping[str, Any]) -> Asset:
    uid = str(rid(item["id"]))
    groups = scope.listing(
        "network",
        "FirewallPolicyRuleCollectionGroups_List",
        (f"{FIREWALL_POLICY}#rules",),
        lambda: client.firewall_policy_rule_collection_groups.list(
            resource_group(item["id"]), item["name"]
        ),
        region=region_of(item),
        resource_uid=uid,
    )
    return normalize_firewall_policy(scope, item, groups)


def _gateway(scope: SubscriptionScope, client: Any, item: Mapping[str, Any]) -> Asset:
    """Resolve predefined policies the table does not know with GetSslPredefinedPolicy."""
    lookups: dict[str, str | None] = {}
    for policy in _ssl_policies(item).values():
        name = str(policy.get("policyName") or "")
        if (
            _policy_type(policy) == "predefined"
            and name
            and name.lower() not in PREDEFINED_MIN_TLS
            and name not in lookups
        ):
            found = scope.get(
                "network",
                "ApplicationGateways_GetSslPredefinedPolicy",
                (f"{APP_GATEWAY}#ssl_policy",),
                functools.partial(client.application_gateways.get_ssl_predefined_policy, name),
                region=region_of(item),
                resource_uid=rid(item["id"]),
            )
            lookups[name] = (
                props(found).get("minProtocolVersion") if found not in (None, NOT_FOUND) else None
            )
    return normalize_app_gateway(scope, item, lookups)


# -- normalizers (pure) -------------------------------------------------------------------------


def _ip_configs(p: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [ip_addresses(cfg) for cfg in p.get("ipConfigurations") or ()]


def _nat_rule(
    collection: str | None, rule: Mapping[str, Any], protocols_key: str
) -> dict[str, Any]:
    return {
        "collection": collection,
        "name": rule.get("name"),
        "protocols": sorted(str(p).lower() for p in rule.get(protocols_key) or ()),
        "source_addresses": list(rule.get("sourceAddresses") or ()),
        "source_ip_groups": list(rule.get("sourceIpGroups") or ()),
        "destination_addresses": list(rule.get("destinationAddresses") or ()),
        "destination_ports": [str(x) for x in rule.get("destinationPorts") or ()],
        "translated_address": rule.get("translatedAddress"),
        "translated_fqdn": rule.get("translatedFqdn"),
        "translated_port": rule.get("translatedPort"),
    }


def normalize_firewall(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    nat_rules = [
        _nat_rule(coll.get("name"), rule, "protocols")
        for coll in p.get("natRuleCollections") or ()
        for rule in props(coll).get("rules") or ()
    ]
    configs = _ip_configs(p)
    attrs = {
        "firewall_name": item.get("name"),
        "sku_tier": (p.get("sku") or {}).get("tier"),
        "threat_intel_mode": p.get("threatIntelMode"),
        "firewall_policy_id": ref(p.get("firewallPolicy")),
        "ip_configurations": configs,
        "subnet_ids": sorted({c["subnet_id"] for c in configs if c["subnet_id"]}),
        "public_ip_ids": sorted({c["public_ip_id"] for c in configs if c["public_ip_id"]}),
        "private_ips": sorted({str(c["private_ip"]) for c in configs if c["private_ip"]}),
        "nat_rules": nat_rules,
        "network_rule_collection_count": len(p.get("networkRuleCollections") or ()),
        "application_rule_collection_count": len(p.get("applicationRuleCollections") or ()),
    }
    return scope.arm_asset(FIREWALL, item, attrs)


def normalize_firewall_policy(
    scope: SubscriptionScope, item: Mapping[str, Any], groups: list[dict[str, Any]] | None
) -> Asset:
    p = props(item)
    nat_rules: list[dict[str, Any]] | None = None
    summary: list[dict[str, Any]] | None = None
    if groups is not None:
        nat_rules, summary = [], []
        for group in sorted(groups, key=lambda g: props(g).get("priority") or 0):
            gp = props(group)
            collections = []
            for coll in gp.get("ruleCollections") or ():
                kind = coll.get("ruleCollectionType")
                rules = coll.get("rules") or ()
                collections.append(
                    {
                        "name": coll.get("name"),
                        "kind": kind,
                        "priority": coll.get("priority"),
                        "action": (coll.get("action") or {}).get("type"),
                        "rule_count": len(rules),
                    }
                )
                if kind == "FirewallPolicyNatRuleCollection":
                    nat_rules += [_nat_rule(coll.get("name"), r, "ipProtocols") for r in rules]
            summary.append(
                {
                    "name": group.get("name"),
                    "priority": gp.get("priority"),
                    "rule_collections": collections,
                }
            )
    attrs = {
        "policy_name": item.get("name"),
        "threat_intel_mode": p.get("threatIntelMode"),
        "base_policy_id": ref(p.get("basePolicy")),
        "firewall_ids": refs(p.get("firewalls")),
        "rule_collection_groups": summary,
        "nat_rules": nat_rules,
    }
    return scope.arm_asset(
        FIREWALL_POLICY, item, attrs, raw={"policy": item, "ruleCollectionGroups": groups}
    )


def normalize_bastion(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    configs = _ip_configs(p)
    subnets = sorted({c["subnet_id"] for c in configs if c["subnet_id"]})
    attrs = {
        "bastion_name": item.get("name"),
        "sku": (item.get("sku") or {}).get("name"),
        "subnet_ids": subnets,
        "vnet_ids": sorted({s.split("/subnets/")[0] for s in subnets}),
        "public_ip_ids": sorted({c["public_ip_id"] for c in configs if c["public_ip_id"]}),
    }
    return scope.arm_asset(BASTION, item, attrs)


def _ssl_policies(item: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The gateway-wide policy (key ``""``) and each SSL profile's policy (key = profile id)."""
    p = props(item)
    out: dict[str, Mapping[str, Any]] = {"": p.get("sslPolicy") or {}}
    for profile in p.get("sslProfiles") or ():
        out[str(rid(profile.get("id")))] = props(profile).get("sslPolicy") or {}
    return out


def _policy_type(policy: Mapping[str, Any]) -> str | None:
    kind = policy.get("policyType")
    if kind:
        return str(kind).lower()
    return "predefined" if policy.get("policyName") else None


def min_tls_version(policy: Mapping[str, Any], lookups: Mapping[str, str | None]) -> str:
    """The minimum protocol an SSL policy accepts, or ``default/unknown``."""
    if not policy:
        return UNKNOWN_TLS
    kind = _policy_type(policy)
    if kind == "predefined":
        name = str(policy.get("policyName") or "")
        found = PREDEFINED_MIN_TLS.get(name.lower()) or lookups.get(name)
        return str(found) if found else UNKNOWN_TLS
    if policy.get("minProtocolVersion"):
        return str(policy["minProtocolVersion"])
    disabled = {str(x) for x in policy.get("disabledSslProtocols") or ()}
    if disabled:  # legacy policy: the lowest protocol left enabled
        return next((v for v in _TLS_ORDER[1:] if v not in disabled), UNKNOWN_TLS)
    return UNKNOWN_TLS


def normalize_app_gateway(
    scope: SubscriptionScope, item: Mapping[str, Any], lookups: Mapping[str, str | None]
) -> Asset:
    p = props(item)
    policies = _ssl_policies(item)
    public_frontends = {
        str(rid(fe.get("id")))
        for fe in p.get("frontendIPConfigurations") or ()
        if props(fe).get("publicIPAddress")
    }
    ports = {str(rid(fp.get("id"))): props(fp).get("port") for fp in p.get("frontendPorts") or ()}
    listeners = []
    for listener in p.get("httpListeners") or p.get("listeners") or ():
        lp = props(listener)
        profile = ref(lp.get("sslProfile"))
        policy = policies.get(profile or "", policies[""]) if profile else policies[""]
        protocol = str(lp.get("protocol") or "").lower()
        listeners.append(
            {
                "name": listener.get("name"),
                "protocol": protocol,
                "port": ports.get(str(ref(lp.get("frontendPort")))),
                "public": ref(lp.get("frontendIPConfiguration")) in public_frontends,
                "ssl_profile_id": profile,
                "min_tls_version": min_tls_version(policy, lookups)
                if protocol in ("https", "tls")
                else None,
            }
        )
    gw_policy = policies[""]
    attrs = {
        "gateway_name": item.get("name"),
        "sku_tier": (p.get("sku") or {}).get("tier"),
        "ssl_policy": {
            "policy_type": gw_policy.get("policyType"),
            "policy_name": gw_policy.get("policyName"),
            "min_protocol_version": gw_policy.get("minProtocolVersion"),
            "disabled_ssl_protocols": list(gw_policy.get("disabledSslProtocols") or ()),
            "cipher_suites": list(gw_policy.get("cipherSuites") or ()),
        }
        if gw_policy
        else None,
        "min_tls_version": min_tls_version(gw_policy, lookups),
        "listeners": listeners,
        "public_ip_ids": sorted(
            {
                str(ref(props(fe).get("publicIPAddress")))
                for fe in p.get("frontendIPConfigurations") or ()
                if props(fe).get("publicIPAddress")
            }
        ),
        "waf_enabled": (p.get("webApplicationFirewallConfiguration") or {}).get("enabled")
        if p.get("webApplicationFirewallConfiguration")
        else bool(p.get("firewallPolicy")),
    }
    return scope.arm_asset(APP_GATEWAY, item, attrs)
