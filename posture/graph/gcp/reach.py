"""GCP firewall semantics as pure functions.

The interface is small on purpose so the graph can call it as the "host filter" stage of a GCP
path: :class:`VpcRule` (one VPC firewall rule), :class:`Nic` (one network interface of an instance:
network, region, tags, service accounts, external addresses), a :data:`Chain` of
:class:`Stage` s (the levels Cloud NGFW walks: hierarchical policies, VPC rules, network
policies; built by :mod:`posture.graph.gcp.fwpolicy`) and :func:`internet_ingress`, which
answers "does the wide internet reach ``protocol/port`` on this interface, and why (not)?",
and :func:`admitted`, "does some address of these ranges (load-balancer proxies) get through?".

Semantics (https://cloud.google.com/firewall/docs/firewalls,
https://cloud.google.com/firewall/docs/firewall-policies-rule-eval-order):

- the stages are walked in order; the first stage with a matching rule decides: ``allow`` /
  ``deny`` end the walk, ``goto_next`` (and no match at all) pass to the next stage; past the
  last stage the implied deny-ingress rule applies. A chain of VPC rules alone is the classic
  model: no matching rule = implied deny;
- VPC rules: a rule applies to an interface when it is enabled, in the interface's network, of
  direction ``INGRESS``, and its targets match (no targets = every instance; ``target_tags`` =
  an instance with any of the tags; ``target_service_accounts`` = an instance running as one of
  them); the lowest priority number wins, a ``deny`` beats an ``allow`` on a tie. Egress is
  implied-allow and not evaluated here;
- internet clients match only source ranges (source tags and service accounts match traffic
  from instances inside the VPC); an ingress rule without any source means ``0.0.0.0/0``;
- a rule whose match cannot be decided from the inventory (targets secure tags whose bindings
  are not collected, sources given as FQDNs / address groups / geolocations / threat lists,
  ingress destination ranges) makes a stage's outcome *possible*, not certain; a stage whose
  content is unknown (the call that reads it failed) can end in anything. A verdict that
  depends on such a rule carries the reasons in ``undecided`` and is never reported as a
  certainty;
- an interface is addressable from the internet only through an external IP (an access config,
  or an IPv6 access config);
- *the internet* is a wide range of clients, as on AWS and Azure: the public addresses the
  chain admits add up to at least a /8 worth of IPv4 or a /16 worth of global IPv6
  (:data:`posture.graph.gcp.fw.WIDE`; several narrow rules count together). Public excludes
  private, shared (CGNAT), loopback, link-local, multicast and reserved addresses, IAP and
  Google's load-balancer ranges. Fewer admitted clients - an office /24 - are
  :attr:`Reach.NARROW` (allow-listed ranges, named), not exposure. Clients that only *may* be
  admitted (an undecided rule) count towards a possible exposure: certain only when the
  certain clients alone are wide, not exposed only when all of them together are not;
- ``35.235.240.0/20`` is Identity-Aware Proxy TCP forwarding: a rule admitting only it is the
  bastionless admin path, not internet exposure; ``130.211.0.0/22`` and ``35.191.0.0/16`` are
  Google's load-balancer proxies and health checks: traffic from them is load-balanced, not
  direct (exposure through a load balancer is :mod:`posture.graph.gcp.lb`).

Addresses are integer intervals: the address space is cut at every CIDR boundary of the
applicable rules, and each atom is decided once, so the admitted clients are counted exactly
even when denies shadow parts of an allowed range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from posture.graph.gcp.fw import (
    IAP_RANGE,
    LB_RANGES,
    Chain,
    FirewallRule,
    Net,
    Nic,
    Origin,
    Source,
    Stage,
    Tri,
    VpcRule,
    atoms,
    classify,
    evidence_rules,
    nics_of,
    rule_is_world_open,
    rules_by_network,
    span,
    to_ip,
    vpc_stage,
    wideness,
)
from posture.graph.intervals import IntervalSet
from posture.graph.paths import Reach

__all__ = [
    "IAP_RANGE",
    "LB_RANGES",
    "Admission",
    "Chain",
    "Exit",
    "FirewallRule",
    "FirewallVerdict",
    "Nic",
    "Origin",
    "Prepared",
    "Reach",
    "Source",
    "Stage",
    "Tri",
    "VpcRule",
    "admission_of",
    "admitted",
    "classify",
    "evidence_rules",
    "ingress_verdict",
    "internet_ingress",
    "nics_of",
    "rule_is_world_open",
    "rules_by_network",
    "vpc_stage",
]

@dataclass(frozen=True, slots=True)
class Exit:
    """How the walk may end for one packet: the action and the rule (None = implied deny or an
    unknown stage) of the stage that decided."""

    action: str
    rule: FirewallRule | None
    stage: Stage | None


@dataclass(frozen=True, slots=True)
class FirewallVerdict:
    state: Reach
    protocol: str
    port: int
    family: int
    detail: str
    rule: FirewallRule | None = None  # the allow rule that admits internet (or IAP) clients
    example_client: str | None = None
    shadowing: tuple[FirewallRule, ...] = ()  # denies that beat allows for some internet clients
    undecided: tuple[str, ...] = ()  # why the verdict is only possible, not certain
    stage: Stage | None = None  # the stage of ``rule``
    admitted: tuple[tuple[int, int], ...] = ()  # the internet clients the chain may admit

    @property
    def certain(self) -> bool:
        return not self.undecided

    def evidence(self, nic: Nic | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "protocol": self.protocol,
            "port": self.port,
            "family": f"ipv{self.family}",
            "state": self.state.value,
            "detail": self.detail,
        }
        if nic is not None:
            out["interface"] = nic.name
            out["network"] = nic.network
            out["external_ips"] = list(nic.external_ipv4 if self.family == 4 else nic.external_ipv6)
        if self.rule is not None:
            out["firewall_rule"] = self.rule.evidence()
        if self.stage is not None and self.stage.kind != "vpc":
            out["decided_by"] = self.stage.evidence()
        if self.example_client:
            out["example_client"] = self.example_client
        if self.state is Reach.NARROW:
            out["admitted_clients"] = IntervalSet.from_spans(self.admitted).describe(self.family)
        if self.shadowing:
            out["shadowed_by"] = [r.evidence() for r in self.shadowing]
        if self.undecided:
            out["undecided"] = list(self.undecided)
        return out


@dataclass(frozen=True, slots=True)
class Prepared:
    """A chain reduced to the rules that can apply to one interface, protocol and port."""

    stages: tuple[tuple[Stage, tuple[tuple[FirewallRule, Tri, str | None], ...]], ...]

    @classmethod
    def of(cls, chain: Chain, nic: Nic, protocol: str, port: int) -> Prepared:
        out = []
        for stage in chain:
            entries = []
            for rule in stage.rules:
                tri, why = rule.static_match(nic, protocol, port)
                if tri is not Tri.NO:
                    entries.append((rule, tri, why))
            out.append((stage, tuple(entries)))
        return cls(tuple(out))

    def nets(self, family: int) -> list[Net]:
        return [n for _s, entries in self.stages for r, _t, _w in entries for n in r.nets(family)]

    def signature(self) -> tuple[Any, ...]:
        """Equal for interfaces to which the same rules apply: one equivalence class."""
        return tuple(
            (stage.kind, stage.label, stage.known, tuple((r.uid, t) for r, t, _w in entries))
            for stage, entries in self.stages
        )

    def walk(self, address: int, family: int, origin: Origin) -> tuple[list[Exit], list[str]]:
        """(possible exits, reasons of uncertainty) of a packet from ``address``."""
        exits: list[Exit] = []
        reasons: list[str] = []
        for stage, entries in self.stages:
            if not stage.known:
                exits += [Exit("allow", None, stage), Exit("deny", None, stage)]
                reasons.append(stage.reason or f"{stage.label} unknown")
                continue
            may_pass = True
            for rule, static, why in entries:
                src, src_why = rule.source_match(address, family, origin)
                m = min(static, src)
                if m is Tri.NO:
                    continue
                if m is Tri.MAYBE:
                    reasons.extend(w for w in (why, src_why) if w)
                if rule.action == "goto_next":
                    if m is Tri.YES:
                        break
                    continue
                exits.append(Exit(rule.action, rule, stage))
                if m is Tri.YES:
                    may_pass = False
                    break
            if not may_pass:
                return exits, reasons
        exits.append(Exit("deny", None, None))
        return exits, reasons

    def allow_matches(self, address: int, family: int, origin: Origin) -> bool:
        """Whether some allow rule of any stage matches the packet for sure (to name the denies
        that shadow it)."""
        return any(
            rule.action == "allow"
            and static is Tri.YES
            and rule.source_match(address, family, origin)[0] is Tri.YES
            for _stage, entries in self.stages
            for rule, static, _why in entries
        )


@dataclass(frozen=True, slots=True)
class _Atom:
    lo: int
    hi: int
    exits: tuple[Exit, ...]
    reasons: tuple[str, ...]
    shadowed: bool  # denied for sure although an allow rule matches it

    @property
    def surely_allowed(self) -> bool:
        return all(e.action == "allow" for e in self.exits)

    @property
    def maybe_allowed(self) -> bool:
        return any(e.action == "allow" for e in self.exits)

    def allow_exit(self) -> Exit:
        return next(e for e in self.exits if e.action == "allow")


def _walk_atoms(
    prepared: Prepared,
    family: int,
    extra: Sequence[Net],
    kind_of: Callable[[int], tuple[Any, Origin] | None],
    within: Sequence[Net] | None = None,
) -> list[tuple[Any, _Atom]]:
    """Every atom (restricted to ``within`` if given) with its kind and origin (``kind_of(lo)``;
    atoms of kind None are skipped) and its walk."""
    out = []
    nets = [*prepared.nets(family), *extra]
    for lo, hi in atoms(family, nets):
        if within is not None and not any(a <= lo <= b for a, b in map(span, within)):
            continue
        found = kind_of(lo)
        if found is None:
            continue
        kind, origin = found
        exits, reasons = prepared.walk(lo, family, origin)
        denied = all(e.action == "deny" for e in exits)
        shadowed = denied and prepared.allow_matches(lo, family, origin)
        out.append((kind, _Atom(lo, hi, tuple(exits), tuple(dict.fromkeys(reasons)), shadowed)))
    return out


def _size(found: Sequence[_Atom]) -> int:
    return sum(a.hi - a.lo + 1 for a in found)


def _widest(found: Sequence[_Atom]) -> _Atom:
    return max(found, key=lambda a: (a.hi - a.lo, -a.lo))


def _source_kind(family: int) -> Callable[[int], tuple[Source, Origin] | None]:
    def kind_of(lo: int) -> tuple[Source, Origin] | None:
        kind = classify(lo, family)
        if kind is None:
            return None
        return kind, Origin.INTERNET if kind is Source.INTERNET else Origin.GOOGLE

    return kind_of


def internet_ingress(
    rules: Sequence[VpcRule],
    nic: Nic,
    protocol: str,
    port: int,
    family: int = 4,
    chain: Chain | None = None,
) -> FirewallVerdict:
    """Whether an internet client reaches ``protocol/port`` on ``nic`` over IP ``family``.

    ``chain`` is the whole evaluation order (firewall policies and VPC rules); without it the
    VPC ``rules`` alone are evaluated, as on a network without firewall policies."""
    chain = chain if chain is not None else (vpc_stage(rules),)
    return ingress_verdict(
        Prepared.of(chain, nic, protocol, port), nic.external(family), protocol, port, family
    )


def ingress_verdict(
    prepared: Prepared, external: bool, protocol: str, port: int, family: int
) -> FirewallVerdict:
    """:func:`internet_ingress` on a prepared chain (``external``: the interface has an
    external address of ``family``)."""
    walked = _walk_atoms(prepared, family, (), _source_kind(family))
    sure: dict[Source, _Atom] = {}
    maybe: dict[Source, _Atom] = {}
    shadowing: dict[str, FirewallRule] = {}
    internet_sure: list[_Atom] = []
    internet_maybe: list[_Atom] = []
    for kind, atom in walked:
        if atom.surely_allowed:
            sure.setdefault(kind, atom)
        elif atom.maybe_allowed:
            maybe.setdefault(kind, atom)
        elif kind is Source.INTERNET and atom.shadowed:
            for e in atom.exits:
                if e.rule is not None:
                    shadowing.setdefault(e.rule.uid, e.rule)
        if kind is Source.INTERNET and atom.maybe_allowed:
            (internet_sure if atom.surely_allowed else internet_maybe).append(atom)
    shadows = tuple(shadowing.values())
    sure_n, maybe_n = _size(internet_sure), _size(internet_maybe)
    wide = wideness(sure_n, maybe_n, family)
    admitted = tuple((a.lo, a.hi) for a in sorted([*internet_sure, *internet_maybe],
                                                   key=lambda a: a.lo))
    if wide is not Tri.NO:
        internet = _widest(internet_sure if wide is Tri.YES else internet_maybe)
        exit_ = internet.allow_exit()
        name = exit_.rule.name if exit_.rule is not None else exit_.stage.label  # type: ignore[union-attr]
        verb = "admits" if wide is Tri.YES else "may admit"
        undecided: tuple[str, ...] = ()
        if wide is Tri.MAYBE:
            undecided = tuple(dict.fromkeys(r for a in internet_maybe for r in a.reasons))
        client = str(to_ip(internet.lo, family))
        if external:
            state, detail = Reach.EXPOSED, f"firewall rule {name} {verb} internet clients"
        else:
            state = Reach.LATENT
            detail = (
                f"firewall rule {name} {verb} internet clients, but the interface "
                f"has no external IPv{family} address"
            )
        return FirewallVerdict(
            state,
            protocol,
            port,
            family,
            detail,
            exit_.rule,
            client,
            shadows,
            undecided,
            exit_.stage,
            admitted,
        )
    if admitted:  # fewer than the wide internet, whatever the undecided rules do
        internet = _widest(internet_sure or internet_maybe)
        exit_ = internet.allow_exit()
        ranges = IntervalSet.from_spans(admitted).describe(family)
        name = exit_.rule.name if exit_.rule is not None else exit_.stage.label  # type: ignore[union-attr]
        return FirewallVerdict(
            Reach.NARROW,
            protocol,
            port,
            family,
            f"firewall rule {name} admits allow-listed internet ranges only ({ranges})",
            exit_.rule,
            str(to_ip(internet.lo, family)),
            shadows,
            stage=exit_.stage,
            admitted=admitted,
        )
    iap = sure.get(Source.IAP) or maybe.get(Source.IAP)
    if iap is not None:  # IAP forwards to the internal address: no external IP needed
        exit_ = iap.allow_exit()
        name = exit_.rule.name if exit_.rule is not None else "an unknown policy"
        return FirewallVerdict(
            Reach.IAP_ONLY,
            protocol,
            port,
            family,
            f"only Identity-Aware Proxy ({IAP_RANGE}) is admitted, by {name}",
            exit_.rule,
            None,
            shadows,
            stage=exit_.stage,
        )
    if shadows:
        names = ", ".join(sorted(r.name for r in shadows))
        return FirewallVerdict(
            Reach.BLOCKED,
            protocol,
            port,
            family,
            f"deny rule(s) {names} take precedence over the allow rules",
            None,
            None,
            shadows,
        )
    return FirewallVerdict(
        Reach.BLOCKED,
        protocol,
        port,
        family,
        "no enabled ingress rule admits internet clients (implied deny)",
    )


@dataclass(frozen=True, slots=True)
class Admission:
    """Whether some address of a set of source ranges gets through to a port."""

    admitted: Tri
    rule: FirewallRule | None = None
    stage: Stage | None = None
    example: str | None = None
    undecided: tuple[str, ...] = ()
    shadowing: tuple[FirewallRule, ...] = ()

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"admitted": self.admitted.name.lower()}
        if self.rule is not None:
            out["firewall_rule"] = self.rule.evidence()
        if self.stage is not None and self.stage.kind != "vpc":
            out["decided_by"] = self.stage.evidence()
        if self.example:
            out["example_source"] = self.example
        if self.undecided:
            out["undecided"] = list(self.undecided)
        if self.shadowing:
            out["shadowed_by"] = [r.evidence() for r in self.shadowing]
        return out


def admitted(
    chain: Chain,
    nic: Nic,
    protocol: str,
    port: int,
    sources: Sequence[Net],
    origin: Origin,
    family: int = 4,
) -> Admission:
    """Whether a packet from some address in ``sources`` (of kind ``origin``) reaches
    ``protocol/port`` on ``nic``; ``origin`` INTERNET also drops the non-public addresses."""
    nets = [n for n in sources if n.version == family]
    if not nets:
        return Admission(Tri.NO)
    return admission_of(Prepared.of(chain, nic, protocol, port), nets, origin, family)


def admission_of(
    prepared: Prepared, nets: Sequence[Net], origin: Origin, family: int
) -> Admission:
    """:func:`admitted` on a prepared chain (``nets`` of ``family`` only)."""

    def kind_of(lo: int) -> tuple[Origin, Origin] | None:
        if origin is Origin.INTERNET and classify(lo, family) is not Source.INTERNET:
            return None
        return origin, origin

    walked = _walk_atoms(prepared, family, nets, kind_of, within=nets)
    best: _Atom | None = None
    shadowing: dict[str, FirewallRule] = {}
    for _kind, atom in walked:
        if atom.surely_allowed:
            best = atom
            break
        if atom.maybe_allowed and best is None:
            best = atom
        elif atom.shadowed:
            for e in atom.exits:
                if e.rule is not None:
                    shadowing.setdefault(e.rule.uid, e.rule)
    if best is None:
        return Admission(Tri.NO, shadowing=tuple(shadowing.values()))
    exit_ = best.allow_exit()
    return Admission(
        Tri.YES if best.surely_allowed else Tri.MAYBE,
        exit_.rule,
        exit_.stage,
        str(to_ip(best.lo, family)),
        () if best.surely_allowed else best.reasons,
    )


