"""Exposure and defense-depth benchmark on synthetic Azure and GCP estates (1k-10k VMs).

    .venv/bin/python bench/cloud_depth.py --provider azure          # 1k, 5k and 10k VMs
    .venv/bin/python bench/cloud_depth.py --provider gcp --sizes 1000 5000

For each size, two fresh child processes generate the same inventory (seeded, not timed),
load the catalogue and run one check through the engine, as ``posture audit --check`` does
(``posture.registry.load_catalogue`` + ``posture.engine.run``): the baseline
``<provider>.network.admin_ports_not_internet_reachable`` alone, then
``<provider>.network.sensitive_ports_defense_in_depth`` alone (each builds its own network
index: the engine's shared state is per run). Figures: CPU seconds (process time) and wall
seconds of the engine run, the child's peak RSS (resource.getrusage) and its growth over the
RSS before the run, the findings (FAIL = exposed VMs for the baseline), the VMs at depth 1
(FAIL with evidence ``depth: 1``), and the ratio depth/baseline of CPU seconds.

The estates share configuration the way real ones do (attrs as in docs/azure-assets.md and
docs/gcp-assets.md), per 1,000 VMs:

- Azure: 50 subnets in VNets of up to 200 subnets (peered), 20 NSGs (half meant for subnets,
  half for NICs; 85% of subnets and 35% of NICs have one, a few NICs the subnet's own NSG),
  3-12 rules each (allow and deny on admin, database and web ports from Internet, *,
  0.0.0.0/0, VirtualNetwork, an office range or ASGs, at random priorities), 10 ASGs, public
  IPs on ~20% of NICs (Standard and Basic SKU, some unallocated), two public Standard load
  balancers with rules and inbound NAT rules to admin ports, an internal one, one Azure Firewall
  with DNAT rules.
- GCP: 3 networks (+1 per 5k instances) with 4 subnetworks each and their routes (subnet
  routes, the default route, a tagged route to a NAT appliance, one network whose default route
  goes to an appliance), max(300, instances / 10) VPC firewall rules (target tags, service
  accounts, priorities, denies, disabled rules, IAP and health-check ranges), an organisation
  policy of 40 rules and a folder policy of 20 on every network (goto_next, denies, IAP
  allows), a global network firewall policy on one network, external IPs on ~20% of
  instances, instance groups behind a global HTTPS proxy load balancer and target pools behind
  passthrough network load balancers.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from typing import Any

from posture.model import GLOBAL, Asset, Inventory, Provider, ScanMeta

ADMIN_CHECK = "{}.network.admin_ports_not_internet_reachable"
DEPTH_CHECK = "{}.network.sensitive_ports_defense_in_depth"
PORTS = [
    "22",
    "3389",
    "5985-5986",
    "1433",
    "3306",
    "5432",
    "6379",
    "27017",
    "80",
    "443",
    "8080",
    "22,3389",
    "1024-65535",
    "*",
]


def _meta(provider: Provider, account: str, regions: tuple[str, ...]) -> ScanMeta:
    return ScanMeta(
        "bench",
        provider,
        "bench",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:01+00:00",
        (account,),
        regions,
    )


# -- Azure ------------------------------------------------------------------------------------

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
        assets.append(
            _az(
                "Microsoft.Network/virtualNetworks/subnets",
                sid,
                subnet_name=f"snet-{s:04d}",
                vnet_id=vnet_ids[v].lower(),
                address_prefixes=[f"{base}.0/24"],
                nsg_id=nsg.lower() if nsg else None,
                route_table_id=None,
                nat_gateway_id=None,
                is_bastion_subnet=False,
                is_firewall_subnet=False,
                default_outbound_access=None,
                service_endpoints=[],
            )
        )
    fw_subnet = f"{vnet_ids[0]}/subnets/azurefirewallsubnet"
    assets.append(
        _az(
            "Microsoft.Network/virtualNetworks/subnets",
            fw_subnet,
            subnet_name="AzureFirewallSubnet",
            vnet_id=vnet_ids[0].lower(),
            address_prefixes=["10.200.0.0/26"],
            nsg_id=None,
            route_table_id=None,
            nat_gateway_id=None,
            is_bastion_subnet=False,
            is_firewall_subnet=True,
            default_outbound_access=None,
            service_endpoints=[],
        )
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
                identity_type=None,
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
    assets += public_ips + nics + vm_assets
    return Inventory(_meta(Provider.AZURE, SUB, (REGION, GLOBAL)), tuple(assets))


# -- GCP --------------------------------------------------------------------------------------

PROJECT = "bench-prj"
ZONES = ("us-central1-a", "us-central1-b", "europe-west1-b", "europe-west1-c")
IAP = "35.235.240.0/20"
HEALTH = ("130.211.0.0/22", "35.191.0.0/16")


def _g(type_: str, ref: str, region: str = GLOBAL, /, **attrs: Any) -> Asset:
    uid = f"//compute.googleapis.com/{ref}"
    return Asset(uid, Provider.GCP, type_, PROJECT, region, ref.rsplit("/", 1)[-1], {}, attrs)


def _ports(rnd: random.Random) -> list[str]:
    return rnd.choice(
        [
            ["22"],
            ["3389"],
            ["22", "3389"],
            ["5432"],
            ["3306"],
            ["6379"],
            ["80", "443"],
            ["443"],
            ["8080"],
            ["1024-65535"],
            ["27017"],
            [],
        ]
    )


def _policy_rule(
    rnd: random.Random, priority: int, networks: list[str], sas: list[str]
) -> dict[str, Any]:
    action = rnd.choices(["goto_next", "deny", "allow"], [5, 3, 2])[0]
    src = (
        [IAP]
        if action == "allow" and rnd.random() < 0.6
        else [rnd.choice(["0.0.0.0/0", "0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24"])]
    )
    ports = _ports(rnd)
    if action != "allow" and not ports:
        ports = ["1-1023"]  # no blanket deny of every port: the org guardrails are narrower
    scoped = rnd.random() < (0.6 if action == "deny" else 0.2)  # denies mostly per network
    return {
        "priority": priority,
        "rule_name": f"r{priority}",
        "description": None,
        "direction": "INGRESS" if rnd.random() < 0.9 else "EGRESS",
        "action": action,
        "disabled": rnd.random() < 0.05,
        "logging_enabled": False,
        "layer4_configs": [{"protocol": "tcp", "ports": ports}],
        "src_ip_ranges": src,
        "dest_ip_ranges": [],
        "src_secure_tags": [],
        "src_address_groups": [],
        "src_fqdns": [],
        "src_region_codes": [],
        "src_threat_intelligences": [],
        "src_network_type": None,
        "src_networks": [],
        "dest_address_groups": [],
        "target_secure_tags": [],
        "target_service_accounts": [rnd.choice(sas)] if rnd.random() < 0.2 else [],
        "target_resources": [rnd.choice(networks)] if scoped else [],
        "target_type": None,
    }


def gcp_estate(instances: int, seed: int = 7) -> Inventory:
    rnd = random.Random(seed)
    n_nets = 3 + instances // 5000
    nets = [f"projects/{PROJECT}/global/networks/net-{n}" for n in range(n_nets)]
    tags = [f"tag-{t}" for t in range(max(30, instances // 25))]
    sas = [f"sa-{s}@{PROJECT}.iam.gserviceaccount.com" for s in range(max(20, instances // 50))]
    assets: list[Asset] = []
    org = {
        "name": "1111",
        "short_name": "org-policy",
        "display_name": None,
        "type": "HIERARCHY",
        "priority": None,
        "rules": sorted(
            (_policy_rule(rnd, p, nets, sas) for p in rnd.sample(range(100, 2000), 40)),
            key=lambda r: r["priority"],
        ),
    }
    folder = {
        "name": "2222",
        "short_name": "folder-policy",
        "display_name": None,
        "type": "HIERARCHY",
        "priority": None,
        "rules": sorted(
            (_policy_rule(rnd, p, nets, sas) for p in rnd.sample(range(100, 2000), 20)),
            key=lambda r: r["priority"],
        ),
    }
    subnets: dict[str, list[tuple[str, str, str]]] = {}  # network -> [(path, region, base)]
    for n, net in enumerate(nets):
        subs = []
        for s in range(4):
            region = ZONES[s % len(ZONES)].rsplit("-", 1)[0]
            path = f"projects/{PROJECT}/regions/{region}/subnetworks/net-{n}-sub-{s}"
            base = f"10.{n}.{s}"
            subs.append((path, region, base))
            assets.append(
                _g(
                    "compute.googleapis.com/Subnetwork",
                    path,
                    region,
                    subnet_name=path.rsplit("/", 1)[-1],
                    path=path,
                    network=net,
                    ip_cidr_range=f"{base}.0/24",
                    secondary_ranges=[],
                    private_google_access=True,
                    flow_logs_enabled=False,
                    purpose="PRIVATE",
                    stack_type="IPV4_ONLY",
                    external_ipv6_prefix=None,
                )
            )
            assets.append(
                _g(
                    "compute.googleapis.com/Route",
                    f"projects/{PROJECT}/global/routes/net-{n}-sub-{s}",
                    route_name=f"net-{n}-sub-{s}",
                    network=net,
                    dest_range=f"{base}.0/24",
                    priority=0,
                    tags=[],
                    next_hop_kind="network",
                    next_hop=net,
                )
            )
        subnets[net] = subs
        appliance = f"projects/{PROJECT}/zones/{ZONES[0]}/instances/nat-{n}"
        default = (
            ("internet_gateway", f"projects/{PROJECT}/global/gateways/default-internet-gateway")
            if n != 1
            else ("instance", appliance)
        )
        assets.append(
            _g(
                "compute.googleapis.com/Route",
                f"projects/{PROJECT}/global/routes/default-{n}",
                route_name=f"default-{n}",
                network=net,
                dest_range="0.0.0.0/0",
                priority=1000,
                tags=[],
                next_hop_kind=default[0],
                next_hop=default[1],
            )
        )
        assets.append(
            _g(
                "compute.googleapis.com/Route",
                f"projects/{PROJECT}/global/routes/egress-{n}",
                route_name=f"egress-{n}",
                network=net,
                dest_range="0.0.0.0/0",
                priority=800,
                tags=[rnd.choice(tags)],
                next_hop_kind="instance",
                next_hop=appliance,
            )
        )
        policies = [org, folder]
        assets.append(
            _g(
                "compute.googleapis.com/Network",
                net,
                network_name=f"net-{n}",
                path=net,
                auto_create_subnetworks=False,
                legacy=False,
                routing_mode="REGIONAL",
                subnetworks=[s[0] for s in subs],
                peerings=[],
                firewall_policy_enforcement_order="AFTER_CLASSIC_FIREWALL",
                effective_firewall_policies=policies,
            )
        )
    npol = f"projects/{PROJECT}/global/firewallPolicies/net-policy"
    assets.append(
        _g(
            "compute.googleapis.com/FirewallPolicy",
            npol,
            policy_name="net-policy",
            path=npol,
            scope="global",
            description=None,
            associations=[nets[0]],
            rules=sorted(
                (_policy_rule(rnd, p, nets, sas) for p in rnd.sample(range(100, 2000), 10)),
                key=lambda r: r["priority"],
            ),
        )
    )
    for f in range(max(300, instances // 10)):
        allow = rnd.random() < 0.8
        src_kind = rnd.choices(
            ["world", "iap", "health", "internal", "office", "tags"], [4, 2, 1, 2, 1, 1]
        )[0]
        target = rnd.choices(["tags", "none", "sa"], [7, 2, 1])[0]
        path = f"projects/{PROJECT}/global/firewalls/fw-{f:05d}"
        assets.append(
            _g(
                "compute.googleapis.com/Firewall",
                path,
                firewall_name=f"fw-{f:05d}",
                network=rnd.choice(nets),
                priority=rnd.choice([100, 500, 900, 1000, 1000, 1000, 1100, 65534]),
                direction="INGRESS" if rnd.random() < 0.9 else "EGRESS",
                action="allow" if allow else "deny",
                rules=[
                    {
                        "protocol": rnd.choice(["tcp", "tcp", "tcp", "all", "udp"]),
                        "ports": _ports(rnd),
                    }
                ],
                source_ranges={
                    "world": ["0.0.0.0/0"],
                    "iap": [IAP],
                    "health": list(HEALTH),
                    "internal": ["10.0.0.0/8"],
                    "office": ["203.0.113.0/24"],
                    "tags": [],
                }[src_kind],
                destination_ranges=[],
                source_tags=[rnd.choice(tags)] if src_kind == "tags" else [],
                source_service_accounts=[],
                target_tags=rnd.sample(tags, rnd.randrange(1, 3)) if target == "tags" else [],
                target_service_accounts=[rnd.choice(sas)] if target == "sa" else [],
                disabled=rnd.random() < 0.03,
                logging_enabled=False,
            )
        )
    apps = [
        (rnd.choice(nets), rnd.sample(tags, rnd.randrange(1, 4)), rnd.choice(sas))
        for _ in range(max(10, instances // 40))
    ]
    members: list[str] = []
    for i in range(instances):
        net, app_tags, sa = apps[rnd.randrange(len(apps))]
        sub, region, base = rnd.choice(subnets[net])
        zone = next(z for z in ZONES if z.startswith(region))
        ext = rnd.random() < 0.2
        nic = {
            "name": "nic0",
            "network": net,
            "subnetwork": sub,
            "internal_ip": f"{base}.{4 + i % 250}",
            "has_external_ipv4": ext,
            "external_ipv4": [f"34.{100 + i // 65536}.{i // 256 % 256}.{i % 256}"] if ext else [],
            "has_external_ipv6": False,
            "external_ipv6": [],
        }
        path = f"projects/{PROJECT}/zones/{zone}/instances/vm-{i:06d}"
        members.append(path)
        assets.append(
            _g(
                "compute.googleapis.com/Instance",
                path,
                zone,
                instance_name=f"vm-{i:06d}",
                zone=zone,
                status="RUNNING",
                machine_type="e2-standard-2",
                network_tags=app_tags,
                service_accounts=[sa],
                scopes=[],
                network_interfaces=[nic],
                external_ips=nic["external_ipv4"],
                can_ip_forward=False,
                metadata={},
                shielded_secure_boot=True,
                deletion_protection=False,
            )
        )
    assets += _gcp_lbs(rnd, members, instances)
    return Inventory(_meta(Provider.GCP, PROJECT, (GLOBAL, *ZONES)), tuple(assets))


def _gcp_lbs(rnd: random.Random, members: list[str], instances: int) -> list[Asset]:
    """A global HTTPS proxy LB per 500 instances over two instance groups of 20, and a
    passthrough network LB (target pool of 10) per 500 instances."""
    out: list[Asset] = []
    p = f"projects/{PROJECT}"
    for n in range(max(2, instances // 500)):
        groups = []
        for g in range(2):
            zone = ZONES[(n + g) % len(ZONES)]
            mine = [m for m in rnd.sample(members, 60) if f"/zones/{zone}/" in m][:20]
            path = f"{p}/zones/{zone}/instanceGroups/ig-{n}-{g}"
            groups.append(path)
            out.append(
                _g(
                    "compute.googleapis.com/InstanceGroup",
                    path,
                    zone,
                    group_name=f"ig-{n}-{g}",
                    path=path,
                    network=None,
                    subnetwork=None,
                    named_ports=[{"name": "http", "port": rnd.choice([8080, 80, 22])}],
                    size=len(mine),
                    instances=mine,
                )
            )
        bs = f"{p}/global/backendServices/bs-{n}"
        out.append(
            _g(
                "compute.googleapis.com/BackendService",
                bs,
                service_name=f"bs-{n}",
                path=bs,
                protocol="HTTP",
                port_name="http",
                port=None,
                load_balancing_scheme="EXTERNAL_MANAGED",
                backends=[
                    {"group": g, "kind": "instance_group", "balancing_mode": "UTILIZATION"}
                    for g in groups
                ],
                network=None,
                security_policy=None,
                edge_security_policy=None,
                iap_enabled=False,
            )
        )
        um = f"{p}/global/urlMaps/um-{n}"
        out.append(
            _g(
                "compute.googleapis.com/UrlMap",
                um,
                map_name=f"um-{n}",
                path=um,
                default_service=bs,
                services=[bs],
                redirect_only=False,
            )
        )
        px = f"{p}/global/targetHttpsProxies/px-{n}"
        out.append(
            _g(
                "compute.googleapis.com/TargetHttpsProxy",
                px,
                proxy_name=f"px-{n}",
                path=px,
                ssl_policy=None,
                url_map=um,
                backend_service=None,
                certificates=[],
                certificate_map=None,
            )
        )
        fr = f"{p}/global/forwardingRules/https-{n}"
        out.append(
            _g(
                "compute.googleapis.com/GlobalForwardingRule",
                fr,
                rule_name=f"https-{n}",
                path=fr,
                ip_address=f"34.120.0.{n % 250 + 1}",
                ip_protocol="TCP",
                port_range="443-443",
                ports=[],
                all_ports=False,
                load_balancing_scheme="EXTERNAL_MANAGED",
                target=px,
                backend_service=None,
                network=None,
                subnetwork=None,
                network_tier="PREMIUM",
                ip_version=None,
                source_ip_ranges=[],
            )
        )
        region = "us-central1"
        pool_members = [m for m in rnd.sample(members, 40) if f"/zones/{region}-" in m][:10]
        tp = f"{p}/regions/{region}/targetPools/tp-{n}"
        out.append(
            _g(
                "compute.googleapis.com/TargetPool",
                tp,
                region,
                pool_name=f"tp-{n}",
                path=tp,
                instances=pool_members,
                security_policy=None,
            )
        )
        port = rnd.choice(["5432", "22", "443"])
        nlb = f"{p}/regions/{region}/forwardingRules/nlb-{n}"
        out.append(
            _g(
                "compute.googleapis.com/ForwardingRule",
                nlb,
                region,
                rule_name=f"nlb-{n}",
                path=nlb,
                ip_address=f"35.200.0.{n % 250 + 1}",
                ip_protocol="TCP",
                port_range=f"{port}-{port}",
                ports=[],
                all_ports=False,
                load_balancing_scheme="EXTERNAL",
                target=tp,
                backend_service=None,
                network=None,
                subnetwork=None,
                network_tier="PREMIUM",
                ip_version=None,
                source_ip_ranges=[],
            )
        )
    return out


# -- measurement ------------------------------------------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(provider: str, vms: int, check_id: str) -> dict[str, Any]:
    from posture.engine import RunOptions, run
    from posture.model import Status
    from posture.registry import load_catalogue

    inv = (azure_estate if provider == "azure" else gcp_estate)(vms)
    catalogue = load_catalogue()
    before = _rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    findings = run(catalogue, inv, [check_id], RunOptions(raise_errors=True))
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    statuses: dict[str, int] = {}
    for f in findings:
        statuses[f.status.value] = statuses.get(f.status.value, 0) + 1
    return {
        "assets": len(inv.assets),
        "findings": len(findings),
        "statuses": statuses,
        "fail": statuses.get(Status.FAIL.value, 0),
        "depth1": sum(f.status == Status.FAIL and f.evidence.get("depth") == 1 for f in findings),
        "seconds": seconds,
        "cpu": cpu,
        "peak_mib": peak,
        "engine_mib": peak - before,
    }


def _child(provider: str, vms: int, check_id: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--provider", provider, "--child", str(vms), check_id],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        sys.exit(f"child {provider} {vms} {check_id} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=("azure", "gcp"), required=True)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000, 10000])
    parser.add_argument("--child", type=int)
    parser.add_argument("check", nargs="?")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.provider, args.child, args.check)))
        return
    print(
        f"{args.provider}: baseline {ADMIN_CHECK.format(args.provider)}, "
        f"depth {DEPTH_CHECK.format(args.provider)}\n"
    )
    print(
        "| VMs | assets | check | findings | FAIL | depth 1 | CPU s | wall s | peak MiB "
        "| +MiB | CPU ratio |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        base = _child(args.provider, n, ADMIN_CHECK.format(args.provider))
        depth = _child(args.provider, n, DEPTH_CHECK.format(args.provider))
        for name, r in (("admin (baseline)", base), ("depth", depth)):
            ratio = "1.0x" if r is base else f"{depth['cpu'] / max(base['cpu'], 1e-9):.1f}x"
            d1 = "-" if r is base else str(r["depth1"])
            print(
                f"| {n} | {r['assets']} | {name} | {r['findings']} | {r['fail']} | {d1} "
                f"| {r['cpu']:.2f} | {r['seconds']:.2f} | {r['peak_mib']:.0f} "
                f"| {r['engine_mib']:.0f} | {ratio} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
