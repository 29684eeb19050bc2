"""Internet exposure of one GCP instance on a set of ports: directly (external IP, firewall
policies and VPC rules, :mod:`posture.graph.gcp.fwpolicy`) and through external load
balancers (:mod:`posture.graph.gcp.lb`). Shared by the defense-in-depth path checks.

Exposed means a wide range of internet clients - at least a /8 worth of public IPv4 addresses
or a /16 worth of global IPv6 (:data:`posture.graph.gcp.clients.WIDE`, AWS's definition) -
gets through the firewall chain and has its replies routed to the internet gateway, on an
external address or through a passthrough load balancer (client addresses kept). Fewer clients
(an office /24) are *allow-listed* ranges: not exposure, named in the evidence. A proxy load
balancer is reached from its proxies: exposed when the firewall admits some of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from posture.gcp import (
    FIREWALL,
    FIREWALL_POLICY,
    FORWARDING_RULE,
    GLOBAL_FORWARDING_RULE,
    INSTANCE,
    INSTANCE_GROUP,
    LB_PARTS,
    NETWORK,
    SUBNETWORK,
)
from posture.graph.gcp.clients import Reached, clients, gate
from posture.graph.gcp.fw import VpcRule, to_ip
from posture.graph.gcp.fwpolicy import PolicyIndex, chain_for, effective_unknown
from posture.graph.gcp.lb import LbPath, LoadBalancing, load_balancing
from posture.graph.gcp.reach import (
    Admission,
    FirewallVerdict,
    Nic,
    Origin,
    Prepared,
    Reach,
    Tri,
    admission_of,
    ingress_verdict,
    nics_of,
    rules_by_network,
)
from posture.graph.gcp.route import UNKNOWN, RouteIndex, RouteTable
from posture.model import Asset

PATH_READS = frozenset(
    {
        INSTANCE,
        FIREWALL,
        NETWORK,
        f"{FIREWALL_POLICY}#listing",
        f"{SUBNETWORK}#listing",
        FORWARDING_RULE,
        GLOBAL_FORWARDING_RULE,
        *LB_PARTS,
        f"{INSTANCE_GROUP}#listing",
        # the members an external load balancer reaches (their failure: posture.graph.neighbours)
        f"{INSTANCE_GROUP}#instances",
    }
)


@dataclass(frozen=True, slots=True)
class Estate:
    index: PolicyIndex
    lb: LoadBalancing
    routes: RouteIndex
    verdicts: dict[tuple[Any, ...], FirewallVerdict] = field(default_factory=dict)
    admissions: dict[tuple[Any, ...], Admission] = field(default_factory=dict)
    prepared: dict[tuple[Any, ...], Prepared] = field(default_factory=dict)
    gates: dict[tuple[Any, ...], tuple[Reached, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def of(cls, inv: Any) -> Estate:
        return cls(
            PolicyIndex.of(inv, rules_by_network(inv.of(FIREWALL))),
            load_balancing(inv),
            RouteIndex.of(inv),
        )

    def verdict(self, nic: Nic, port: int, family: int) -> FirewallVerdict:
        """Interfaces with the same firewall-relevant attributes - or, failing that, to which
        the same rules apply - are one equivalence class, evaluated once."""
        key = (_nic_key(nic), nic.external(family), port, family)
        if key not in self.verdicts:
            prepared = self._prepared(nic, port)
            by_rules = (prepared.signature(), nic.external(family), port, family)
            if by_rules not in self.verdicts:
                self.verdicts[by_rules] = ingress_verdict(
                    prepared, nic.external(family), "tcp", port, family
                )
            self.verdicts[key] = self.verdicts[by_rules]
        return self.verdicts[key]

    def admission(self, nic: Nic, port: int, path: LbPath) -> Admission:
        key = (_nic_key(nic), port, path.sources, path.origin, path.family)
        if key not in self.admissions:
            prepared = self._prepared(nic, port)
            nets = [n for n in path.sources if n.version == path.family]
            self.admissions[key] = (
                admission_of(prepared, nets, path.origin, path.family)
                if nets
                else Admission(Tri.NO)
            )
        return self.admissions[key]

    def prepared_for(self, nic: Nic, port: int) -> Prepared:
        """The chain of ``nic``'s network reduced to the rules that apply to it on tcp/port."""
        return self._prepared(nic, port)

    def _prepared(self, nic: Nic, port: int) -> Prepared:
        key = (_nic_key(nic), port)
        if key not in self.prepared:
            self.prepared[key] = Prepared.of(chain_for(self.index, nic), nic, "tcp", port)
        return self.prepared[key]

    def routed(
        self, nic: Nic, port: int, family: int, path: LbPath | None = None
    ) -> tuple[Reached, tuple[str, ...]]:
        """The internet clients the firewall admits (directly, or from ``path``'s sources) whose
        replies are also routed to the internet gateway, with the reasons of the possible
        ones."""
        table = self.routes.table(nic, family)
        sources = None if path is None else tuple(
            n for n in path.sources if n.version == family
        )
        key = (_nic_key(nic), port, family, sources)
        if key not in self.gates:
            found = clients(self._prepared(nic, port), family, Origin.INTERNET, sources)
            self.gates[key] = (
                gate(found, table, family),
                _route_reasons(table, found.reasons),
            )
        return self.gates[key]


