"""Virtual networks, subnets, peerings, NSGs, ASGs, public IPs, network interfaces, load balancers.

One ARM listing per type and subscription (``list_all``); subnets and peerings come inside their
virtual network's payload and become assets of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.mgmt.network import NetworkManagementClient

from posture.collectors.azure.base import (
    SubscriptionScope,
    ip_addresses,
    props,
    ref,
    refs,
    region_of,
    resource_group,
    rid,
    tags_of,
)
from posture.model import Asset

VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
PEERING = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
NSG = "Microsoft.Network/networkSecurityGroups"
ASG = "Microsoft.Network/applicationSecurityGroups"
PUBLIC_IP = "Microsoft.Network/publicIPAddresses"
NIC = "Microsoft.Network/networkInterfaces"
LOAD_BALANCER = "Microsoft.Network/loadBalancers"

PERMISSIONS = (
    "Microsoft.Network/virtualNetworks/read", "Microsoft.Network/networkSecurityGroups/read",
    "Microsoft.Network/applicationSecurityGroups/read", "Microsoft.Network/publicIPAddresses/read",
    "Microsoft.Network/networkInterfaces/read", "Microsoft.Network/loadBalancers/read",
)

_LISTINGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("virtual_networks", "VirtualNetworks_ListAll", (VNET, SUBNET, PEERING)),
    ("network_security_groups", "NetworkSecurityGroups_ListAll", (NSG,)),
    ("application_security_groups", "ApplicationSecurityGroups_ListAll", (ASG,)),
    ("public_ip_addresses", "PublicIPAddresses_ListAll", (PUBLIC_IP,)),
    ("network_interfaces", "NetworkInterfaces_ListAll", (NIC,)),
    ("load_balancers", "LoadBalancers_ListAll", (LOAD_BALANCER,)),
)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(NetworkManagementClient)
    assets: list[Asset] = []
    for group, operation, types in _LISTINGS:
        ops = getattr(client, group)
        items = scope.listing("network", operation, types, ops.list_all)
        for item in items or ():
            assets.extend(NORMALIZERS[types[0]](scope, item))
    return assets


# -- normalizers (pure) -------------------------------------------------------------------------


def _lower(value: Any) -> str | None:
    return str(value).lower() if value is not None else None


def _strings(p: Mapping[str, Any], single: str, many: str) -> list[str]:
    """ARM's pairs of ``xPrefix`` / ``xPrefixes`` (``xRange`` / ``xRanges``) as one list."""
    out = [str(v) for v in p.get(many) or ()]
    if p.get(single) not in (None, ""):
        out.insert(0, str(p[single]))
    return out


def normalize_rule(rule: Mapping[str, Any], default: bool = False) -> dict[str, Any]:
    p = props(rule)
    return {
        "name": rule.get("name"),
        "priority": p.get("priority"),
        "direction": _lower(p.get("direction")),
        "access": _lower(p.get("access")),
        "protocol": _lower(p.get("protocol") or "*"),
        "source_prefixes": _strings(p, "sourceAddressPrefix", "sourceAddressPrefixes"),
        "source_asg_ids": refs(p.get("sourceApplicationSecurityGroups")),
        "source_ports": _strings(p, "sourcePortRange", "sourcePortRanges"),
        "destination_prefixes": _strings(
            p, "destinationAddressPrefix", "destinationAddressPrefixes"
        ),
        "destination_asg_ids": refs(p.get("destinationApplicationSecurityGroups")),
        "destination_ports": _strings(p, "destinationPortRange", "destinationPortRanges"),
        "default": default,
    }


def _rule_key(rule: Mapping[str, Any]) -> tuple[Any, ...]:
    return (rule["direction"] or "", rule["priority"] or 0, rule["name"] or "")


