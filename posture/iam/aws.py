"""AWS identity vocabulary shared by the IAM checks: what the identity graph reads, principal
kinds in words, and an admin path as evidence."""

from __future__ import annotations

from typing import Any

from posture.iam.graph import IdentityGraph
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
