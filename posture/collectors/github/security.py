"""A repository's security features: ``security_and_analysis`` of its payload (secret scanning,
push protection, Dependabot security updates, Advanced Security), Dependabot alerts on or off,
and code scanning (default setup, newest analysis of the default branch).

GitHub answers "off" with 404: ``vulnerability-alerts`` (204 on), ``code-scanning/default-setup``
(code scanning unavailable: ``not-configured``) and ``code-scanning/analyses`` ("no analysis
found": ``{}``). A 403 (missing permission, or Advanced Security not on the plan) is a gap.
"""

from __future__ import annotations

from posture.collectors.github.base import (
    OFF,
    REPOSITORY,
    OwnerScope,
    Payload,
    repo_args,
    status_is,
)

PERMISSIONS: tuple[str, ...] = ("administration:read", "security_events:read")
FACETS = ("vulnerability_alerts", "code_scanning")
ATTRS = ("vulnerability_alerts", "code_scanning_default_setup", "code_scanning_last_analysis")
ON_ARCHIVED = False
SETTINGS = {
    "advanced_security": "advanced_security",
    "secret_scanning": "secret_scanning",
    "secret_scanning_push_protection": "secret_scanning_push_protection",
    "dependabot_security_updates": "dependabot_security_updates",
}
"""attr → key of ``security_and_analysis`` (whose ``status`` is ``enabled``/``disabled``)."""


def settings(scope: OwnerScope, repo: Payload, fetched: bool) -> dict[str, object]:
    """The ``security_and_analysis`` attributes; a payload read without them (the token is not
    a repository admin) is recorded as a gap."""
    analysis = repo.get("security_and_analysis")
    if fetched and not isinstance(analysis, dict):
        scope.record("repos", "GET /repos/{owner}/{repo}", "NotReturned",
                     "security_and_analysis not in the repository payload (needs admin: "
                     "Administration read)", (f"{REPOSITORY}#security",),
                     resource_uid=scope.repo_uid(repo))
    return normalize_settings(analysis if isinstance(analysis, dict) else None)


def facets(scope: OwnerScope, repo: Payload) -> dict[str, object]:
    uid = scope.repo_uid(repo)
    alerts_on = scope.get("dependabot", "/repos/{owner}/{repo}/vulnerability-alerts",
                          f"{REPOSITORY}#vulnerability_alerts", args=repo_args(repo),
                          resource_uid=uid, off=status_is(404))
    setup = scope.get("code-scanning", "/repos/{owner}/{repo}/code-scanning/default-setup",
                      f"{REPOSITORY}#code_scanning", args=repo_args(repo), resource_uid=uid,
                      off=status_is(404))
    analysis = fetch_last_analysis(scope, repo)
    return {
        "vulnerability_alerts": None if alerts_on is None else alerts_on is not OFF,  # 204: on
        "code_scanning_default_setup": normalize_setup(setup),
        "code_scanning_last_analysis": normalize_analysis(analysis),
    }


def fetch_last_analysis(scope: OwnerScope, repo: Payload) -> object:
    """The newest code scanning analysis of the default branch (a list of at most one)."""
    branch = repo.get("default_branch")
    if not branch:
        return []
    return scope.get("code-scanning", "/repos/{owner}/{repo}/code-scanning/analyses",
                     f"{REPOSITORY}#code_scanning", args=repo_args(repo),
                     params={"ref": f"refs/heads/{branch}", "per_page": 1, "sort": "created",
                             "direction": "desc"},
                     resource_uid=scope.repo_uid(repo), off=status_is(404))


# --- normalize ---------------------------------------------------------------------------------


def normalize_settings(analysis: Payload | None) -> dict[str, object]:
    """``enabled``/``disabled`` per feature; null when unknown (no ``security_and_analysis``,
    or GitHub leaves a feature out, as it does for Advanced Security on public repositories)."""
    out: dict[str, object] = {}
    for attr, key in SETTINGS.items():
        entry = (analysis or {}).get(key)
        status = entry.get("status") if isinstance(entry, dict) else None
        out[attr] = str(status) if status else None
    return out


def normalize_setup(setup: object) -> str | None:
    if setup is None:
        return None
    if setup is OFF or not isinstance(setup, dict):
        return "not-configured"
    return str(setup.get("state") or "not-configured")


def normalize_analysis(found: object) -> dict[str, object] | None:
    if found is None:
        return None
    if found is OFF or not isinstance(found, list) or not found:
        return {}
    newest = max(found, key=lambda a: str(a.get("created_at") or ""))
    tool = newest.get("tool") or {}
    return {
        "created_at": newest.get("created_at"),
        "tool": tool.get("name") if isinstance(tool, dict) else None,
        "ref": newest.get("ref"),
    }
