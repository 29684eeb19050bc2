"""Azure attack paths: internet → port → VM → managed identity → role assignment → Owner of the
subscription.

Any process on a VM can fetch an access token for each of the VM's managed identities (the
system-assigned one, every user-assigned one) from the instance metadata service; there is no
gate to model (IMDS cannot be turned off per VM - only a firewall inside the guest, which a
compromised process with root undoes, or removing the identity). So:

- **identity half**: each identity's *active* role assignments (:meth:`RbacIndex.active`: PIM
  eligibilities need an activation the workload does not make; group membership is not
  expanded), each graded by :meth:`posture.iam.azure.RbacIndex.effective` - Owner power (Owner,
  a custom ``*``, or a role that can assign itself Owner: User Access Administrator, RBAC
  Administrator, custom ``roleAssignments/write``, a custom role it can widen) or Contributor
  power (every action but access management), and where:

  ========================  ============================================  ======================
  grant                     at a subscription, management group, root     at a resource group
  ========================  ============================================  ======================
  Owner power               ADMIN (administrator of the subscription)     BROAD ``resource_group``
  Contributor power         BROAD ``contributor``                         BROAD ``resource_group``
  left open by a condition  CONDITIONAL (+ the power it surely keeps)     CONDITIONAL
  role not collected        UNKNOWN                                       UNKNOWN
  ========================  ============================================  ======================

  Owner of a resource group (the VM's own, or another) administers that group only - its
  resources, their data and the access to them - not the subscription; a grant on one resource
  gives no account-wide power and is not counted. The worst grade over the identities wins, in
  the order admin, conditional (subscription-wide), Contributor of the subscription, resource
  group, conditional (resource group), unknown; a lesser decided power is named beside an
  undecided one. A role-assignment listing that failed (any subscription: a managed identity may
  hold roles in another) leaves an identity without a decided grade unknown, and so does an
  identity whose ``principalId`` was not collected. A VM without a managed identity has no power.
- **network half**: every tcp port the wide internet reaches on the VM
  (:mod:`posture.graph.azure.served`, the exposure checks' verdict on every port range: public
  IP, load-balancer rules and inbound NAT rules, firewall DNAT, both NSG levels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from posture.attack.path import AttackPath, IdentityHalf, NetworkHalf, Power, Reached
from posture.graph.azure.reach import NETWORK_READS, VM, AzureNetwork, Endpoint
from posture.graph.azure.served import internet_hops, served_ports, short
from posture.graph.paths import Reach
from posture.graph.ports import merged, ranges_text
from posture.iam.azure import Effective, RbacIndex
from posture.iam.azure_roles import DEFINE, ROLE_ASSIGNMENT, ROLE_DEFINITION, scope_label
from posture.iam.azure_roles import Power as RolePower
from posture.model import Asset, Inventory

LISTED = f"{ROLE_ASSIGNMENT}#listing"  # the listing itself (not the PIM facet)
# the VM listing carries the identities (user data and extensions are not read)
READS = (NETWORK_READS - {VM}) | {f"{VM}#listing", LISTED, ROLE_DEFINITION}
NO_GATE = ("always on: the instance metadata service cannot be turned off per VM, so nothing "
           "gates the identities (no gate)")
_RELEVANT = (Power.ADMIN, Power.CONDITIONAL, Power.BROAD, Power.UNKNOWN)
_WIDE = ("root", "management_group", "subscription")


@dataclass(frozen=True, slots=True)
class ManagedIdentity:
    kind: str  # "system-assigned" | "user-assigned"
    name: str  # the VM's name (system-assigned) or the identity's
    principal_id: str | None  # None: not collected
    resource_id: str | None = None  # the user-assigned identity resource

    @property
    def label(self) -> str:
        if self.kind == "system-assigned":
            return f"the system-assigned identity of {self.name}"
        return f"user-assigned identity {self.name}"

    def hop(self) -> dict[str, Any]:
        return {"kind": "managed identity", "id": f"{self.name} ({self.kind})",
                "rule": f"principal {self.principal_id}"}

    def evidence(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "principal_id": self.principal_id,
                "resource_id": self.resource_id}


def managed_identities(vm: Asset) -> list[ManagedIdentity]:
    """The VM's managed identities (attrs in docs/azure-assets.md)."""
    kinds = {k.strip().lower() for k in str(vm.attr("identity_type") or "").split(",")}
    out = []
    if "systemassigned" in kinds:
        out.append(ManagedIdentity("system-assigned", vm.name, vm.attr("identity_principal_id")))
    assigned = vm.attr("user_assigned_identities")
    if assigned is None and "userassigned" in kinds:  # a snapshot from before they were kept
        out.append(ManagedIdentity("user-assigned", "(not collected)", None))
    for u in assigned or ():
        out.append(ManagedIdentity("user-assigned", str(u.get("name") or short(u.get("id"))),
                                   u.get("principal_id"), u.get("id")))
    return out


