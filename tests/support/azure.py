"""Builders of small Azure inventories for check tests (attrs as in docs/azure-assets.md)."""

from __future__ import annotations

from typing import Any

from posture.model import GLOBAL, Asset, CollectionError, Inventory, Provider, ScanMeta

SUB = "11111111-1111-1111-1111-111111111111"
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
    return Asset(
        uid=uid.lower(),
        provider=Provider.AZURE,
        type=type_,
        account=SUB,
        region=region,
        name=name or uid.rsplit("/", 1)[-1],
        tags=tags or {},
        attrs=attrs,
    )


def inventory(*assets: Asset, errors: tuple[CollectionError, ...] = ()) -> Inventory:
    meta = ScanMeta(
        scan_id="test-scan",
        provider=Provider.AZURE,
        tool_version="test",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        accounts=(SUB,),
        regions=("westeurope", GLOBAL),
    )
    return Inventory(meta=meta, assets=tuple(assets), errors=errors)


def error(
    service: str,
    operation: str,
    asset_types: tuple[str, ...],
    resource_uid: str | None = None,
    region: str = GLOBAL,
) -> CollectionError:
    return CollectionError(
        Provider.AZURE,
        SUB,
        region,
        service,
        operation,
        "AuthorizationFailed",
        "The client does not have authorization to perform action",
        asset_types,
        resource_uid,
    )


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
    return {
        "name": name,
        "priority": priority,
        "access": access,
        "direction": direction,
        "protocol": protocol,
        "source_prefixes": [src] if isinstance(src, str) else src,
        "source_asg_ids": src_asgs or [],
        "source_ports": src_ports or ["*"],
        "destination_prefixes": [dst] if isinstance(dst, str) else dst,
        "destination_asg_ids": dst_asgs or [],
        "destination_ports": [ports] if isinstance(ports, str) else ports,
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


def vm(name: str, *nics: Asset) -> Asset:
    return az(
        "Microsoft.Compute/virtualMachines",
        f"{RG}/providers/microsoft.compute/virtualmachines/{name}",
        vm_name=name,
        nic_ids=[n.uid for n in nics],
    )
