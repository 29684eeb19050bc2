"""Synthetic GCP estate (attrs as in docs/gcp-assets.md), per 1,000 instances:

3 networks (+1 per 5k instances) with 4 subnetworks each and their routes (subnet
routes, the default route, a tagged route to a NAT appliance, one network whose default route
goes to an appliance), max(300, instances / 10) VPC firewall rules (target tags, service
accounts, priorities, denies, disabled rules, IAP and health-check ranges), an organisation
policy of 40 rules and a folder policy of 20 on every network (goto_next, denies, IAP
allows), a global network firewall policy on one network, external IPs on ~20% of
instances, instance groups behind a global HTTPS proxy load balancer and target pools behind
passthrough network load balancers.
"""

from __future__ import annotations

import random
from typing import Any

from support.gcp import forwarding_rule

from posture.model import GLOBAL, Asset, Inventory, Provider

from . import meta

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


def _hierarchy_policy(
    rnd: random.Random, name: str, short_name: str, rules: int, nets: list[str], sas: list[str]
) -> dict[str, Any]:
    """A hierarchical firewall policy of ``rules`` random rules at distinct priorities."""
    return {
        "name": name,
        "short_name": short_name,
        "display_name": None,
        "type": "HIERARCHY",
        "priority": None,
        "rules": sorted(
            (_policy_rule(rnd, p, nets, sas) for p in rnd.sample(range(100, 2000), rules)),
            key=lambda r: r["priority"],
        ),
    }


def gcp_estate(instances: int, seed: int = 7) -> Inventory:
    rnd = random.Random(seed)
    n_nets = 3 + instances // 5000
    nets = [f"projects/{PROJECT}/global/networks/net-{n}" for n in range(n_nets)]
    tags = [f"tag-{t}" for t in range(max(30, instances // 25))]
    sas = [f"sa-{s}@{PROJECT}.iam.gserviceaccount.com" for s in range(max(20, instances // 50))]
    assets: list[Asset] = []
    org = _hierarchy_policy(rnd, "1111", "org-policy", 40, nets, sas)
    folder = _hierarchy_policy(rnd, "2222", "folder-policy", 20, nets, sas)
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
    return Inventory(meta(Provider.GCP, PROJECT, (GLOBAL, *ZONES)), tuple(assets))


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
        out.append(
            forwarding_rule(f"https-{n}", ip=f"34.120.0.{n % 250 + 1}", ports="443-443",
                            scheme="EXTERNAL_MANAGED", target=px.removeprefix(f"{p}/"),
                            project=PROJECT)
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
        out.append(
            forwarding_rule(f"nlb-{n}", ip=f"35.200.0.{n % 250 + 1}", ports=f"{port}-{port}",
                            target=tp.removeprefix(f"{p}/"), region=region, project=PROJECT)
        )
    return out
