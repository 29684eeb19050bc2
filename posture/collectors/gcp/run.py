"""Cloud Run (discovery clients): the project's services with their ingress, invoker settings,
identity, runtime base image and environment (scanned for plaintext secrets), and each service's
IAM policy (who may invoke it).

The v2 API lists one region at a time (no wildcard), so the regions holding services come from
the v1 (Knative) listing on the global endpoint, which spans every region; each of those regions
is then listed with v2, whose shapes (``ingress``: ``INGRESS_TRAFFIC_ALL`` /
``INGRESS_TRAFFIC_INTERNAL_ONLY`` / ``INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER``,
``invokerIamDisabled``, ``iapEnabled``) are kept. Environment variable values are scanned and
then replaced in ``raw``; references to Secret Manager are kept by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, last, parallel_flat_map, parallel_map
from posture.collectors.gcp.listing import iam_bindings, listing, segment_after
from posture.collectors.secrets import redact_name_values, scan_values
from posture.gcp import RUN_SERVICE
from posture.model import Asset

SERVICE = "run"
PERMISSIONS = ("run.services.getIamPolicy", "run.services.list")
LOCATION_LABEL = "cloud.googleapis.com/location"


def uid(name: str) -> str:
    return f"//run.googleapis.com/{name}"


def _v2(scope: ProjectScope) -> Any:
    return scope.clients.discovery("run", "v2").projects().locations().services()


def collect(scope: ProjectScope) -> list[Asset]:
    everywhere = listing(
        scope, lambda: scope.clients.discovery("run", "v1").namespaces().services(), "items",
        service=SERVICE, operation="namespaces.services.list", asset_types=(RUN_SERVICE,),
        parent=f"namespaces/{scope.project}")
    regions = sorted({str(((s.get("metadata") or {}).get("labels") or {}).get(LOCATION_LABEL))
                      for s in everywhere.found} - {"None"})

    def region(location: str) -> list[dict[str, Any]]:
        found = listing(scope, lambda: _v2(scope), "services", service=SERVICE,
                        operation="services.list", asset_types=(RUN_SERVICE,), region=location,
                        parent=f"projects/{scope.project}/locations/{location}")
        return list(found.found)

    def one(svc: dict[str, Any]) -> Asset:
        name = str(svc["name"])
        policy = iam_bindings(scope, lambda: _v2(scope), name, service=SERVICE,
                              operation="services.getIamPolicy", facet=f"{RUN_SERVICE}#iam_policy",
                              resource_uid=uid(name), region=_region(name))
        return normalize_service(scope, svc, policy)

    return parallel_map(one, parallel_flat_map(region, regions))


def _region(name: str) -> str:
    return segment_after(name, "locations")


def runtime_of(base_image: str | None) -> str | None:
    """``.../serverless-runtimes/google-22-full/runtimes/nodejs22`` → ``nodejs22``."""
    if not base_image or "/runtimes/" not in base_image:
        return None
    return last(base_image).split("@", 1)[0].split(":", 1)[0]


def normalize_service(scope: ProjectScope, svc: Mapping[str, Any],
                      policy: list[dict[str, Any]] | None) -> Asset:
    template = svc.get("template") or {}
    containers = template.get("containers") or []
    env = [e for c in containers for e in c.get("env") or ()]
    plain = {str(e.get("name")): str(e.get("value") or "") for e in env if "value" in e}
    base_images = sorted({str(c["baseImageUri"]) for c in containers if c.get("baseImageUri")})
    runtimes = sorted({r for r in map(runtime_of, base_images) if r})
    labels = svc.get("labels") or {}
    vpc = template.get("vpcAccess") or {}
    name = str(svc["name"])
    attrs = {
        "service_name": last(name),
        "region": _region(name),
        "uri": svc.get("uri"),
        "ingress": svc.get("ingress") or "INGRESS_TRAFFIC_ALL",
        "invoker_iam_disabled": bool(svc.get("invokerIamDisabled")),
        "iap_enabled": bool(svc.get("iapEnabled")),
        "default_uri_disabled": bool(svc.get("defaultUriDisabled")),
        "service_account": template.get("serviceAccount"),
        "vpc_egress": vpc.get("egress"),
        "images": sorted({str(c.get("image")) for c in containers if c.get("image")}),
        "base_images": base_images,
        "runtime": runtimes[0] if runtimes else None,
        "encryption_key": template.get("encryptionKey"),
        "env_names": sorted(plain),
        "secret_env_names": sorted(str(e.get("name")) for e in env if e.get("valueSource")),
        "env_secrets": scan_values(plain, scope.project),
        "managed_by": labels.get("goog-managed-by"),
        "iam_bindings": policy,
    }
    raw = dict(svc)
    if containers:
        raw["template"] = {**template, "containers": [
            {**c, "env": redact_name_values(c.get("env"))} if c.get("env") else c
            for c in containers]}
    return scope.asset(uid(name), RUN_SERVICE, str(attrs["service_name"]), attrs, raw,
                       region=str(attrs["region"]), tags=labels)
