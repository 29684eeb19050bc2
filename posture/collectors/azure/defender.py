"""Microsoft Defender for Cloud, per subscription: the plans (pricings) and the assessments,
summarised per assessed resource.

**Plans** (``Microsoft.Security/pricings``, api-version 2024-01-01): one asset per subscription
whose ``plans`` map each plan (``VirtualMachines`` = Defender for Servers, ``Containers``,
``SqlServers``, ...) to its tier (``Free``/``Standard``), sub-plan and extensions (``isEnabled``
arrives as the strings ``"True"``/``"False"``).

**Assessments** (``Microsoft.Security/assessments``, api-version 2021-06-01, every assessment of
the subscription): a subscription holds thousands, so they are not kept one by one. One asset per
assessed resource (uid ``<resource id>/providers/microsoft.security/assessments``) counts its
assessments by status and names the oldest unhealthy one; the recommendations posture judges
are kept per *topic* (:data:`TOPICS`, by assessment key, else by display name): the worst
status, how many are unhealthy and since when (``statusChangeDate`` of an unhealthy assessment:
when it turned unhealthy; ``firstEvaluationDate`` when Azure gives no change date). Container
image assessments that Azure reports per image are counted on their registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from posture.collectors.azure.base import SubscriptionScope, id_name, props, rid
from posture.collectors.azure.rest import enabled, iso, subscription_listing
from posture.model import GLOBAL, Asset

PRICINGS = "Microsoft.Security/pricings"
ASSESSMENTS = "Microsoft.Security/assessments"
PRICING_API = "2024-01-01"
ASSESSMENT_API = "2021-06-01"
PERMISSIONS = ("Microsoft.Security/pricings/read", "Microsoft.Security/assessments/read")

TOPICS: dict[str, str] = {
    # System updates should be installed on your machines (powered by Azure Update Manager)
    "e1145ab1-eb4f-43d8-911b-36ddf771d13f": "system_updates",
    # System updates should be installed on your machines (the agent-based predecessor)
    "4ab6e3c5-74dd-8b35-9ab9-f61b30875b27": "system_updates",
    # Machines should be configured to periodically check for missing system updates
    "bd876905-5b84-4f73-ab2d-2e7a7c4568d9": "update_checks",
    # Machines should have vulnerability findings resolved
    "1195afff-c881-495e-9bc5-1486211ae03f": "machine_vulnerabilities",
    # Azure registry container images should have vulnerabilities resolved (MDVM, grouped)
    "c0b7cfc6-3172-465a-b378-53c7ff2cc0d5": "image_vulnerabilities",
    # Container registry images should have vulnerability findings resolved (Qualys, retired)
    "dbd0cb49-b563-45e7-9724-889e799fa648": "image_vulnerabilities",
    # Container images in Azure registry should have vulnerability findings resolved (per image)
    "33422d8f-ab1e-42be-bc9a-38685bb567b9": "image_vulnerabilities",
}
"""Assessment keys (the ``name`` of an assessment, the same in every tenant) of the
recommendations posture judges."""

_NAMED = (
    (re.compile(r"^(system updates should be installed|machines should have system updates)"),
     "system_updates"),
    (re.compile(r"periodically check for missing system updates"), "update_checks"),
    (re.compile(r"^machines should have vulnerability findings resolved"),
     "machine_vulnerabilities"),
    (re.compile(r"(registry|container registry) (container )?images should have vulnerabilit"),
     "image_vulnerabilities"),
    (re.compile(r"^container images in azure registry should have vulnerabilit"),
     "image_vulnerabilities"),
)
"""Display names of the same recommendations, for keys posture does not know yet."""

_REGISTRY = re.compile(r"^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/"
                       r"microsoft\.containerregistry/registries/[^/]+)")
_RANK = {"unhealthy": 2, "healthy": 1, "notapplicable": 0}


def collect(scope: SubscriptionScope) -> list[Asset]:
    pricings = subscription_listing(scope, "Microsoft.Security/pricings", PRICING_API,
                                    "security", "Pricings_List", (PRICINGS,))
    assessments = subscription_listing(scope, "Microsoft.Security/assessments", ASSESSMENT_API,
                                       "security", "Assessments_List", (ASSESSMENTS,))
    out = [] if pricings is None else [normalize_pricings(scope, pricings)]
    return out + normalize_assessments(scope, assessments or ())


def normalize_pricings(scope: SubscriptionScope, items: list[dict[str, Any]]) -> Asset:
    plans = {}
    for item in items:
        p = props(item)
        tier = p.get("pricingTier")
        plans[str(item.get("name"))] = {
            "tier": tier,
            "enabled": None if tier is None else str(tier).lower() == "standard",
            "sub_plan": p.get("subPlan"),
            "enablement_time": iso(p.get("enablementTime")),
            "coverage": p.get("resourcesCoverageStatus"),
            "deprecated": bool(p.get("deprecated")),
            "replaced_by": sorted(str(r) for r in p.get("replacedBy") or ()),
            "extensions": {str(e.get("name")): enabled(e.get("isEnabled"))
                           for e in sorted(p.get("extensions") or (),
                                           key=lambda e: str(e.get("name")))},
        }
    uid = f"{scope.sub_uid}/providers/microsoft.security/pricings"
    attrs = {"subscription_id": scope.subscription, "plans": dict(sorted(plans.items()))}
    name = f"Defender for Cloud plans of {scope.info.get('displayName') or scope.subscription}"
    return scope.asset(uid, PRICINGS, name, attrs, {"value": items}, region=GLOBAL)


def topic_of(key: str, display_name: str) -> str | None:
    """The topic of an assessment: by key, else by display name; ``None`` for the others."""
    if key.lower() in TOPICS:
        return TOPICS[key.lower()]
    name = display_name.strip().lower()
    return next((topic for pattern, topic in _NAMED if pattern.search(name)), None)


def _details(p: Mapping[str, Any]) -> Mapping[str, Any]:
    value = p.get("resourceDetails")
    return value if isinstance(value, Mapping) else {}


def _resource_of(item: Mapping[str, Any], topic: str | None) -> str | None:
    """The assessed resource's id (lower-case); an image assessment counts on its registry."""
    details = _details(props(item))
    resource = rid(details.get("id") or details.get("Id"))
    if resource is None:
        own = str(rid(item.get("id")) or "")
        resource = own.split("/providers/microsoft.security/assessments/")[0] or None
    if resource and topic == "image_vulnerabilities":
        match = _REGISTRY.match(resource)
        resource = match.group(1) if match else resource
    return resource


