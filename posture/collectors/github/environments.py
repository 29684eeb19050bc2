"""Deployment environments of every (not archived) repository: protection rules (required
reviewers, wait timer), which branches may deploy, the names of environment secrets, and the
newest deployment with its latest status (attrs as in ``docs/github-assets.md``).

Deployments are read one page deep (the newest 100, newest first): enough to show that
deployments are logged and when the last one happened, without walking years of history.
"""

from __future__ import annotations

from posture.collectors.github.base import (
    ENVIRONMENT,
    OwnerScope,
    Payload,
    repo_args,
    without_links,
)
from posture.model import Asset

PERMISSIONS: tuple[str, ...] = ("actions:read", "environments:read", "deployments:read")
DEPLOYMENTS_READ = 100


def collect(scope: OwnerScope) -> list[Asset]:
    live = [r for r in scope.repositories or [] if not r.get("archived")]
    found = scope.each_repository(lambda repo: repository_environments(scope, repo), live)
    return [asset for assets in found for asset in assets]


def repository_environments(scope: OwnerScope, repo: Payload) -> list[Asset]:
    envs = scope.listing("deployments", "/repos/{owner}/{repo}/environments", ENVIRONMENT,
                         key="environments", args=repo_args(repo),
                         resource_uid=scope.repo_uid(repo))
    if not isinstance(envs, list):
        return []
    return [environment_asset(scope, repo, env) for env in envs]


def environment_asset(scope: OwnerScope, repo: Payload, env: Payload) -> Asset:
    name = str(env.get("name"))
    repo_uid = scope.repo_uid(repo)
    uid = f"{repo_uid}/environments/{name}".lower()
    args = repo_args(repo, environment_name=name)
    attrs = normalize_environment(env, repo_uid)
    policy = env.get("deployment_branch_policy")
    attrs["branch_policies"] = []
    if isinstance(policy, dict) and policy.get("custom_branch_policies"):
        policies = scope.listing(
            "deployments",
            "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies",
            f"{ENVIRONMENT}#branch_policies", key="branch_policies", args=args, resource_uid=uid)
        attrs["branch_policies"] = normalize_branch_policies(policies)
    secrets = scope.listing("actions",
                            "/repos/{owner}/{repo}/environments/{environment_name}/secrets",
                            f"{ENVIRONMENT}#secrets", key="secrets", args=args,
                            resource_uid=uid)
    attrs["secrets"] = None if not isinstance(secrets, list) else sorted(
        ({k: s.get(k) for k in ("name", "created_at", "updated_at")} for s in secrets),
        key=lambda s: str(s["name"]))
    attrs.update(fetch_last_deployment(scope, repo, name, uid))
    return scope.asset(uid, ENVIRONMENT, name, attrs, without_links(env))


def fetch_last_deployment(scope: OwnerScope, repo: Payload, name: str, uid: str
                          ) -> dict[str, object]:
    deployments = scope.get("deployments", "/repos/{owner}/{repo}/deployments",
                            f"{ENVIRONMENT}#deployments", args=repo_args(repo),
                            params={"environment": name, "per_page": DEPLOYMENTS_READ},
                            resource_uid=uid)
    if not isinstance(deployments, list):
        return {"last_deployment": None, "deployments_seen": None}
    if not deployments:
        return {"last_deployment": {}, "deployments_seen": 0}
    newest = max(deployments, key=lambda d: (str(d.get("created_at") or ""), int(d["id"])))
    statuses = scope.get("deployments",
                         "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
                         f"{ENVIRONMENT}#deployments",
                         args=repo_args(repo, deployment_id=str(newest["id"])),
                         params={"per_page": 1}, resource_uid=uid)
    if not isinstance(statuses, list):
        return {"last_deployment": None, "deployments_seen": len(deployments)}
    return {"last_deployment": normalize_deployment(newest, statuses),
            "deployments_seen": len(deployments)}


# --- normalize ---------------------------------------------------------------------------------


def normalize_environment(env: Payload, repo_uid: str) -> dict[str, object]:
    rules = [r for r in env.get("protection_rules") or [] if isinstance(r, dict)]
    reviewers_rule = next((r for r in rules if r.get("type") == "required_reviewers"), {})
    timer = next((r for r in rules if r.get("type") == "wait_timer"), {})
    policy = env.get("deployment_branch_policy")
    return {
        "repository": repo_uid,
        "environment": env.get("name"),
        "required_reviewers": sorted(
            (reviewer(r) for r in reviewers_rule.get("reviewers") or []),
            key=lambda r: (str(r["type"]), str(r["login"]).lower())),
        "prevent_self_review": bool(reviewers_rule.get("prevent_self_review")),
        "wait_timer": int(timer.get("wait_timer") or 0),
        "can_admins_bypass": bool(env.get("can_admins_bypass", True)),
        "deployment_branch_policy": None if not isinstance(policy, dict) else {
            "protected_branches": bool(policy.get("protected_branches")),
            "custom_branch_policies": bool(policy.get("custom_branch_policies")),
        },
    }


def reviewer(entry: Payload) -> dict[str, object]:
    """A required reviewer: a user's login, or a team's slug."""
    who = entry.get("reviewer") or {}
    login = who.get("login") or who.get("slug") or who.get("name")
    return {"type": entry.get("type"), "login": login}


def normalize_branch_policies(found: object) -> list[dict[str, object]] | None:
    if not isinstance(found, list):
        return None
    return sorted(({"name": p.get("name"), "type": p.get("type") or "branch"} for p in found),
                  key=lambda p: (str(p["type"]), str(p["name"])))


def normalize_deployment(deployment: Payload, statuses: list[Payload]) -> dict[str, object]:
    creator = deployment.get("creator") or {}
    newest = max(statuses, key=lambda s: (str(s.get("created_at") or ""), int(s.get("id") or 0)),
                 default=None)
    return {
        "created_at": deployment.get("created_at"),
        "ref": deployment.get("ref"),
        "sha": deployment.get("sha"),
        "creator": creator.get("login") if isinstance(creator, dict) else None,
        "state": newest.get("state") if newest else None,
    }
