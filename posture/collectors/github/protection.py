"""How the default branch is protected: classic branch protection, and the rules of rulesets
(the repository's and the organisation's) in effect on it.

``GET …/branches/{branch}/protection`` answers 404 "Branch not protected" for an unprotected
branch (``{"protected": false}``); any other failure (403 without Administration read, 403 on a
plan without protection for private repositories, another 404) is a gap. ``GET …/rules/branches/
{branch}`` lists the active rules with their ruleset's id; each ruleset is then read once
(``GET …/rulesets/{id}``, organisation rulesets included) for its name, enforcement and bypass
actors. GitHub returns ``bypass_actors`` only to who may edit the ruleset: when it withholds
them, the rules of that ruleset carry ``bypass_actors: null`` and a ``#rules`` error says so.
"""

from __future__ import annotations

from posture.collectors.github.base import (
    OFF,
    REPOSITORY,
    OwnerScope,
    Payload,
    default_branch,
    repo_args,
    says,
)

PERMISSIONS: tuple[str, ...] = ("administration:read", "metadata:read")
FACETS = ("branch_protection", "rules")
ATTRS = ("branch_protection", "rules")
ON_ARCHIVED = False
RULES = f"{REPOSITORY}#rules"


def facets(scope: OwnerScope, repo: Payload) -> dict[str, object]:
    branch = default_branch(repo)
    if branch is None:  # an empty repository: nothing to protect yet
        return {"branch_protection": {"protected": False}, "rules": []}
    classic = scope.get("repos", "/repos/{owner}/{repo}/branches/{branch}/protection",
                        f"{REPOSITORY}#branch_protection", args=repo_args(repo, branch=branch),
                        resource_uid=scope.repo_uid(repo), off=says(404, "branch not protected"))
    return {"branch_protection": normalize_protection(classic),
            "rules": fetch_rules(scope, repo, branch)}


def fetch_rules(scope: OwnerScope, repo: Payload, branch: str) -> list[dict[str, object]] | None:
    uid = scope.repo_uid(repo)
    rules = scope.listing("repos", "/repos/{owner}/{repo}/rules/branches/{branch}", RULES,
                          args=repo_args(repo, branch=branch), resource_uid=uid)
    if not isinstance(rules, list):
        return None
    rulesets: dict[int, Payload] = {}
    for ruleset_id in sorted({int(r["ruleset_id"]) for r in rules if r.get("ruleset_id")}):
        found = scope.get("repos", "/repos/{owner}/{repo}/rulesets/{ruleset_id}", RULES,
                          args=repo_args(repo, ruleset_id=str(ruleset_id)), resource_uid=uid)
        if not isinstance(found, dict):
            return None
        if "bypass_actors" not in found:
            scope.record("repos", "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}",
                         "NotReturned", f"bypass_actors of ruleset {ruleset_id} withheld "
                         "(the token cannot edit the ruleset)", (RULES,), resource_uid=uid)
        rulesets[ruleset_id] = found
    return normalize_rules(rules, rulesets)


# --- normalize ---------------------------------------------------------------------------------


def _enabled(protection: Payload, key: str) -> bool:
    part = protection.get(key)
    return bool(part.get("enabled")) if isinstance(part, dict) else False


def normalize_protection(found: object) -> dict[str, object] | None:
    if found is None:
        return None
    if found is OFF or not isinstance(found, dict):
        return {"protected": False}
    reviews = found.get("required_pull_request_reviews")
    reviews = reviews if isinstance(reviews, dict) else None
    checks = found.get("required_status_checks")
    checks = checks if isinstance(checks, dict) else None
    contexts = set((checks or {}).get("contexts") or [])
    contexts |= {str(c["context"]) for c in (checks or {}).get("checks") or [] if c.get("context")}
    return {
        "protected": True,
        "required_approving_review_count":
            int(reviews.get("required_approving_review_count") or 0) if reviews else None,
        "dismiss_stale_reviews": bool((reviews or {}).get("dismiss_stale_reviews")),
        "require_code_owner_reviews": bool((reviews or {}).get("require_code_owner_reviews")),
        "require_last_push_approval": bool((reviews or {}).get("require_last_push_approval")),
        "required_status_checks": sorted(contexts),
        "strict_status_checks": bool((checks or {}).get("strict")),
        "enforce_admins": _enabled(found, "enforce_admins"),
        "allow_force_pushes": _enabled(found, "allow_force_pushes"),
        "allow_deletions": _enabled(found, "allow_deletions"),
        "required_signatures": _enabled(found, "required_signatures"),
        "restrict_pushes": isinstance(found.get("restrictions"), dict),
    }


def normalize_rules(rules: list[Payload], rulesets: dict[int, Payload]) -> list[dict[str, object]]:
    out = []
    for rule in rules:
        ruleset_id = int(rule["ruleset_id"]) if rule.get("ruleset_id") else None
        ruleset = rulesets.get(ruleset_id or -1, {})
        actors = ruleset.get("bypass_actors")
        out.append({
            "type": rule.get("type"),
            "parameters": rule.get("parameters") or {},
            "ruleset_id": ruleset_id,
            "ruleset_name": ruleset.get("name"),
            "source_type": rule.get("ruleset_source_type") or ruleset.get("source_type"),
            "source": rule.get("ruleset_source") or ruleset.get("source"),
            "enforcement": ruleset.get("enforcement"),
            "bypass_actors": None if actors is None else sorted(
                ({"actor_type": a.get("actor_type"), "actor_id": a.get("actor_id"),
                  "bypass_mode": a.get("bypass_mode")} for a in actors),
                key=lambda a: (str(a["actor_type"]), str(a["actor_id"]), str(a["bypass_mode"])),
            ),
        })
    return sorted(out, key=lambda r: (str(r["type"]), r["ruleset_id"] or 0))
