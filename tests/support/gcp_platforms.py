"""Builders for the GCP platform assets of issue 18 (attrs as in docs/gcp-assets.md, "Platforms,
patching and managed data services"): VM Manager, Artifact Registry, GKE, Cloud Run, Cloud
Functions, BigQuery, Secret Manager. Defaults are the well-configured case; keyword arguments
override one attribute."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from posture.collectors.gcp.base import ProjectScope
from posture.demo.gcp_fake import load_routes, serving
from posture.gcp import (
    AR_REPOSITORY,
    BQ_DATASET,
    FUNCTION,
    GKE_CLUSTER,
    OS_INVENTORY,
    PATCH_DEPLOYMENT,
    RUN_SERVICE,
    SECRET,
    SERVICE_USAGE,
    VULNERABILITY_REPORT,
)
from posture.model import Asset

from .gcp import PROJECT_ID, gasset, instance
from .gcp_collect import DENIED, project_scope
from .model import FINISHED

ZONE = "us-central1-a"
FULL_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_SA = "123456789-compute@developer.gserviceaccount.com"  # support.gcp.project's number


def days_ago(days: int) -> str:
    """An RFC 3339 time ``days`` before the test inventories' scan (``FINISHED``)."""
    import datetime as dt

    end = dt.datetime.fromisoformat(FINISHED.replace("Z", "+00:00"))
    return (end - dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")


def with_attrs(asset: Asset, tags: dict[str, str] | None = None, **attrs: Any) -> Asset:
    """``asset`` with some attrs (and its labels) replaced."""
    return replace(asset, attrs={**asset.attrs, **attrs},
                   tags=asset.tags if tags is None else tags)


def vm(name: str, *, status: str = "RUNNING", labels: dict[str, str] | None = None,
       **attrs: Any) -> Asset:
    """A running instance (support.gcp.instance: external IP, app@ service account)."""
    base = instance(name, external=attrs.pop("external", True),
                    service_accounts=attrs.pop("service_accounts",
                                               ("app@acme-test.iam.gserviceaccount.com",)))
    defaults = {"status": status, "scopes": [], "can_ip_forward": False, "metadata": {},
                "shielded_secure_boot": True, "shielded_vtpm": True,
                "shielded_integrity_monitoring": True}
    return with_attrs(base, tags=labels or {}, **{**defaults, **attrs})


def api(service: str, state: str | None = "ENABLED", project: str = PROJECT_ID) -> Asset:
    return gasset(SERVICE_USAGE, f"//serviceusage.googleapis.com/projects/{project}/services/"
                  f"{service}", name=service, project=project, service=service, state=state)


def inventory(host: Asset, age_days: int = 1) -> Asset:
    return gasset(OS_INVENTORY, f"//osconfig.googleapis.com/projects/1/locations/{ZONE}/"
                  f"instances/{host.name}/inventory", name=host.name, region=ZONE,
                  instance=host.uid, instance_name=host.name, zone=ZONE,
                  update_time=days_ago(age_days), os_long_name="Debian GNU/Linux 12 (bookworm)",
                  agent_version="20240524.03-g1")


def report(host: Asset, *, critical: int = 0, critical_days: int = 0, high: int = 0,
           high_days: int = 0) -> Asset:
    return gasset(
        VULNERABILITY_REPORT, f"//osconfig.googleapis.com/projects/1/locations/{ZONE}/"
        f"instances/{host.name}/vulnerabilityReport", name=host.name, region=ZONE,
        instance=host.uid, instance_name=host.name, zone=ZONE, update_time=days_ago(1),
        critical_count=critical, critical_fixable=critical,
        critical_oldest=days_ago(critical_days) if critical else None,
        high_count=high, high_fixable=0, high_oldest=days_ago(high_days) if high else None,
        vulnerability_count=critical + high,
        top_cves=[{"cve": "CVE-2024-6387", "severity": "CRITICAL", "cvss_v3": 9.8,
                   "create_time": days_ago(critical_days), "fixable": True}] if critical else [])


def deployment(name: str = "weekly", *, recurring: bool = True, state: str = "ACTIVE",
               end_days_ago: int | None = None, schedule: dict[str, Any] | None = None,
               **flt: Any) -> Asset:
    """A patch deployment; ``flt``: instance filter fields (``all=True`` by default);
    ``schedule``: schedule attrs replacing the weekly default (``frequency``,
    ``max_interval_days``, ``month_day``, ...)."""
    instance_filter = {"all": not flt, "group_labels": [], "zones": [], "instances": [],
                       "name_prefixes": [], **flt}
    weekly = {"frequency": "WEEKLY", "weekly_day": "SUNDAY", "month_day": None,
              "week_day_of_month": None, "max_interval_days": 7}
    when = {**weekly, **(schedule or {})} if recurring else dict.fromkeys(weekly)
    return gasset(PATCH_DEPLOYMENT, f"//osconfig.googleapis.com/projects/{PROJECT_ID}/"
                  f"patchDeployments/{name}", deployment_id=name, state=state,
                  recurring=recurring,
                  end_time=None if end_days_ago is None else days_ago(end_days_ago),
                  instance_filter=instance_filter, **when)


def image(name: str, *, critical: int | None = 0, high: int | None = 0, age: int = 10
          ) -> dict[str, Any]:
    return {"image": f"us-docker.pkg.dev/{PROJECT_ID}/containers/{name}",
            "digest": "sha256:" + "a" * 64, "tags": ["latest"], "upload_time": days_ago(age),
            "build_time": days_ago(age), "critical": critical, "high": high,
            "fixable_critical": critical, "fixable_high": high}


def repository(name: str = "containers", *, scanning: str | None = "SCANNING_ACTIVE",
               images: list[dict[str, Any]] | None = None, fmt: str = "DOCKER",
               **attrs: Any) -> Asset:
    latest = [image("web")] if images is None else images
    base = {"repository_id": name, "location": "us", "format": fmt,
            "mode": "STANDARD_REPOSITORY", "scanning_state": scanning,
            "scanning_state_reason": None, "vulnerability_counts_read": True,
            "latest_images": latest, "latest_image_count": len(latest)}
    return gasset(AR_REPOSITORY, f"//artifactregistry.googleapis.com/projects/{PROJECT_ID}/"
                  f"locations/us/repositories/{name}", region="us", **{**base, **attrs})


def pool(name: str = "pool-1", **attrs: Any) -> dict[str, Any]:
    return {"name": name, "version": "1.35.1-gke.1396000",
            "service_account": "gke-nodes@acme-test.iam.gserviceaccount.com",
            "oauth_scopes": [FULL_SCOPE], "workload_metadata_mode": "GKE_METADATA",
            "legacy_endpoints_disabled": True, "private_nodes": True, "secure_boot": True,
            "integrity_monitoring": True, **attrs}


def cluster(name: str = "gke-1", *, pools: list[dict[str, Any]] | None = None,
            **attrs: Any) -> Asset:
    """A private, well-configured GKE cluster on a supported version."""
    base = {
        "cluster_name": name, "location": "us-central1", "status": "RUNNING", "autopilot": False,
        "current_master_version": "1.35.1-gke.1396000", "release_channel": "REGULAR",
        "public_endpoint_enabled": False, "public_endpoint": None,
        "private_endpoint": "10.0.0.2", "private_endpoint_global_access": False,
        "authorized_networks_enabled": True, "authorized_networks": ["10.0.0.0/8"],
        "gcp_public_cidrs_access": False, "private_nodes": True, "legacy_abac": False,
        "client_certificate": False, "basic_auth": False, "google_groups_rbac": True,
        "workload_pool": f"{PROJECT_ID}.svc.id.goog", "shielded_nodes": True,
        "network_policy": False, "datapath_provider": "ADVANCED_DATAPATH",
        "secrets_encryption_state": "ENCRYPTED",
        "secrets_kms_key": f"projects/{PROJECT_ID}/locations/us-central1/keyRings/r/cryptoKeys/k",
        "logging_service": "logging.googleapis.com/kubernetes",
        "logging_components": ["APISERVER", "SYSTEM_COMPONENTS", "WORKLOADS"],
        "node_pools": [pool()] if pools is None else pools,
    }
    return gasset(GKE_CLUSTER, f"//container.googleapis.com/projects/{PROJECT_ID}/locations/"
                  f"us-central1/clusters/{name}", region="us-central1", **{**base, **attrs})


def bindings(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"role": r, "members": [m], "condition": None} for r, m in pairs]


