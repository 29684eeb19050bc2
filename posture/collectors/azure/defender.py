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

**Findings** (``Microsoft.Security/assessments/{key}/subAssessments``, api-version
2019-01-01-preview, listed once per subscription for every vulnerability assessment key
(:data:`FINDING_TOPICS`) that is unhealthy somewhere in it): the per-CVE or per-rule results under
an assessment, never kept one by one. Each vulnerability topic of a resource gets a ``findings``
summary: open findings (status ``Unhealthy``; ``Healthy`` and ``NotApplicable`` ones, e.g.
exempted, are counted apart and are not findings) per severity, how many have a fix, the open
finding with the oldest published CVE, a few ids (worst first) and how many images they sit in.
Sub-assessments carry no first-seen date: the age of a topic stays its ``since``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from posture.collectors.azure.base import SubscriptionScope, id_name, parallel_map, props, rid
from posture.collectors.azure.graph import ArmRest
from posture.collectors.azure.rest import enabled, iso, subscription_listing
from posture.model import GLOBAL, Asset

PRICINGS = "Microsoft.Security/pricings"
ASSESSMENTS = "Microsoft.Security/assessments"
SUB_ASSESSMENTS = "Microsoft.Security/assessments/subAssessments"
PRICING_API = "2024-01-01"
ASSESSMENT_API = "2021-06-01"
SUB_ASSESSMENT_API = "2019-01-01-preview"
PERMISSIONS = ("Microsoft.Security/pricings/read", "Microsoft.Security/assessments/read",
               "Microsoft.Security/assessments/subAssessments/read")

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
    # SQL databases should have vulnerability findings resolved
    "82e20e14-edc5-4373-bfc4-f13121257c37": "sql_vulnerabilities",
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
    (re.compile(r"^sql databases should have vulnerability findings resolved"),
     "sql_vulnerabilities"),
)
"""Display names of the same recommendations, for keys posture does not know yet."""

FINDING_TOPICS = ("image_vulnerabilities", "machine_vulnerabilities", "sql_vulnerabilities")
"""The topics whose assessments have findings (sub-assessments) that posture summarises."""

_OWNERS = {  # topic -> the resource its assessments count on (an image's registry, a DB's server)
    "image_vulnerabilities": re.compile(r"^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/"
                                        r"microsoft\.containerregistry/registries/[^/]+)"),
    "sql_vulnerabilities": re.compile(r"^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/"
                                      r"microsoft\.sql/servers/[^/]+)"),
}
_RANK = {"unhealthy": 2, "healthy": 1, "notapplicable": 0}
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
"""Severities of findings, worst first (others sort after, by name)."""
KEPT_IDS = 5
_OWN = "/providers/microsoft.security/assessments/"


def collect(scope: SubscriptionScope) -> list[Asset]:
    pricings = subscription_listing(scope, "Microsoft.Security/pricings", PRICING_API,
                                    "security", "Pricings_List", (PRICINGS,))
    assessments = subscription_listing(scope, "Microsoft.Security/assessments", ASSESSMENT_API,
                                       "security", "Assessments_List", (ASSESSMENTS,))
    out = [] if pricings is None else [normalize_pricings(scope, pricings)]
    findings = fetch_findings(scope, assessments or ())
    return out + normalize_assessments(scope, assessments or (), findings)


Listed = tuple[str, list[dict[str, Any]] | None]
"""A key's topic and its sub-assessments (``None``: the listing failed)."""


def fetch_findings(scope: SubscriptionScope, assessments: Any) -> dict[str, Listed]:
    """The sub-assessments of every vulnerability assessment key that is unhealthy on some
    resource, by key; a failed listing is recorded with the facet
    ``Microsoft.Security/assessments/subAssessments#<topic>``."""
    wanted: dict[str, str] = {}
    for item in assessments:
        p = props(item)
        key = str(item.get("name") or "").lower()
        topic = topic_of(key, str(p.get("displayName") or ""))
        if topic in FINDING_TOPICS and str((p.get("status") or {}).get("code")).lower() == \
                "unhealthy":
            wanted[key] = str(topic)
    client = scope.client(ArmRest)

    def listing(key: str) -> tuple[str, Listed]:
        url = client.url(f"{scope.sub_uid}/providers/Microsoft.Security/assessments/{key}/"
                         "subAssessments", {"api-version": SUB_ASSESSMENT_API})
        return key, (wanted[key], scope.listing("security", "SubAssessments_List",
                                                (f"{SUB_ASSESSMENTS}#{wanted[key]}",),
                                                lambda: client.pages(url)))

    return dict(parallel_map(listing, sorted(wanted)))


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


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _details(p: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(p.get("resourceDetails"))


def _owner(resource: str | None, topic: str | None) -> str | None:
    """The resource an assessment of ``topic`` counts on: an image's registry, a database's
    server, else the resource itself."""
    pattern = _OWNERS.get(str(topic))
    match = pattern.match(resource) if pattern and resource else None
    return match.group(1) if match else resource


def _resource_of(item: Mapping[str, Any], topic: str | None) -> str | None:
    """The assessed resource's id (lower-case), by :func:`_owner`."""
    details = _details(props(item))
    resource = rid(details.get("id") or details.get("Id"))
    if resource is None:
        resource = str(rid(item.get("id")) or "").split(_OWN)[0] or None
    return _owner(resource, topic)


def normalize_assessments(scope: SubscriptionScope, items: Any,
                          findings: Mapping[str, Listed] | None = None) -> list[Asset]:
    """One summary asset per assessed resource (see the module docstring); ``findings`` are
    the sub-assessments read per assessment key (:func:`fetch_findings`)."""
    found = group_findings(findings or {})
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
    return [_summary(scope, resource, rows, found) for resource, rows in sorted(grouped.items())]


def _summary(scope: SubscriptionScope, resource: str, rows: list[dict[str, Any]],
             found: FindingIndex) -> Asset:
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
        "topics": {t: _topic(rs, _findings_of(found, resource, rs))
                   for t, rs in sorted(topics.items())},
    }
    uid = f"{resource}/providers/microsoft.security/assessments"
    kept = [r for r in rows if r["topic"] or r["status"].lower() == "unhealthy"]
    return scope.asset(uid, ASSESSMENTS, id_name(resource), attrs, {"assessments": kept},
                       region=GLOBAL)


