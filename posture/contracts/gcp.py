"""The GCP asset contracts (docs/gcp-assets.md) as data: firewall rules, instances, buckets and
Cloud SQL instances. Firewall rules and instance interfaces and tags are structural."""

from __future__ import annotations

from collections.abc import Mapping

from posture.contracts.fields import (
    ID,
    NET_LIST,
    STRS,
    B,
    D,
    Field,
    N,
    S,
    list_of,
    map_of,
    record,
    required,
)

INTERFACE = record(
    name=S, network=S, subnetwork=S, internal_ip=S, has_external_ipv4=B, external_ipv4=STRS,
    has_external_ipv6=B, external_ipv6=STRS,
)

PEERING = record(
    name=S, network=S, state=S, export_custom_routes=B, import_custom_routes=B,
)

CONTRACTS: Mapping[str, Mapping[str, Field]] = {
    "compute.googleapis.com/Network": {
        "network_name": S, "path": ID, "auto_create_subnetworks": B, "legacy": B,
        "routing_mode": S, "subnetworks": NET_LIST, "peerings": list_of(PEERING).strict(),
        "firewall_policy_enforcement_order": S.structure(),
        "effective_firewall_policies": Field((list,)).structure(),
    },
    "compute.googleapis.com/Subnetwork": {
        "subnet_name": S, "path": ID, "network": ID, "ip_cidr_range": ID,
        "secondary_ranges": STRS.structure(), "private_google_access": B,
        "flow_logs_enabled": B, "purpose": S.structure(), "stack_type": S,
        "external_ipv6_prefix": ID,
    },
    "compute.googleapis.com/Route": {
        "route_name": S, "network": ID, "dest_range": ID, "priority": N.strict(),
        "tags": NET_LIST, "next_hop_kind": S.strict(), "next_hop": ID,
    },
    "cloudkms.googleapis.com/CryptoKey": {
        "key_name": S, "key_ring": S, "location": S, "purpose": S, "algorithm": S,
        "protection_level": S, "primary_state": S, "rotation_period_seconds": N,
        "next_rotation_time": S, "create_time": S,
        "iam_bindings": list_of(record(role=S, members=STRS, condition=D)),
    },
    "compute.googleapis.com/Firewall": {
        "firewall_name": S, "network": ID, "priority": N.strict(), "direction": S.strict(),
        "action": S.strict(),
        "rules": list_of(record(protocol=required(S), ports=STRS)).strict(),
        "source_ranges": NET_LIST, "destination_ranges": NET_LIST, "source_tags": NET_LIST,
        "source_service_accounts": NET_LIST, "target_tags": NET_LIST,
        "target_service_accounts": NET_LIST, "disabled": B.strict(), "logging_enabled": B,
    },
    "compute.googleapis.com/Instance": {
        "instance_name": S, "zone": S, "status": S, "machine_type": S,
        "network_tags": NET_LIST, "service_accounts": STRS.structure(), "scopes": STRS,
        "network_interfaces": list_of(INTERFACE).strict(), "external_ips": NET_LIST,
        "can_ip_forward": B, "metadata": D, "metadata_keys": STRS,
        "metadata_secrets": list_of(record(key=S, type=S, line=N, fingerprint=S)),
        "shielded_secure_boot": B, "shielded_vtpm": B, "shielded_integrity_monitoring": B,
        "deletion_protection": B,
    },
    "storage.googleapis.com/Bucket": {
        "bucket_name": S, "location": S, "location_type": S, "storage_class": S,
        "uniform_access": B, "public_access_prevention": S, "default_kms_key": S,
        "versioning": B, "logging_bucket": S, "retention_seconds": N, "time_created": S,
        "iam_bindings": list_of(record(role=S, members=STRS, condition=D)),
    },
    "sqladmin.googleapis.com/Instance": {
        "instance_name": S, "database_version": S, "state": S, "instance_type": S,
        "ipv4_enabled": B, "public_ips": STRS, "private_network": S,
        "authorized_networks": STRS, "require_ssl": B, "ssl_mode": S, "ssl_enforced": B,
        "connector_enforcement": S, "backups_enabled": B, "point_in_time_recovery": B,
        "database_flags": map_of(S), "kms_key_name": S,
    },
}

__all__ = ["CONTRACTS"]
