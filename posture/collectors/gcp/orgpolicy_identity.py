"""Organization Policy (v2, discovery client): the *effective* policy on each project of the
constraints that enforce identity controls, read as :mod:`.orgpolicy` reads
``storage.publicAccessPrevention`` (same asset type, uid scheme and error facet):

- ``compute.requireOsLogin`` and ``iam.disableServiceAccountKeyCreation`` (boolean:
  :func:`.orgpolicy.normalize_policy`);
- ``iam.allowedPolicyMemberDomains`` (list: the Google Workspace / Cloud Identity customer ids
  whose principals may be granted roles; :func:`normalize_list_policy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope
from posture.collectors.gcp.orgpolicy import PERMISSIONS as PERMISSIONS
from posture.collectors.gcp.orgpolicy import SERVICE, normalize_policy, uid
from posture.gcp import ORG_POLICY
from posture.model import Asset

BOOLEAN = ("compute.requireOsLogin", "iam.disableServiceAccountKeyCreation")
LIST = ("iam.allowedPolicyMemberDomains",)


def collect(scope: ProjectScope) -> list[Asset]:
    retries = scope.clients.target.discovery_retries

    def effective(constraint: str) -> dict[str, Any] | None:
        name = f"projects/{scope.project}/policies/{constraint}"

        def fetch() -> dict[str, Any]:
            policies = scope.clients.discovery("orgpolicy", "v2").projects().policies()
            answer: dict[str, Any] = policies.getEffectivePolicy(name=name).execute(
                num_retries=retries
            )
            return answer

        return scope.call(SERVICE, "policies.getEffectivePolicy", (ORG_POLICY,), fetch,
                          resource_uid=uid(scope.project, constraint))

    out = [normalize_policy(scope, c, effective(c)) for c in BOOLEAN]
    out += [normalize_list_policy(scope, c, effective(c)) for c in LIST]
    return out


def normalize_list_policy(
    scope: ProjectScope, constraint: str, policy: Mapping[str, Any] | None
) -> Asset:
    """A list constraint: ``allowed_values`` / ``denied_values`` (of the unconditional rules),
    ``allow_all``, ``deny_all``, and ``enforced``: true when an unconditional rule restricts the
    values (an allow-list or deny-all) and no rule allows all; false when no rule restricts them
    (no policy, or allow-all: the constraint's default); null when unknown (the call failed, or
    a rule depends on tags, ``conditional``)."""
    if policy is None:
        attrs: dict[str, Any] = {"constraint": constraint, "enforced": None, "conditional": None,
                                 "rules": None, "allowed_values": None, "denied_values": None,
                                 "allow_all": None, "deny_all": None}
        return scope.asset(uid(scope.project, constraint), ORG_POLICY, constraint, attrs,
                           {"policy": None})
    rules: list[dict[str, Any]] = [
        {
            "allowed_values": sorted((r.get("values") or {}).get("allowedValues") or []),
            "denied_values": sorted((r.get("values") or {}).get("deniedValues") or []),
            "allow_all": bool(r.get("allowAll")),
            "deny_all": bool(r.get("denyAll")),
            "condition": (r.get("condition") or {}).get("expression"),
        }
        for r in (policy.get("spec") or {}).get("rules") or []
    ]
    plain = [r for r in rules if r["condition"] is None]
    conditional = any(r["condition"] for r in rules)
    allow_all = any(r["allow_all"] for r in plain)
    deny_all = any(r["deny_all"] for r in plain)
    restricting = [r for r in plain if r["allowed_values"] or r["deny_all"]]
    enforced: bool | None = bool(restricting) and not allow_all
    if conditional and not (allow_all or deny_all):
        enforced = None
    attrs = {
        "constraint": constraint,
        "enforced": enforced,
        "conditional": conditional,
        "rules": rules,
        "allowed_values": sorted({v for r in plain for v in r["allowed_values"]}),
        "denied_values": sorted({v for r in plain for v in r["denied_values"]}),
        "allow_all": allow_all,
        "deny_all": deny_all,
    }
    return scope.asset(uid(scope.project, constraint), ORG_POLICY, constraint, attrs,
                       {"policy": policy})
