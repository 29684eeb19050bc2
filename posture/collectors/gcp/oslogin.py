"""Compute Engine project settings (``projects.get``): the project's common instance metadata,
where OS Login (``enable-oslogin``, ``enable-oslogin-2fa``, ``enable-oslogin-sk``) is switched on
for every instance that does not override it (:mod:`posture.iam.gcp_access` merges the two
levels per instance).

Common instance metadata is read like an instance's (:func:`.compute.normalize_metadata`): only
the values of Compute Engine's own settings are kept, every value is scanned for plaintext
secrets and redacted in ``raw``. One asset per project, always present: when the call fails its
``metadata`` is null and the error names it (``resource_uid``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, to_json
from posture.collectors.gcp.compute import normalize_metadata, redact_metadata
from posture.collectors.secrets import quiet_logger
from posture.gcp import COMPUTE_PROJECT
from posture.model import Asset

SERVICE = "compute"
PERMISSIONS = ("compute.projects.get",)
_LOGGER = "google.cloud.compute_v1.services.projects.transports.rest"


def uid(project: str) -> str:
    return f"//compute.googleapis.com/projects/{project}"


def collect(scope: ProjectScope) -> list[Asset]:
    quiet_logger(_LOGGER, "Received response")
    client, retry = scope.clients.compute("ProjectsClient"), scope.clients.retry

    def get() -> dict[str, Any]:
        return to_json(client.get(project=scope.project, retry=retry))

    found = scope.call(SERVICE, "projects.get", (COMPUTE_PROJECT,), get,
                       resource_uid=uid(scope.project))
    return [normalize_compute_project(scope, found)]


def normalize_compute_project(scope: ProjectScope, project: Mapping[str, Any] | None) -> Asset:
    """``metadata`` {setting: value}, ``metadata_keys``, ``metadata_secrets`` of the common
    instance metadata (all null when the call failed), ``default_service_account``."""
    if project is None:
        attrs: dict[str, Any] = {"metadata": None, "metadata_keys": None,
                                 "metadata_secrets": None, "default_service_account": None}
        return scope.asset(uid(scope.project), COMPUTE_PROJECT, scope.project, attrs,
                           {"project": None})
    common = project.get("commonInstanceMetadata") or {}
    attrs = {
        **normalize_metadata(common, scope.project),
        "default_service_account": project.get("defaultServiceAccount"),
    }
    raw = redact_metadata({**project, "metadata": common})
    raw["commonInstanceMetadata"] = raw.pop("metadata")
    return scope.asset(uid(scope.project), COMPUTE_PROJECT, scope.project, attrs, raw)
