"""Organization Policy (v2, discovery client): the *effective* policy of each project for the
constraints the checks read, i.e. the merge of the organisation's, folders' and project's own
policies that Google enforces on the project's resources.

Only boolean constraints are read today (``storage.publicAccessPrevention``). One asset per
project and constraint, always present: when the call fails its ``enforced`` is null and the
error names the asset (``resource_uid``), so that only checks relying on that policy become
INCONCLUSIVE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope
from posture.gcp import ORG_POLICY
from posture.model import Asset

SERVICE = "orgpolicy"
PERMISSIONS = ("orgpolicy.policy.get",)
CONSTRAINTS = ("storage.publicAccessPrevention",)


def uid(project: str, constraint: str) -> str:
    return f"//orgpolicy.googleapis.com/projects/{project}/policies/{constraint}"


def collect(scope: ProjectScope) -> list[Asset]:
    retries = scope.clients.target.discovery_retries

    def fetch(name: str) -> dict[str, Any]:
        policies = scope.clients.discovery("orgpolicy", "v2").projects().policies()
        answer: dict[str, Any] = policies.getEffectivePolicy(name=name).execute(
            num_retries=retries
        )
        return answer

    def effective(constraint: str) -> dict[str, Any] | None:
        name = f"projects/{scope.project}/policies/{constraint}"
        return scope.call(
            SERVICE,
            "policies.getEffectivePolicy",
            (ORG_POLICY,),
            lambda: fetch(name),
            resource_uid=uid(scope.project, constraint),
        )

    return [normalize_policy(scope, c, effective(c)) for c in CONSTRAINTS]


def normalize_policy(
    scope: ProjectScope, constraint: str, policy: Mapping[str, Any] | None
) -> Asset:
    """``enforced``: True when the constraint is enforced on every resource of the project (an
    unconditional rule enforces it and no tag-conditional rule relaxes it), False when no rule
    enforces it (a boolean constraint is off unless a policy enforces it), null when unknown:
    the call failed (``conditional`` null too) or it depends on the resources' tags
    (``conditional`` true)."""
    if policy is None:
        attrs: dict[str, Any] = {"constraint": constraint, "enforced": None,
                                 "conditional": None, "rules": None}
        return scope.asset(uid(scope.project, constraint), ORG_POLICY, constraint, attrs,
                           {"policy": None})
    rules = [
        {
            "enforce": bool(r.get("enforce")),
            "condition": (r.get("condition") or {}).get("expression"),
        }
        for r in (policy.get("spec") or {}).get("rules") or []
    ]
    values = [r["enforce"] for r in rules]
    unconditional = [r["enforce"] for r in rules if r["condition"] is None]
    conditional = any(r["condition"] for r in rules)
    enforced: bool | None
    if all(values) and any(unconditional):
        enforced = True
    elif not any(values):
        enforced = False
    else:
        enforced = None if conditional else any(unconditional)
    attrs = {"constraint": constraint, "enforced": enforced, "conditional": conditional,
             "rules": rules}
    return scope.asset(uid(scope.project, constraint), ORG_POLICY, constraint, attrs,
                       {"policy": policy})
