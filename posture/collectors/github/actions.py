"""GitHub Actions settings of a repository and of an organisation: the ``GITHUB_TOKEN``'s
default permissions, whether workflows may approve pull requests, the OIDC ``sub`` claim
template, which actions may run, and the names of Actions secrets (never values: GitHub's
API has none to give).

The OIDC customization answers 404 where it was never set: GitHub's default template (``[]``).
"""

from __future__ import annotations

from posture.collectors.github.base import (
    OFF,
    ORGANIZATION,
    REPOSITORY,
    OwnerScope,
    Payload,
    repo_args,
    status_is,
)

PERMISSIONS: tuple[str, ...] = (
    "administration:read", "actions:read", "secrets:read",
    "organization_administration:read", "organization_secrets:read",
)
FACETS = ("actions", "secrets")
ATTRS = ("default_workflow_permissions", "can_approve_pull_request_reviews",
         "oidc_sub_claim_keys", "actions_secrets")
ON_ARCHIVED = False


def facets(scope: OwnerScope, repo: Payload) -> dict[str, object]:
    uid, args = scope.repo_uid(repo), repo_args(repo)
    workflow = scope.get("actions", "/repos/{owner}/{repo}/actions/permissions/workflow",
                         f"{REPOSITORY}#actions", args=args, resource_uid=uid)
    oidc = scope.get("actions", "/repos/{owner}/{repo}/actions/oidc/customization/sub",
                     f"{REPOSITORY}#actions", args=args, resource_uid=uid, off=status_is(404))
    secrets = scope.listing("actions", "/repos/{owner}/{repo}/actions/secrets",
                            f"{REPOSITORY}#secrets", key="secrets", args=args, resource_uid=uid)
    return {**normalize_workflow(workflow), "oidc_sub_claim_keys": normalize_oidc(oidc),
            "actions_secrets": normalize_secrets(secrets, ("name", "created_at", "updated_at"))}


def org_facets(scope: OwnerScope) -> dict[str, object]:
    """The organisation's Actions settings (``GitHub::Organization#actions/#oidc/#secrets``)."""
    args, facet = {"org": scope.login}, f"{ORGANIZATION}#actions"
    allowed = scope.get("actions", "/orgs/{org}/actions/permissions", facet, args=args)
    selected = None
    if isinstance(allowed, dict) and allowed.get("allowed_actions") == "selected":
        selected = scope.get("actions", "/orgs/{org}/actions/permissions/selected-actions",
                             facet, args=args)
    workflow = scope.get("actions", "/orgs/{org}/actions/permissions/workflow", facet, args=args)
    oidc = scope.get("actions", "/orgs/{org}/actions/oidc/customization/sub",
                     f"{ORGANIZATION}#oidc", args=args, off=status_is(404))
    secrets = scope.listing("actions", "/orgs/{org}/actions/secrets", f"{ORGANIZATION}#secrets",
                            key="secrets", args=args)
    return {
        **normalize_allowed(allowed, selected),
        **normalize_workflow(workflow),
        "oidc_sub_claim_keys": normalize_oidc(oidc),
        "actions_secrets": normalize_secrets(
            secrets, ("name", "visibility", "created_at", "updated_at")),
    }


# --- normalize ---------------------------------------------------------------------------------


def normalize_workflow(found: object) -> dict[str, object]:
    if not isinstance(found, dict):
        return {"default_workflow_permissions": None, "can_approve_pull_request_reviews": None}
    return {
        "default_workflow_permissions": found.get("default_workflow_permissions"),
        "can_approve_pull_request_reviews": bool(found.get("can_approve_pull_request_reviews")),
    }


def normalize_oidc(found: object) -> list[str] | None:
    """The claim keys of a custom ``sub`` template, ``[]`` for GitHub's default."""
    if found is None:
        return None
    if found is OFF or not isinstance(found, dict) or found.get("use_default"):
        return []
    return [str(k) for k in found.get("include_claim_keys") or []]


def normalize_secrets(found: object, keys: tuple[str, ...]) -> list[dict[str, object]] | None:
    if not isinstance(found, list):
        return None
    return sorted(({k: s.get(k) for k in keys} for s in found), key=lambda s: str(s["name"]))


def normalize_allowed(found: object, selected: object) -> dict[str, object]:
    data = found if isinstance(found, dict) else None
    picked = None
    if isinstance(selected, dict):
        picked = {
            "github_owned_allowed": selected.get("github_owned_allowed"),
            "verified_allowed": selected.get("verified_allowed"),
            "patterns_allowed": list(selected.get("patterns_allowed") or []),
        }
    return {
        "actions_enabled_repositories": data.get("enabled_repositories") if data else None,
        "allowed_actions": data.get("allowed_actions") if data else None,
        "selected_actions": picked,
        "sha_pinning_required": data.get("sha_pinning_required") if data else None,
    }
