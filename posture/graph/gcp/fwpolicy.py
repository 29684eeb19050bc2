"""Firewall policies (Cloud NGFW) on top of the VPC rules: hierarchical policies of the
organisation and folders, global and regional network firewall policies, and the chain of
stages an ingress packet walks for one interface (:func:`chain_for`).

Evaluation order (https://cloud.google.com/firewall/docs/firewall-policies-rule-eval-order):
hierarchical policies as ``networks.getEffectiveFirewalls`` returns them (the organisation's
first, then the folders' from the top down), system policies, then - by the network's
``networkFirewallPolicyEnforcementOrder`` - the VPC rules before (``AFTER_CLASSIC_FIREWALL``,
the default) or after (``BEFORE_CLASSIC_FIREWALL``) the global and then the regional network
firewall policy; the implied rules last. Within a policy the lowest priority number is
evaluated first; ``goto_next`` passes to the next stage.

A policy rule applies to an interface when it is enabled, of direction ``INGRESS``, targets VM
interfaces (not internal managed load balancers), lists the interface's network among its
``targetResources`` (or lists none) and one of the instance's service accounts among its
``targetServiceAccounts`` (or lists none). A rule that targets EFFECTIVE secure tags applies
to the instances bound to those tags: tag bindings are not collected, so such a rule *may*
apply to any instance of the network and the verdicts it can change are undecided
(INCONCLUSIVE), never silently applied or ignored. A rule whose tags are all INEFFECTIVE
applies to nothing.

Sources of an internet packet: ``srcIpRanges``; ``srcSecureTags`` match only VMs inside the
VPC; address groups, FQDNs, geolocations and threat-intelligence lists are not resolved (the
rule *may* match); ``srcNetworkType`` narrows the match (``INTERNET`` for internet clients,
``INTRA_VPC`` / ``NON_INTERNET`` / ``VPC_NETWORKS`` for proxy-only subnets). Ingress
destination ranges are not resolved either. ``apply_security_profile_group`` admits the
packet to L7 inspection (treated as allow).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from posture.gcp import FIREWALL, FIREWALL_POLICY, NETWORK
from posture.graph.gcp.fw import (
    Chain,
    Net,
    Nic,
    Origin,
    Stage,
    Tri,
    VpcRule,
    in_ranges,
    parse_nets,
    ports_match,
    protocols_of,
    vpc_stage,
)
from posture.model import Asset, Inventory

AFTER = "AFTER_CLASSIC_FIREWALL"
BEFORE = "BEFORE_CLASSIC_FIREWALL"
_UNRESOLVED_SOURCES = (
    ("src_address_groups", "address groups"),
    ("src_fqdns", "FQDNs"),
    ("src_region_codes", "geolocations"),
    ("src_threat_intelligences", "threat-intelligence lists"),
)
_STAGE_KIND = {
    "HIERARCHY": "hierarchy",
    "SYSTEM_GLOBAL": "system",
    "SYSTEM_REGIONAL": "system",
    "NETWORK": "network",
    "NETWORK_REGIONAL": "network-regional",
}


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One rule of a firewall policy, normalized as in docs/gcp-assets.md."""

    uid: str
    name: str
    policy: str
    policy_type: str
    priority: int
    rule_name: str | None
    direction: str
    action: str  # allow / deny / goto_next / apply_security_profile_group
    disabled: bool
    protocols: tuple[tuple[str, tuple[tuple[int, int], ...]], ...]
    src_ip_ranges: tuple[str, ...]
    src_secure_tags: bool
    unresolved_sources: tuple[str, ...]
    src_network_type: str | None
    src_networks: tuple[str, ...]
    dest_ranges: bool
    target_networks: tuple[str, ...]
    target_service_accounts: tuple[str, ...]
    target_secure_tags: tuple[str, ...]  # the EFFECTIVE ones
    ineffective_tags_only: bool
    target_type: str | None

    @classmethod
    def of(cls, policy: Mapping[str, Any], rule: Mapping[str, Any], policy_uid: str) -> PolicyRule:
        label = str(policy.get("display_name") or policy.get("short_name") or policy.get("name"))
        priority = int(rule.get("priority") or 0)
        tags = rule.get("target_secure_tags") or []
        effective = tuple(
            str(t.get("name")) for t in tags if str(t.get("state") or "EFFECTIVE") != "INEFFECTIVE"
        )
        unresolved = tuple(
            f"{title} {', '.join(map(str, rule.get(key) or ()))}"
            for key, title in _UNRESOLVED_SOURCES
            if rule.get(key)
        )
        action = str(rule.get("action") or "").lower()
        return cls(
            uid=f"{policy_uid}#rule{priority}",
            name=f"{label} rule {priority}"
            + (f" ({rule['rule_name']})" if rule.get("rule_name") else ""),
            policy=label,
            policy_type=str(policy.get("type") or "NETWORK"),
            priority=priority,
            rule_name=rule.get("rule_name"),
            direction=str(rule.get("direction") or "INGRESS"),
            action="allow" if action == "apply_security_profile_group" else action,
            disabled=bool(rule.get("disabled")),
            protocols=protocols_of(rule.get("layer4_configs") or ()),
            src_ip_ranges=tuple(rule.get("src_ip_ranges") or ()),
            src_secure_tags=bool(rule.get("src_secure_tags")),
            unresolved_sources=unresolved,
            src_network_type=rule.get("src_network_type"),
            src_networks=tuple(rule.get("src_networks") or ()),
            dest_ranges=bool(rule.get("dest_ip_ranges") or rule.get("dest_address_groups")),
            target_networks=tuple(rule.get("target_resources") or ()),
            target_service_accounts=tuple(rule.get("target_service_accounts") or ()),
            target_secure_tags=effective,
            ineffective_tags_only=bool(tags) and not effective,
            target_type=rule.get("target_type"),
        )

    def static_match(self, nic: Nic, protocol: str, port: int) -> tuple[Tri, str | None]:
        if self.disabled or self.direction != "INGRESS" or self.ineffective_tags_only:
            return Tri.NO, None
        if self.target_type not in (None, "", "INSTANCES"):
            return Tri.NO, None
        if self.target_networks and nic.network not in self.target_networks:
            return Tri.NO, None
        if self.target_service_accounts and not (
            set(self.target_service_accounts) & set(nic.service_accounts)
        ):
            return Tri.NO, None
        if not ports_match(self.protocols, protocol, port):
            return Tri.NO, None
        if self.target_secure_tags:
            return Tri.MAYBE, (
                f"{self.name} targets secure tag(s) {', '.join(self.target_secure_tags)}; "
                "the instances' tag bindings are not collected"
            )
        if self.dest_ranges:
            return Tri.MAYBE, f"{self.name} restricts ingress destinations (not resolved)"
        return Tri.YES, None

    def nets(self, family: int) -> list[Net]:
        return parse_nets(self.src_ip_ranges, family)

    def source_match(self, address: int, family: int, origin: Origin) -> tuple[Tri, str | None]:
        context = self._network_context(origin)
        if context is Tri.NO:
            return Tri.NO, None
        has_ip_criteria = bool(
            self.src_ip_ranges or self.src_secure_tags or self.unresolved_sources
        )
        if not has_ip_criteria or in_ranges(address, self.src_ip_ranges, family):
            address = Tri.YES
        elif self.unresolved_sources:
            address = Tri.MAYBE
        else:  # secure-tag sources are VMs of the VPC, never internet or proxy traffic
            address = Tri.NO
        result = min(context, address)
        if result is not Tri.MAYBE:
            return result, None
        why = []
        if address is Tri.MAYBE:
            why.append(f"{self.name} matches sources by {'; '.join(self.unresolved_sources)}")
        if context is Tri.MAYBE:
            why.append(f"{self.name} matches the source network type {self.src_network_type}")
        return Tri.MAYBE, " and ".join(why) + " (not resolved)"

    def _network_context(self, origin: Origin) -> Tri:
        kind = self.src_network_type or ("VPC_NETWORKS" if self.src_networks else None)
        if not kind:
            return Tri.YES
        if origin is Origin.INTERNET:
            return Tri.YES if kind == "INTERNET" else Tri.NO
        if origin is Origin.VPC:
            return Tri.NO if kind == "INTERNET" else Tri.MAYBE
        return Tri.MAYBE

    def evidence(self) -> dict[str, Any]:
        return {
            "firewall_policy": self.policy,
            "policy_type": self.policy_type,
            "uid": self.uid,
            "priority": self.priority,
            "rule_name": self.rule_name,
            "action": self.action,
            "source_ranges": list(self.src_ip_ranges),
        }


