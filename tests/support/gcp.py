"""Builders for small GCP inventories (attrs as in docs/gcp-assets.md)."""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Any

from posture.graph.depth import Depth
from posture.model import (
    GLOBAL,
    Asset,
    CollectionError,
    Finding,
    Inventory,
    Provider,
    Status,
)

from .checks import by_uid, run_one
from .model import FINISHED, asset_of, inventory_of, refusal, scan_meta

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
    return asset_of(Provider.GCP, type_, uid, account=project, region=region,
                    name=name or uid.rsplit("/", 1)[-1], tags=tags, attrs=attrs)


def ginventory(
    *assets: Asset,
    errors: tuple[CollectionError, ...] = (),
    finished_at: str = FINISHED,
) -> Inventory:
    meta = scan_meta(Provider.GCP, (PROJECT_ID,), (GLOBAL,), scan_id="test-gcp",
                     finished_at=finished_at)
    return inventory_of(meta, assets, errors)


def results(
    check_id: str, *assets: Asset, errors: tuple[CollectionError, ...] = (), **params: Any
) -> dict[str, Finding]:
    """The findings of ``check_id`` on an inventory of ``assets``, by resource name."""
    inv = ginventory(*assets, errors=errors)
    return {f.resource_name: f for f in by_uid(run_one(check_id, inv, **params)).values()}


def statuses(
    check_id: str, *assets: Asset, errors: tuple[CollectionError, ...] = (), **params: Any
) -> dict[str, Status]:
    """The statuses of ``check_id``'s findings, by resource name."""
    return {k: f.status for k, f in results(check_id, *assets, errors=errors, **params).items()}


def depth_of(*assets: Asset, port: int = 22, name: str = "vm") -> Depth:
    """The defense depth of instance ``name`` on tcp/``port``."""
    from posture.graph.gcp.depth import GcpDepth
    from posture.graph.gcp.exposure import Estate

    inv = ginventory(*assets)
    host = next(a for a in inv.of("compute.googleapis.com/Instance") if a.name == name)
    return GcpDepth(Estate.of(inv), inv).host_depths(host, (port,))[0]


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
    zone: str = "us-central1-a",
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
        f"//compute.googleapis.com/projects/{PROJECT_ID}/zones/{zone}/instances/{name}",
        region=zone,
        instance_name=name,
        zone=zone,
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
    parent: str | None = None,
) -> Asset:
    extra = {"parent": parent} if parent else {}
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
        **extra,
    )


def ancestor(
    name: str,
    display: str | None = None,
    parent: str | None = None,
    *,
    bindings: list[dict[str, Any]] | None = None,
    audit_configs: list[dict[str, Any]] | None = None,
    unknown_policy: bool = False,
) -> Asset:
    """A folder (``folders/N``) or the organisation (``organizations/N``) above projects."""
    kind = "Folder" if name.startswith("folders/") else "Organization"
    return gasset(
        f"cloudresourcemanager.googleapis.com/{kind}",
        f"//cloudresourcemanager.googleapis.com/{name}",
        name=display or name,
        project=name,
        resource_name=name,
        display_name=display,
        parent=parent,
        state="ACTIVE",
        iam_bindings=None if unknown_policy else list(bindings or []),
        audit_configs=None if unknown_policy else list(audit_configs or []),
    )


