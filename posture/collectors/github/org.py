"""The organisation itself: its settings and its Actions settings (attrs as in
``docs/github-assets.md``). Owners of ``--repo`` repositories that are not scanned as
organisations have no organisation asset.

``GET /orgs/{org}`` answers everyone, but the member settings (two-factor requirement, base
permission, who may create public repositories, sign-off) only to owners: without them those
attributes are null and a ``GitHub::Organization#settings`` error says so.
"""

from __future__ import annotations

from posture.collectors.github import actions
from posture.collectors.github.base import ORGANIZATION, OwnerScope, Payload, without_links
from posture.model import Asset

PERMISSIONS: tuple[str, ...] = ("organization_administration:read",)
OWNER_ONLY = (
    "two_factor_requirement_enabled", "default_repository_permission",
    "members_can_create_public_repositories", "web_commit_signoff_required",
)


def collect(scope: OwnerScope) -> list[Asset]:
    if not scope.organization:
        return []
    org = scope.get("orgs", "/orgs/{org}", ORGANIZATION, args={"org": scope.login})
    if not isinstance(org, dict):
        return []
    attrs = normalize_org(org)
    missing = [key for key in OWNER_ONLY if key not in org]
    if missing:
        scope.record("orgs", "GET /orgs/{org}", "NotReturned",
                     f"{', '.join(missing)} not in the organisation payload (organisation "
                     "owners only)", (f"{ORGANIZATION}#settings",), resource_uid=scope.uid())
    attrs.update(actions.org_facets(scope))
    return [scope.asset(scope.uid(), ORGANIZATION, str(org.get("login") or scope.login), attrs,
                        without_links(org))]


def normalize_org(org: Payload) -> dict[str, object]:
    plan = org.get("plan")
    return {
        "login": org.get("login"),
        "plan": plan.get("name") if isinstance(plan, dict) else None,
        **{key: org.get(key) for key in OWNER_ONLY},
    }
