"""Compute Engine: instances (tags, service accounts, external IPs, metadata scanned for secrets),
addresses, target HTTPS/SSL proxies and SSL policies. Networking lives in :mod:`compute_network`.

Instance metadata values (``startup-script``, ``user-data``, ``ssh-keys``, any key) are read by
anyone with ``compute.instances.get`` and from inside the VM: every value is scanned for
plaintext secrets and only the verdicts are kept (``metadata_secrets``), with the keys present
(``metadata_keys``) and the values of a short list of known settings that carry no secret
(``metadata``). Every value in ``raw`` is replaced by the redaction marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, last, short_path
from posture.collectors.gcp.compute_network import aggregated_items, list_items
from posture.collectors.secrets import Hit, quiet_logger, redact_name_values, scan_values
from posture.model import Asset

INSTANCE = "compute.googleapis.com/Instance"
ADDRESS = "compute.googleapis.com/Address"
GLOBAL_ADDRESS = "compute.googleapis.com/GlobalAddress"
HTTPS_PROXY = "compute.googleapis.com/TargetHttpsProxy"
SSL_PROXY = "compute.googleapis.com/TargetSslProxy"
SSL_POLICY = "compute.googleapis.com/SslPolicy"
PERMISSIONS = (
    "compute.addresses.list", "compute.globalAddresses.list", "compute.instances.list",
    "compute.regionSslPolicies.list", "compute.regionTargetHttpsProxies.list",
    "compute.sslPolicies.list", "compute.targetHttpsProxies.list", "compute.targetSslProxies.list",
)
METADATA_SETTINGS = frozenset(
    {
        "block-project-ssh-keys",
        "disable-legacy-endpoints",
        "enable-guest-attributes",
        "enable-os-inventory",
        "enable-oslogin",
        "enable-oslogin-2fa",
        "enable-oslogin-sk",
        "enable-osconfig",
        "google-logging-enabled",
        "google-monitoring-enabled",
        "serial-port-enable",
        "serial-port-logging-enable",
    }
)
"""Metadata keys whose values are kept verbatim: Compute Engine's own on/off settings."""
# the REST transport logs each aggregatedList response at DEBUG as a structured `extra`
# (google-cloud-compute 1.x fails to serialise the body and logs null; a fixed release would
# log every metadata value): posture drops those records
_INSTANCES_LOGGER = "google.cloud.compute_v1.services.instances.transports.rest"


def collect(scope: ProjectScope) -> list[Asset]:
    quiet_logger(_INSTANCES_LOGGER, "Received response")
    assets: list[Asset] = []
    fetched = aggregated_items(
        scope, "InstancesClient", "instances.aggregatedList", INSTANCE, "instances"
    )
    assets += [normalize_instance(scope, i) for i in fetched or []]
    fetched = aggregated_items(
        scope, "AddressesClient", "addresses.aggregatedList", ADDRESS, "addresses"
    )
    assets += [normalize_address(scope, a, ADDRESS) for a in fetched or []]
    fetched = list_items(scope, "GlobalAddressesClient", "globalAddresses.list", GLOBAL_ADDRESS)
    assets += [normalize_address(scope, a, GLOBAL_ADDRESS) for a in fetched or []]
    fetched = aggregated_items(
        scope,
        "TargetHttpsProxiesClient",
        "targetHttpsProxies.aggregatedList",
        HTTPS_PROXY,
        "target_https_proxies",
    )
    assets += [normalize_proxy(scope, p, HTTPS_PROXY) for p in fetched or []]
    fetched = list_items(scope, "TargetSslProxiesClient", "targetSslProxies.list", SSL_PROXY)
    assets += [normalize_proxy(scope, p, SSL_PROXY) for p in fetched or []]
    fetched = aggregated_items(
        scope, "SslPoliciesClient", "sslPolicies.aggregatedList", SSL_POLICY, "ssl_policies"
    )
    assets += [normalize_ssl_policy(scope, p) for p in fetched or []]
    return assets


def _interface(nic: Mapping[str, Any]) -> dict[str, Any]:
    configs = [
        c
        for c in nic.get("accessConfigs") or []
        if c.get("type", "ONE_TO_ONE_NAT") == "ONE_TO_ONE_NAT"
    ]
    ipv6 = [c.get("externalIpv6") for c in nic.get("ipv6AccessConfigs") or []]
    return {
        "name": nic.get("name"),
        "network": short_path(nic.get("network")),
        "subnetwork": short_path(nic.get("subnetwork")),
        "internal_ip": nic.get("networkIP"),
        "has_external_ipv4": bool(configs),
        "external_ipv4": sorted(c["natIP"] for c in configs if c.get("natIP")),
        "has_external_ipv6": bool(nic.get("ipv6AccessConfigs")),
        "external_ipv6": sorted(a for a in ipv6 if a),
    }


