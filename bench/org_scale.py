"""Organisation scans at scale: wall time and the coordinator's peak memory, sequential (in this
process) and on a ``LocalCluster`` of 1, 2 and 4 workers, for synthetic organisations on moto.

    .venv/bin/python bench/org_scale.py                      # 10 and 50 accounts
    .venv/bin/python bench/org_scale.py --sizes 10 50 200    # if the machine allows
    .venv/bin/python bench/org_scale.py --sizes 10 --split region   # per account x region

A moto server runs in its own process (``moto_server``), so the coordinator's memory is the
coordinator's alone; it is measured with ``tracemalloc`` (peak of Python allocations during the
run, reset before each mode). Each member account gets the audit role and a modest estate in
each of two regions (a VPC with two subnets, a security group open on 22, a bucket, an IAM
user), built once per size. Each mode scans the same organisation; ratios are against the
sequential baseline of the same size, measured in the same run. ``--split region`` adds a
mode that submits one task per account and region (the checks then see only that region;
timing only, to compare the balance of finer tasks). ``--calls`` prints the API calls one
account's scan makes, by operation (for the projection in docs/organisations.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

REGIONS = ("us-east-1", "eu-west-1")
ROLE = "PostureAudit"
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


def reset(endpoint: str) -> None:
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=60).close()


def _client(service: str, endpoint: str, region: str = "us-east-1", **creds: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **creds)


def build_org(endpoint: str, accounts: int) -> None:
    """The organisation: three OUs, ``accounts`` members, the role and an estate in each."""
    org = _client("organizations", endpoint)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = [org.create_organizational_unit(ParentId=root, Name=n)["OrganizationalUnit"]["Id"]
           for n in ("Prod", "NonProd", "Sandbox")]
    sts = _client("sts", endpoint)
    for i in range(accounts):
        acc = org.create_account(AccountName=f"acct-{i:04d}", Email=f"a{i}@example.com")[
            "CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=acc, SourceParentId=root, DestinationParentId=ous[i % 3])
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{acc}:role/{ROLE}",
                            RoleSessionName="bench")["Credentials"]
        creds = {"aws_access_key_id": c["AccessKeyId"],
                 "aws_secret_access_key": c["SecretAccessKey"],
                 "aws_session_token": c["SessionToken"]}
        iam = _client("iam", endpoint, **creds)
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")
        iam.create_user(UserName=f"dev-{i}")
        for region in REGIONS:
            ec2 = _client("ec2", endpoint, region, **creds)
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            for n in range(2):
                ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")
            sg = ec2.create_security_group(GroupName="ssh", Description="ssh",
                                           VpcId=vpc)["GroupId"]
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            s3 = _client("s3", endpoint, region, **creds)
            kwargs: dict[str, Any] = {"Bucket": f"b-{acc}-{region}"}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)


def child(mode: str, workers: int, endpoint: str, out: Path) -> None:
    """One measured run in a fresh process: discovery, plan and scan; prints wall seconds and
    this (coordinator) process's peak RSS in MiB. Dask workers are its children and are not
    counted (``RUSAGE_SELF``)."""
    import json
    import resource

    from distributed import Client, LocalCluster

    from posture.collectors.aws.organizations import discover
    from posture.org.executor import Cluster, Mode
    from posture.org.plan import Access, plan
    from posture.org.run import scan_organization

    start = time.perf_counter()
    org = discover(boto3.session.Session(), endpoint_url=endpoint)
    chosen = plan(org, Access(regions=REGIONS, endpoint_url=endpoint))
    if mode == "sequential":
        scan_organization(chosen, Cluster(Mode.IN_PROCESS), out_dir=out)
    elif mode == "cluster":
        scan_organization(chosen, Cluster(Mode.LOCAL, workers=workers), out_dir=out)
    else:
        with LocalCluster(n_workers=workers, threads_per_worker=1,
                          dashboard_address=None) as lc, Client(lc) as client:
            split_by_region(client, chosen)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "rss": rss}))


def measure(mode: str, workers: int, endpoint: str, out: Path) -> tuple[float, float]:
    import json

    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--child-workers", str(workers),
         "--endpoint", endpoint, "--out", str(out)],
        capture_output=True, text=True, check=True, env={**os.environ, **KEYS})
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(last["wall"]), float(last["rss"])


def split_by_region(client: Any, plan: Any) -> None:
    from distributed import as_completed

    from posture.org.task import scan_account

    futures = [client.submit(scan_account, dataclasses.replace(
        t, access=dataclasses.replace(t.access, regions=(r,))), (), pure=False)
        for t in plan.tasks for r in REGIONS]
    for f in as_completed(futures):
        f.result()
        f.release()


def count_calls(endpoint: str) -> Counter[str]:
    """API calls of one account's scan (the management account's, with its own session)."""
    from posture.collectors.aws.collector import AwsTarget, collect

    calls: Counter[str] = Counter()
    session = boto3.session.Session()
    session.events.register(
        "before-call", lambda model, **_: calls.update([f"{model.service_model.service_name}:"
                                                        f"{model.name}"]))
    collect(AwsTarget(regions=REGIONS, endpoint_url=endpoint), session=session)
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--split", choices=["region"], default=None)
    parser.add_argument("--calls", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-workers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.update(KEYS)
    if args.child:
        child(args.child, args.child_workers, args.endpoint, args.out)
        return
    moto, endpoint = start_moto()
    rows = []
    try:
        for size in args.sizes:
            reset(endpoint)
            t0 = time.perf_counter()
            build_org(endpoint, size)
            print(f"# {size} accounts built in {time.perf_counter() - t0:.0f} s", flush=True)
            modes = [("sequential", "sequential", 0)]
            modes += [(f"cluster, {n} worker(s)", "cluster", n) for n in args.workers]
            if args.split == "region":
                modes += [(f"per account x region, {n} worker(s)", "split", n)
                          for n in args.workers]
            base = None
            with tempfile.TemporaryDirectory() as tmp:
                for i, (name, mode, n) in enumerate(modes):
                    wall, rss = measure(mode, n, endpoint, Path(tmp) / str(i))
                    base = base or (wall, rss)
                    row = (size, name, wall, rss, wall / base[0], rss / base[1])
                    rows.append(row)
                    print("| {} | {} | {:.1f} | {:.0f} | {:.2f} | {:.2f} |".format(*row),
                          flush=True)
        print("\n| accounts | mode | wall s | coordinator peak RSS MiB | time / sequential "
              "| memory / sequential |")
        print("|---:|---|---:|---:|---:|---:|")
        for row in rows:
            print("| {} | {} | {:.1f} | {:.0f} | {:.2f} | {:.2f} |".format(*row))
        if args.calls:
            calls = count_calls(endpoint)
            print(f"\nAPI calls of one account, {len(REGIONS)} regions: {sum(calls.values())}")
            for op, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"  {n:4d}  {op}")
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