def normalize_nsg(scope: SubscriptionScope, item: Mapping[str, Any]) -> list[Asset]:
    p = props(item)
    rules = sorted((normalize_rule(r) for r in p.get("securityRules") or ()), key=_rule_key)
    defaults = sorted(
        (normalize_rule(r, default=True) for r in p.get("defaultSecurityRules") or ()),
        key=_rule_key,
    )
    attrs = {
        "nsg_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "rules": rules,
        "default_rules": defaults,
        "subnet_ids": refs(p.get("subnets")),
        "nic_ids": refs(p.get("networkInterfaces")),
        "flow_log_ids": refs(p.get("flowLogs")),
    }
    return [scope.arm_asset(NSG, item, attrs)]


def normalize_vnet(scope: SubscriptionScope, item: Mapping[str, Any]) -> list[Asset]:
    p = props(item)
    vnet_id = str(rid(item["id"]))
    region = region_of(item)
    subnets = p.get("subnets") or ()
    peerings = p.get("virtualNetworkPeerings") or ()
    attrs = {
        "vnet_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "address_prefixes": sorted((p.get("addressSpace") or {}).get("addressPrefixes") or ()),
        "subnet_ids": refs(subnets),
        "peering_ids": refs(peerings),
        "dns_servers": list((p.get("dhcpOptions") or {}).get("dnsServers") or ()),
        "ddos_protection": p.get("enableDdosProtection"),
    }
    out = [
        scope.asset(
            vnet_id,
            VNET,
            str(item.get("name")),
            attrs,
            {k: v for k, v in item.items() if k != "properties"}
            | {
                "properties": {
                    k: v for k, v in p.items() if k not in ("subnets", "virtualNetworkPeerings")
                }
            },
            tags_of(item),
            region,
        )
    ]
    out += [normalize_subnet(scope, s, vnet_id, region) for s in subnets]
    out += [normalize_peering(scope, x, vnet_id, region) for x in peerings]
    return out


def normalize_subnet(
    scope: SubscriptionScope, item: Mapping[str, Any], vnet_id: str, region: str
) -> Asset:
    p = props(item)
    name = str(item.get("name"))
    attrs = {
        "subnet_name": name,
        "vnet_id": vnet_id,
        "address_prefixes": _strings(p, "addressPrefix", "addressPrefixes"),
        "nsg_id": ref(p.get("networkSecurityGroup")),
        "route_table_id": ref(p.get("routeTable")),
        "nat_gateway_id": ref(p.get("natGateway")),
        "is_bastion_subnet": name.lower() == "azurebastionsubnet",
        "is_firewall_subnet": name.lower() == "azurefirewallsubnet",
        "default_outbound_access": p.get("defaultOutboundAccess"),
        "service_endpoints": sorted(str(s.get("service")) for s in p.get("serviceEndpoints") or ()),
    }
    return scope.asset(str(rid(item["id"])), SUBNET, name, attrs, item, region=region)


def normalize_peering(
    scope: SubscriptionScope, item: Mapping[str, Any], vnet_id: str, region: str
) -> Asset:
    p = props(item)
    remote_space = p.get("remoteAddressSpace") or {}
    attrs = {
        "peering_name": item.get("name"),
        "vnet_id": vnet_id,
        "remote_vnet_id": ref(p.get("remoteVirtualNetwork")),
        "peering_state": p.get("peeringState"),
        "allow_virtual_network_access": p.get("allowVirtualNetworkAccess"),
        "allow_forwarded_traffic": p.get("allowForwardedTraffic"),
        "allow_gateway_transit": p.get("allowGatewayTransit"),
        "use_remote_gateways": p.get("useRemoteGateways"),
        "remote_address_prefixes": sorted(remote_space.get("addressPrefixes") or ()),
    }
    return scope.asset(
        str(rid(item["id"])), PEERING, str(item.get("name")), attrs, item, region=region
    )


def normalize_asg(scope: SubscriptionScope, item: Mapping[str, Any]) -> list[Asset]:
    attrs = {"asg_name": item.get("name"), "resource_group": resource_group(item.get("id"))}
    return [scope.arm_asset(ASG, item, attrs)]


