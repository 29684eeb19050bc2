"""Lateral administrative access, graded by where it comes from (every cloud).

A private host's administrative port reached by a source other than a bastion is an
*offence*: one :class:`Offence` per (source, target, port), naming the rule that admits it (an
AWS security-group rule, an Azure NSG rule - Azure's default ``AllowVnetInBound`` by name) and
the path. Each cloud's adapter (:mod:`posture.graph.aws.lateral`,
:mod:`posture.graph.azure.lateral`) finds the offences; this module grades them and groups them
by the resource whose rule admits them, so a check reports once per security group or NSG with
the affected machines listed.

Grades, strongest reason first (:func:`grade`):

* **HIGH, internet**: the source is the internet itself (through a load balancer, a public
  address or a firewall DNAT) - the bastion is bypassed outright;
* **HIGH, exposed**: the source is a host the exposure evaluator calls internet-exposed on some
  TCP port (a wide range of internet clients reaches it): one compromised service on it, one hop,
  and the attacker is on the administrative port without passing the bastion;
* **HIGH, another environment**: source and target environments differ (production vs
  non-production, from the same environment tags as the segregation checks: the host's own tag,
  else its network's) - typically a dev network peered with production;
* **HIGH, another network**: the source is in another network (a peered or transit-connected
  VPC / VNet) and is not known to be of the target's environment (no environment tag on one
  side): nothing shows it belongs to the target's tier;
* **LOW, same tier**: anything else - a private, not internet-exposed host of the same subnet,
  of the same network, or of another network of the same environment. That is lateral movement
  inside one tier (one compromised host reaches its neighbours), not a bypass of the bastion.

The thresholds follow what an attacker needs: HIGH sources are reachable by an outsider
(internet, exposed neighbour) or belong to a weaker environment (non-production credentials,
looser change control); a LOW source has to be compromised first through the bastion or another
HIGH path, so fixing it buys depth, not a closed door.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from posture.model import Severity

PROD, NONPROD = "production", "non-production"
DEFAULT_RULE = "default rule of every NSG"


@dataclass(frozen=True, slots=True)
class Env:
    """An environment as the tags say: ``kind`` PROD, NONPROD or None (untagged)."""

    kind: str | None = None
    tag: str | None = None  # "Key=Value" that decided it
    owner: str | None = None  # the resource carrying the tag

    def text(self) -> str:
        if self.kind is None:
            return "environment unknown"
        return f"{self.kind} ({self.tag} on {self.owner})"


def environment(
    tagged: Iterable[tuple[str, Mapping[str, str]]], keys: Sequence[str], prod: Sequence[str]
) -> Env:
    """The environment of the first resource (most specific first: host, then network) that has
    one of the tag ``keys``; values in ``prod`` (case-insensitive) are production."""
    prod_values = {str(v).lower() for v in prod}
    for owner, tags in tagged:
        for key in keys:
            value = tags.get(key)
            if value is not None and value.strip():
                kind = PROD if value.strip().lower() in prod_values else NONPROD
                return Env(kind, f"{key}={value}", owner)
    return Env()


@dataclass(frozen=True, slots=True)
class Party:
    """One end of a lateral path: a host (or a subnet's hosts), or the internet."""

    name: str
    uid: str | None = None
    network: str | None = None  # VPC / VNet id
    subnet: str | None = None
    env: Env = field(default_factory=Env)
    internet: str | None = None  # the internet itself: how it enters
    exposed: str | None = None  # an internet-exposed host: where (ports, entry)
    exposure_unknown: str | None = None  # why its exposure is undecided


class Reason(IntEnum):
    """Why a source is graded as it is (lower value = stronger)."""

    INTERNET = 0
    EXPOSED = 1
    ENVIRONMENT = 2
    NETWORK = 3
    TIER = 4

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Reason.INTERNET: "the internet",
    Reason.EXPOSED: "internet-exposed neighbour",
    Reason.ENVIRONMENT: "another environment",
    Reason.NETWORK: "another network",
    Reason.TIER: "same tier",
}


def grade(source: Party, target: Party, via: str = "") -> tuple[Severity, Reason, str]:
    """The grade of ``source`` reaching ``target`` (``via``: the peering or transit hop)."""
    if source.internet is not None:
        return Severity.HIGH, Reason.INTERNET, f"the internet itself, {source.internet}"
    if source.exposed is not None:
        return (
            Severity.HIGH,
            Reason.EXPOSED,
            f"{source.name} is internet-exposed ({source.exposed}): one compromised service "
            "away from the administrative port, bypassing the bastion",
        )
    through = f" through {via}" if via else ""
    s, t = source.env, target.env
    if s.kind is not None and t.kind is not None and s.kind != t.kind:
        return (
            Severity.HIGH,
            Reason.ENVIRONMENT,
            f"{source.name} is in another environment{through}: {s.text()}, "
            f"{target.name} is {t.text()}",
        )
    same_env = s.kind is not None and s.kind == t.kind
    if source.network != target.network and not same_env:
        return (
            Severity.HIGH,
            Reason.NETWORK,
            f"{source.name} is in another network ({source.network or 'unknown'}){through}, "
            f"not known to be of {target.name}'s environment ({s.text()}; {t.text()})",
        )
    if source.subnet is not None and source.subnet == target.subnet:
        why = "same subnet"
    elif same_env:
        why = f"same environment ({s.kind})"
    else:
        why = f"same network ({target.network})"
    exposed = (
        f"whether it is internet-exposed is undecided ({source.exposure_unknown})"
        if source.exposure_unknown
        else "not internet-exposed"
    )
    return Severity.LOW, Reason.TIER, f"{source.name}: {why}, {exposed}"


