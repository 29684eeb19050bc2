"""Service Usage (v1, discovery client): whether the APIs that decide a control are enabled on the
project - VM Manager (``osconfig.googleapis.com``: OS inventory, vulnerability reports, patch
deployments) and automatic image scanning (``containerscanning.googleapis.com``: Artifact
Registry vulnerability scanning). One asset per project and API, always present: when the call
fails its ``state`` is null and the error names it (``resource_uid``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope
from posture.collectors.gcp.listing import get
from posture.gcp import SERVICE_USAGE
from posture.model import Asset

SERVICE = "serviceusage"
PERMISSIONS = ("serviceusage.services.get",)
OSCONFIG = "osconfig.googleapis.com"
CONTAINER_SCANNING = "containerscanning.googleapis.com"
APIS = (OSCONFIG, CONTAINER_SCANNING)


def uid(project: str, api: str) -> str:
    return f"//serviceusage.googleapis.com/projects/{project}/services/{api}"


def collect(scope: ProjectScope) -> list[Asset]:
    def one(api: str) -> Asset:
        name = f"projects/{scope.project}/services/{api}"
        found = get(
            scope, lambda: scope.clients.discovery("serviceusage", "v1").services().get(name=name),
            service=SERVICE, operation="services.get", asset_types=(SERVICE_USAGE,),
            resource_uid=uid(scope.project, api),
        )
        return normalize_service(scope, api, found)

    return [one(api) for api in APIS]


def normalize_service(scope: ProjectScope, api: str, found: Mapping[str, Any] | None) -> Asset:
    """``service`` (the API), ``state`` (``ENABLED`` / ``DISABLED``; null = not read),
    ``title``."""
    attrs = {
        "service": api,
        "state": None if found is None else found.get("state"),
        "title": None if found is None else (found.get("config") or {}).get("title"),
    }
    raw = {} if found is None else {k: v for k, v in found.items() if k != "config"}
    return scope.asset(uid(scope.project, api), SERVICE_USAGE, api, attrs, raw)