def _route_reasons(table: RouteTable, reasons: tuple[str, ...]) -> tuple[str, ...]:
    return (*reasons, table.reason) if table.state == UNKNOWN else reasons


def _nic_key(nic: Nic) -> tuple[Any, ...]:
    return (
        nic.network,
        nic.region,
        tuple(sorted(set(nic.tags))),
        tuple(sorted(set(nic.service_accounts))),
    )


@dataclass
class HostExposure:
    """Evidence of one host on the given ports, by kind."""

    exposed: list[dict[str, Any]] = field(default_factory=list)  # certain
    possible: list[dict[str, Any]] = field(default_factory=list)  # undecided exposure
    latent: list[dict[str, Any]] = field(default_factory=list)
    latent_possible: list[dict[str, Any]] = field(default_factory=list)
    iap: list[dict[str, Any]] = field(default_factory=list)
    shadowed: list[dict[str, Any]] = field(default_factory=list)
    lb_blocked: list[dict[str, Any]] = field(default_factory=list)
    lb_authenticated: list[dict[str, Any]] = field(default_factory=list)
    unrouted: list[dict[str, Any]] = field(default_factory=list)  # no route for the replies
    narrow: list[dict[str, Any]] = field(default_factory=list)  # allow-listed ranges only
    unknown_networks: list[str] = field(default_factory=list)

    def ports(self, which: list[dict[str, Any]]) -> list[int]:
        return sorted({int(str(e["port"])) for e in which})


def _direct_path(host: Asset, nic: Nic, v: FirewallVerdict) -> list[dict[str, Any]]:
    """internet -> external address -> instance, with the admitting rule (the HTML diagram)."""
    ips = nic.external_ipv4 if v.family == 4 else nic.external_ipv6
    rule = rule_label(v.rule.evidence()) if v.rule is not None else v.detail
    return [
        {"kind": "internet", "id": v.example_client or "any"},
        {"kind": "external IP", "id": ", ".join(ips) or f"ipv{v.family}"},
        {"kind": "Instance", "id": host.name, "uid": host.uid, "rule": rule},
    ]


def nic_for(nics: Sequence[Nic], network: str | None) -> Nic | None:
    for nic in nics:
        if network is None or nic.network == network:
            return nic
    return nics[0] if nics else None