@dataclass(frozen=True, slots=True)
class AdmittingRule:
    """The rule that admits an offence, and the resource it belongs to (the finding's subject)."""

    subject: str  # uid of the security group / NSG (or the subnet / host when no filter)
    text: str  # "sg-1 allow tcp/22 from 10.0.0.0/16", "AllowVnetInBound (priority 65000, ...)"
    default: bool = False  # a provider's default rule (Azure AllowVnetInBound)


@dataclass(frozen=True, slots=True)
class Offence:
    """One source reaching one administrative port of one target."""

    source: Party
    target: Party
    port: int
    rule: AdmittingRule
    severity: Severity
    reason: Reason
    why: str
    path: Callable[[], Mapping[str, Any]]  # the evidence path (hops, summary), built on demand

    def key(self) -> tuple[Any, ...]:
        return (-self.severity, self.reason, self.target.name, self.source.name, self.port)


def offence(
    source: Party,
    target: Party,
    port: int,
    rule: AdmittingRule,
    path: Callable[[], Mapping[str, Any]],
    via: str = "",
) -> Offence:
    severity, reason, why = grade(source, target, via)
    return Offence(source, target, port, rule, severity, reason, why, path)


@dataclass(slots=True)
class Group:
    """The offences one resource's rules admit (one finding)."""

    subject: str
    offences: list[Offence]

    @property
    def severity(self) -> Severity:
        return max(o.severity for o in self.offences)

    @property
    def worst(self) -> Offence:
        return min(self.offences, key=Offence.key)

    def targets(self) -> list[str]:
        return sorted({o.target.name for o in self.offences})

    def sources(self) -> list[str]:
        return sorted({o.source.name for o in self.offences})

    def rules(self) -> list[AdmittingRule]:
        return sorted({o.rule for o in self.offences}, key=lambda r: r.text)


def by_subject(offences: Iterable[Offence]) -> list[Group]:
    """Offences grouped by the resource whose rule admits them, in subject order."""
    out: dict[str, list[Offence]] = {}
    for o in offences:
        out.setdefault(o.rule.subject, []).append(o)
    return [Group(s, sorted(found, key=Offence.key)) for s, found in sorted(out.items())]


def _names(names: Sequence[str], limit: int = 5) -> str:
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def group_message(group: Group, what: str, hosts: str) -> str:
    """One line: the rules, the affected machines, the worst source and its path."""
    rules = group.rules()
    head = "rule " if len(rules) == 1 else "rules "
    targets, sources = group.targets(), group.sources()
    worst = group.worst
    text = (
        f"{head}{'; '.join(r.text for r in rules)} admit{'s' if len(rules) == 1 else ''} "
        f"{what} from {len(sources)} non-bastion source(s) to {len(targets)} {hosts}: "
        f"{_names(targets)}; "
    )
    if worst.severity >= Severity.HIGH:
        text += (
            f"{worst.source.name} reaches {worst.target.name} on tcp/{worst.port}: {worst.why}"
        )
    else:
        text += (
            f"only hosts of the same tier reach them ({_names(sources, 3)}: same subnet or "
            "same environment, none internet-exposed): lateral movement inside a tier, not a "
            "bypass of the bastion"
        )
    summary = worst.path().get("summary")
    return text + (f"; path: {summary}" if summary else "")


def group_evidence(group: Group, undecided: Mapping[str, Sequence[str]], limit: int = 10) -> dict[
    str, Any
]:
    """The affected machines, each rule with its targets and sources, every source's grade,
    the worst paths (``paths``: drawn by the HTML report), and what stayed undecided
    (``undecided``: target uid -> reasons, for the affected ones)."""
    worst = group.worst
    rules = []
    for r in group.rules():
        mine = [o for o in group.offences if o.rule == r]
        rules.append(
            {
                "rule": r.text,
                "default_rule": r.default,
                "severity": max(o.severity for o in mine).label,
                "targets": sorted({o.target.name for o in mine}),
                "sources": sorted({o.source.name for o in mine}),
            }
        )
    seen: set[tuple[str, str]] = set()
    sources = []
    for o in group.offences:
        if (o.source.name, o.target.name) in seen:
            continue
        seen.add((o.source.name, o.target.name))
        sources.append(
            {
                "source": o.source.name,
                "source_uid": o.source.uid,
                "target": o.target.name,
                "target_uid": o.target.uid,
                "port": o.port,
                "severity": o.severity.label,
                "reason": o.reason.label,
                "why": o.why,
                "rule": o.rule.text,
            }
        )
    paths = []
    for o in group.offences[:limit]:
        paths.append({**o.path(), "source": o.source.name, "target": o.target.name})
    out: dict[str, Any] = {
        "affected": group.targets(),
        "affected_uids": sorted({str(o.target.uid) for o in group.offences}),
        "grade": {"severity": worst.severity.label, "reason": worst.reason.label,
                  "why": worst.why},
        "rules": rules,
        "sources": sources[:50],
        "source_count": len(sources),
        "paths": paths,
    }
    names = {str(o.target.uid): o.target.name for o in group.offences}
    left = {names[uid]: list(why) for uid, why in sorted(undecided.items())
            if uid in names and why}
    if left:
        out["undecided"] = left
    return out


__all__ = [
    "DEFAULT_RULE",
    "NONPROD",
    "PROD",
    "AdmittingRule",
    "Env",
    "Group",
    "Offence",
    "Party",
    "Reason",
    "by_subject",
    "environment",
    "grade",
    "group_evidence",
    "group_message",
    "offence",
]
