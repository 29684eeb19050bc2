"""IP allow-lists of Azure platform endpoints: which internet clients reach an AKS API server
(``authorizedIPRanges``), a registry or Cosmos DB firewall (``ipRules``) or an App Service site
(access restrictions, first match by priority), as address sets.

The internet is :data:`posture.graph.azure.nsg.PUBLIC_SPACE` and "open to the internet" is the
NSG evaluator's :func:`~posture.graph.azure.nsg.is_wide` (a /8 worth of public IPv4, a /16 of
global IPv6; several narrow entries count together), so an endpoint open to ``0.0.0.0/0`` and
one open to a /28 are told apart the same way on every surface. Entries: a CIDR, a single
address, or ``Any`` / ``*`` (every address); anything else (a service tag, a malformed value)
admits no internet client of its own and is returned as *not evaluated* for the caller to name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from posture.graph.azure.nsg import ALL, NOTHING, PUBLIC_SPACE, Addresses, describe, is_wide
from posture.graph.intervals import FAMILIES, cidr_span

_ANY = {"any", "*", "internet"}


def parse(entry: object) -> Addresses | None:
    """The addresses of one allow-list entry; ``None`` when it is not an address or range."""
    text = str(entry or "").strip()
    if text.lower() in _ANY:
        return ALL
    parsed = cidr_span(text)
    if parsed is None:
        return None
    family, span = parsed
    return (span, NOTHING[1]) if family == 4 else (NOTHING[0], span)


def _union(a: Addresses, b: Addresses) -> Addresses:
    return (a[0] | b[0], a[1] | b[1])


@dataclass(frozen=True, slots=True)
class Admitted:
    """The internet clients an allow-list admits, and the entries it could not evaluate."""

    public: Addresses
    not_evaluated: tuple[str, ...] = ()

    @property
    def wide(self) -> bool:
        return is_wide(self.public)

    @property
    def count(self) -> int:
        """Public addresses admitted (IPv4 and IPv6 together)."""
        return sum(self.public[i].size() for i in range(len(FAMILIES)))

    def describe(self) -> str:
        return describe(self.public)


def admitted(entries: Iterable[object]) -> Admitted:
    """The public clients the union of ``entries`` admits (an allow-list without order)."""
    found, skipped = NOTHING, []
    for entry in entries:
        addresses = parse(entry)
        if addresses is None:
            skipped.append(str(entry))
        else:
            found = _union(found, addresses)
    return Admitted(_public(found), tuple(skipped))


def first_match(rules: Sequence[tuple[bool, object]], otherwise: bool) -> Admitted:
    """Rules ``(allow, entry)`` in priority order, the first match deciding per address, then
    ``otherwise`` (allow the rest or not) for the addresses no rule matched."""
    undecided, allowed, skipped = ALL, NOTHING, []
    for allow, entry in rules:
        addresses = parse(entry)
        if addresses is None:
            skipped.append(str(entry))
            continue
        hit = (undecided[0] & addresses[0], undecided[1] & addresses[1])
        undecided = (undecided[0] - hit[0], undecided[1] - hit[1])
        if allow:
            allowed = _union(allowed, hit)
    if otherwise:
        allowed = _union(allowed, undecided)
    return Admitted(_public(allowed), tuple(skipped))


def _public(a: Addresses) -> Addresses:
    return (a[0] & PUBLIC_SPACE[0], a[1] & PUBLIC_SPACE[1])