def normalize_instance(scope: ProjectScope, i: Mapping[str, Any]) -> Asset:
    nics = [_interface(n) for n in i.get("networkInterfaces") or []]
    sas = i.get("serviceAccounts") or []
    attrs = {
        "instance_name": i.get("name"),
        "zone": last(i.get("zone")),
        "status": i.get("status"),
        "machine_type": last(i.get("machineType")),
        "network_tags": sorted((i.get("tags") or {}).get("items") or []),
        "service_accounts": sorted(s.get("email") for s in sas if s.get("email")),
        "scopes": sorted({sc for s in sas for sc in s.get("scopes") or []}),
        "network_interfaces": nics,
        "external_ips": sorted(ip for n in nics for ip in n["external_ipv4"] + n["external_ipv6"]),
        "can_ip_forward": bool(i.get("canIpForward")),
        **normalize_metadata(i.get("metadata"), scope.project),
        "shielded_secure_boot": (i.get("shieldedInstanceConfig") or {}).get("enableSecureBoot"),
        "shielded_vtpm": (i.get("shieldedInstanceConfig") or {}).get("enableVtpm"),
        "shielded_integrity_monitoring": (i.get("shieldedInstanceConfig") or {}).get(
            "enableIntegrityMonitoring"),
        "deletion_protection": bool(i.get("deletionProtection")),
    }
    return scope.compute_asset(INSTANCE, redact_metadata(i), attrs)


def normalize_metadata(metadata: Mapping[str, Any] | None, project: str) -> dict[str, Any]:
    """``metadata`` (the known settings' values), ``metadata_keys`` and ``metadata_secrets``
    (detector verdicts, fingerprints keyed per project). No ``metadata`` in the payload (the API
    always returns it) = not seen: keys and verdicts are null."""
    if metadata is None:
        return {"metadata": {}, "metadata_keys": None, "metadata_secrets": None}
    values = {str(m.get("key")): str(m.get("value") or "") for m in metadata.get("items") or []}
    hits: list[Hit] = scan_values(values, project)
    flagged = {h["key"] for h in hits}
    return {
        "metadata": {
            k: v for k, v in values.items() if k in METADATA_SETTINGS and k not in flagged
        },
        "metadata_keys": sorted(values),
        "metadata_secrets": hits,
    }


def redact_metadata(i: Mapping[str, Any]) -> dict[str, Any]:
    """The instance payload with every metadata value replaced by the redaction marker."""
    metadata = i.get("metadata")
    if not isinstance(metadata, Mapping) or "items" not in metadata:
        return dict(i)
    return {**i, "metadata": {**metadata, "items": redact_name_values(metadata["items"])}}


def normalize_address(scope: ProjectScope, a: Mapping[str, Any], type_: str) -> Asset:
    attrs = {
        "address_name": a.get("name"),
        "address": a.get("address"),
        "address_type": a.get("addressType") or "EXTERNAL",
        "status": a.get("status"),
        "purpose": a.get("purpose"),
        "network_tier": a.get("networkTier"),
        "ip_version": a.get("ipVersion"),
        "users": sorted(short_path(u) or u for u in a.get("users") or []),
    }
    return scope.compute_asset(type_, a, attrs)


def normalize_proxy(scope: ProjectScope, p: Mapping[str, Any], type_: str) -> Asset:
    attrs = {
        "proxy_name": p.get("name"),
        "ssl_policy": short_path(p.get("sslPolicy")),
        "url_map": short_path(p.get("urlMap")),
        "backend_service": short_path(p.get("service")),
        "certificates": sorted(short_path(c) or c for c in p.get("sslCertificates") or []),
        "certificate_map": p.get("certificateMap"),
    }
    return scope.compute_asset(type_, p, attrs)


def normalize_ssl_policy(scope: ProjectScope, p: Mapping[str, Any]) -> Asset:
    attrs = {
        "policy_name": p.get("name"),
        "path": short_path(p.get("selfLink")),
        "profile": p.get("profile") or "COMPATIBLE",
        "min_tls_version": p.get("minTlsVersion") or "TLS_1_0",
        "custom_features": sorted(p.get("customFeatures") or []),
        "enabled_features": sorted(p.get("enabledFeatures") or []),
    }
    return scope.compute_asset(SSL_POLICY, p, attrs)