def normalize_assessments(scope: SubscriptionScope, items: Any) -> list[Asset]:
    """One summary asset per assessed resource (see the module docstring)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        p = props(item)
        key = str(item.get("name") or "")
        topic = topic_of(key, str(p.get("displayName") or ""))
        resource = _resource_of(item, topic)
        if resource:
            status = p.get("status") or {}
            grouped.setdefault(resource, []).append({
                "key": key.lower(),
                "display_name": p.get("displayName"),
                "topic": topic,
                "status": str(status.get("code") or "Unknown"),
                "cause": status.get("cause"),
                "since": iso(status.get("statusChangeDate")) or iso(
                    status.get("firstEvaluationDate")),
                "first_evaluated": iso(status.get("firstEvaluationDate")),
                "source": _details(p).get("source") or _details(p).get("Source"),
            })
    return [_summary(scope, resource, rows) for resource, rows in sorted(grouped.items())]


def _summary(scope: SubscriptionScope, resource: str, rows: list[dict[str, Any]]) -> Asset:
    counts = {"healthy": 0, "unhealthy": 0, "not_applicable": 0}
    for row in rows:
        label = {"notapplicable": "not_applicable"}.get(row["status"].lower(),
                                                      row["status"].lower())
        if label in counts:
            counts[label] += 1
    unhealthy = sorted((r for r in rows if r["status"].lower() == "unhealthy"),
                       key=lambda r: (r["since"] is None, r["since"] or "", r["key"]))
    topics: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["topic"] is not None:
            topics.setdefault(row["topic"], []).append(row)
    parts = resource.strip("/").split("/")
    attrs = {
        "resource_id": resource,
        "resource_type": "/".join(parts[-3:-1]) if "providers" in parts else "subscription",
        "source": rows[0]["source"],
        "counts": counts,
        "oldest_unhealthy": None if not unhealthy else {
            k: unhealthy[0][k] for k in ("key", "display_name", "since")},
        "topics": {t: _topic(rs) for t, rs in sorted(topics.items())},
    }
    uid = f"{resource}/providers/microsoft.security/assessments"
    kept = [r for r in rows if r["topic"] or r["status"].lower() == "unhealthy"]
    return scope.asset(uid, ASSESSMENTS, id_name(resource), attrs, {"assessments": kept},
                       region=GLOBAL)


def _topic(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One topic of one resource: the worst status, unhealthy count, oldest unhealthy since."""
    worst = max(rows, key=lambda r: (_RANK.get(r["status"].lower(), -1), r["key"]))
    bad = [r for r in rows if r["status"].lower() == "unhealthy"]
    dated = sorted(r["since"] for r in bad if r["since"])
    return {
        "status": worst["status"],
        "unhealthy": len(bad),
        "since": dated[0] if dated else None,
        "first_evaluated": min((r["first_evaluated"] for r in rows if r["first_evaluated"]),
                               default=None),
        "display_name": worst["display_name"],
        "key": worst["key"],
        "cause": worst["cause"],
    }
