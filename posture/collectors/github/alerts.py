"""Summaries of a repository's open security alerts: Dependabot, code scanning, secret scanning.

Never the alerts themselves: per severity the open count and the creation time of the oldest;
for secret scanning the count, the oldest and the secret types' display names. Secret scanning
alerts are asked for with ``hide_secret=true`` (GitHub then leaves the secret out of the
answer) and the summary reads no other field than state, type and time, so a server that
ignores the parameter still puts no secret in the snapshot.

A feature that is off answers 403 "…disabled…" (Dependabot) or 404 (code scanning: "no
analysis found"; secret scanning: disabled): the summary is null without a collection error
(``vulnerability_alerts``, ``code_scanning_default_setup`` and ``secret_scanning`` say it is
off). Any other failure is null and a ``GitHub::Repository#alerts`` error.
"""

from __future__ import annotations

from collections.abc import Callable

from posture.collectors.github.base import (
    OFF,
    REPOSITORY,
    Offness,
    OwnerScope,
    Payload,
    repo_args,
    says,
    status_is,
)

PERMISSIONS: tuple[str, ...] = (
    "vulnerability_alerts:read", "security_events:read", "secret_scanning_alerts:read",
)
FACETS = ("alerts",)
ATTRS = ("dependabot_alerts", "code_scanning_alerts", "secret_scanning_alerts")
ON_ARCHIVED = False
SEVERITIES = ("critical", "high", "medium", "low")
CODE_SCANNING_SEVERITY = {"error": "high", "warning": "medium", "note": "low"}
"""A code scanning rule without ``security_severity_level`` (not a security query): its
``severity`` mapped onto the four levels."""

LISTINGS: dict[str, tuple[str, str, dict[str, object], Offness]] = {
    "dependabot_alerts": ("dependabot", "/repos/{owner}/{repo}/dependabot/alerts",
                          {"state": "open"}, says(403, "disabled")),
    "code_scanning_alerts": ("code-scanning", "/repos/{owner}/{repo}/code-scanning/alerts",
                             {"state": "open"}, status_is(404)),
    "secret_scanning_alerts": ("secret-scanning", "/repos/{owner}/{repo}/secret-scanning/alerts",
                               {"state": "open", "hide_secret": "true"}, status_is(404)),
}


def facets(scope: OwnerScope, repo: Payload) -> dict[str, object]:
    return {attr: summarize(attr, fetch(scope, repo, attr)) for attr in ATTRS}


def fetch(scope: OwnerScope, repo: Payload, attr: str) -> object:
    service, template, params, off = LISTINGS[attr]
    return scope.listing(service, template, f"{REPOSITORY}#alerts", args=repo_args(repo),
                         params=params, resource_uid=scope.repo_uid(repo), off=off)


# --- normalize ---------------------------------------------------------------------------------


def summarize(attr: str, alerts: object) -> dict[str, object] | None:
    if alerts is None or alerts is OFF or not isinstance(alerts, list):
        return None
    still_open = [a for a in alerts if isinstance(a, dict) and a.get("state", "open") == "open"]
    if attr == "secret_scanning_alerts":
        return secret_summary(still_open)
    severity = dependabot_severity if attr == "dependabot_alerts" else code_scanning_severity
    return severity_summary(still_open, severity)


def severity_summary(alerts: list[Payload], severity: Callable[[Payload], str | None]
                     ) -> dict[str, object]:
    """``{severity: {"count": N, "oldest": created_at}}`` in severity order, none omitted."""
    by: dict[str, list[str]] = {}
    for alert in alerts:
        level = severity(alert)
        if level in SEVERITIES:
            by.setdefault(level, []).append(str(alert.get("created_at") or ""))
    return {
        level: {"count": len(by[level]), "oldest": min(by[level]) or None}
        for level in SEVERITIES if level in by
    }


def secret_summary(alerts: list[Payload]) -> dict[str, object]:
    """Count, oldest and secret types of the open alerts; never the secrets."""
    times = [str(a.get("created_at")) for a in alerts if a.get("created_at")]
    types = {str(a.get("secret_type_display_name") or a.get("secret_type") or "unknown")
             for a in alerts}
    return {"count": len(alerts), "oldest": min(times) if times else None,
            "types": sorted(types)}


def dependabot_severity(alert: Payload) -> str | None:
    for key in ("security_advisory", "security_vulnerability"):
        part = alert.get(key)
        if isinstance(part, dict) and part.get("severity"):
            return str(part["severity"]).lower()
    return None


def code_scanning_severity(alert: Payload) -> str | None:
    rule = alert.get("rule")
    if not isinstance(rule, dict):
        return None
    level = rule.get("security_severity_level")
    if level:
        return str(level).lower()
    return CODE_SCANNING_SEVERITY.get(str(rule.get("severity") or "").lower())
