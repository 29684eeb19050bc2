"""Google Kubernetes Engine (v1, discovery client): every cluster of the project
(``locations/-``: all zones and regions) with its control-plane endpoint, authorisation,
node identity and protection settings, and its node pools.

The endpoint is read from ``controlPlaneEndpointsConfig.ipEndpointsConfig`` where the API returns
a value there, else from the older ``privateClusterConfig`` / ``masterAuthorizedNetworksConfig``
(a cluster without ``privateClusterConfig`` has a public endpoint). Zones the listing could not
reach (``missingZones``) are recorded as errors for that zone.

``masterAuth`` carries credentials (client key, basic-auth password, certificates): only
``clientCertificateConfig`` is kept in ``raw``; node pools' instance metadata values are redacted
(``disable-legacy-endpoints`` is kept as an attribute).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope
from posture.collectors.gcp.listing import listing
from posture.collectors.secrets import REDACTED
from posture.gcp import GKE_CLUSTER
from posture.model import Asset

SERVICE = "container"
PERMISSIONS = ("container.clusters.list",)
DEFAULT_SA = "default"  # a node pool's serviceAccount when it runs as the default compute SA


def uid(project: str, location: str, name: str) -> str:
    return f"//container.googleapis.com/projects/{project}/locations/{location}/clusters/{name}"


def collect(scope: ProjectScope) -> list[Asset]:
    found = listing(
        scope, lambda: scope.clients.discovery("container", "v1").projects().locations()
        .clusters(), "clusters", service=SERVICE, operation="clusters.list",
        asset_types=(GKE_CLUSTER,), parent=f"projects/{scope.project}/locations/-")
    for zone in (found.extra or {}).get("missingZones") or ():
        scope.record(SERVICE, "clusters.list", "UNAVAILABLE",
                     f"the listing could not reach zone {zone}", (GKE_CLUSTER,), region=str(zone))
    return [normalize_cluster(scope, c) for c in found.found]


def _flag(config: Mapping[str, Any], key: str) -> bool | None:
    return bool(config[key]) if key in config else None


def endpoint(c: Mapping[str, Any]) -> dict[str, Any]:
    """The control plane's IP endpoints and who may reach the public one."""
    ip_cfg = (c.get("controlPlaneEndpointsConfig") or {}).get("ipEndpointsConfig") or {}
    private = c.get("privateClusterConfig") or {}
    public = _flag(ip_cfg, "enablePublicEndpoint")
    if public is None:
        public = not private.get("enablePrivateEndpoint")
    if ip_cfg.get("enabled") is False:
        public = False
    networks = ip_cfg.get("authorizedNetworksConfig")
    if networks is None:
        networks = c.get("masterAuthorizedNetworksConfig") or {}
    dns = (c.get("controlPlaneEndpointsConfig") or {}).get("dnsEndpointConfig") or {}
    return {
        "public_endpoint_enabled": public,
        "public_endpoint": ip_cfg.get("publicEndpoint") or private.get("publicEndpoint")
        or (c.get("endpoint") if public else None),
        "private_endpoint": ip_cfg.get("privateEndpoint") or private.get("privateEndpoint"),
        "private_endpoint_global_access": bool(
            ip_cfg.get("globalAccess")
            or (private.get("masterGlobalAccessConfig") or {}).get("enabled")),
        "authorized_networks_enabled": bool(networks.get("enabled")),
        "authorized_networks": sorted(str(b.get("cidrBlock")) for b in networks.get("cidrBlocks")
                                      or () if b.get("cidrBlock")),
        "gcp_public_cidrs_access": bool(networks.get("gcpPublicCidrsAccessEnabled")),
        "dns_endpoint_external": bool(dns.get("allowExternalTraffic")),
        "private_nodes": bool(private.get("enablePrivateNodes")
                              or (c.get("networkConfig") or {}).get("defaultEnablePrivateNodes")),
    }