def policy_stage(policy: Mapping[str, Any], policy_uid: str) -> Stage:
    rules = sorted(
        (PolicyRule.of(policy, r, policy_uid) for r in policy.get("rules") or ()),
        key=lambda r: (r.priority, r.action != "deny"),
    )
    kind = _STAGE_KIND.get(str(policy.get("type") or "NETWORK"), "network")
    label = str(policy.get("display_name") or policy.get("short_name") or policy.get("name"))
    return Stage(kind, f"{kind} firewall policy {label}", tuple(rules))


def hierarchical_uid(policy: Mapping[str, Any]) -> str:
    """Hierarchical policies are named by number: the Cloud Asset Inventory name."""
    return f"//compute.googleapis.com/locations/global/firewallPolicies/{policy.get('name')}"


@dataclass(frozen=True, slots=True)
class PolicyIndex:
    """What the chains are built from, indexed once per inventory."""

    networks: Mapping[str, Asset]  # network path -> Network asset
    regional: Mapping[tuple[str, str], list[Asset]]  # (network path, region) -> policies
    listing_failed: frozenset[str]  # projects whose firewall-policy listing failed
    vpc_rules: Mapping[str | None, list[VpcRule]]
    firewalls_failed: frozenset[str] = frozenset()  # projects whose firewalls.list failed
    networks_failed: frozenset[str] = frozenset()  # projects whose networks.list failed
    chains: dict[tuple[str | None, str | None], Chain] = field(default_factory=dict)

    @classmethod
    def of(cls, inv: Inventory, vpc_rules: Mapping[str | None, list[VpcRule]]) -> PolicyIndex:
        networks = {str(n.attr("path")): n for n in inv.of(NETWORK) if n.attr("path")}
        regional: dict[tuple[str, str], list[Asset]] = {}
        for p in inv.of(FIREWALL_POLICY):
            if p.attr("scope") != "regional":
                continue
            for net in p.attr("associations") or ():
                regional.setdefault((str(net), p.region), []).append(p)
        return cls(
            networks,
            regional,
            _listing_failed(inv, FIREWALL_POLICY),
            vpc_rules,
            _listing_failed(inv, FIREWALL),
            _listing_failed(inv, NETWORK),
        )


