"""Which clients a firewall chain admits, as address pieces, and whether their replies are
routed: the shared primitive of the exposure checks (``_gcp_exposure``) and the defense depth
(``_gcp_depth``), so that "exposed" and "depth 0" are one computation.

:func:`clients` walks every atom of the address space (cut at every boundary of the chain's
rules and of the given sources) that a client of the given kind can come from; :func:`gate`
intersects the admitted pieces with a routing table (:mod:`posture.graph.gcp.route`). The
result is an exposure when it is *wide* (:attr:`Reached.wide`, :data:`WIDE`: at least a /8
worth of public IPv4 addresses or a /16 worth of global IPv6, as on AWS and Azure); fewer
clients - an office /24 - are allow-listed ranges, not the internet;
:func:`flipped` opens whole stages of a prepared chain - the flip of a firewall level in the
defense depth: a rule admitting everything, evaluated before every other rule of that level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from posture.graph.gcp.fw import (
    WIDE,
    Net,
    Nic,
    Origin,
    Source,
    Tri,
    atoms,
    classify,
    span,
    wideness,
)
from posture.graph.gcp.reach import Prepared
from posture.graph.gcp.route import RouteTable
from posture.graph.intervals import EMPTY, IntervalSet

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Clients:
    """The pieces of the client space a chain admits for sure, and possibly."""

    sure: tuple[Span, ...]
    maybe: tuple[Span, ...]
    reasons: tuple[str, ...] = ()

    @property
    def any(self) -> Tri:
        return Tri.YES if self.sure else Tri.MAYBE if self.maybe else Tri.NO


def client_atoms(
    prepared: Prepared, family: int, origin: Origin, sources: Sequence[Net] | None
) -> list[Span]:
    """The atoms a client of kind ``origin`` can come from: within ``sources`` (None: any
    address), and - for internet clients - public, outside IAP and Google's proxy ranges."""
    within = None if sources is None else [span(n) for n in sources if n.version == family]
    out = []
    for lo, hi in atoms(family, [*prepared.nets(family), *(sources or ())]):
        if within is not None and not any(a <= lo <= b for a, b in within):
            continue
        if origin is Origin.INTERNET and classify(lo, family) is not Source.INTERNET:
            continue
        out.append((lo, hi))
    return out


def clients(
    prepared: Prepared, family: int, origin: Origin, sources: Sequence[Net] | None = None
) -> Clients:
    """The admitted pieces of the client space (see :func:`client_atoms`)."""
    sure: list[Span] = []
    maybe: list[Span] = []
    reasons: list[str] = []
    for lo, hi in client_atoms(prepared, family, origin, sources):
        exits, why = prepared.walk(lo, family, origin)
        if all(e.action == "allow" for e in exits):
            sure.append((lo, hi))
        elif any(e.action == "allow" for e in exits):
            maybe.append((lo, hi))
            reasons.extend(why)
    return Clients(tuple(sure), tuple(maybe), tuple(dict.fromkeys(reasons)))


@dataclass(frozen=True, slots=True)
class Reached:
    """The admitted clients whose replies are routed to the internet gateway: for sure, and
    possibly (an undecided rule, an unknown routing table)."""

    family: int
    sure: IntervalSet = EMPTY
    maybe: IntervalSet = EMPTY  # disjoint from ``sure``

    @property
    def wide(self) -> Tri:
        """Exposure: the clients add up to the wide internet (:data:`WIDE`)."""
        return wideness(self.sure.size(), self.maybe.size(), self.family)

    @property
    def any(self) -> Tri:
        return Tri.YES if self.sure else Tri.MAYBE if self.maybe else Tri.NO

    def describe(self) -> str:
        return (self.sure | self.maybe).describe(self.family)


def gate(found: Clients, table: RouteTable | None, family: int) -> Reached:
    """The admitted clients (``found``) that also get their replies routed to the internet
    gateway (``table`` None: the path needs no route)."""
    if table is None:
        sure = IntervalSet.from_spans(found.sure)
        return Reached(family, sure, IntervalSet.from_spans(found.maybe) - sure)
    yes: list[Span] = []
    maybe: list[Span] = []
    for lo, hi in found.sure:
        routed, unsure = table.split(lo, hi)
        yes += routed
        maybe += unsure
    for lo, hi in found.maybe:
        routed, unsure = table.split(lo, hi)
        maybe += routed + unsure
    sure = IntervalSet.from_spans(yes)
    return Reached(family, sure, IntervalSet.from_spans(maybe) - sure)


@dataclass(frozen=True, slots=True)
class OpenRule:
    """The flip of a firewall level: admits every packet, ahead of the level's rules."""

    uid: str = "posture://flip"
    name: str = "(flipped: allow all)"
    priority: int = -1
    action: str = "allow"

    def static_match(self, nic: Nic, protocol: str, port: int) -> tuple[Tri, str | None]:
        return Tri.YES, None

    def source_match(self, address: int, family: int, origin: Origin) -> tuple[Tri, str | None]:
        return Tri.YES, None

    def nets(self, family: int) -> list[Net]:
        return []

    def evidence(self) -> dict[str, Any]:
        return {"flipped": True}


OPEN = OpenRule()


def flipped(prepared: Prepared, stages: Iterable[int]) -> Prepared:
    """``prepared`` with the stages at the given indices opened (their content, known or not,
    replaced by one rule admitting everything)."""
    chosen = set(stages)
    if not chosen:
        return prepared
    return Prepared(
        tuple(
            (replace(stage, known=True, reason=None), ((OPEN, Tri.YES, None),))
            if i in chosen
            else (stage, entries)
            for i, (stage, entries) in enumerate(prepared.stages)
        )
    )


def single(prepared: Prepared, index: int) -> Prepared:
    """Stage ``index`` of ``prepared`` alone (to say what that level does by itself)."""
    return Prepared((prepared.stages[index],))


__all__ = [
    "OPEN",
    "WIDE",
    "Clients",
    "Reached",
    "client_atoms",
    "clients",
    "flipped",
    "gate",
    "single",
]
