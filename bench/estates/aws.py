"""Synthetic AWS estate (attrs as in docs/aws-assets.md, built with the test suite's builders,
``support.aws_net``): ``instances`` EC2 instances with one ENI each, about one security group per
100 instances and one subnet per 200 (1k groups, 500 subnets at 100k; a VPC per 50 subnets, a
third of the subnets public, a network ACL per 10 subnets with a few random ACL entries),
grouped in applications that each use a few subnets and a set of groups, 70% of the instances
in public subnets with a public IP, and an internet-facing network load balancer per 1,000
instances forwarding one port to five random instances.
"""

from __future__ import annotations

import random
from typing import Any

from support import aws_net as net
from support.aws import ACCOUNT, aws_arn

from posture.model import Asset, Inventory, Provider

from . import meta

REGION = "us-east-1"


def _sg_rule(rnd: random.Random, n_sgs: int) -> dict[str, Any]:
    port = rnd.choice([22, 80, 443, 443, 8080, 5432, 3306, 6379, 3389, 9200])
    kind = rnd.choices(["cidr4", "security_group", "cidr6"], [6, 3, 1])[0]
    source = {
        "cidr4": rnd.choice(
            ["0.0.0.0/0", "10.0.0.0/8", "203.0.113.0/24", f"10.{rnd.randrange(256)}.0.0/16"]
        ),
        "security_group": f"sg-{rnd.randrange(n_sgs):05d}",
        "cidr6": "::/0",
    }[kind]
    lo = port if rnd.random() < 0.9 else 1024
    hi = port if lo == port else 65535
    return net.sg_rule(lo, hi, source, "tcp", kind)


def _acl_entries(rnd: random.Random) -> list[dict[str, Any]]:
    """Allow all both ways (IPv4 and IPv6), deny the rest of IPv4, and up to five random
    entries on admin and database ports."""
    defaults = ((100, "allow", "0.0.0.0/0"), (101, "allow", "::/0"), (32767, "deny", "0.0.0.0/0"))
    out = [net.entry(n, act, cidr, egress) for n, act, cidr in defaults for egress in (False, True)]
    for n in rnd.sample(range(1, 99), rnd.randrange(0, 6)):
        port = rnd.choice([22, 3389, 3306, 5432, 445])
        out.append(
            net.entry(
                n,
                rnd.choice(["deny", "allow"]),
                rnd.choice(["0.0.0.0/0", "198.51.100.0/24", "10.0.0.0/8", "0.0.0.0/1"]),
                rnd.random() < 0.3,
                "6",
                (port, port),
            )
        )
    return out


def aws_estate(instances: int, seed: int = 7) -> Inventory:
    rnd = random.Random(seed)
    n_subnets = max(4, instances // 200)
    n_sgs = max(10, instances // 100)
    n_vpcs = max(1, n_subnets // 50)
    assets: list[Asset] = []
    for v in range(n_vpcs):
        vpc_id = f"vpc-{v:03d}"
        assets.append(net.vpc(vpc_id, f"10.{v}.0.0/16"))
        local = net.route(f"10.{v}.0.0/16", "local", "local")
        for name, kind, target in (("pub", "igw", f"igw-{v}"), ("priv", "nat", f"nat-{v}")):
            pub = [f"subnet-{s:04d}" for s in range(v, n_subnets, n_vpcs) if s % 3 == 0]
            routes = [local, net.route("0.0.0.0/0", kind, target)]
            assets.append(net.route_table(f"rtb-{name}-{v:03d}", routes,
                                          pub if name == "pub" else [],
                                          main=name == "priv", vpc_id=vpc_id))
    n_acls = max(1, n_subnets // 10)
    acl_subnets: dict[int, list[str]] = {}
    for s in range(n_subnets):
        sid = f"subnet-{s:04d}"
        v = s % n_vpcs
        cidr = f"10.{v}.{s // n_vpcs % 256}.0/24"
        assets.append(net.subnet(sid, vpc_id=f"vpc-{v:03d}", cidr=cidr, public=s % 3 == 0))
        acl_subnets.setdefault((s % n_acls) * n_vpcs + v, []).append(sid)
    for key, members in acl_subnets.items():
        assets.append(net.nacl(_acl_entries(rnd), members, f"acl-{key:04d}",
                           vpc_id=f"vpc-{key % n_vpcs:03d}", is_default=False))
    for g in range(n_sgs):
        ingress = [_sg_rule(rnd, n_sgs) for _ in range(rnd.randrange(1, 7))]
        assets.append(net.sg(ingress, f"sg-{g:05d}", vpc_id="vpc-000", egress=[net.ALL_OUT]))
    apps = []
    for _ in range(max(5, n_sgs // 2)):
        v = rnd.randrange(n_vpcs)
        subs = [s for s in range(v, n_subnets, n_vpcs)]
        apps.append(
            (
                rnd.sample(subs, min(len(subs), rnd.randrange(1, 4))),
                tuple(
                    sorted({f"sg-{rnd.randrange(n_sgs):05d}" for _ in range(rnd.randrange(1, 4))})
                ),
            )
        )
    for i in range(instances):
        subs, groups = apps[
            min(int(rnd.paretovariate(1.2)) - 1, len(apps) - 1)
            if rnd.random() < 0.3
            else rnd.randrange(len(apps))
        ]
        s = rnd.choice(subs)
        public = s % 3 == 0 and rnd.random() < 0.7
        iid, eid, sid, v = f"i-{i:07d}", f"eni-{i:07d}", f"subnet-{s:04d}", s % n_vpcs
        vpc_id, ip = f"vpc-{v:03d}", f"10.{v}.{s // n_vpcs % 256}.{4 + i % 250}"
        public_ip = f"54.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" if public else None
        assets += [
            net.eni(eid, iid, sid, public_ip, sgs=groups, vpc_id=vpc_id, private_ips=[ip]),
            net.instance(iid, enis=(eid,), private_ip=ip, sgs=groups, vpc_id=vpc_id, subnet_id=sid),
        ]
    assets.extend(_load_balancers(rnd, instances, n_subnets, n_vpcs))
    return Inventory(meta(Provider.AWS, ACCOUNT, (REGION,)), tuple(assets))


def _load_balancers(rnd: random.Random, instances: int, n_subnets: int, n_vpcs: int) -> list[Asset]:
    out = []
    for n in range(max(2, instances // 1000)):
        lb = aws_arn("elasticloadbalancing", f"loadbalancer/net/lb{n}/1")
        tg = aws_arn("elasticloadbalancing", f"targetgroup/tg{n}/1")
        v = n % n_vpcs
        pub = [f"subnet-{s:04d}" for s in range(v, n_subnets, n_vpcs) if s % 3 == 0][:2]
        port = rnd.choice([443, 22, 5432, 8080])
        targets = [f"i-{rnd.randrange(instances):07d}" for _ in range(5)]
        out += [
            net.load_balancer(lb, f"lb{n}", pub, vpc_id=f"vpc-{v:03d}"),
            net.listener(lb, port, tg),
            net.target_group(tg, f"tg{n}", lb, port, targets, vpc_id=f"vpc-{v:03d}"),
        ]
    return out
