"""Synthetic Azure estate (attrs as in docs/azure-assets.md), per 1,000 VMs:

50 subnets in VNets of up to 200 subnets (peered), 20 NSGs (half meant for subnets,
half for NICs; 85% of subnets and 35% of NICs have one, a few NICs the subnet's own NSG),
3-12 rules each (allow and deny on admin, database and web ports from Internet, *,
0.0.0.0/0, VirtualNetwork, an office range or ASGs, at random priorities), 10 ASGs, public
IPs on ~20% of NICs (Standard and Basic SKU, some unallocated), two public Standard load
balancers with rules and inbound NAT rules to admin ports, an internal one, one Azure Firewall
with DNAT rules. Every VM has a system-assigned managed identity: 5% Owner of the subscription,
10% Contributor of it, 10% Owner of the resource group, 25% Reader, the rest no role.
"""

from __future__ import annotations

import random
from typing import Any

from posture.model import GLOBAL, Asset, Inventory, Provider

from . import PORTS, meta

SUB = "22222222-2222-2222-2222-222222222222"
RG = f"/subscriptions/{SUB}/resourcegroups/rg-bench"
NET = f"{RG}/providers/microsoft.network"
REGION = "westeurope"


def _az(type_: str, uid: str, **attrs: Any) -> Asset:
    uid = uid.lower()
    return Asset(uid, Provider.AZURE, type_, SUB, REGION, uid.rsplit("/", 1)[-1], {}, attrs)


def _nsg_rule(
    rnd: random.Random, name: str, priority: int, asgs: list[str], inbound: bool = True
) -> dict[str, Any]:
    src_kind = rnd.choices(["tag", "range", "asg"], [7, 2, 1])[0]
    src = {
        "tag": rnd.choices(
            [["Internet"], ["*"], ["0.0.0.0/0"], ["VirtualNetwork"], ["AzureLoadBalancer"]],
            [2, 1, 1, 4, 1],
        )[0],
        "range": [rnd.choice(["203.0.113.0/24", "10.0.0.0/8", "198.51.100.7", "20.0.0.0/8"])],
        "asg": [],
    }[src_kind]
    return {
        "name": name,
        "priority": priority,
        "direction": "inbound" if inbound else "outbound",
        "access": rnd.choices(["allow", "deny"], [3, 2])[0],
        "protocol": rnd.choices(["tcp", "*", "udp"], [7, 2, 1])[0],
        "source_prefixes": src,
        "source_asg_ids": [rnd.choice(asgs)] if src_kind == "asg" else [],
        "source_ports": ["*"],
        "destination_prefixes": ["*"] if rnd.random() < 0.8 else ["VirtualNetwork"],
        "destination_asg_ids": [rnd.choice(asgs)] if rnd.random() < 0.1 else [],
        "destination_ports": rnd.choice(PORTS).split(","),
        "default": False,
    }


def _subnet(
    sid: str, name: str, vnet_id: str, prefix: str, nsg: str | None, firewall: bool = False
) -> Asset:
    return _az(
        "Microsoft.Network/virtualNetworks/subnets",
        sid,
        subnet_name=name,
        vnet_id=vnet_id.lower(),
        address_prefixes=[prefix],
        nsg_id=nsg.lower() if nsg else None,
        route_table_id=None,
        nat_gateway_id=None,
        is_bastion_subnet=False,
        is_firewall_subnet=firewall,
        default_outbound_access=None,
        service_endpoints=[],
    )


