"""Resource Manager v3: the ancestors of the scanned projects (folders up to the organisation)
and their IAM policies (version 3, with audit configs), which every project below inherits.

Ancestors are shared by many projects, so they are collected once, after the projects, by
walking ``parent`` from the projects' own ``parent`` (``folders.get``, ``organizations.get``)
level by level. Every ancestor met becomes an asset, also when a call fails (its attrs are then
null and the error names it by ``resource_uid``), so that the checks can say which ancestor is
unknown. An ancestor's account is its resource name (``folders/123``, ``organizations/42``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from posture.collectors.gcp.base import Clients, ProjectScope, parallel_map, to_json
from posture.collectors.gcp.resourcemanager import normalize_policy
from posture.gcp import FOLDER, ORGANIZATION, ancestor_uid
from posture.model import Asset, CollectionError

SERVICE = "cloudresourcemanager"
PERMISSIONS = (
    "resourcemanager.folders.get", "resourcemanager.folders.getIamPolicy",
    "resourcemanager.organizations.get", "resourcemanager.organizations.getIamPolicy",
)


def is_ancestor(name: Any) -> bool:
    return isinstance(name, str) and name.startswith(("folders/", "organizations/"))


def collect_ancestors(
    clients: Clients, parents: Iterable[Any]
) -> tuple[list[Asset], list[CollectionError]]:
    """Every ancestor above ``parents`` (the projects' ``parent`` values), each once."""
    assets: list[Asset] = []
    errors: list[CollectionError] = []
    seen: set[str] = set()
    level = sorted({str(p) for p in parents if is_ancestor(p)})
    while level:
        seen.update(level)
        found = parallel_map(lambda name: fetch_ancestor(clients, name), level)
        nxt: set[str] = set()
        for asset, errs in found:
            assets.append(asset)
            errors.extend(errs)
            parent = asset.attr("parent")
            if is_ancestor(parent) and parent not in seen:
                nxt.add(str(parent))
        level = sorted(nxt)
    return sorted(assets, key=lambda a: a.uid), errors


def fetch_ancestor(clients: Clients, name: str) -> tuple[Asset, list[CollectionError]]:
    scope = ProjectScope(name, clients)
    folder = name.startswith("folders/")
    kind, noun = (FOLDER, "folders") if folder else (ORGANIZATION, "organizations")
    client = clients.folders() if folder else clients.organizations()
    uid, retry = ancestor_uid(name), clients.retry

    def get() -> dict[str, Any]:
        if folder:
            return to_json(client.get_folder(name=name, retry=retry))
        return to_json(client.get_organization(name=name, retry=retry))

    def policy() -> dict[str, Any]:
        request = {"resource": name, "options": {"requested_policy_version": 3}}
        return to_json(client.get_iam_policy(request=request, retry=retry))

    meta = scope.call(SERVICE, f"{noun}.get", (kind,), get, resource_uid=uid)
    got = scope.call(SERVICE, f"{noun}.getIamPolicy", (f"{kind}#iam_policy",), policy,
                     resource_uid=uid)
    return normalize_ancestor(scope, kind, name, meta, got), list(scope.errors)


def normalize_ancestor(
    scope: ProjectScope,
    kind: str,
    name: str,
    meta: Mapping[str, Any] | None,
    policy: Mapping[str, Any] | None,
) -> Asset:
    """A folder or the organisation: ``parent`` and ``display_name`` null when ``get`` failed
    (an organisation has no parent), policy attrs null when ``getIamPolicy`` failed."""
    m = meta or {}
    attrs: dict[str, Any] = {
        "resource_name": name,
        "display_name": m.get("displayName"),
        "parent": m.get("parent"),
        "state": m.get("state"),
        **normalize_policy(policy),
    }
    if kind == ORGANIZATION:
        attrs["directory_customer_id"] = m.get("directoryCustomerId")
    label = str(m.get("displayName") or name)
    return scope.asset(ancestor_uid(name), kind, label, attrs,
                       {"resource": meta, "iam_policy": policy})