def assess(est: Estate, host: Asset, ports: Sequence[int]) -> HostExposure:
    out = HostExposure()
    nics = nics_of(host)
    for nic in nics:
        network = est.index.networks.get(str(nic.network))
        if effective_unknown(network) and network is not None:
            out.unknown_networks.append(network.name)
        for family in (4, 6):
            for port in ports:
                v = est.verdict(nic, int(port), family)
                e = v.evidence(nic)
                certain = v.certain
                if v.state in (Reach.EXPOSED, Reach.LATENT, Reach.NARROW):
                    reached, why = est.routed(nic, int(port), family)
                    if reached.any is Tri.NO:  # no admitted client gets its replies
                        out.unrouted.append({**e, "state": f"{v.state.value}, unrouted",
                                             "route": _route_evidence(est, nic, family)})
                        continue
                    if v.state is Reach.NARROW or reached.wide is Tri.NO:
                        _narrow(est, host, nic, v, e, reached, out)
                        continue
                    if reached.wide is Tri.MAYBE and certain:
                        certain = False
                        e["undecided"] = list(why)
                if v.state is Reach.EXPOSED:
                    e["path"] = _direct_path(host, nic, v)
                    (out.exposed if certain else out.possible).append(e)
                elif v.state is Reach.LATENT:
                    (out.latent if certain else out.latent_possible).append(e)
                elif v.state is Reach.IAP_ONLY:
                    out.iap.append(e)
                elif v.shadowing:
                    out.shadowed.append(e)
    for path in est.lb.paths.get(host.uid, []):
        _assess_path(est, path, nic_for(nics, path.network), ports, out)
    return out


def _narrow(
    est: Estate,
    host: Asset,
    nic: Nic,
    v: FirewallVerdict,
    e: dict[str, Any],
    reached: Reached,
    out: HostExposure,
) -> None:
    """Fewer internet clients than the wide internet get a complete path: on an external
    address, allow-listed ranges (named); without one, nothing to report (two layers are
    missing). The firewall admits the wide internet but the routes send only a few replies to
    the gateway: the routes are the allow-list (``unrouted`` evidence names them)."""
    clients = reached.describe()
    e = {**e, "clients": clients}  # the clients with a complete path
    e.pop("undecided", None)  # fewer than the wide internet whatever is undecided
    if v.state is not Reach.NARROW:  # the firewall may admit more: the routes narrow it
        e["route"] = _route_evidence(est, nic, v.family)
    if v.state is Reach.LATENT:
        out.unrouted.append({**e, "state": f"{v.state.value}, routed to {clients} only"})
        return
    if not nic.external(v.family):
        return
    first = (reached.sure | reached.maybe).widest()
    example = str(to_ip(first, v.family)) if first is not None else v.example_client
    e["path"] = _direct_path(host, nic, replace(v, example_client=example))
    out.narrow.append({**e, "state": Reach.NARROW.value})


def _assess_path(
    est: Estate, path: LbPath, nic: Nic | None, ports: Sequence[int], out: HostExposure
) -> None:
    if nic is None:
        return
    for port in ports:
        if not path.reaches("tcp", int(port)):
            continue
        adm = est.admission(nic, int(port), path)
        e = {**path.evidence(), "protocol": "tcp", "port": int(port), **adm.evidence()}
        if adm.rule is not None:  # the firewall rule that admits the last hop
            e["path"] = [
                *e["path"][:-1],
                {**e["path"][-1], "rule": rule_label(adm.rule.evidence())},
            ]
        if adm.admitted is Tri.NO:
            out.lb_blocked.append({**e, "state": "blocked"})
            continue
        why: tuple[str, ...] = ()
        opened = adm.admitted  # proxy load balancers: some proxy gets through
        if path.origin is Origin.INTERNET:  # passthrough: the clients' own addresses
            reached, why = est.routed(nic, int(port), path.family, path)
            if reached.any is Tri.NO:
                out.unrouted.append(
                    {**e, "state": "unrouted", "route": _route_evidence(est, nic, path.family)}
                )
                continue
            if reached.wide is Tri.NO:
                out.narrow.append(
                    {**e, "state": Reach.NARROW.value, "clients": reached.describe()}
                )
                continue
            opened = reached.wide
        if path.authenticated:
            out.lb_authenticated.append(
                {**e, "state": "authenticated", "detail": path.authenticated}
            )
        elif opened is Tri.YES and not path.undecided:
            out.exposed.append({**e, "state": "exposed"})
        else:
            reasons = [*adm.undecided, *path.undecided, *why]
            out.possible.append({**e, "state": "possibly exposed", "undecided": reasons})