def normalize_pool(p: Mapping[str, Any], cluster_private: bool) -> dict[str, Any]:
    config = p.get("config") or {}
    shielded = config.get("shieldedInstanceConfig") or {}
    network = p.get("networkConfig") or {}
    metadata = config.get("metadata") or {}
    legacy = str(metadata.get("disable-legacy-endpoints", "")).lower()
    management = p.get("management") or {}
    return {
        "name": p.get("name"),
        "version": p.get("version"),
        "service_account": config.get("serviceAccount") or DEFAULT_SA,
        "oauth_scopes": sorted(config.get("oauthScopes") or ()),
        "workload_metadata_mode": (config.get("workloadMetadataConfig") or {}).get("mode"),
        "legacy_endpoints_disabled": None if not legacy else legacy == "true",
        "private_nodes": bool(network.get("enablePrivateNodes", cluster_private)),
        "secure_boot": bool(shielded.get("enableSecureBoot")),
        "integrity_monitoring": bool(shielded.get("enableIntegrityMonitoring")),
        "image_type": config.get("imageType"),
        "auto_upgrade": bool(management.get("autoUpgrade")),
        "auto_repair": bool(management.get("autoRepair")),
    }


def redact_cluster(c: Mapping[str, Any]) -> dict[str, Any]:
    """The payload without credentials or metadata values."""
    out = dict(c)
    auth = c.get("masterAuth") or {}
    out["masterAuth"] = {k: (v if k == "clientCertificateConfig" else REDACTED)
                         for k, v in auth.items() if k != "clusterCaCertificate"}
    pools = []
    for p in c.get("nodePools") or ():
        config = dict(p.get("config") or {})
        if config.get("metadata"):
            config["metadata"] = {k: REDACTED for k in config["metadata"]}
        pools.append({**p, "config": config})
    out["nodePools"] = pools
    if (c.get("nodeConfig") or {}).get("metadata"):
        out["nodeConfig"] = {**c["nodeConfig"],
                             "metadata": {k: REDACTED for k in c["nodeConfig"]["metadata"]}}
    return out


def normalize_cluster(scope: ProjectScope, c: Mapping[str, Any]) -> Asset:
    auth = c.get("masterAuth") or {}
    point = endpoint(c)
    logging = ((c.get("loggingConfig") or {}).get("componentConfig") or {})
    monitoring = ((c.get("monitoringConfig") or {}).get("componentConfig") or {})
    network = c.get("networkConfig") or {}
    encryption = c.get("databaseEncryption") or {}
    location = str(c.get("location") or c.get("zone"))
    attrs = {
        "cluster_name": c.get("name"),
        "location": location,
        "status": c.get("status"),
        "autopilot": bool((c.get("autopilot") or {}).get("enabled")),
        "current_master_version": c.get("currentMasterVersion"),
        "current_node_version": c.get("currentNodeVersion"),
        "release_channel": (c.get("releaseChannel") or {}).get("channel") or "UNSPECIFIED",
        **point,
        "legacy_abac": bool((c.get("legacyAbac") or {}).get("enabled")),
        "client_certificate": bool((auth.get("clientCertificateConfig") or {}).get(
            "issueClientCertificate")),
        "basic_auth": bool(auth.get("username")),
        "google_groups_rbac": bool((c.get("authenticatorGroupsConfig") or {}).get("enabled")),
        "workload_pool": (c.get("workloadIdentityConfig") or {}).get("workloadPool"),
        "shielded_nodes": bool((c.get("shieldedNodes") or {}).get("enabled")),
        "network_policy": bool((c.get("networkPolicy") or {}).get("enabled")),
        "datapath_provider": network.get("datapathProvider"),
        "secrets_encryption_state": encryption.get("state") or "DECRYPTED",
        "secrets_kms_key": encryption.get("keyName") or None,
        "logging_service": c.get("loggingService"),
        "logging_components": sorted(logging.get("enableComponents") or ()),
        "monitoring_service": c.get("monitoringService"),
        "monitoring_components": sorted(monitoring.get("enableComponents") or ()),
        "node_pools": [normalize_pool(p, point["private_nodes"]) for p in c.get("nodePools")
                       or ()],
    }
    return scope.asset(uid(scope.project, location, str(c.get("name"))), GKE_CLUSTER,
                       str(c.get("name")), attrs, redact_cluster(c), region=location,
                       tags=c.get("resourceLabels") or {})