WEB_SA = "serviceAccount:web@acme-test.iam.gserviceaccount.com"


def run_service(name: str = "svc", *, ingress: str = "INGRESS_TRAFFIC_ALL",
                invokers: tuple[str, ...] = (WEB_SA,),
                labels: dict[str, str] | None = None, **attrs: Any) -> Asset:
    base = {"service_name": name, "region": "us-central1", "ingress": ingress,
            "invoker_iam_disabled": False, "iap_enabled": False, "default_uri_disabled": False,
            "runtime": None, "env_secrets": [],
            "iam_bindings": bindings(*(("roles/run.invoker", m) for m in invokers))}
    made = gasset(RUN_SERVICE, f"//run.googleapis.com/projects/{PROJECT_ID}/locations/"
                  f"us-central1/services/{name}", region="us-central1", tags=labels)
    return with_attrs(made, **{**base, **attrs})  # ``region`` is an attr here too


def function(name: str = "fn", *, gen: str = "GEN_2", ingress: str = "ALLOW_ALL",
             invokers: tuple[str, ...] = (), **attrs: Any) -> Asset:
    base = {"function_name": name, "region": "us-central1", "environment": gen,
            "runtime": "python312", "url": f"https://us-central1-{PROJECT_ID}.cloudfunctions.net/"
                                           f"{name}",
            "http_trigger": True, "ingress": ingress,
            "security_level": "SECURE_ALWAYS",
            "run_service": f"us-central1/{name}" if gen == "GEN_2" else None,
            "env_secrets": [],
            "iam_bindings": bindings(*(("roles/cloudfunctions.invoker", m) for m in invokers))}
    made = gasset(FUNCTION, f"//cloudfunctions.googleapis.com/projects/{PROJECT_ID}/"
                  f"locations/us-central1/functions/{name}", region="us-central1")
    return with_attrs(made, **{**base, **attrs})


