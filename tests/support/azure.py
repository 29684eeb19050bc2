"""Builders of small Azure inventories for check tests (attrs as in docs/azure-assets.md)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider

from .model import asset_of, inventory_of, refusal, scan_meta

SUB = "11111111-1111-1111-1111-111111111111"
DEV = "22222222-2222-2222-2222-222222222222"
"""The second subscription of the ARM fake (posture.demo.azure_fake); SUB is the first."""
TENANT = "33333333-3333-3333-3333-333333333333"
SERVICE_PRINCIPAL = {
    "AZURE_TENANT_ID": TENANT,
    "AZURE_CLIENT_ID": "client-id",
    "AZURE_CLIENT_SECRET": "secret",
}
"""The environment of a service principal the ARM fake (posture.demo.azure_fake) accepts."""
RG = f"/subscriptions/{SUB}/resourcegroups/rg"
NET = f"{RG}/providers/microsoft.network"
VNET_ID = f"{NET}/virtualnetworks/vnet"


def az(
    type_: str,
    uid: str,
    name: str | None = None,
    region: str = "westeurope",
    tags: dict[str, str] | None = None,
    **attrs: Any,
) -> Asset:
    return asset_of(Provider.AZURE, type_, uid.lower(), account=SUB, region=region,
                    name=name or uid.rsplit("/", 1)[-1], tags=tags, attrs=attrs)


def inventory(*assets: Asset, errors: tuple[CollectionError, ...] = ()) -> Inventory:
    return inventory_of(scan_meta(Provider.AZURE, (SUB,), ("westeurope", GLOBAL)), assets, errors)


error = refusal(Provider.AZURE, SUB, "AuthorizationFailed",
                "The client does not have authorization to perform action")
"""``error(service, operation, asset_types, resource_uid=None, region=GLOBAL)``: a read ARM
refused."""


def rule(
    name: str,
    priority: int,
    access: str = "allow",
    direction: str = "inbound",
    src: str | list[str] = "*",
    ports: str | list[str] = "*",
    protocol: str = "tcp",
    dst: str | list[str] = "*",
    src_asgs: list[str] | None = None,
    dst_asgs: list[str] | None = None,
    src_ports: list[str] | None = None,
) -> dict[str, Any]:
    src, dst, ports = ([v] if isinstance(v, str) else v for v in (src, dst, ports))
    return {
        "name": name,
        "priority": priority,
        "access": access,
        "direction": direction,
        "protocol": protocol,
        "source_prefixes": src,
        "source_asg_ids": src_asgs or [],
        "source_ports": src_ports or ["*"],
        "destination_prefixes": dst,
        "destination_asg_ids": dst_asgs or [],
        "destination_ports": ports,
        "default": False,
    }


def nsg(name: str, *rules: dict[str, Any]) -> Asset:
    # default_rules empty: the evaluator uses Azure's fixed defaults
    return az(
        "Microsoft.Network/networkSecurityGroups",
        f"{NET}/networksecuritygroups/{name}",
        nsg_name=name,
        rules=list(rules),
        default_rules=[],
    )


def vnet(
    name: str = "vnet",
    prefixes: tuple[str, ...] = ("10.0.0.0/16",),
    tags: dict[str, str] | None = None,
) -> Asset:
    return az(
        "Microsoft.Network/virtualNetworks",
        f"{NET}/virtualnetworks/{name}",
        tags=tags,
        vnet_name=name,
        address_prefixes=list(prefixes),
    )


def subnet(
    name: str, prefix: str, nsg_asset: Asset | None = None, vnet_name: str = "vnet"
) -> Asset:
    vnet_id = f"{NET}/virtualnetworks/{vnet_name}"
    return az(
        "Microsoft.Network/virtualNetworks/subnets",
        f"{vnet_id}/subnets/{name}",
        subnet_name=name,
        vnet_id=vnet_id,
        address_prefixes=[prefix],
        nsg_id=nsg_asset.uid if nsg_asset else None,
        is_bastion_subnet=name.lower() == "azurebastionsubnet",
    )


def public_ip(name: str, address: str | None, sku: str | None = None) -> Asset:
    return az(
        "Microsoft.Network/publicIPAddresses",
        f"{NET}/publicipaddresses/{name}",
        ip_address=address,
        sku=sku,
    )


def nic(
    name: str,
    subnet_asset: Asset,
    private_ip: str,
    public: Asset | None = None,
    nsg_asset: Asset | None = None,
    asgs: tuple[str, ...] = (),
    nat_rules: tuple[str, ...] = (),
    pools: tuple[str, ...] = (),
) -> Asset:
    uid = f"{NET}/networkinterfaces/{name}"
    cfg = {
        "name": "ipconfig1",
        "id": f"{uid}/ipconfigurations/ipconfig1",
        "primary": True,
        "subnet_id": subnet_asset.uid,
        "private_ip": private_ip,
        "public_ip_id": public.uid if public else None,
        "asg_ids": list(asgs),
        "lb_backend_pool_ids": list(pools),
        "lb_nat_rule_ids": list(nat_rules),
    }
    return az(
        "Microsoft.Network/networkInterfaces",
        uid,
        nic_name=name,
        nsg_id=nsg_asset.uid if nsg_asset else None,
        ip_configurations=[cfg],
        vm_id=f"{RG}/providers/microsoft.compute/virtualmachines/vm-{name}",
    )


LB = f"{NET}/loadbalancers/lb"
LB_FRONTEND = f"{LB}/frontendipconfigurations/fe"


def nat_rule(name: str, frontend_port: int, backend_port: int) -> dict[str, Any]:
    """Inbound NAT rule ``name`` (tcp) of load balancer ``lb``; a NIC names its ``id``."""
    return {"name": name, "id": f"{LB}/inboundnatrules/{name}", "protocol": "tcp",
            "frontend_port": frontend_port, "backend_port": backend_port,
            "frontend_ids": [LB_FRONTEND]}


def lb_rule(
    name: str, frontend_port: int, backend_port: int, pool: str, protocol: str = "tcp"
) -> dict[str, Any]:
    """Load-balancing rule ``name`` of load balancer ``lb`` to its backend pool ``pool``."""
    return {"name": name, "protocol": protocol, "frontend_port": frontend_port,
            "backend_port": backend_port, "frontend_ids": [LB_FRONTEND],
            "backend_pool_ids": [f"{LB}/backendaddresspools/{pool}"]}


def load_balancer(
    pip: Asset | None, *, rules: tuple[dict[str, Any], ...] = (),
    nat_rules: tuple[dict[str, Any], ...] = (), sku: str | None = None,
) -> Asset:
    """Load balancer ``lb``: frontend ``fe`` on public IP ``pip`` (None: an internal frontend),
    load-balancing ``rules`` (:func:`lb_rule`) and ``nat_rules`` (:func:`nat_rule`)."""
    return az("Microsoft.Network/loadBalancers", LB, sku=sku,
              frontends=[{"id": LB_FRONTEND, "public_ip_id": pip.uid if pip else None}],
              rules=list(rules), inbound_nat_rules=list(nat_rules))


def vm(name: str, *nics: Asset) -> Asset:
    return az(
        "Microsoft.Compute/virtualMachines",
        f"{RG}/providers/microsoft.compute/virtualmachines/{name}",
        vm_name=name,
        nic_ids=[n.uid for n in nics],
    )


def one_vm(
    subnet_nsg: Asset | None = None,
    nic_nsg: Asset | None = None,
    pip: Asset | None = None,
    extra: tuple[Asset, ...] = (),
    *,
    name: str = "h",
    **nic_kwargs: Any,
) -> list[Asset]:
    """VM ``name`` (NIC nic-<name>, 10.0.2.4 in subnet web 10.0.2.0/24 of vnet 10.0.0.0/16)
    behind the given subnet and NIC NSGs and public IP (each asset once)."""
    sn = subnet("web", "10.0.2.0/24", subnet_nsg)
    card = nic(f"nic-{name}", sn, "10.0.2.4", public=pip, nsg_asset=nic_nsg, **nic_kwargs)
    assets = [vnet(), sn, card, vm(name, card), *extra]
    return assets + list({a.uid: a for a in (subnet_nsg, nic_nsg, pip) if a is not None}.values())


# -- managed identities and role assignments (attack paths) -------------------------------------

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITION = "Microsoft.Authorization/roleDefinitions"
SUB_SCOPE = f"/subscriptions/{SUB}"
ROLES = f"{SUB_SCOPE}/providers/microsoft.authorization/roledefinitions"
OWNER = f"{ROLES}/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = f"{ROLES}/b24988ac-6180-42a0-ab88-20f7382dd24c"
UAA = f"{ROLES}/18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
READER = f"{ROLES}/acdd72a7-3385-48ef-bd42-f606fba81ae7"
MI = "5a000000-0000-0000-0000-000000000001"
"""The principal id of the system-assigned identity :func:`identified` gives a VM by default."""


def role_assignment(
    name: str,
    role: str,
    principal: str = MI,
    scope: str = SUB_SCOPE,
    condition: str | None = None,
    eligible: bool = False,
    *,
    ptype: str = "ServicePrincipal",
    pim: dict[str, Any] | None = None,
    **attrs: Any,
) -> Asset:
    """An active role assignment (or, ``eligible``, a PIM eligibility) of a principal of type
    ``ptype`` (a service principal unless said otherwise); ``attrs``: more attributes."""
    kind = "roleeligibilityscheduleinstances" if eligible else "roleassignments"
    type_ = "Microsoft.Authorization/roleEligibilityScheduleInstances" if eligible else \
        ROLE_ASSIGNMENT
    return az(type_, f"{scope}/providers/microsoft.authorization/{kind}/{name}", name=name,
              region=GLOBAL, scope=scope.lower(), principal_id=principal, principal_type=ptype,
              role_definition_id=role.lower(), condition=condition, pim=pim, **attrs)


def role_definition(
    guid: str,
    *blocks: tuple[list[str], list[str]],
    data: list[str] | None = None,
    scopes: tuple[str, ...] = (SUB_SCOPE,),
    kind: str = "CustomRole",
) -> Asset:
    """Role definition ``guid`` (named ``role-<guid>``) of the subscription: its permission
    ``blocks`` as (actions, notActions), ``data`` actions in each."""
    perms = [
        {"actions": a, "not_actions": n, "data_actions": data or [], "not_data_actions": []}
        for a, n in blocks
    ]
    return az(ROLE_DEFINITION, f"{ROLES}/{guid}", name=f"role-{guid}", region=GLOBAL,
              role_name=f"role-{guid}", role_type=kind,
              actions=sorted({x for a, _ in blocks for x in a}),
              not_actions=sorted({x for _, n in blocks for x in n}),
              data_actions=data or [], permissions=perms, assignable_scopes=list(scopes))


def identified(
    assets: list[Asset], system: str | None = MI, users: dict[str, str | None] | None = None,
) -> list[Asset]:
    """``assets`` with its VM given managed identities: system-assigned (principal ``system``,
    None for none) and user-assigned ``{name: principal id}`` (identities in rg)."""
    users = users or {}
    kinds = [k for k, on in (("SystemAssigned", system), ("UserAssigned", users)) if on]
    attrs = {
        "identity_type": ", ".join(kinds) or None,
        "identity_principal_id": system,
        "user_assigned_identities": [
            {"id": f"{RG}/providers/microsoft.managedidentity/userassignedidentities/{n}",
             "name": n, "principal_id": p, "client_id": None}
            for n, p in sorted(users.items())
        ],
    }
    return [replace(a, attrs={**a.attrs, **attrs}) if a.type == VM_TYPE else a for a in assets]


VM_TYPE = "Microsoft.Compute/virtualMachines"