def azure_estate(vms: int, seed: int = 7) -> Inventory:
    rnd = random.Random(seed)
    k = max(1, vms // 1000)
    n_subnets, n_nsgs, n_asgs = 50 * k, 20 * k, 10 * k
    n_vnets = (n_subnets + 199) // 200
    assets: list[Asset] = []
    asgs = [f"{NET}/applicationsecuritygroups/asg-{i}" for i in range(n_asgs)]
    for a in asgs:
        assets.append(
            _az(
                "Microsoft.Network/applicationSecurityGroups",
                a,
                asg_name=a.rsplit("/", 1)[-1],
                resource_group="rg-bench",
            )
        )
    nsg_ids = [f"{NET}/networksecuritygroups/nsg-{i:04d}" for i in range(n_nsgs)]
    subnet_nsgs, nic_nsgs = nsg_ids[: n_nsgs // 2], nsg_ids[n_nsgs // 2 :]
    nsg_subnets: dict[str, list[str]] = {}
    nsg_nics: dict[str, list[str]] = {}
    vnet_ids = [f"{NET}/virtualnetworks/vnet-{v}" for v in range(n_vnets)]
    subnets: list[tuple[str, str, str | None]] = []  # id, /24 prefix base, nsg
    for s in range(n_subnets):
        v = s % n_vnets
        sid = f"{vnet_ids[v]}/subnets/snet-{s:04d}"
        nsg = rnd.choice(subnet_nsgs) if rnd.random() < 0.85 else None
        if nsg:
            nsg_subnets.setdefault(nsg, []).append(sid.lower())
        base = f"10.{v}.{s // n_vnets}"
        subnets.append((sid, base, nsg))
        assets.append(_subnet(sid, f"snet-{s:04d}", vnet_ids[v], f"{base}.0/24", nsg))
    fw_subnet = f"{vnet_ids[0]}/subnets/azurefirewallsubnet"
    assets.append(
        _subnet(fw_subnet, "AzureFirewallSubnet", vnet_ids[0], "10.200.0.0/26", None, True)
    )
    for v, vid in enumerate(vnet_ids):
        peers = [p for p in range(n_vnets) if p != v]
        peering_ids = [f"{vid}/virtualnetworkpeerings/to-{p}" for p in peers]
        assets.append(
            _az(
                "Microsoft.Network/virtualNetworks",
                vid,
                vnet_name=f"vnet-{v}",
                resource_group="rg-bench",
                address_prefixes=[f"10.{v}.0.0/16"] + (["10.200.0.0/24"] if v == 0 else []),
                subnet_ids=[s[0].lower() for s in subnets if s[0].startswith(vid)],
                peering_ids=[p.lower() for p in peering_ids],
                dns_servers=[],
                ddos_protection=False,
            )
        )
        for p, pid in zip(peers, peering_ids, strict=True):
            assets.append(
                _az(
                    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
                    pid,
                    peering_name=f"to-{p}",
                    vnet_id=vid.lower(),
                    remote_vnet_id=vnet_ids[p].lower(),
                    peering_state="Connected",
                    allow_virtual_network_access=True,
                    allow_forwarded_traffic=False,
                    allow_gateway_transit=False,
                    use_remote_gateways=False,
                    remote_address_prefixes=[f"10.{p}.0.0/16"],
                )
            )

    # load balancers: two public (rules + NAT rules to admin ports), one internal
    lbs: list[dict[str, Any]] = []
    for n in range(3 * k):
        uid = f"{NET}/loadbalancers/lb-{n}"
        lbs.append(
            {
                "uid": uid,
                "public": n % 3 != 2,
                "pool": f"{uid}/backendaddresspools/pool",
                "members": [],
                "nat": [],
            }
        )
    public_ips: list[Asset] = []
    nics: list[Asset] = []
    vm_assets: list[Asset] = []
    apps = [
        (rnd.sample(range(n_subnets), rnd.randrange(1, 4)), rnd.sample(asgs, rnd.randrange(0, 3)))
        for _ in range(max(10, vms // 40))
    ]
    for i in range(vms):
        subs, app_asgs = apps[rnd.randrange(len(apps))]
        s = rnd.choice(subs)
        sid, base, subnet_nsg = subnets[s]
        nic_uid = f"{NET}/networkinterfaces/nic-{i:06d}"
        cfg_id = f"{nic_uid}/ipconfigurations/ipconfig1".lower()
        pip_id = None
        if rnd.random() < 0.2:
            pip_id = f"{NET}/publicipaddresses/pip-{i:06d}".lower()
            allocated = rnd.random() < 0.95
            public_ips.append(
                _az(
                    "Microsoft.Network/publicIPAddresses",
                    pip_id,
                    ip_address=f"20.{50 + i // 65536}.{i // 256 % 256}.{i % 256}"
                    if allocated
                    else None,
                    allocation_method="Static",
                    ip_version="IPv4",
                    sku=rnd.choices(["Standard", "Basic"], [4, 1])[0],
                    attached_to=cfg_id,
                    fqdn=None,
                )
            )
        pools, nat_ids = [], []
        if rnd.random() < 0.05:
            lb = rnd.choice(lbs)
            pools.append(lb["pool"].lower())
            lb["members"].append(cfg_id)
            if lb["public"] and rnd.random() < 0.3:
                nat_id = f"{lb['uid']}/inboundnatrules/nat-{i}".lower()
                lb["nat"].append((nat_id, cfg_id))
                nat_ids.append(nat_id)
        nic_nsg = None
        if rnd.random() < 0.35:
            nic_nsg = subnet_nsg if subnet_nsg and rnd.random() < 0.1 else rnd.choice(nic_nsgs)
            nsg_nics.setdefault(nic_nsg, []).append(nic_uid.lower())
        vm_uid = f"{RG}/providers/microsoft.compute/virtualmachines/vm-{i:06d}".lower()
        nics.append(
            _az(
                "Microsoft.Network/networkInterfaces",
                nic_uid,
                nic_name=f"nic-{i:06d}",
                resource_group="rg-bench",
                vm_id=vm_uid,
                nsg_id=nic_nsg.lower() if nic_nsg else None,
                ip_forwarding=False,
                ip_configurations=[
                    {
                        "name": "ipconfig1",
                        "id": cfg_id,
                        "primary": True,
                        "subnet_id": sid.lower(),
                        "private_ip": f"{base}.{4 + i % 250}",
                        "private_ip_version": "IPv4",
                        "public_ip_id": pip_id,
                        "asg_ids": [a.lower() for a in app_asgs],
                        "lb_backend_pool_ids": pools,
                        "lb_nat_rule_ids": nat_ids,
                        "appgw_backend_pool_ids": [],
                    }
                ],
                private_ips=[f"{base}.{4 + i % 250}"],
                public_ip_ids=[pip_id] if pip_id else [],
                subnet_ids=[sid.lower()],
            )
        )
        vm_assets.append(
            _az(
                "Microsoft.Compute/virtualMachines",
                vm_uid,
                vm_name=f"vm-{i:06d}",
                resource_group="rg-bench",
                vm_size="Standard_D2s_v5",
                os_type=rnd.choice(["Linux", "Linux", "Windows"]),
                nic_ids=[nic_uid.lower()],
                os_disk_id=None,
                data_disk_ids=[],
                encryption_at_host=False,
                password_authentication_disabled=True,
                identity_type="SystemAssigned",
                identity_principal_id=_principal(i),
                identity_tenant_id=None,
                user_assigned_identities=[],
                provisioning_state="Succeeded",
            )
        )
    for n, lb in enumerate(lbs):
        fe_id = f"{lb['uid']}/frontendipconfigurations/fe".lower()
        fe_pip = f"{NET}/publicipaddresses/pip-lb-{n}".lower() if lb["public"] else None
        if fe_pip:
            public_ips.append(
                _az(
                    "Microsoft.Network/publicIPAddresses",
                    fe_pip,
                    ip_address=f"20.40.0.{n + 1}",
                    allocation_method="Static",
                    ip_version="IPv4",
                    sku="Standard",
                    attached_to=fe_id,
                    fqdn=None,
                )
            )
        rules = [
            {
                "name": f"r{p}",
                "protocol": "tcp",
                "frontend_port": fp,
                "backend_port": p,
                "frontend_ids": [fe_id],
                "backend_pool_ids": [lb["pool"].lower()],
            }
            for fp, p in ((443, 443), (80, 8080), (5432, 5432))[: 1 + n % 3]
        ]
        nat_rules = [
            {
                "name": f"nat-{j}",
                "id": nat_id,
                "protocol": "tcp",
                "frontend_port": 50000 + j,
                "backend_port": rnd.choice([22, 3389]),
                "frontend_ids": [fe_id],
                "backend_ip_configuration_id": cfg,
                "backend_pool_ids": [],
            }
            for j, (nat_id, cfg) in enumerate(lb["nat"])
        ]
        assets.append(
            _az(
                "Microsoft.Network/loadBalancers",
                lb["uid"],
                lb_name=f"lb-{n}",
                sku="Standard",
                frontends=[
                    {
                        "name": "fe",
                        "id": fe_id,
                        "public_ip_id": fe_pip,
                        "subnet_id": None if fe_pip else subnets[0][0].lower(),
                        "private_ip": None if fe_pip else f"{subnets[0][1]}.250",
                    }
                ],
                rules=rules,
                inbound_nat_rules=nat_rules,
                backend_pool_ids=[lb["pool"].lower()],
                public_ip_ids=[fe_pip] if fe_pip else [],
            )
        )
    fw_pip = f"{NET}/publicipaddresses/pip-fw".lower()
    public_ips.append(
        _az(
            "Microsoft.Network/publicIPAddresses",
            fw_pip,
            ip_address="20.41.0.1",
            allocation_method="Static",
            ip_version="IPv4",
            sku="Standard",
            attached_to=f"{NET}/azurefirewalls/fw/azurefirewallipconfigurations/cfg".lower(),
            fqdn=None,
        )
    )
    targets = rnd.sample(nics, min(len(nics), 10 * k))
    assets.append(
        _az(
            "Microsoft.Network/azureFirewalls",
            f"{NET}/azurefirewalls/fw",
            firewall_name="fw",
            sku_tier="Standard",
            threat_intel_mode="Alert",
            firewall_policy_id=None,
            ip_configurations=[
                {
                    "name": "cfg",
                    "subnet_id": fw_subnet.lower(),
                    "public_ip_id": fw_pip,
                    "private_ip": "10.200.0.4",
                }
            ],
            subnet_ids=[fw_subnet.lower()],
            public_ip_ids=[fw_pip],
            private_ips=["10.200.0.4"],
            nat_rules=[
                {
                    "collection": "dnat",
                    "name": f"dnat-{j}",
                    "protocols": ["tcp"],
                    "source_addresses": [rnd.choice(["*", "203.0.113.0/24"])],
                    "source_ip_groups": [],
                    "destination_addresses": ["20.41.0.1"],
                    "destination_ports": [str(40000 + j)],
                    "translated_address": t.attr("private_ips")[0],
                    "translated_fqdn": None,
                    "translated_port": rnd.choice(["22", "3389", "443", "1433"]),
                }
                for j, t in enumerate(targets)
            ],
            network_rule_collection_count=0,
            application_rule_collection_count=0,
        )
    )
    for g, nsg in enumerate(nsg_ids):
        prios = sorted(rnd.sample(range(100, 4097), rnd.randrange(3, 13)))
        rules = [_nsg_rule(rnd, f"rule-{g}-{p}", p, asgs) for p in prios]
        rules.append(_nsg_rule(rnd, f"out-{g}", 4000, asgs, inbound=False))
        assets.append(
            _az(
                "Microsoft.Network/networkSecurityGroups",
                nsg,
                nsg_name=nsg.rsplit("/", 1)[-1],
                resource_group="rg-bench",
                rules=rules,
                default_rules=[],
                subnet_ids=nsg_subnets.get(nsg, []),
                nic_ids=nsg_nics.get(nsg, []),
                flow_log_ids=[],
            )
        )
    assets += public_ips + nics + vm_assets + _role_assignments(vms, seed)
    return Inventory(meta(Provider.AZURE, SUB, (REGION, GLOBAL)), tuple(assets))


def _principal(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-000000000000"


def _role_assignments(vms: int, seed: int) -> list[Asset]:
    """The VMs' system-assigned identities hold: 5% Owner of the subscription, 10% Contributor
    of it, 10% Owner of the resource group, 25% Reader, the rest nothing (a random stream of its
    own, so the network above is the same as without identities)."""
    rnd = random.Random(seed + 1)
    roles = f"/subscriptions/{SUB}/providers/microsoft.authorization/roledefinitions"
    grades = [
        (0.05, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", f"/subscriptions/{SUB}"),
        (0.10, "b24988ac-6180-42a0-ab88-20f7382dd24c", f"/subscriptions/{SUB}"),
        (0.10, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", RG),
        (0.25, "acdd72a7-3385-48ef-bd42-f606fba81ae7", f"/subscriptions/{SUB}"),
    ]
    out = []
    for i in range(vms):
        draw, edge = rnd.random(), 0.0
        for share, role, scope in grades:
            edge += share
            if draw < edge:
                uid = f"{scope}/providers/microsoft.authorization/roleassignments/ra-{i:06d}"
                out.append(Asset(
                    uid.lower(), Provider.AZURE, "Microsoft.Authorization/roleAssignments", SUB,
                    GLOBAL, f"ra-{i:06d}", {}, {
                        "scope": scope.lower(), "principal_id": _principal(i),
                        "principal_type": "ServicePrincipal",
                        "role_definition_id": f"{roles}/{role}", "condition": None, "pim": None,
                    },
                ))
                break
    return out