def dataset(name: str = "ds", *, access: list[dict[str, Any]] | None = None,
            key: str | None = None, labels: dict[str, str] | None = None, **attrs: Any) -> Asset:
    entries = [{"role": "OWNER", "member": "projectOwners", "condition": None}] \
        if access is None else access
    base = {"dataset_id": name, "location": "US", "access": entries, "default_kms_key": key,
            "cmek": bool(key), "details_read": True}
    return gasset(BQ_DATASET, f"//bigquery.googleapis.com/projects/{PROJECT_ID}/datasets/{name}",
                  region="us", tags=labels, **{**base, **attrs})


def secret(name: str = "s", *, rotation_days: int | None = 30,
           iam: list[dict[str, Any]] | None = None, **attrs: Any) -> Asset:
    base = {"secret_id": name, "replication": "automatic", "kms_keys": [],
            "rotation_period_seconds": None if rotation_days is None else rotation_days * 86400,
            "topics": ["projects/acme-test/topics/rotate"], "expire_time": None,
            "iam_bindings": [] if iam is None else iam}
    return gasset(SECRET, f"//secretmanager.googleapis.com/projects/123456789/secrets/{name}",
                  **{**base, **attrs})


@contextmanager
def scope_on_fake(*refused: str, project: str = "acme-prod",
                  overrides: dict[str, Any] | None = None) -> Iterator[ProjectScope]:
    """``project``'s scope on a fresh fake serving the recorded routes, refusing the ``refused``
    calls (``"GET /v1/..."``, 403 PERMISSION_DENIED) and answering ``overrides`` instead of
    the recorded responses."""
    served = {**load_routes(), **dict.fromkeys(refused, DENIED), **(overrides or {})}
    with serving(served) as fake:
        yield project_scope(fake, project)
