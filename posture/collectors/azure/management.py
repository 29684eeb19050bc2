"""Management groups: the subscriptions below the management groups asked for (``--management-
group``), and the hierarchy itself as assets, so that a role assignment made at a management
group is known to cover exactly the subscriptions below it (:func:`posture.iam.azure_roles.covers`).

The Management Groups REST API (``descendants``, api-version 2020-05-01) is called through the
subscription client's own pipeline (``send_request``: its credential, retries and TLS settings),
so no extra SDK package is needed. Descendants list child groups and subscriptions, each with
its direct parent; a group's ``subscriptions`` are every subscription below it, transitively.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError

from posture.collectors.azure.base import AzureTarget, error_code, error_message, props, rid
from posture.model import GLOBAL, Asset, CollectionError, Provider
from posture.snapshot import jsonable

MANAGEMENT_GROUP = "Microsoft.Management/managementGroups"
API_VERSION = "2020-05-01"
SERVICE = "managementgroups"
PERMISSIONS = ("Microsoft.Management/managementGroups/read",)


def group_uid(name: str) -> str:
    return f"/providers/microsoft.management/managementgroups/{name.lower()}"


def fetch_descendants(client: Any, target: AzureTarget, group: str) -> list[dict[str, Any]]:
    """Every descendant (groups and subscriptions) of ``group``, following ``nextLink``."""
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    url: str | None = (
        f"{target.arm_endpoint.rstrip('/')}/providers/Microsoft.Management/managementGroups/"
        f"{group}/descendants?api-version={API_VERSION}"
    )
    out: list[dict[str, Any]] = []
    while url:
        response = client.send_request(HttpRequest("GET", url))
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        body = response.json()
        out += list(body.get("value") or [])
        url = body.get("nextLink")
    return out


def expand(
    client: Any, target: AzureTarget, errors: list[CollectionError]
) -> tuple[list[str], list[Asset]]:
    """(subscription ids below the target's management groups, the groups as assets); a group
    that cannot be read is recorded in ``errors`` (account ``managementGroups/<id>``)."""
    subs: list[str] = []
    assets: dict[str, Asset] = {}
    for group in dict.fromkeys(target.management_groups):
        try:
            items = fetch_descendants(client, target, group)
        except (AzureError, ValueError) as exc:
            errors.append(
                CollectionError(
                    Provider.AZURE, f"managementGroups/{group}", GLOBAL, SERVICE,
                    "ManagementGroups_GetDescendants", error_code(exc), error_message(exc),
                    (MANAGEMENT_GROUP,), group_uid(group),
                )
            )
            continue
        found = normalize_descendants(group, items)
        for a in found:
            assets.setdefault(a.uid, a)
        subs += found[0].attr("subscriptions")
    return sorted(dict.fromkeys(subs)), [assets[k] for k in sorted(assets)]


def normalize_descendants(group: str, items: Sequence[Mapping[str, Any]]) -> list[Asset]:
    """The requested group (first), then each descendant group; ``subscriptions``: every
    subscription below, transitively (lower-case ids)."""
    parent_of: dict[str, str] = {}
    groups: dict[str, Mapping[str, Any]] = {}
    subscriptions: list[str] = []
    for item in items:
        uid = str(rid(item.get("id")))
        parent_of[uid] = str(rid((props(item).get("parent") or {}).get("id")))
        if "managementgroups" in str(item.get("type", "")).lower():
            groups[uid] = item
        else:
            subscriptions.append(uid)
    top = group_uid(group)

    def below(g: str) -> list[str]:
        out = []
        for sub in subscriptions:
            node, seen = sub, set()
            while node in parent_of and node not in seen:
                seen.add(node)
                node = parent_of[node]
                if node == g:
                    out.append(sub.rsplit("/", 1)[-1])
                    break
        return sorted(out)

    out = [_asset(top, group, None, None, below(top), {"descendants": list(items)})]
    for uid, item in sorted(groups.items()):
        name = str(item.get("name") or uid.rsplit("/", 1)[-1])
        shown = props(item).get("displayName")
        out.append(_asset(uid, name, shown, parent_of.get(uid), below(uid), item))
    return out


def _asset(
    uid: str, name: str, shown: Any, parent: str | None, subs: list[str], raw: Any
) -> Asset:
    attrs = {
        "management_group": name,
        "display_name": shown,
        "parent": parent,
        "subscriptions": subs,
    }
    return Asset(
        uid=uid,
        provider=Provider.AZURE,
        type=MANAGEMENT_GROUP,
        account=f"managementGroups/{name}",
        region=GLOBAL,
        name=str(shown or name),
        tags={},
        attrs=jsonable(attrs),
        raw=jsonable(raw),
    )


def subscriptions_listed(groups: Sequence[Asset]) -> dict[str, tuple[str, str | None]]:
    """Each subscription the groups' descendants listed: lower-case id → (display name, the
    uid of its direct parent group). Read from the requested groups' recorded ``descendants``
    (an organisation scan names and places every subscription without one call per
    subscription)."""
    out: dict[str, tuple[str, str | None]] = {}
    for group in groups:
        raw = group.raw if isinstance(group.raw, Mapping) else {}
        for item in raw.get("descendants") or ():
            if not isinstance(item, Mapping) or "managementgroups" in str(
                item.get("type", "")
            ).lower():
                continue
            sub = str(rid(item.get("id")) or "").rsplit("/", 1)[-1]
            if sub:
                shown = props(item).get("displayName") or item.get("name") or sub
                out.setdefault(sub, (str(shown), rid((props(item).get("parent") or {})
                                                     .get("id"))))
    return out
