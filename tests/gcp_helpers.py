"""Builders for small GCP inventories (attrs as in docs/gcp-assets.md)."""

from __future__ import annotations

from typing import Any

from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider, ScanMeta

PROJECT_ID = "acme-test"
NET = f"projects/{PROJECT_ID}/global/networks/vpc"


def gasset(
    type_: str,
    uid: str,
    name: str | None = None,
    region: str = GLOBAL,
    project: str = PROJECT_ID,
    tags: dict[str, str] | None = None,
    **attrs: Any,
) -> Asset:
    return Asset(
        uid=uid,
        provider=Provider.GCP,
        type=type_,
        account=project,
        region=region,
        name=name or uid.rsplit("/", 1)[-1],
        tags=tags or {},
        attrs=attrs,
    )


def ginventory(
    *assets: Asset,
    errors: tuple[CollectionError, ...] = (),
    finished_at: str = "2026-01-01T00:00:01+00:00",
) -> Inventory:
    meta = ScanMeta(
        scan_id="test-gcp",
        provider=Provider.GCP,
        tool_version="test",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at=finished_at,
        accounts=(PROJECT_ID,),
        regions=(GLOBAL,),
    )
    return Inventory(meta=meta, assets=tuple(assets), errors=errors)


def firewall(
    name: str,
    *,
    priority: int = 1000,
    direction: str = "INGRESS",
    action: str = "allow",
    rules: tuple[tuple[str, tuple[str, ...]], ...] = (("tcp", ("22",)),),
    source_ranges: tuple[str, ...] = ("0.0.0.0/0",),
    source_tags: tuple[str, ...] = (),
    target_tags: tuple[str, ...] = (),
    target_service_accounts: tuple[str, ...] = (),
    disabled: bool = False,
    network: str = NET,
) -> Asset:
    return gasset(
        "compute.googleapis.com/Firewall",
        f"//compute.googleapis.com/projects/{PROJECT_ID}/global/firewalls/{name}",
        firewall_name=name,
        network=network,
        priority=priority,
        direction=direction,
        action=action,
        rules=[{"protocol": p, "ports": list(ports)} for p, ports in rules],
        source_ranges=list(source_ranges),
        destination_ranges=[],
        source_tags=list(source_tags),
        source_service_accounts=[],
        target_tags=list(target_tags),
        target_service_accounts=list(target_service_accounts),
        disabled=disabled,
        logging_enabled=False,
    )


def instance(
    name: str,
    *,
    tags: tuple[str, ...] = (),
    external: bool = True,
    service_accounts: tuple[str, ...] = ("app@acme-test.iam.gserviceaccount.com",),
    network: str = NET,
    ipv6: str | None = None,
) -> Asset:
    nic = {
        "name": "nic0",
        "network": network,
        "subnetwork": None,
        "internal_ip": "10.0.0.2",
        "has_external_ipv4": external,
        "external_ipv4": ["34.1.2.3"] if external else [],
        "has_external_ipv6": ipv6 is not None,
        "external_ipv6": [ipv6] if ipv6 else [],
    }
    return gasset(
        "compute.googleapis.com/Instance",
        f"//compute.googleapis.com/projects/{PROJECT_ID}/zones/us-central1-a/instances/{name}",
        region="us-central1-a",
        instance_name=name,
        zone="us-central1-a",
        status="RUNNING",
        network_tags=list(tags),
        service_accounts=list(service_accounts),
        network_interfaces=[nic],
        external_ips=nic["external_ipv4"],
    )


def project(
    project_id: str = PROJECT_ID,
    number: str | None = "123456789",
    *,
    bindings: list[dict[str, Any]] | None = None,
    audit_configs: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
) -> Asset:
    return gasset(
        "cloudresourcemanager.googleapis.com/Project",
        f"//cloudresourcemanager.googleapis.com/projects/{project_id}",
        project=project_id,
        tags=labels,
        project_id=project_id,
        project_number=number,
        state="ACTIVE",
        labels=labels or {},
        iam_bindings=bindings,
        audit_configs=audit_configs,
    )


def binding(role: str, *members: str, condition: dict[str, str] | None = None) -> dict[str, Any]:
    return {"role": role, "members": sorted(members), "condition": condition}


def gcp_error(
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
    resource_uid: str | None = None,
    region: str = GLOBAL,
) -> CollectionError:
    return CollectionError(
        provider=Provider.GCP,
        account=PROJECT_ID,
        region=region,
        service=service,
        operation=operation,
        code="PERMISSION_DENIED",
        message="denied",
        asset_types=asset_types,
        resource_uid=resource_uid,
    )
