"""Artifact Registry (v1) and Container Analysis (v1), discovery clients: the project's
repositories in every location (``locations/-``), whether each is scanned for vulnerabilities,
and for Docker repositories the latest image of each image name with its critical and high
vulnerability counts.

Scanning: a repository's ``vulnerabilityScanningConfig.enablementState`` when the API returns it
(``SCANNING_ACTIVE``, ``SCANNING_DISABLED``, ``SCANNING_UNSUPPORTED``); otherwise scanning follows
the Container Scanning API's enablement (``serviceusage.py``), which the check reads.

Vulnerabilities come from one ``occurrences:vulnerabilitySummary`` call per project (counts per
image digest and severity, fixable and total): summaries, not occurrences. The *latest* image of
an image name is its most recently uploaded digest; an image uploaded long ago and never rebuilt
is still the latest - its age is kept (``upload_time``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from posture.collectors.gcp.base import ProjectScope, last, parallel_map
from posture.collectors.gcp.listing import Listed, get, listing, segment_after
from posture.gcp import AR_REPOSITORY
from posture.model import Asset

SERVICE = "artifactregistry"
PERMISSIONS = (
    "artifactregistry.dockerimages.list", "artifactregistry.repositories.list",
    "containeranalysis.occurrences.list",
)
MAX_IMAGES = 100  # latest images kept per repository (the worst first)
Counts = dict[str, dict[str, int]]  # image uri -> {critical, high, fixable_critical, ...}


def uid(name: str) -> str:
    return f"//artifactregistry.googleapis.com/{name}"


def _ar(scope: ProjectScope) -> Any:
    return scope.clients.discovery("artifactregistry", "v1").projects().locations() \
        .repositories()


def collect(scope: ProjectScope) -> list[Asset]:
    repos = listing(scope, lambda: _ar(scope), "repositories", service=SERVICE,
                    operation="repositories.list", asset_types=(AR_REPOSITORY,),
                    parent=f"projects/{scope.project}/locations/-")
    if not repos.found:
        return []
    docker = [r for r in repos.found if r.get("format") == "DOCKER"]
    counts = fetch_vulnerability_counts(scope) if docker else {}

    def one(repo: dict[str, Any]) -> Asset:
        images: Listed | None = None
        if repo.get("format") == "DOCKER":
            images = listing(scope, lambda: _ar(scope).dockerImages(), "dockerImages",
                             service=SERVICE, operation="dockerImages.list",
                             asset_types=(f"{AR_REPOSITORY}#images",),
                             region=_location(repo), resource_uid=uid(str(repo["name"])),
                             parent=str(repo["name"]))
        return normalize_repository(scope, repo, images, counts)

    return parallel_map(one, repos.found)


def fetch_vulnerability_counts(scope: ProjectScope) -> Counts | None:
    """Critical/high counts per image (``host/project/repo/image@sha256:...``); None when the
    summary could not be read; empty when the Container Analysis API is off (nothing scanned)."""
    found = get(
        scope,
        lambda: scope.clients.discovery("containeranalysis", "v1").projects().occurrences()
        .getVulnerabilitySummary(parent=f"projects/{scope.project}"),
        service="containeranalysis", operation="occurrences.getVulnerabilitySummary",
        asset_types=(f"{AR_REPOSITORY}#vulnerabilities",), when_disabled={},
    )
    if found is None:
        return None
    out: Counts = {}
    for c in found.get("counts") or ():
        level = str(c.get("severity") or "").lower()
        if level not in ("critical", "high"):
            continue
        image = str(c.get("resourceUri") or "").removeprefix("https://")
        entry = out.setdefault(image, {})
        entry[level] = entry.get(level, 0) + int(c.get("totalCount") or 0)
        entry[f"fixable_{level}"] = entry.get(f"fixable_{level}", 0) + int(
            c.get("fixableCount") or 0)
    return out


def _location(repo: Mapping[str, Any]) -> str:
    return segment_after(str(repo.get("name")), "locations")


def latest_images(images: Sequence[Mapping[str, Any]], counts: Counts | None
                  ) -> list[dict[str, Any]]:
    """The most recently uploaded digest of each image name, with its vulnerability counts
    (null when the summary was not read), the worst first."""
    newest: dict[str, Mapping[str, Any]] = {}
    for img in images:
        uri = str(img.get("uri") or "")
        image = uri.split("@", 1)[0]
        seen = newest.get(image)
        if seen is None or str(img.get("uploadTime") or "") > str(seen.get("uploadTime") or ""):
            newest[image] = img
    out = []
    for image, img in newest.items():
        uri = str(img.get("uri") or "")
        got = None if counts is None else counts.get(uri, {})
        out.append({
            "image": image,
            "digest": uri.split("@", 1)[1] if "@" in uri else None,
            "tags": sorted(img.get("tags") or ()),
            "upload_time": img.get("uploadTime"),
            "build_time": img.get("buildTime"),
            **{k: None if got is None else got.get(k, 0)
               for k in ("critical", "high", "fixable_critical", "fixable_high")},
        })
    return sorted(out, key=lambda i: (-(i["critical"] or 0), -(i["high"] or 0), i["image"]))


def normalize_repository(scope: ProjectScope, repo: Mapping[str, Any], images: Listed | None,
                         counts: Counts | None) -> Asset:
    scanning = repo.get("vulnerabilityScanningConfig") or {}
    latest = None if images is None or images.items is None else latest_images(images.found,
                                                                                counts)
    attrs = {
        "repository_id": last(repo.get("name")),
        "location": _location(repo),
        "format": repo.get("format"),
        "mode": repo.get("mode") or "STANDARD_REPOSITORY",
        "kms_key_name": repo.get("kmsKeyName"),
        "scanning_config": scanning.get("enablementConfig"),
        "scanning_state": scanning.get("enablementState"),
        "scanning_state_reason": scanning.get("enablementStateReason"),
        "create_time": repo.get("createTime"),
        "update_time": repo.get("updateTime"),
        "cleanup_policy_count": len(repo.get("cleanupPolicies") or {}),
        "image_count": None if images is None or images.items is None else len(images.found),
        "vulnerability_counts_read": counts is not None,
        "latest_image_count": None if latest is None else len(latest),
        "latest_images": None if latest is None else latest[:MAX_IMAGES],
    }
    return scope.asset(uid(str(repo["name"])), AR_REPOSITORY, str(attrs["repository_id"]),
                       attrs, repo, region=_location(repo), tags=repo.get("labels") or {})