def normalize_public_ip(scope: SubscriptionScope, item: Mapping[str, Any]) -> list[Asset]:
    p = props(item)
    attrs = {
        "ip_address": p.get("ipAddress"),
        "allocation_method": p.get("publicIPAllocationMethod"),
        "ip_version": p.get("publicIPAddressVersion"),
        "sku": (item.get("sku") or {}).get("name"),
        "attached_to": ref(p.get("ipConfiguration")),
        "fqdn": (p.get("dnsSettings") or {}).get("fqdn"),
    }
    return [scope.arm_asset(PUBLIC_IP, item, attrs)]


def normalize_ip_configuration(item: Mapping[str, Any]) -> dict[str, Any]:
    p = props(item)
    return {
        **ip_addresses(item),
        "id": rid(item.get("id")),
        "primary": p.get("primary"),
        "private_ip_version": p.get("privateIPAddressVersion"),
        "asg_ids": refs(p.get("applicationSecurityGroups")),
        "lb_backend_pool_ids": refs(p.get("loadBalancerBackendAddressPools")),
        "lb_nat_rule_ids": refs(p.get("loadBalancerInboundNatRules")),
        "appgw_backend_pool_ids": refs(p.get("applicationGatewayBackendAddressPools")),
    }


def normalize_nic(scope: SubscriptionScope, item: Mapping[str, Any]) -> list[Asset]:
    p = props(item)
    configs = [normalize_ip_configuration(c) for c in p.get("ipConfigurations") or ()]
    attrs = {
        "nic_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "vm_id": ref(p.get("virtualMachine")),
        "nsg_id": ref(p.get("networkSecurityGroup")),
        "ip_forwarding": p.get("enableIPForwarding"),
        "ip_configurations": configs,
        "private_ips": sorted(str(c["private_ip"]) for c in configs if c["private_ip"]),
        "public_ip_ids": sorted({c["public_ip_id"] for c in configs if c["public_ip_id"]}),
        "subnet_ids": sorted({c["subnet_id"] for c in configs if c["subnet_id"]}),
    }
    return [scope.arm_asset(NIC, item, attrs)]


def _port(value: Any) -> int | None:
    return int(value) if value is not None else None


def _forwarding(rule: Mapping[str, Any]) -> dict[str, Any]:
    """What a load-balancing or inbound NAT rule forwards: from which frontends, protocol and
    frontend port, to which backend port."""
    rp = props(rule)
    return {
        "name": rule.get("name"),
        "protocol": _lower(rp.get("protocol")),
        "frontend_port": _port(rp.get("frontendPort")),
        "backend_port": _port(rp.get("backendPort")),
        "frontend_ids": refs([rp.get("frontendIPConfiguration")]),
    }


def normalize_lb(scope: SubscriptionScope, item: Mapping[str, Any]) -> list[Asset]:
    p = props(item)
    frontends = [
        {**ip_addresses(fe), "id": rid(fe.get("id"))}
        for fe in p.get("frontendIPConfigurations") or ()
    ]
    rules = []
    for rule in p.get("loadBalancingRules") or ():
        rp = props(rule)
        pools = refs([rp.get("backendAddressPool"), *(rp.get("backendAddressPools") or ())])
        rules.append({**_forwarding(rule), "backend_pool_ids": pools})
    nat_rules = [
        {
            **_forwarding(rule),
            "id": rid(rule.get("id")),
            "backend_ip_configuration_id": ref(props(rule).get("backendIPConfiguration")),
            "backend_pool_ids": refs([props(rule).get("backendAddressPool")]),
        }
        for rule in p.get("inboundNatRules") or ()
    ]
    attrs = {
        "lb_name": item.get("name"),
        "sku": (item.get("sku") or {}).get("name"),
        "frontends": frontends,
        "rules": rules,
        "inbound_nat_rules": nat_rules,
        "backend_pool_ids": refs(p.get("backendAddressPools")),
        "public_ip_ids": sorted({f["public_ip_id"] for f in frontends if f["public_ip_id"]}),
    }
    return [scope.arm_asset(LOAD_BALANCER, item, attrs)]


NORMALIZERS = {
    VNET: normalize_vnet,
    NSG: normalize_nsg,
    ASG: normalize_asg,
    PUBLIC_IP: normalize_public_ip,
    NIC: normalize_nic,
    LOAD_BALANCER: normalize_lb,
}