def _topic(rows: list[dict[str, Any]], findings: dict[str, Any] | None) -> dict[str, Any]:
    """One topic of one resource: the worst status, unhealthy count, oldest unhealthy since,
    and the summary of its findings (``None``: not read)."""
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
        "findings": findings,
    }


FindingIndex = Mapping[str, Mapping[str, list[dict[str, Any]]] | None]
"""Sub-assessments by assessment key, then by the resource they count on (``None``: the key's
listing failed)."""


def group_findings(findings: Mapping[str, Listed]) -> FindingIndex:
    """Each key's sub-assessments by the resource they count on: the prefix of their own id
    (``<resource>/providers/Microsoft.Security/assessments/<key>/subAssessments/<name>``), an
    image's registry for image findings."""
    index: dict[str, dict[str, list[dict[str, Any]]] | None] = {}
    for key, (topic, items) in findings.items():
        if items is None:
            index[key] = None
            continue
        by_resource: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            resource = _owner(str(rid(item.get("id")) or "").split(_OWN)[0] or None, topic)
            if resource:
                by_resource.setdefault(resource, []).append(item)
        index[key] = by_resource
    return index


def _findings_of(index: FindingIndex, resource: str, rows: list[dict[str, Any]]
                 ) -> dict[str, Any] | None:
    """The findings summary of one topic of ``resource``: ``None`` when none of its keys was
    listed, or one of them failed."""
    keys = sorted({r["key"] for r in rows if r["key"] in index})
    if not keys:
        return None
    lists = [index[k] for k in keys]
    if any(found is None for found in lists):
        return None
    return summarize_findings([item for found in lists if found is not None
                               for item in found.get(resource, ())])


_FIX = {"fixavailable": True, "nofixavailable": False, "wontfix": False, "scheduled": False}


def finding(item: Mapping[str, Any]) -> dict[str, Any]:
    """One sub-assessment: status, severity, id, published date, fix, image. Reads the MDVM
    shape (``additionalData.vulnerabilityDetails``, ``softwareDetails``, ``artifactDetails``)
    and the older one (``cve``, ``patchable``, ``publishedTime``, ``imageDigest``)."""
    p = props(item)
    extra = _mapping(p.get("additionalData"))
    vuln, status = _mapping(extra.get("vulnerabilityDetails")), _mapping(p.get("status"))
    cves = [str(c.get("title")) for c in extra.get("cve") or () if isinstance(c, Mapping)]
    software = _mapping(extra.get("softwareDetails"))
    fix_status = str(software.get("fixStatus") or "").lower()
    patchable = extra.get("patchable")
    return {
        "status": str(status.get("code") or "").lower() or "unknown",
        "severity": str(vuln.get("severity") or status.get("severity") or "unknown").lower(),
        "id": str(vuln.get("cveId") or next(iter(cves), None) or p.get("id")
                  or p.get("displayName") or item.get("name")),
        "published": iso(vuln.get("publishedDate") or extra.get("publishedTime")),
        "fix": _FIX.get(fix_status) if fix_status else (
            patchable if isinstance(patchable, bool) else None),
        "image": _mapping(extra.get("artifactDetails")).get("digest") or extra.get("imageDigest"),
        "scanned": iso(p.get("timeGenerated")),
    }


def _severity_key(severity: str) -> tuple[int, str]:
    return SEVERITY_RANK.get(severity, len(SEVERITY_RANK)), severity


def summarize_findings(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Open findings (status Unhealthy) per severity, worst first; the others by status."""
    rows = [finding(item) for item in items]
    open_ = [r for r in rows if r["status"] == "unhealthy"]
    severities: dict[str, int] = {}
    for row in sorted(open_, key=lambda r: _severity_key(r["severity"])):
        severities[row["severity"]] = severities.get(row["severity"], 0) + 1
    not_open: dict[str, int] = {}
    for row in rows:
        if row["status"] != "unhealthy":
            label = {"notapplicable": "not_applicable"}.get(row["status"], row["status"])
            not_open[label] = not_open.get(label, 0) + 1
    worst = sorted(open_, key=lambda r: (_severity_key(r["severity"]),
                                         r["published"] or "~", r["id"]))
    dated = sorted((r for r in open_ if r["published"]), key=lambda r: (r["published"], r["id"]))
    fixes = [r["fix"] for r in open_ if r["fix"] is not None]
    images = {r["image"] for r in open_ if r["image"]}
    return {
        "open": len(open_),
        "severities": severities,
        "not_open": dict(sorted(not_open.items())),
        "fixable": sum(fixes) if fixes else None,
        "oldest_published": None if not dated else {
            k: dated[0][k] for k in ("id", "severity", "published")},
        "ids": list(dict.fromkeys(r["id"] for r in worst))[:KEPT_IDS],
        "images": len(images) if images else None,
        "last_scanned": max((r["scanned"] for r in rows if r["scanned"]), default=None),
    }
