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

The estate (``bench/estates/aws.py``) shares configuration the way real ones do: about one
security group per 100 instances and one subnet per 200 (1k SGs, 500 subnets at 100k), grouped in
applications that each use a few subnets and a set of groups.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

ADMIN = (22, 3389, 5985, 5986)
DB = (1433, 1521, 3306, 5432, 5439, 5984, 6379, 8086, 9042, 9200, 9300, 11211, 27017, 27018)


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(instances: int, naive: bool) -> dict[str, Any]:
    from estates.aws import aws_estate

    from posture.graph.aws.exposure import host_lb, judge
    from posture.graph.aws.reach import AwsReach

    inv = aws_estate(instances)
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