def audit(*types: str, exempted: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """An allServices audit config logging ``types`` (exempted members per type)."""
    return {
        "service": "allServices",
        "log_types": {t: sorted((exempted or {}).get(t, [])) for t in types},
    }


def binding(role: str, *members: str, condition: dict[str, str] | None = None) -> dict[str, Any]:
    return {"role": role, "members": sorted(members), "condition": condition}


gcp_error = refusal(Provider.GCP, PROJECT_ID, "PERMISSION_DENIED", "denied")
"""``gcp_error(service, operation, asset_types, resource_uid=None, region=GLOBAL)``: a read the
Google APIs refused."""


def route(
    name: str,
    dest: str,
    kind: str = "internet_gateway",
    priority: int = 1000,
    *,
    tags: tuple[str, ...] = (),
) -> Asset:
    """A route of the network ``vpc``; ``kind``: internet_gateway, network or instance (nat)."""
    hop = {
        "internet_gateway": f"projects/{PROJECT_ID}/global/gateways/default-internet-gateway",
        "network": NET,
        "instance": f"projects/{PROJECT_ID}/zones/us-central1-a/instances/nat",
    }[kind]
    made = gasset(
        "compute.googleapis.com/Route",
        f"//compute.googleapis.com/projects/{PROJECT_ID}/global/routes/{name}",
        route_name=name,
        network=NET,
        dest_range=dest,
        priority=priority,
        next_hop_kind=kind,
        next_hop=hop,
    )
    return replace(made, attrs={**made.attrs, "tags": sorted(tags)})  # not the asset's labels


# -- firewall policies ------------------------------------------------------------------------


def prule(
    priority: int,
    action: str = "allow",
    *,
    ports: tuple[str, ...] = ("22",),
    protocol: str = "tcp",
    src: tuple[str, ...] = ("0.0.0.0/0",),
    direction: str = "INGRESS",
    disabled: bool = False,
    target_service_accounts: tuple[str, ...] = (),
    target_resources: tuple[str, ...] = (),
    target_tags: tuple[tuple[str, str], ...] = (),  # (tagValues/N, EFFECTIVE|INEFFECTIVE)
    src_secure_tags: tuple[str, ...] = (),
    src_fqdns: tuple[str, ...] = (),
    src_network_type: str | None = None,
    dest_ip_ranges: tuple[str, ...] = (),
    name: str | None = None,
    target_type: str | None = None,
) -> dict[str, Any]:
    """A normalized firewall-policy rule (docs/gcp-assets.md, "policy rule")."""
    return {
        "priority": priority,
        "rule_name": name,
        "description": None,
        "direction": direction,
        "action": action,
        "disabled": disabled,
        "logging_enabled": False,
        "layer4_configs": [{"protocol": protocol, "ports": list(ports)}],
        "src_ip_ranges": list(src),
        "dest_ip_ranges": list(dest_ip_ranges),
        "src_secure_tags": [{"name": t, "state": "EFFECTIVE"} for t in src_secure_tags],
        "src_address_groups": [],
        "src_fqdns": list(src_fqdns),
        "src_region_codes": [],
        "src_threat_intelligences": [],
        "src_network_type": src_network_type,
        "src_networks": [],
        "dest_address_groups": [],
        "target_secure_tags": [{"name": n, "state": st} for n, st in target_tags],
        "target_service_accounts": list(target_service_accounts),
        "target_resources": list(target_resources),
        "target_type": target_type,
    }


def epolicy(name: str, *rules: dict[str, Any], type_: str = "HIERARCHY") -> dict[str, Any]:
    """One entry of a network's ``effective_firewall_policies``."""
    number = str(zlib.crc32(name.encode())) if type_ == "HIERARCHY" else name
    return {
        "name": number,
        "short_name": name,
        "display_name": None,
        "type": type_,
        "priority": None,
        "rules": list(rules),
    }


def compute(
    type_: str, collection: str, name: str, *, region: str | None = None,
    zone: str | None = None, project: str = PROJECT_ID, **attrs: Any,
) -> Asset:
    """The ``compute.googleapis.com/<type_>`` asset ``name`` of ``collection`` (``firewalls``,
    ``backendServices``...): zonal with ``zone``, regional with ``region``, else global; its uid
    and ``path`` attribute spelled from where it lives."""
    where = f"zones/{zone}" if zone else f"regions/{region}" if region else "global"
    path = f"projects/{project}/{where}/{collection}/{name}"
    return gasset(f"compute.googleapis.com/{type_}", f"//compute.googleapis.com/{path}",
                  region=zone or region or GLOBAL, project=project, path=path, **attrs)


def network(
    name: str = "vpc",
    *,
    policies: list[dict[str, Any]] | None = None,
    order: str = "AFTER_CLASSIC_FIREWALL",
    unknown: bool = False,
) -> Asset:
    return compute(
        "Network", "networks", name, network_name=name, peerings=[], subnetworks=[],
        firewall_policy_enforcement_order=order,
        effective_firewall_policies=None if unknown else list(policies or []),
    )


def network_policy(
    name: str, *rules: dict[str, Any], region: str | None = None, networks: tuple[str, ...] = (NET,)
) -> Asset:
    return compute(
        "FirewallPolicy", "firewallPolicies", name, region=region, policy_name=name,
        scope="regional" if region else "global", description=None,
        associations=list(networks), rules=list(rules),
    )


def subnetwork(
    name: str, cidr: str, *, region: str = "us-central1", purpose: str = "PRIVATE"
) -> Asset:
    return compute("Subnetwork", "subnetworks", name, region=region, subnet_name=name,
                   network=NET, ip_cidr_range=cidr, purpose=purpose)


# -- load balancing ---------------------------------------------------------------------------


def forwarding_rule(
    name: str,
    *,
    target: str | None = None,
    backend_service: str | None = None,
    ports: str | None = "443-443",
    port_list: tuple[str, ...] = (),
    scheme: str = "EXTERNAL",
    region: str | None = None,
    protocol: str = "TCP",
    all_ports: bool = False,
    ip: str = "34.100.0.1",
    network: str | None = None,
    project: str = PROJECT_ID,
) -> Asset:
    """Forwarding rule ``name`` of ``project`` (regional with ``region``, else global);
    ``target`` and ``backend_service`` are paths below ``projects/<project>/``."""
    type_ = "ForwardingRule" if region else "GlobalForwardingRule"
    return compute(
        type_,
        "forwardingRules",
        name,
        region=region,
        project=project,
        rule_name=name,
        ip_address=ip,
        ip_protocol=protocol,
        port_range=ports,
        ports=list(port_list),
        all_ports=all_ports,
        load_balancing_scheme=scheme,
        target=f"projects/{project}/{target}" if target else None,
        backend_service=f"projects/{project}/{backend_service}" if backend_service else None,
        network=network,
        subnetwork=None,
        network_tier="PREMIUM",
        ip_version=None,
        source_ip_ranges=[],
    )


def proxy(
    kind: str,
    name: str,
    *,
    url_map: str | None = None,
    service: str | None = None,
    region: str | None = None,
) -> Asset:
    """``kind``: targetHttpProxies / targetHttpsProxies / targetSslProxies / targetTcpProxies."""
    types = {
        "targetHttpProxies": "TargetHttpProxy",
        "targetHttpsProxies": "TargetHttpsProxy",
        "targetSslProxies": "TargetSslProxy",
        "targetTcpProxies": "TargetTcpProxy",
    }
    return compute(
        types[kind],
        kind,
        name,
        region=region,
        proxy_name=name,
        url_map=f"projects/{PROJECT_ID}/{url_map}" if url_map else None,
        backend_service=f"projects/{PROJECT_ID}/{service}" if service else None,
        ssl_policy=None,
        certificates=[],
        certificate_map=None,
    )


def url_map(name: str, *services: str, region: str | None = None) -> Asset:
    full = [f"projects/{PROJECT_ID}/{s}" for s in services]
    return compute("UrlMap", "urlMaps", name, region=region, map_name=name,
                   default_service=full[0] if full else None, services=sorted(full),
                   redirect_only=not full)


def backend_service(
    name: str,
    *groups: str,
    port_name: str | None = None,
    protocol: str = "TCP",
    scheme: str = "EXTERNAL",
    region: str | None = None,
    security_policy: str | None = None,
    iap: bool = False,
) -> Asset:
    from posture.collectors.gcp.compute_lb import backend_kind

    return compute(
        "BackendService",
        "backendServices",
        name,
        region=region,
        service_name=name,
        protocol=protocol,
        port_name=port_name,
        port=None,
        load_balancing_scheme=scheme,
        backends=[
            {
                "group": f"projects/{PROJECT_ID}/{g}",
                "kind": backend_kind(f"projects/{PROJECT_ID}/{g}"),
                "balancing_mode": "UTILIZATION",
            }
            for g in groups
        ],
        network=None,
        security_policy=security_policy,
        edge_security_policy=None,
        iap_enabled=iap,
    )


def instance_group(
    name: str,
    *members: str,
    named_ports: tuple[tuple[str, int], ...] = (),
    zone: str = "us-central1-a",
    unknown_members: bool = False,
    network: str = NET,
) -> Asset:
    return compute(
        "InstanceGroup",
        "instanceGroups",
        name,
        zone=zone,
        group_name=name,
        network=network,
        subnetwork=None,
        named_ports=[{"name": n, "port": p} for n, p in named_ports],
        size=len(members),
        instances=None
        if unknown_members
        else [f"projects/{PROJECT_ID}/zones/{zone}/instances/{m}" for m in members],
    )


def target_pool(
    name: str,
    *members: str,
    region: str = "us-central1",
    zone: str = "us-central1-a",
    security_policy: str | None = None,
) -> Asset:
    return compute(
        "TargetPool", "targetPools", name, region=region, pool_name=name,
        instances=[f"projects/{PROJECT_ID}/zones/{zone}/instances/{m}" for m in members],
        security_policy=security_policy,
    )


# -- identity (checks/gcp_identity.py) --------------------------------------------------------


def vm_with_metadata(name: str, metadata: dict[str, str] | None, **kwargs: Any) -> Asset:
    """An :func:`instance` whose kept metadata settings are ``metadata`` (None = not seen)."""
    vm = instance(name, **kwargs)
    seen = metadata is not None
    return replace(vm, attrs={**vm.attrs, "metadata": dict(metadata or {}),
                              "metadata_keys": sorted(metadata or {}) if seen else None,
                              "metadata_secrets": [] if seen else None})


def compute_project(metadata: dict[str, str] | None, project_id: str = PROJECT_ID) -> Asset:
    """The project's Compute Engine settings (common instance metadata; None = not read)."""
    return gasset(
        "compute.googleapis.com/Project", f"//compute.googleapis.com/projects/{project_id}",
        name=project_id, project=project_id, metadata=metadata,
        metadata_keys=None if metadata is None else sorted(metadata),
        metadata_secrets=None if metadata is None else [], default_service_account=None,
    )


def org_policy(
    constraint: str, enforced: bool | None, *, conditional: bool = False,
    project_id: str = PROJECT_ID, **attrs: Any,
) -> Asset:
    """The effective organisation policy of ``constraint`` on the project."""
    return gasset(
        "orgpolicy.googleapis.com/Policy",
        f"//orgpolicy.googleapis.com/projects/{project_id}/policies/{constraint}",
        name=constraint, project=project_id, constraint=constraint, enforced=enforced,
        conditional=conditional, rules=[], **attrs,
    )


def sa_key(email: str, key_id: str, created: str | None, *, disabled: bool = False) -> Asset:
    """A user-managed service-account key created at ``created`` (RFC 3339)."""
    name = f"projects/{PROJECT_ID}/serviceAccounts/{email}/keys/{key_id}"
    return gasset(
        "iam.googleapis.com/ServiceAccountKey", f"//iam.googleapis.com/{name}",
        name=f"{email}/{key_id}", key_id=key_id, service_account_email=email,
        key_type="USER_MANAGED", key_origin="GOOGLE_PROVIDED", valid_after_time=created,
        valid_before_time="9999-12-31T23:59:59Z", disabled=disabled,
    )


def entitlement(
    name: str, roles: tuple[str, ...], eligible: tuple[str, ...], seconds: int | None,
    approvers: tuple[str, ...] = (), project_id: str = PROJECT_ID,
) -> Asset:
    """A Privileged Access Manager entitlement of the project."""
    full = f"projects/{project_id}/locations/global/entitlements/{name}"
    steps = [{"approvers": sorted(approvers), "approvals_needed": 1}] if approvers else []
    return gasset(
        "privilegedaccessmanager.googleapis.com/Entitlement",
        f"//privilegedaccessmanager.googleapis.com/{full}", name=name, project=project_id,
        entitlement_name=name, state="AVAILABLE",
        resource=f"//cloudresourcemanager.googleapis.com/projects/{project_id}",
        resource_type="cloudresourcemanager.googleapis.com/Project",
        role_bindings=[{"role": r, "condition": None} for r in roles],
        eligible_principals=sorted(eligible), max_request_duration_seconds=seconds,
        approval_required=bool(approvers), approval_steps=steps,
        requester_justification_required=True, create_time="2025-06-01T00:00:00Z",
    )