def level(scope: str) -> str:
    """``root``, ``management_group``, ``subscription``, ``resource_group`` or ``resource``."""
    parts = scope.strip("/").lower().split("/")
    if parts == [""]:
        return "root"
    if parts[:2] == ["providers", "microsoft.management"]:
        return "management_group"
    if len(parts) == 2:
        return "subscription"
    return "resource_group" if len(parts) == 4 and parts[2] == "resourcegroups" else "resource"


@dataclass(frozen=True, slots=True)
class Hold:
    """What one active grant gives one of the VM's identities."""

    identity: ManagedIdentity
    found: Effective
    state: Power  # ADMIN, CONDITIONAL, BROAD or UNKNOWN
    grade: str = ""  # short of administrator: ``contributor`` or ``resource_group``

    @property
    def rank(self) -> int:
        if self.state is Power.ADMIN:
            return 0
        if self.state is Power.CONDITIONAL:
            return 4 if self.grade else 1  # administrator under conditions, or less
        if self.state is Power.BROAD:
            return 2 if self.grade == "contributor" else 3
        return 5

    @property
    def role_name(self) -> str:
        f = self.found
        return f.role.name if f.role is not None else f"role {f.grant.role_guid}"

    def where(self, vm: Asset) -> str:
        at = scope_label(self.found.at)
        own = level(self.found.at) == "resource_group" and \
            vm.uid.lower().startswith(self.found.at.lower().rstrip("/") + "/")
        return f"{at} (the VM's own)" if own else at

    @property
    def assigns(self) -> bool:
        """It gives itself the power by assigning a role (not an Owner role under a condition
        that lets it: that is Owner already)."""
        f = self.found
        return bool(f.technique) and f.technique != DEFINE and not (
            f.role is not None and f.role.power is RolePower.OWNER)

    def text(self, vm: Asset) -> str:
        f, where = self.found, self.where(vm)
        held = f"{self.role_name} at {scope_label(f.grant.scope)}"
        if f.role is None:
            return f"{held}: its definition was not collected"
        may = "may" if self.state is Power.CONDITIONAL else "can"
        how = ""
        if f.technique == DEFINE:
            how = f": it {may} widen its custom role {f.via} to '*' ({f.reason})"
        elif self.assigns:
            how = f": it {may} assign itself {f.via or 'Owner'} ({f.reason})"
        elif f.technique or self.state is Power.CONDITIONAL:
            how = f" under a condition ({f.reason})" if f.technique else f" {f.reason}"
        if self.state is Power.CONDITIONAL:
            return f"{held}{how}"
        if f.power is RolePower.CONTRIBUTOR:
            return f"{held}{how}: every action in {where} but access management"
        if self.grade == "resource_group":
            return f"{held}{how}: administrator of {where} only, not of the subscription"
        return f"{held}{how}" + (f", administrator of {where}" if f.at != f.grant.scope else "")

    def hops(self, vm: Asset) -> list[dict[str, Any]]:
        f = self.found
        out = [self.identity.hop()]
        if self.assigns or f.technique == DEFINE:
            out.append({"kind": "role", "id": self.role_name,
                        "rule": f"assignment at {scope_label(f.grant.scope)}"})
        if f.technique == DEFINE:
            out.append({"kind": "custom role", "id": f.via, "rule": "widened to '*'"})
        kind = "administrator of" if f.power is RolePower.OWNER else "contributor of"
        rule = f"assigns itself {f.via or 'Owner'}" if self.assigns else self.role_name
        if self.state is Power.CONDITIONAL or (f.grant.condition and not self.assigns):
            rule = f"{rule} (under a condition)"
        out.append({"kind": kind, "id": self.where(vm), "rule": rule})
        return out

    def evidence(self) -> dict[str, Any]:
        f, g = self.found, self.found.grant
        return {
            "identity": self.identity.name,
            "principal_id": g.principal_id,
            "role_assignment": g.asset.uid,
            "role_name": self.role_name,
            "role_definition_id": g.asset.attr("role_definition_id"),
            "scope": g.scope,
            "condition": g.condition,
            "state": self.state.value,
            "grade": self.grade or None,
            "becomes": f.power.name.lower() if f.power is not RolePower.NONE else None,
            "at_scope": f.at,
            "technique": f.technique,
            "via_role": f.via,
            "reason": f.reason or None,
        }


