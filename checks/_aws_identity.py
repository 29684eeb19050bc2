"""Shared by the IAM checks: the identity graph and evaluator, built once per run."""

from __future__ import annotations

from typing import Any

from posture.engine import CheckContext
from posture.iam import IdentityGraph, build_identity_graph
from posture.iam.principals import GROUP, POLICY, ROLE, USER

IDENTITY_READS = frozenset(
    {
        POLICY,
        f"{USER}#policies",
        f"{ROLE}#policies",
        f"{GROUP}#policies",
        f"{ROLE}#listing",
        f"{USER}#listing",
    }
)


def identity(ctx: CheckContext) -> IdentityGraph:
    """The run's identity graph (``ctx.derived("aws.identity", ...)``)."""
    return ctx.derived("aws.identity", build_identity_graph)


def principal_kind(kind: str) -> str:
    return {
        "user": "IAM user (human or long-lived workload identity)",
        "role": "IAM role",
        "group": "IAM group",
    }.get(kind, kind)


def path_evidence(graph: IdentityGraph, arn: str) -> dict[str, Any]:
    path = graph.admin_path(arn)
    if path is None:
        return {}
    return {
        "path": path.describe(graph.names()),
        "steps": path.steps(),
        "conditional": path.conditional,
    }