def _route_evidence(est: Estate, nic: Nic, family: int) -> dict[str, Any]:
    """The route that keeps internet replies from the internet gateway (widest range)."""
    table = est.routes.table(nic, family)
    piece, route = table.deciding(routed=False)
    return {
        "network": nic.network,
        "range": piece,
        "decided_by": route.evidence() if route is not None else None,
        "detail": f"replies to {piece} leave by {route.text()}"
        if route is not None
        else "no route covers internet addresses (no default route)",
    }


def via_lb(evidence: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({str(e["frontend"]["forwarding_rule"]) for e in evidence if "frontend" in e})


def rule_label(rule: dict[str, Any]) -> str:
    if "firewall" in rule:
        return str(rule["firewall"])
    name = f" ({rule['rule_name']})" if rule.get("rule_name") else ""
    return f"{rule.get('firewall_policy')} rule {rule.get('priority')}{name}"


@dataclass(frozen=True, slots=True)
class RuleReach:
    """What one world-open VPC rule does today on the instances it targets, for given ports.

    ``exposing``: instances the internet reaches on one of the ports (by this rule or another);
    ``latent``: targets the firewall admits the internet to but that have no external address;
    ``shadowed``: deny rule label -> targets on which that deny beats the allow;
    ``blocked``: targets on which another stage (a firewall policy) decides first;
    ``undecided``: targets whose verdict depends on something the inventory cannot decide.
    """

    targets: tuple[str, ...]
    exposing: tuple[str, ...] = ()
    latent: tuple[str, ...] = ()
    shadowed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    blocked: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()

    @property
    def harmless_today(self) -> bool:
        """No target is (or may be) reached from the internet through the rule's ports."""
        return not (self.exposing or self.undecided)


def rule_reach(
    est: Estate, rule: VpcRule, hosts: Iterable[Asset], ports: Sequence[int]
) -> RuleReach:
    """The targets of ``rule`` among ``hosts`` and the verdict on each for ``ports`` (IPv4 and
    IPv6, the host's whole firewall chain, not this rule alone)."""
    targets: list[str] = []
    exposing: set[str] = set()
    latent: set[str] = set()
    blocked: set[str] = set()
    undecided: set[str] = set()
    shadowed: dict[str, set[str]] = {}
    for host in hosts:
        for nic in nics_of(host):
            live = [p for p in ports if rule.static_match(nic, "tcp", int(p))[0] is not Tri.NO]
            if not live:
                continue
            targets.append(host.name)
            for port in live:
                for family in (4, 6):
                    v = est.verdict(nic, int(port), family)
                    if not v.certain:
                        undecided.add(host.name)
                    elif v.state in (Reach.EXPOSED, Reach.NARROW):
                        exposing.add(host.name)
                    elif v.state is Reach.LATENT:
                        latent.add(host.name)
                    elif v.shadowing:
                        for deny in v.shadowing:
                            shadowed.setdefault(rule_label(deny.evidence()), set()).add(host.name)
                    elif v.state is Reach.BLOCKED and family == 4:
                        blocked.add(host.name)
    return RuleReach(
        tuple(sorted(set(targets))),
        tuple(sorted(exposing)),
        tuple(sorted(latent - exposing)),
        tuple((d, tuple(sorted(names))) for d, names in sorted(shadowed.items())),
        tuple(sorted(blocked - exposing - latent)),
        tuple(sorted(undecided)),
    )