def _listing_failed(inv: Inventory, type_: str) -> frozenset[str]:
    """The projects whose listing of ``type_`` failed (the error names the type)."""
    return frozenset(
        e.account
        for e in inv.errors
        if e.resource_uid is None
        and e.asset_types != ("*",)
        and e.affects_types([f"{type_}#listing"])
    )


def _project_of(path: str | None) -> str | None:
    parts = (path or "").split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "projects" else None


def chain_for(index: PolicyIndex, nic: Nic) -> Chain:
    """The stages an ingress packet to ``nic`` walks, in order (one chain per network and
    region: targets are matched later, per interface)."""
    key = (nic.network, nic.region)
    if key not in index.chains:
        index.chains[key] = _build_chain(index, nic)
    return index.chains[key]


def _build_chain(index: PolicyIndex, nic: Nic) -> Chain:
    owner = _project_of(nic.network)
    vpc = vpc_stage(index.vpc_rules.get(nic.network, []))
    if owner in index.firewalls_failed:
        vpc = Stage(
            "vpc",
            "VPC firewall rules",
            known=False,
            reason=f"the VPC firewall rules of project {owner} could not be listed",
        )
    network = index.networks.get(str(nic.network))
    if network is None and owner in index.networks_failed:
        unknown = Stage(
            "hierarchy",
            f"firewall policies of {nic.network}",
            known=False,
            reason=f"the networks of project {owner} (and the firewall policies in effect on "
            "them) could not be listed",
        )
        return (unknown, vpc)
    if network is None:  # the network was not collected (e.g. a Shared VPC host project)
        return (vpc,)
    effective = network.attr("effective_firewall_policies")
    if effective is None:
        unknown = Stage(
            "hierarchy",
            f"firewall policies of {network.name}",
            known=False,
            reason=f"the firewall policies in effect on network {network.name} could not be "
            "read (networks.getEffectiveFirewalls failed)",
        )
        return (unknown, vpc)
    head: list[Stage] = []
    system: list[Stage] = []
    networked: list[Stage] = []
    for policy in effective:
        ptype = str(policy.get("type") or "")
        if ptype == "HIERARCHY":
            head.append(policy_stage(policy, hierarchical_uid(policy)))
        elif ptype.startswith("SYSTEM"):
            system.append(policy_stage(policy, f"{network.uid}#system/{policy.get('name')}"))
        elif ptype == "NETWORK":
            uid = f"//compute.googleapis.com/projects/{network.account}/global/firewallPolicies/"
            networked.append(policy_stage(policy, f"{uid}{policy.get('name')}"))
    networked += _regional_stages(index, network, nic)
    head += system
    order = network.attr("firewall_policy_enforcement_order") or AFTER
    if order == BEFORE:
        return (*head, *networked, vpc)
    return (*head, vpc, *networked)


def _regional_stages(index: PolicyIndex, network: Asset, nic: Nic) -> list[Stage]:
    if network.account in index.listing_failed:
        return [
            Stage(
                "network-regional",
                f"regional network firewall policies of {network.name}",
                known=False,
                reason=f"the regional network firewall policies of project {network.account} "
                "could not be listed",
            )
        ]
    found = index.regional.get((str(network.attr("path")), str(nic.region)), [])
    return [
        policy_stage(
            {"type": "NETWORK_REGIONAL", "display_name": p.name, "rules": p.attr("rules")}, p.uid
        )
        for p in sorted(found, key=lambda a: a.uid)
    ]


def policy_rules_of(asset: Asset) -> list[PolicyRule]:
    """The rules of a FirewallPolicy asset (hygiene checks)."""
    ptype = "NETWORK_REGIONAL" if asset.attr("scope") == "regional" else "NETWORK"
    policy = {"type": ptype, "display_name": asset.name, "rules": asset.attr("rules")}
    return [PolicyRule.of(policy, r, asset.uid) for r in asset.attr("rules") or ()]


def world_sources(rule: PolicyRule, families: Iterable[int] = (4, 6)) -> list[Net]:
    return [n for f in families for n in rule.nets(f) if n.prefixlen == 0]


def effective_unknown(network: Asset | None) -> bool:
    return network is not None and network.attr("effective_firewall_policies") is None


def networks_of(nics: Sequence[Nic], index: PolicyIndex) -> list[Asset]:
    return [index.networks[str(n.network)] for n in nics if str(n.network) in index.networks]