def grades(identity: ManagedIdentity, found: Effective) -> list[Hold]:
    """The attack grades of one grant: none (no account-wide power), one, or an undecided one
    and the lesser power it surely gives (its ``floor``)."""
    where = level(found.at)
    if where == "resource":
        return []
    if found.role is None:
        return [Hold(identity, found, Power.UNKNOWN)]
    wide = where in _WIDE
    broad = "contributor" if wide else "resource_group"
    if found.power is RolePower.NONE:
        return []
    if not found.certain:
        grade = "" if found.power is RolePower.OWNER and wide else broad
        out = [Hold(identity, found, Power.CONDITIONAL, grade)]
        if found.floor is not RolePower.NONE:
            sure = replace(found, power=found.floor, certain=True, technique=None, via=None,
                           reason="")
            out.append(Hold(identity, sure, Power.BROAD, broad))
        return out
    if found.power is RolePower.OWNER and wide:
        return [Hold(identity, found, Power.ADMIN)]
    return [Hold(identity, found, Power.BROAD, broad)]


@dataclass
class AzureAttack:
    """The join of one run's NSG reachability and RBAC index (built once per run)."""

    net: AzureNetwork
    rbac: RbacIndex
    unlisted: tuple[str, ...] = ()  # subscriptions whose role assignments could not be listed

    @classmethod
    def of(cls, inv: Inventory, net: AzureNetwork, rbac: RbacIndex) -> AzureAttack:
        failed = sorted({e.account for e in inv.errors if e.affects_types((LISTED,))})
        return cls(net, rbac, tuple(failed))

    def hosts(self) -> list[tuple[Asset, list[Endpoint]]]:
        return self.net.hosts()

    def path(self, vm: Asset, endpoints: Sequence[Endpoint]) -> AttackPath:
        """Both halves; the network half is computed only when the identity could matter."""
        identity = self.identity(vm)
        if identity.state in _RELEVANT:
            network = self.network(vm, endpoints)
        else:
            network = NetworkHalf(Reached.CLOSED, why="not evaluated: the identity has no power")
        return AttackPath(vm, network, identity)

    # -- the identity half ---------------------------------------------------------------------

    def identity(self, vm: Asset) -> IdentityHalf:
        found = managed_identities(vm)
        if not found:
            return IdentityHalf(Power.NONE, text="the VM has no managed identity")
        base: dict[str, Any] = {"identities": [i.evidence() for i in found],
                                "metadata_service": NO_GATE}
        holds: list[Hold] = []
        unknown = [f"the principal id of {i.label} was not collected"
                   for i in found if not i.principal_id]
        if self.unlisted:
            unknown.append("the role assignments of subscription "
                           f"{', '.join(self.unlisted)} could not be listed")
        for i in found:
            for g in self.rbac.active(i.principal_id or ""):
                holds += grades(i, self.rbac.effective(g))
        holds.sort(key=lambda h: h.rank)
        base["role_assignments"] = [h.evidence() for h in holds]
        decided = [h for h in holds if h.state is not Power.UNKNOWN]
        unknown += [h.text(vm) for h in holds if h.state is Power.UNKNOWN]
        if decided:
            return self._graded(vm, decided, unknown, base)
        first = found[0]
        if unknown:
            return IdentityHalf(Power.UNKNOWN, first.principal_id, _labels(found),
                                "; ".join(unknown), evidence={**base, "unknown": unknown})
        return IdentityHalf(
            Power.NONE, first.principal_id, _labels(found),
            f"{_labels(found)} {'holds' if len(found) == 1 else 'hold'} no Owner, Contributor "
            "or role-assignment power at a subscription, management group or resource group",
            evidence=base,
        )

    def _graded(self, vm: Asset, holds: list[Hold], unknown: list[str],
                base: Mapping[str, Any]) -> IdentityHalf:
        best = holds[0]
        text = best.text(vm)
        others = [h for h in holds[1:] if h.rank != best.rank]
        if best.state is Power.CONDITIONAL and any(h.state is Power.BROAD for h in others):
            lesser = next(h for h in others if h.state is Power.BROAD)
            text += f"; decided: {lesser.text(vm)}"
        elif best.state is Power.BROAD and any(h.state is Power.CONDITIONAL for h in others):
            more = next(h for h in others if h.state is Power.CONDITIONAL)
            text += f"; possibly more: {more.text(vm)}"
        if unknown and best.state is not Power.ADMIN:
            text += f"; not known: {'; '.join(unknown)}"
        f = best.found
        evidence = {**base, "admin_scope": f.at if f.power is RolePower.OWNER else None}
        if unknown:
            evidence["unknown"] = unknown
        fix = (f"remove the {best.role_name} assignment of {best.identity.label} at "
               f"{scope_label(f.grant.scope)} (grant the roles the workload needs, at the "
               "narrowest scope)")
        return IdentityHalf(best.state, best.identity.principal_id, best.identity.label, text,
                            tuple(best.hops(vm)), evidence, fix=fix, grade=best.grade)

    # -- the network half ----------------------------------------------------------------------

    def network(self, vm: Asset, endpoints: Sequence[Endpoint]) -> NetworkHalf:
        missing = [n for n in vm.attr("nic_ids") or () if n not in self.net.nics]
        served = served_ports(self.net, vm.uid, endpoints)
        exposed = served.exposed
        if exposed:
            paths = [{**p, "ports": ranges_text([served.range_of(piece.span[0])]),
                      **internet_hops(p, piece.endpoint, vm)}
                     for piece in exposed for p in piece.verdict.paths]
            first = paths[0]
            return NetworkHalf(Reached.EXPOSED, served.text(), tuple(paths),
                               tuple(first["hops"]), str(first["ports"]), str(first["summary"]),
                               fix=_network_fix(first))
        undecided = sorted({p.verdict.detail for p in served.undecided})
        undecided += [f"network interface {short(n)} not collected" for n in missing]
        if undecided:
            return NetworkHalf(Reached.UNDECIDED, served.text(Reach.UNKNOWN), why=undecided[0],
                               evidence={"undecided": undecided})
        if not endpoints:
            return NetworkHalf(Reached.CLOSED, why="the VM has no network interface")
        evidence: dict[str, Any] = {}
        latent = served.latent
        if latent:
            evidence["latent"] = [
                {"ports": ranges_text([p.span]), **p.verdict.evidence()} for p in latent[:5]
            ]
            open_ = ranges_text(merged(q.span for q in latent))
            why = f"the NSGs admit the internet on {open_}, but {latent[0].verdict.detail}"
        else:
            details = list(dict.fromkeys(p.verdict.detail for p in served.pieces))
            why = "; ".join(details[:3]) + ("; ..." if len(details) > 3 else "")
        return NetworkHalf(Reached.CLOSED, why=why, evidence=evidence)


def _labels(found: Sequence[ManagedIdentity]) -> str:
    return ", ".join(i.label for i in found)


def _network_fix(path: Mapping[str, Any]) -> str:
    port, via = path["ports"], short(path.get("via"))
    if path.get("entry") == "load-balancer":
        return f"stop forwarding {port} to the VM from load balancer {via} " \
            f"({path.get('lb_rule_kind')} {path.get('lb_rule')})"
    if path.get("entry") == "firewall-dnat":
        return f"remove DNAT rule {path.get('dnat_rule')} of firewall {via}"
    allows = [str(h["rule"].get("rule")) for h in path.get("hops") or ()
              if isinstance(h.get("rule"), Mapping) and h["rule"].get("access") == "allow"]
    if not allows:  # no NSG at either level (a Basic SKU public IP)
        return f"associate an NSG with the subnet or NIC, or remove public IP {via}"
    return f"remove the NSG rule admitting {port} from the internet (rule {allows[0]}), or " \
        f"public IP {via}"


__all__ = ["NO_GATE", "READS", "AzureAttack", "Hold", "ManagedIdentity", "grades", "level",
           "managed_identities"]
