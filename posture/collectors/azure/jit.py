"""Microsoft Defender for Cloud just-in-time VM access policies, per subscription.

The Security provider has no SDK package among posture's dependencies; its REST listing
(``Microsoft.Security/jitNetworkAccessPolicies``, api-version 2020-01-01, every location of the
subscription) is read through :class:`~posture.collectors.azure.graph.ArmRest`: azure-core's
pipeline with the management clients' credential, retries and TLS settings. A policy lists the
VMs it protects and, per VM, the ports it opens on request (source, longest duration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.azure.base import SubscriptionScope, props, rid
from posture.collectors.azure.graph import ArmRest
from posture.model import Asset

JIT_POLICY = "Microsoft.Security/locations/jitNetworkAccessPolicies"
API_VERSION = "2020-01-01"
PERMISSIONS = ("Microsoft.Security/locations/jitNetworkAccessPolicies/read",)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(ArmRest)
    url = client.url(f"{scope.sub_uid}/providers/Microsoft.Security/jitNetworkAccessPolicies",
                     {"api-version": API_VERSION})
    items = scope.listing("security", "JitNetworkAccessPolicies_List", (JIT_POLICY,),
                          lambda: client.pages(url))
    return [normalize_jit_policy(scope, item) for item in items or ()]


def _sources(port: Mapping[str, Any]) -> list[str]:
    one = port.get("allowedSourceAddressPrefix")
    many = port.get("allowedSourceAddressPrefixes") or ()
    return sorted({str(s) for s in ([one] if one else []) + list(many)})


def normalize_jit_policy(scope: SubscriptionScope, item: Mapping[str, Any]) -> Asset:
    p = props(item)
    vms = [
        {
            "vm_id": rid(vm.get("id")),
            "ports": [
                {
                    "number": int(port.get("number") or 0),
                    "protocol": str(port.get("protocol") or "*").lower(),
                    "allowed_sources": _sources(port),
                    "max_duration": port.get("maxRequestAccessDuration"),
                }
                for port in vm.get("ports") or ()
            ],
        }
        for vm in p.get("virtualMachines") or ()
    ]
    attrs = {
        "policy_name": item.get("name"),
        "kind": item.get("kind"),
        "provisioning_state": p.get("provisioningState"),
        "virtual_machines": vms,
        "vm_ids": sorted({str(v["vm_id"]) for v in vms if v["vm_id"]}),
        "open_requests": len(p.get("requests") or ()),
    }
    return scope.arm_asset(JIT_POLICY, item, attrs)
