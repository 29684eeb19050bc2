"""Resource Manager: the project itself, its IAM policy (version 3, with audit configs), and the
discovery of projects under an organisation or folder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, last, to_json
from posture.model import Asset

PROJECT = "cloudresourcemanager.googleapis.com/Project"
SERVICE = "cloudresourcemanager"
PERMISSIONS = (
    "resourcemanager.projects.get",
    "resourcemanager.projects.getIamPolicy",
)
DISCOVERY_PERMISSIONS = ("resourcemanager.folders.list", "resourcemanager.projects.list")


def project_uid(project_id: str) -> str:
    return f"//cloudresourcemanager.googleapis.com/projects/{project_id}"


def collect(scope: ProjectScope) -> list[Asset]:
    client, retry = scope.clients.projects(), scope.clients.retry
    name = f"projects/{scope.project}"
    uid = project_uid(scope.project)
    project = scope.call(
        SERVICE,
        "projects.get",
        (PROJECT,),
        lambda: to_json(client.get_project(name=name, retry=retry)),
        resource_uid=uid,
    )
    policy = scope.call(
        SERVICE,
        "projects.getIamPolicy",
        (f"{PROJECT}#iam_policy",),
        lambda: to_json(
            client.get_iam_policy(
                request={"resource": name, "options": {"requested_policy_version": 3}}, retry=retry
            )
        ),
        resource_uid=uid,
    )
    return [normalize_project(scope, project, policy)]


def normalize_project(
    scope: ProjectScope, project: Mapping[str, Any] | None, policy: Mapping[str, Any] | None
) -> Asset:
    """The project asset; metadata attrs are null when GetProject failed, policy attrs null when
    GetIamPolicy failed."""
    p = project or {}
    attrs: dict[str, Any] = {
        "project_id": scope.project,
        "project_number": last(p.get("name")) if p.get("name") else None,
        "display_name": p.get("displayName"),
        "state": p.get("state"),
        "parent": p.get("parent"),
        "labels": dict(p.get("labels") or {}) if project is not None else None,
        **normalize_policy(policy),
    }
    raw = {"project": project, "iam_policy": policy}
    return scope.asset(
        project_uid(scope.project), PROJECT, scope.project, attrs, raw, tags=p.get("labels") or {}
    )


def normalize_policy(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    if policy is None:
        return {"iam_policy_version": None, "iam_bindings": None, "audit_configs": None}
    return {
        "iam_policy_version": int(policy.get("version") or 1),
        "iam_bindings": bindings(policy),
        "audit_configs": sorted(
            (
                {
                    "service": c.get("service"),
                    "log_types": {
                        str(lc.get("logType")): sorted(lc.get("exemptedMembers") or [])
                        for lc in c.get("auditLogConfigs") or []
                    },
                }
                for c in policy.get("auditConfigs") or []
            ),
            key=lambda c: str(c["service"]),
        ),
    }


def bindings(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    """IAM bindings as ``{role, members (sorted), condition (title/expression or null)}``."""
    out = []
    for b in policy.get("bindings") or []:
        cond = b.get("condition")
        out.append(
            {
                "role": b.get("role"),
                "members": sorted(b.get("members") or []),
                "condition": (
                    {"title": cond.get("title"), "expression": cond.get("expression")}
                    if cond
                    else None
                ),
            }
        )
    return sorted(out, key=lambda b: (str(b["role"]), str(b["condition"])))
