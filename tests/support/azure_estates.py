"""Random small Azure estates for property tests (hypothesis strategies): one VM whose IP
configuration sits in a subnet, NSGs with random rules (priorities, allow/deny, protocols, port
lists and ranges, source ports, world-wide / allow-listed / service-tag / VNet sources,
destination prefixes and ASGs) at the subnet level, the NIC level, both, or one NSG at both; a
public IP present or absent, allocated or not, Standard / Basic / unknown SKU; optionally a load
balancer (Standard or Basic, public or internal frontend) with a load-balancing or inbound NAT
rule on some backend port and protocol, and an Azure Firewall with a DNAT rule to the VM."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from posture.model import Asset, Inventory

from .azure import NET, az, inventory, nic, nsg, public_ip, rule, subnet, vm, vnet

NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
LB_TYPE = "Microsoft.Network/loadBalancers"
FW_TYPE = "Microsoft.Network/azureFirewalls"
PUBLIC_IP_TYPE = "Microsoft.Network/publicIPAddresses"
POLICY_TYPE = "Microsoft.Network/firewallPolicies"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
SOURCES = [
    "*", "Internet", "0.0.0.0/0", "20.0.0.0/8", "0.0.0.0/1", "203.0.113.0/24", "10.0.0.0/8",
    "VirtualNetwork", "10.0.1.4", "AzureLoadBalancer", "AzureCloud",
]
DEST_PORTS = ["22", "*", "20-25", "5432", "3389", "5000-6000"]
DESTINATIONS = ["*", "VirtualNetwork", "10.0.2.4", "10.0.3.0/24", "Internet"]
ASG = f"{NET}/applicationsecuritygroups/asg-web"
LB_UID = f"{NET}/loadbalancers/lb"
FRONTEND = f"{LB_UID}/frontendipconfigurations/fe"
NAT_ID = f"{LB_UID}/inboundnatrules/nat"
POOL = f"{LB_UID}/backendaddresspools/pool"


@st.composite
def nsg_rules(draw: Any) -> list[dict[str, Any]]:
    priorities = draw(st.lists(st.sampled_from([100, 110, 200, 300, 4000]), max_size=4,
                               unique=True))
    out = []
    for n, priority in enumerate(priorities):
        dst_asg = draw(st.booleans()) and draw(st.booleans())
        out.append(rule(
            f"r{n}",
            priority,
            draw(st.sampled_from(["allow", "deny"])),
            src=draw(st.sampled_from(SOURCES)),
            ports=draw(st.lists(st.sampled_from(DEST_PORTS), min_size=1, max_size=2)),
            protocol=draw(st.sampled_from(["tcp", "udp", "*"])),
            dst=draw(st.sampled_from(DESTINATIONS)),
            dst_asgs=[ASG] if dst_asg else None,
            src_ports=draw(st.sampled_from([["*"], ["1024-65535"]])),
        ))
    return out


@st.composite
def estates(draw: Any) -> Inventory:
    groups = [nsg(f"nsg-{k}", *draw(nsg_rules())) for k in "ab"]
    at_subnet = draw(st.sampled_from([None, 0, 1]))
    at_nic = draw(st.sampled_from([None, 0, 1]))
    sn = subnet("web", "10.0.2.0/24", groups[at_subnet] if at_subnet is not None else None)
    assets: list[Asset] = [vnet(), sn, *groups]
    pip = None
    if draw(st.booleans()):
        address = "20.0.0.1" if draw(st.booleans()) else None
        pip = public_ip("pip-h", address, draw(st.sampled_from(["Standard", "Basic", None])))
        assets.append(pip)
    lb_kind = draw(st.sampled_from([None, "rule", "inbound-nat"]))
    card = nic(
        "nic-h", sn, "10.0.2.4", public=pip,
        nsg_asset=groups[at_nic] if at_nic is not None else None,
        asgs=(ASG,) if draw(st.booleans()) else (),
        nat_rules=(NAT_ID,) if lb_kind == "inbound-nat" else (),
        pools=(POOL,) if lb_kind == "rule" else (),
    )
    assets += [card, vm("h", card)]
    if lb_kind:
        lb_ip = public_ip("pip-lb", "20.0.0.9", "Standard")
        lb_rule = {
            "name": "lb-rule", "id": NAT_ID, "protocol": draw(st.sampled_from(["tcp", "udp",
                                                                              "all"])),
            "frontend_port": 50022, "backend_port": draw(st.sampled_from([22, 5432, 80, 0])),
            "frontend_ids": [FRONTEND], "backend_pool_ids": [POOL] if lb_kind == "rule" else [],
        }
        public = draw(st.booleans())
        assets += [lb_ip, az(
            LB_TYPE, LB_UID, sku=draw(st.sampled_from(["Standard", "Basic"])),
            frontends=[{"id": FRONTEND, "public_ip_id": lb_ip.uid if public else None,
                        "subnet_id": None if public else sn.uid}],
            rules=[lb_rule] if lb_kind == "rule" else [],
            inbound_nat_rules=[lb_rule] if lb_kind == "inbound-nat" else [],
        )]
    if draw(st.booleans()):
        dnat = [{
            "collection": "dnat", "name": "to-h",
            "protocols": draw(st.sampled_from([["tcp"], ["udp"], ["any"]])),
            "source_addresses": [draw(st.sampled_from(["*", "203.0.113.0/24"]))],
            "destination_addresses": ["20.0.0.50"], "destination_ports": ["50000"],
            "translated_address": "10.0.2.4",
            "translated_port": str(draw(st.sampled_from([22, 5432, 80]))),
        }]
        policy = None
        if draw(st.booleans()):  # the rule lives in the firewall's policy
            policy = az(POLICY_TYPE, f"{NET}/firewallpolicies/pol", base_policy_id=None,
                        nat_rules=dnat)
            assets.append(policy)
        assets.append(az(
            FW_TYPE, f"{NET}/azurefirewalls/fw", private_ips=["10.0.1.4"],
            firewall_policy_id=policy.uid if policy else None,
            nat_rules=[] if policy else dnat,
        ))
    return inventory(*assets)
