"""Segregation on Azure: no VNet peering connects production and non-production networks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check

VNET = "Microsoft.Network/virtualNetworks"
PEERING = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
PROD, NONPROD = "production", "non-production"


@dataclass(frozen=True, slots=True)
class Env:
    vnet_id: str | None
    kind: str | None  # PROD, NONPROD, or None when unknown
    tag: str | None  # "Key=Value" that decided it

    def evidence(self) -> dict[str, Any]:
        return {"vnet_id": self.vnet_id, "environment": self.kind or "unknown", "tag": self.tag}


def classify(
    vnet: Asset | None, vnet_id: str | None, keys: Sequence[str], prod_values: Sequence[str]
) -> Env:
    """The environment of a VNet from its first environment tag (values case-insensitive)."""
    if vnet is None:
        return Env(vnet_id, None, None)
    prod = {v.lower() for v in prod_values}
    for key in keys:
        value = vnet.tags.get(key)
        if value is not None and value.strip():
            return Env(
                vnet_id, PROD if value.strip().lower() in prod else NONPROD, f"{key}={value}"
            )
    return Env(vnet_id, None, None)


@check(
    "azure.segregation.no_prod_nonprod_peering", Severity.HIGH, (Principle.SEGREGATION,),
    reads={VNET, PEERING},
    params={
        "environment_tag_keys": ("Environment", "environment", "env", "Env", "Stage"),
        "production_values": ("prod", "production", "prd"),
    },
)
def no_prod_nonprod_peering(ctx: CheckContext) -> Iterator[Result]:
    """No VNet peering connects production and non-production networks

    A connected peering with VNet access puts both networks in each other's VirtualNetwork service
    tag, which the default NSG rule AllowVnetInBound admits. Environments come from VNet tags; a
    remote VNet that was not scanned makes the verdict inconclusive.

    Remediation: Delete the peering (both directions), or disable 'allow virtual network access' on
    it; share what non-production needs through private endpoints instead.
    """
    keys, prod = ctx.param("environment_tag_keys"), ctx.param("production_values")
    vnets = {v.uid: v for v in ctx.inventory.of(VNET)}

    def env(vnet_id: str | None) -> Env:
        return classify(vnets.get(vnet_id or ""), vnet_id, keys, prod)

    for peering in ctx.inventory.of(PEERING):
        a, b = env(peering.attr("vnet_id")), env(peering.attr("remote_vnet_id"))
        state = peering.attr("peering_state")
        evidence = {
            "local": a.evidence(),
            "remote": b.evidence(),
            "peering_state": state,
            "allow_virtual_network_access": peering.attr("allow_virtual_network_access"),
        }
        if (
            str(state).lower() != "connected"
            or peering.attr("allow_virtual_network_access") is False
        ):
            yield ctx.passed(
                peering, f"peering carries no VNet traffic (state {state})", **evidence
            )
        elif {a.kind, b.kind} == {PROD, NONPROD}:
            yield ctx.fail(
                peering,
                f"connected peering links {a.kind} {_name(a)} ({a.tag}) "
                f"with {b.kind} {_name(b)} ({b.tag})",
                **evidence,
            )
        elif a.kind is None or b.kind is None:
            unknown = ", ".join(_name(e) for e in (a, b) if e.kind is None)
            yield ctx.unknown(
                peering,
                f"environment of {unknown} unknown (no environment tag, "
                "or VNet not in the scanned subscriptions)",
                **evidence,
            )
        else:
            yield ctx.passed(peering, f"peering connects two {a.kind} VNets", **evidence)


def _name(env: Env) -> str:
    return str(env.vnet_id or "?").rsplit("/", 1)[-1]
