"""Reachability benchmark: a synthetic AWS estate at 1k, 10k and 100k instances.

    .venv/bin/python bench/reachability.py            # 1k, 10k, 100k (naive up to 10k)
    .venv/bin/python bench/reachability.py --sizes 1000 --naive-max 1000

For each size a fresh child process generates the estate (not timed), then measures the
engine: building the graph and judging every host on the admin and database ports (what the
two CRITICAL checks do), with internet-facing load balancers; then, on the same graph, the
defense depth of every host on those ports ("depth cpu": CPU seconds; "depth 1": hosts one
change away from the internet), and the depth of every tcp and udp port of every host as if
all were tagged as sensitive ("sweep cpu": CPU seconds of the port-range sweep). "naive" is the
same evaluation
per host without equivalence classes or shared filters. Memory is the child's peak RSS
(resource.getrusage) and the growth over the RSS before the engine ran. Times: wall clock
and CPU (process time) of the engine; the naive column and the speed-up compare CPU time.

The estate shares configuration the way real ones do: about one security group per 100
instances and one subnet per 200 (1k SGs, 500 subnets at 100k), grouped in applications
that each use a few subnets and a set of groups.
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

from posture.model import Asset, Inventory, Provider, ScanMeta

ACCOUNT = "111122223333"
REGION = "us-east-1"
ADMIN = (22, 3389, 5985, 5986)
DB = (1433, 1521, 3306, 5432, 5439, 5984, 6379, 8086, 9042, 9200, 9300, 11211, 27017, 27018)


def _arn(kind: str, id_: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{id_}"


def _a(type_: str, uid: str, **attrs: Any) -> Asset:
    return Asset(uid, Provider.AWS, type_, ACCOUNT, REGION, uid.rsplit("/", 1)[-1], {}, attrs)


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
    return _rule("tcp", lo, hi, kind, source)


def _rule(
    protocol: str, lo: int | None, hi: int | None, kind: str, source: str
) -> dict[str, Any]:
    """A security-group rule as in docs/aws-assets.md."""
    return {
        "protocol": protocol,
        "from_port": lo,
        "to_port": hi,
        "source_kind": kind,
        "source": source,
        "source_account": None,
        "description": None,
    }


def _route(destination: str, kind: str, target: str) -> dict[str, Any]:
    """An active IPv4 route as in docs/aws-assets.md."""
    return {
        "destination": destination,
        "destination_kind": "ipv4",
        "target_kind": kind,
        "target_id": target,
        "state": "active",
    }


def _acl_entries(rnd: random.Random) -> list[dict[str, Any]]:
    def e(
        n: int,
        action: str,
        cidr: str,
        egress: bool,
        proto: str = "-1",
        ports: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        return {
            "rule_number": n,
            "egress": egress,
            "protocol": proto,
            "action": action,
            "cidr": cidr,
            "port_from": ports[0] if ports else None,
            "port_to": ports[1] if ports else None,
            "icmp_type": None,
            "icmp_code": None,
        }

    out = [
        e(100, "allow", "0.0.0.0/0", False),
        e(100, "allow", "0.0.0.0/0", True),
        e(101, "allow", "::/0", False),
        e(101, "allow", "::/0", True),
        e(32767, "deny", "0.0.0.0/0", False),
        e(32767, "deny", "0.0.0.0/0", True),
    ]
    for n in rnd.sample(range(1, 99), rnd.randrange(0, 6)):
        port = rnd.choice([22, 3389, 3306, 5432, 445])
        out.append(
            e(
                n,
                rnd.choice(["deny", "allow"]),
                rnd.choice(["0.0.0.0/0", "198.51.100.0/24", "10.0.0.0/8", "0.0.0.0/1"]),
                rnd.random() < 0.3,
                "6",
                (port, port),
            )
        )
    return out


def estate(instances: int, seed: int = 7) -> Inventory:
    """A synthetic estate: ``instances`` EC2 instances with one ENI each, plus load balancers."""
    rnd = random.Random(seed)
    n_subnets = max(4, instances // 200)
    n_sgs = max(10, instances // 100)
    n_vpcs = max(1, n_subnets // 50)
    assets: list[Asset] = []
    for v in range(n_vpcs):
        vpc = f"vpc-{v:03d}"
        assets.append(
            _a(
                "AWS::EC2::VPC",
                _arn("vpc", vpc),
                vpc_id=vpc,
                cidr_blocks=[f"10.{v}.0.0/16"],
                ipv6_cidr_blocks=[],
                is_default=False,
            )
        )
        local = _route(f"10.{v}.0.0/16", "local", "local")
        for name, kind, target in (("pub", "igw", f"igw-{v}"), ("priv", "nat", f"nat-{v}")):
            rt = f"rtb-{name}-{v:03d}"
            subnets = [
                f"subnet-{s:04d}"
                for s in range(n_subnets)
                if s % n_vpcs == v and (s % 3 == 0) == (name == "pub")
            ]
            assets.append(
                _a(
                    "AWS::EC2::RouteTable",
                    _arn("route-table", rt),
                    route_table_id=rt,
                    vpc_id=vpc,
                    main=name == "priv",
                    subnet_ids=subnets if name == "pub" else [],
                    routes=[local, _route("0.0.0.0/0", kind, target)],
                )
            )
    n_acls = max(1, n_subnets // 10)
    acl_subnets: dict[int, list[str]] = {}
    for s in range(n_subnets):
        sid = f"subnet-{s:04d}"
        v = s % n_vpcs
        assets.append(
            _a(
                "AWS::EC2::Subnet",
                _arn("subnet", sid),
                subnet_id=sid,
                vpc_id=f"vpc-{v:03d}",
                cidr_block=f"10.{v}.{s // n_vpcs % 256}.0/24",
                ipv6_cidr_blocks=[],
                availability_zone="us-east-1a",
                map_public_ip_on_launch=s % 3 == 0,
            )
        )
        acl_subnets.setdefault((s % n_acls) * n_vpcs + v, []).append(sid)
    for key, subs in acl_subnets.items():
        acl = f"acl-{key:04d}"
        assets.append(
            _a(
                "AWS::EC2::NetworkAcl",
                _arn("network-acl", acl),
                network_acl_id=acl,
                vpc_id=f"vpc-{key % n_vpcs:03d}",
                is_default=False,
                subnet_ids=subs,
                entries=_acl_entries(rnd),
            )
        )
    for g in range(n_sgs):
        gid = f"sg-{g:05d}"
        assets.append(
            _a(
                "AWS::EC2::SecurityGroup",
                _arn("security-group", gid),
                group_id=gid,
                group_name=gid,
                vpc_id="vpc-000",
                description="",
                ingress=[_sg_rule(rnd, n_sgs) for _ in range(rnd.randrange(1, 7))],
                egress=[_rule("-1", None, None, "cidr4", "0.0.0.0/0")],
            )
        )
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
        iid, eid = f"i-{i:07d}", f"eni-{i:07d}"
        v = s % n_vpcs
        ip = f"10.{v}.{s // n_vpcs % 256}.{4 + i % 250}"
        assets.append(
            _a(
                "AWS::EC2::NetworkInterface",
                _arn("network-interface", eid),
                eni_id=eid,
                subnet_id=f"subnet-{s:04d}",
                vpc_id=f"vpc-{v:03d}",
                private_ips=[ip],
                public_ips=[f"54.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"] if public else [],
                ipv6_addresses=[],
                security_group_ids=list(groups),
                instance_id=iid,
                interface_type="interface",
                requester_managed=False,
                description="",
                status="in-use",
            )
        )
        assets.append(
            _a(
                "AWS::EC2::Instance",
                _arn("instance", iid),
                instance_id=iid,
                state="running",
                vpc_id=f"vpc-{v:03d}",
                subnet_id=f"subnet-{s:04d}",
                private_ip=ip,
                public_ip=None,
                ipv6_addresses=[],
                security_group_ids=list(groups),
                network_interface_ids=[eid],
            )
        )
    assets.extend(_load_balancers(rnd, instances, n_subnets, n_vpcs))
    meta = ScanMeta(
        "bench",
        Provider.AWS,
        "bench",
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:01+00:00",
        (ACCOUNT,),
        (REGION,),
    )
    return Inventory(meta, tuple(assets))


def _load_balancers(rnd: random.Random, instances: int, n_subnets: int, n_vpcs: int) -> list[Asset]:
    out = []
    for n in range(max(2, instances // 1000)):
        arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/lb{n}/1"
        tg = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/tg{n}/1"
        v = n % n_vpcs
        pub = [f"subnet-{s:04d}" for s in range(v, n_subnets, n_vpcs) if s % 3 == 0][:2]
        port = rnd.choice([443, 22, 5432, 8080])
        out.append(
            _a(
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                arn,
                arn=arn,
                lb_name=f"lb{n}",
                lb_type="network",
                scheme="internet-facing",
                vpc_id=f"vpc-{v:03d}",
                subnet_ids=pub,
                security_group_ids=[],
                dns_name=f"lb{n}.elb",
                state="active",
                public_ips=None,
            )
        )
        out.append(
            _a(
                "AWS::ElasticLoadBalancingV2::Listener",
                f"{arn}/l",
                arn=f"{arn}/l",
                load_balancer_arn=arn,
                port=port,
                protocol="TCP",
                ssl_policy=None,
                certificate_arns=[],
                default_actions=[{"type": "forward", "target_group_arns": [tg]}],
            )
        )
        targets = [{"id": f"i-{rnd.randrange(instances):07d}", "port": port} for _ in range(5)]
        out.append(
            _a(
                "AWS::ElasticLoadBalancingV2::TargetGroup",
                tg,
                arn=tg,
                tg_name=f"tg{n}",
                protocol="TCP",
                port=port,
                target_type="instance",
                vpc_id=f"vpc-{v:03d}",
                load_balancer_arns=[arn],
                targets=targets,
            )
        )
    return out


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(instances: int, naive: bool) -> dict[str, Any]:
    from posture.graph.aws.exposure import host_lb, judge
    from posture.graph.aws.reach import AwsReach

    inv = estate(instances)
    before = _rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    reach = AwsReach(inv, naive=naive)
    exposed = 0
    for host in reach.hosts():
        exp = judge(reach, host.asset, ADMIN + DB, host_lb(reach, host.asset), host.interfaces)
        exposed += bool(exp.exposed)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    depth_cpu, shallow = _depth(reach) if not naive else (None, None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sweep_cpu = _sweep(reach) if not naive else None  # after the peak: not what a scan holds
    return {
        "depth_cpu": depth_cpu,
        "shallow": shallow,
        "sweep_cpu": sweep_cpu,
        "instances": instances,
        "naive": naive,
        "seconds": seconds,
        "cpu": cpu,
        "peak_mib": peak,
        "engine_mib": peak - before,
        "classes": len(reach.classes),
        "exposed": exposed,
        "subnets": len(reach.subnets),
        "sgs": len(reach.sgs),
    }


def _depth(reach: Any) -> tuple[float, int]:
    """CPU seconds to compute the defense depth of every host on the admin and database
    ports (after the exposure pass, on the same graph), and the hosts at depth 1."""
    from posture.graph.aws.depth import host_depths

    cpu = time.process_time()
    shallow = 0
    for host in reach.hosts():
        depths = host_depths(reach, host, ADMIN + DB)
        shallow += min((d.depth for d in depths if d.depth is not None), default=None) == 1
    return time.process_time() - cpu, shallow


def _sweep(reach: Any) -> float:
    """CPU seconds to judge every tcp and udp port of every host (as if every host were tagged
    as sensitive: the port-range sweep, admin and database ports alone)."""
    from posture.graph.aws.depth_sweep import sweep

    cpu = time.process_time()
    for host in reach.hosts():
        for proto in ("tcp", "udp"):
            sweep(reach, host, proto, ADMIN + DB if proto == "tcp" else ())
    return time.process_time() - cpu


def _child(instances: int, naive: bool) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(instances)] + (["--naive"] if naive else []),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--naive-max", type=int, default=10000)
    parser.add_argument("--child", type=int)
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.naive)))
        return
    print(
        f"{'instances':>9} {'subnets':>7} {'SGs':>5} {'classes':>7} {'exposed':>7} "
        f"{'engine s':>9} {'cpu s':>6} {'peak MiB':>8} {'+MiB':>6} {'naive cpu':>8} "
        f"{'naive MiB':>9} {'speed-up':>8} {'depth cpu':>9} {'depth 1':>7} {'sweep cpu':>9}"
    )
    for n in args.sizes:
        r = _child(n, False)
        naive = _child(n, True) if n <= args.naive_max else None
        ns = f"{naive['cpu']:8.2f}" if naive else f"{'-':>8}"
        nm = f"{naive['peak_mib']:9.0f}" if naive else f"{'-':>9}"
        ratio = f"{naive['cpu'] / r['cpu']:7.1f}x" if naive else f"{'-':>8}"
        if naive:
            assert naive["exposed"] == r["exposed"], (naive["exposed"], r["exposed"])
        print(
            f"{n:>9} {r['subnets']:>7} {r['sgs']:>5} {r['classes']:>7} {r['exposed']:>7} "
            f"{r['seconds']:9.2f} {r['cpu']:6.2f} {r['peak_mib']:8.0f} {r['engine_mib']:6.0f} "
            f"{ns} {nm} {ratio} {r['depth_cpu']:9.2f} {r['shallow']:>7} {r['sweep_cpu']:9.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
