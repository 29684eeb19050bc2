"""Azure failed neighbours (:mod:`posture.graph.neighbours`): VMs a firewall may DNAT to when
the rule collection groups of its policy could not be read.

A firewall policy without its rules (``FirewallPolicyRuleCollectionGroups_List`` failed) leaves
its DNAT rules unknown - not empty - for every firewall using it, directly or as the base policy
of the firewall's own. Such a firewall may translate internet traffic to any private address it
routes to: every VM with a NIC in the firewall's VNet or in a VNet peered with it (a firewall
whose VNet is unknown: every VM of its subscription) depends on the failed call.
"""

from __future__ import annotations

from posture.graph.azure.reach import FIREWALL, FIREWALL_POLICY, NIC, PEERING, VM
from posture.graph.gaps import failed_details
from posture.model import Asset, CollectionError, Inventory, Provider

RULES = f"{FIREWALL_POLICY}#rules"


def dependents(inv: Inventory) -> dict[CollectionError, frozenset[str]]:
    out: dict[CollectionError, frozenset[str]] = {}
    for error, uid in failed_details(inv, Provider.AZURE, (RULES,)):
        firewalls = [fw for fw in inv.of(FIREWALL) if _uses(inv, fw, uid)]
        found = frozenset().union(*(_behind(inv, fw) for fw in firewalls))
        if found:
            out[error] = found
    return out


def _uses(inv: Inventory, fw: Asset, policy_uid: str) -> bool:
    """Whether ``fw``'s policy chain (its policy and their base policies) holds ``policy_uid``."""
    wanted, seen = policy_uid.lower(), set()
    policy_id = fw.attr("firewall_policy_id")
    while policy_id and str(policy_id).lower() not in seen:
        key = str(policy_id).lower()
        if key == wanted:
            return True
        seen.add(key)
        policy = _get(inv, str(policy_id))
        policy_id = policy.attr("base_policy_id") if policy is not None else None
    return False


def _get(inv: Inventory, uid: str) -> Asset | None:
    found = inv.get(uid)
    if found is None:
        found = next((a for a in inv.of(FIREWALL_POLICY) if a.uid.lower() == uid.lower()), None)
    return found


def _vnet(subnet_id: object) -> str:
    return str(subnet_id or "").lower().split("/subnets/")[0]


def _behind(inv: Inventory, fw: Asset) -> frozenset[str]:
    """The VMs whose NICs sit in ``fw``'s VNet or a VNet peered with it."""
    own = {_vnet(s) for s in fw.attr("subnet_ids") or ()}
    vms = [vm for vm in inv.of(VM) if vm.account == fw.account]
    if not own:
        return frozenset(vm.uid for vm in vms)
    vnets = set(own)
    for p in inv.of(PEERING):
        if str(p.attr("vnet_id") or "").lower() in own and p.attr("remote_vnet_id"):
            vnets.add(str(p.attr("remote_vnet_id")).lower())
    nics = {n.uid.lower(): n for n in inv.of(NIC)}
    out = set()
    for vm in vms:
        for nic_id in vm.attr("nic_ids") or ():
            nic = nics.get(str(nic_id).lower())
            if nic is None or any(
                _vnet(c.get("subnet_id")) in vnets for c in nic.attr("ip_configurations") or ()
            ):
                out.add(vm.uid)
    return frozenset(out)


__all__ = ["dependents"]
