"""Builders of small GitHub inventories for check tests (attrs as in docs/github-assets.md): an
organisation, repositories and environments that pass every check unless told otherwise."""

from __future__ import annotations

from typing import Any

from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider

from .model import asset_of, error_of, inventory_of, scan_meta

ORG = "acme"
HOST = "github.com"
RECENT = "2025-12-20T10:00:00Z"
"""Eleven whole days before the test scan finished (support.model.FINISHED, 2026-01-01)."""
OLD = "2025-10-01T10:00:00Z"
"""Ninety-one whole days before the test scan finished."""


def gh(type_: str, uid: str, name: str, **attrs: Any) -> Asset:
    return asset_of(Provider.GITHUB, type_, uid.lower(), account=ORG, region=GLOBAL, name=name,
                    tags=None, attrs=attrs)


def org(**attrs: Any) -> Asset:
    base: dict[str, Any] = {
        "login": ORG, "plan": "enterprise", "two_factor_requirement_enabled": True,
        "default_repository_permission": "read", "members_can_create_public_repositories": False,
        "web_commit_signoff_required": False, "actions_enabled_repositories": "all",
        "allowed_actions": "selected", "selected_actions": {
            "github_owned_allowed": True, "verified_allowed": False, "patterns_allowed": []},
        "sha_pinning_required": None, "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": False, "oidc_sub_claim_keys": [],
        "actions_secrets": [],
    }
    return gh("GitHub::Organization", f"{HOST}/{ORG}", ORG, **{**base, **attrs})


def protection(**overrides: Any) -> dict[str, Any]:
    """Classic protection of the default branch that passes every change check."""
    return {"protected": True, "required_approving_review_count": 1,
            "dismiss_stale_reviews": True, "require_code_owner_reviews": False,
            "require_last_push_approval": False, "required_status_checks": ["ci/test"],
            "strict_status_checks": True, "enforce_admins": True, "allow_force_pushes": False,
            "allow_deletions": False, "required_signatures": False, "restrict_pushes": False,
            **overrides}


UNPROTECTED = {"protected": False}


def rule(type_: str, *, ruleset: str = "main", enforcement: str = "active",
         bypass: tuple[tuple[str, int | None, str], ...] = (), source_type: str = "Repository",
         **parameters: Any) -> dict[str, Any]:
    """One rule of a ruleset in effect on the default branch; ``bypass``: (actor type, actor
    id, bypass mode) triples."""
    return {"type": type_, "parameters": parameters, "ruleset_id": sum(map(ord, ruleset)),
            "ruleset_name": ruleset, "source_type": source_type,
            "source": ORG if source_type == "Organization" else f"{ORG}/app",
            "enforcement": enforcement,
            "bypass_actors": [{"actor_type": t, "actor_id": i, "bypass_mode": m}
                              for t, i, m in bypass]}


def ruleset(*, enforcement: str = "active", approvals: int = 1,
            bypass: tuple[tuple[str, int | None, str], ...] = ()) -> list[dict[str, Any]]:
    """A ruleset enforcing everything the change checks ask for."""
    opts: dict[str, Any] = {"enforcement": enforcement, "bypass": bypass}
    return [
        rule("deletion", **opts),
        rule("non_fast_forward", **opts),
        rule("pull_request", **opts, required_approving_review_count=approvals,
             dismiss_stale_reviews_on_push=True, require_code_owner_review=False,
             require_last_push_approval=False, required_review_thread_resolution=False),
        rule("required_status_checks", **opts, strict_required_status_checks_policy=True,
             required_status_checks=[{"context": "ci/test", "integration_id": None}]),
    ]


def repo(name: str = "app", **attrs: Any) -> Asset:
    """A private repository that passes every code and change check."""
    base: dict[str, Any] = {
        "full_name": f"{ORG}/{name}", "owner": ORG, "visibility": "private", "archived": False,
        "fork": False, "disabled": False, "default_branch": "main", "pushed_at": RECENT,
        "advanced_security": "enabled", "secret_scanning": "enabled",
        "secret_scanning_push_protection": "enabled", "dependabot_security_updates": "enabled",
        "vulnerability_alerts": True, "code_scanning_default_setup": "configured",
        "code_scanning_last_analysis": {"created_at": RECENT, "tool": "CodeQL",
                                        "ref": "refs/heads/main"},
        "dependabot_alerts": {}, "code_scanning_alerts": {}, "secret_scanning_alerts": {},
        "branch_protection": protection(), "rules": [],
        "default_workflow_permissions": "read", "can_approve_pull_request_reviews": False,
        "oidc_sub_claim_keys": [], "actions_secrets": [],
    }
    return gh("GitHub::Repository", f"{HOST}/{ORG}/{name}", f"{ORG}/{name}", **{**base, **attrs})


def environment(name: str = "production", repository: str = "app", **attrs: Any) -> Asset:
    """An environment with one required reviewer team, self-review prevented, administrators
    unable to bypass, protected branches only, deployed once."""
    base: dict[str, Any] = {
        "repository": f"{HOST}/{ORG}/{repository}", "environment": name,
        "required_reviewers": [{"type": "Team", "login": "acme/release-managers"}],
        "prevent_self_review": True, "wait_timer": 0, "can_admins_bypass": False,
        "deployment_branch_policy": {"protected_branches": True, "custom_branch_policies": False},
        "branch_policies": [], "secrets": [],
        "last_deployment": {"created_at": RECENT, "ref": "main", "sha": "abc123",
                            "creator": "deploy-bot", "state": "success"},
        "deployments_seen": 3,
    }
    return gh("GitHub::Environment", f"{HOST}/{ORG}/{repository}/environments/{name}", name,
              **{**base, **attrs})


def secret(name: str, updated: str = OLD) -> dict[str, Any]:
    return {"name": name, "created_at": OLD, "updated_at": updated}


def inventory(*assets: Asset, errors: tuple[CollectionError, ...] = ()) -> Inventory:
    meta = scan_meta(Provider.GITHUB, (ORG,), (GLOBAL,), scan_id="test-github")
    return inventory_of(meta, assets, errors)


def error(operation: str, asset_types: tuple[str, ...], resource_uid: str | None = None,
          code: str = "403") -> CollectionError:
    return error_of(Provider.GITHUB, ORG, "github", operation, asset_types, code=code,
                    message="Resource not accessible by integration",
                    resource_uid=resource_uid.lower() if resource_uid else None)
