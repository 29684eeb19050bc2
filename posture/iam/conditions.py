"""Condition blocks, evaluated three-valued: TRUE, FALSE, or UNKNOWN (cannot be decided).

A :class:`RequestContext` holds what is known about a request: a key's values, the fact that
the key is *absent* from the request, or that its value belongs to an *outsider* (an arbitrary
principal on the internet: it can be anything, so it equals no specific value and matches only
the all-wildcard pattern). Keys the context does not mention are UNKNOWN, and so is every
statement whose conditions depend on them: the grant is *conditional*, never silently allowed or
denied.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

from posture.iam.actions import glob_regex
from posture.iam.policy import Condition


class Truth(IntEnum):
    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    def __invert__(self) -> Truth:
        return Truth(2 - self.value)


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ABSENT: Final = _Marker("ABSENT")
OUTSIDER: Final = _Marker("OUTSIDER")
Value = tuple[str, ...] | _Marker

# keys that describe *who* is calling and from where: an outsider cannot choose their value
IDENTITY_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "aws:username",
        "aws:principaltype",
        "aws:principalservicename",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:vpcsourceip",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",  # SNS's legacy form of aws:SourceAccount (its default topic policy)
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceidentity",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "kms:calleraccount",
        "kms:viaservice",
        "sts:externalid",
        "aws:federatedprovider",
    }
)
_NEGATED = ("stringnot", "arnnot", "notipaddress", "numericnotequals", "datenotequals")
_ANY_ADDRESS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Known condition keys (lower-case). ``absent_prefixes``: tag-key families fully known
    (e.g. ``aws:principaltag/`` when the principal's tags are known), so an unlisted key is
    absent rather than unknown. ``outsider_prefixes``: families whose values an outsider has."""

    values: Mapping[str, Value] = field(default_factory=dict)
    absent_prefixes: tuple[str, ...] = ()
    outsider_prefixes: tuple[str, ...] = ()

    def lookup(self, key: str) -> Value | None:
        """Values, ABSENT, OUTSIDER, or None when unknown."""
        if key in self.values:
            return self.values[key]
        if any(key.startswith(p) for p in self.outsider_prefixes):
            return OUTSIDER
        if any(key.startswith(p) for p in self.absent_prefixes):
            return ABSENT
        return None

    def with_values(self, extra: Mapping[str, Value]) -> RequestContext:
        if not extra:
            return self
        return RequestContext(
            {**self.values, **extra}, self.absent_prefixes, self.outsider_prefixes
        )


def outsider_context() -> RequestContext:
    """An arbitrary principal anywhere: identity keys are theirs; they use TLS and MFA."""
    values: dict[str, Value] = dict.fromkeys(IDENTITY_KEYS, OUTSIDER)
    values.update(
        {
            "aws:securetransport": ("true",),
            "aws:multifactorauthpresent": ("true",),
            "aws:principalisawsservice": ("false",),
        }
    )
    return RequestContext(values, outsider_prefixes=("aws:principaltag/",))


def all_true(conditions: Iterable[Condition], ctx: RequestContext) -> Truth:
    """AND of the conditions: FALSE wins, then UNKNOWN."""
    result = Truth.TRUE
    for cond in conditions:
        t = evaluate(cond, ctx)
        if t == Truth.FALSE:
            return t
        result = min(result, t)
    return result


def evaluate(cond: Condition, ctx: RequestContext) -> Truth:
    base = cond.base
    negated = base.startswith(_NEGATED)
    if cond.key == "aws:sourceip" and cond.values and all(v in _ANY_ADDRESS for v in cond.values):
        # every caller has a source address; "any address" decides without knowing it
        return Truth.FALSE if negated else Truth.TRUE
    value = ctx.lookup(cond.key)
    if value is None:
        return Truth.UNKNOWN
    if base == "null":
        wants_absent = bool(cond.values) and cond.values[0].lower() == "true"
        return Truth.TRUE if (value is ABSENT) == wants_absent else Truth.FALSE
    if value is ABSENT:
        if cond.if_exists or negated or cond.set_op == "forallvalues":
            return Truth.TRUE
        return Truth.FALSE
    positive = base.replace("not", "", 1) if negated else base
    if isinstance(value, _Marker):  # OUTSIDER: equals nothing specific, matches only "*"
        hit = _outsider_matches(positive, cond.values)
    else:
        hit = _matches(positive, value, cond.values, cond.set_op)
    if hit == Truth.UNKNOWN:
        return hit
    return ~hit if negated else hit


def _outsider_matches(op: str, patterns: tuple[str, ...]) -> Truth:
    if op in ("stringlike", "arnlike", "arnequals", "stringequals", "stringequalsignorecase"):
        if any(p and set(p) == {"*"} for p in patterns):
            return Truth.TRUE if op.endswith("like") or op == "arnequals" else Truth.FALSE
        return Truth.FALSE
    if op == "ipaddress":
        return Truth.TRUE if any(p in _ANY_ADDRESS for p in patterns) else Truth.FALSE
    return Truth.UNKNOWN


def _matches(
    op: str, values: tuple[str, ...], patterns: tuple[str, ...], set_op: str | None
) -> Truth:
    results = [_one(op, v, patterns) for v in values]
    if not results:
        return Truth.TRUE if set_op == "forallvalues" else Truth.FALSE
    if set_op == "forallvalues":
        return min(results)
    return max(results)


def _one(op: str, value: str, patterns: tuple[str, ...]) -> Truth:
    try:
        if op == "stringequals":
            return _t(value in patterns)
        if op == "stringequalsignorecase":
            return _t(value.lower() in {p.lower() for p in patterns})
        if op in ("stringlike", "arnlike", "arnequals"):
            return _t(any(_like(p).fullmatch(value) for p in patterns))
        if op == "bool":
            return _t(value.lower() in {p.lower() for p in patterns})
        if op == "ipaddress":
            addr = ipaddress.ip_address(value.split("/", 1)[0])
            return _t(any(addr in ipaddress.ip_network(p, strict=False) for p in patterns))
        if op.startswith("numeric"):
            return _t(any(_compare(op[7:], float(value), float(p)) for p in patterns))
        if op.startswith("date"):
            return _t(any(_compare(op[4:], _date(value), _date(p)) for p in patterns))
    except ValueError:
        return Truth.UNKNOWN
    return Truth.UNKNOWN  # BinaryEquals and operators we do not know


def _t(flag: bool) -> Truth:
    return Truth.TRUE if flag else Truth.FALSE


@functools.lru_cache(maxsize=4096)
def _like(pattern: str) -> re.Pattern[str]:
    return glob_regex(pattern, ignore_case=False)


def _compare(op: str, a: float, b: float) -> bool:
    return {
        "equals": a == b,
        "lessthan": a < b,
        "lessthanequals": a <= b,
        "greaterthan": a > b,
        "greaterthanequals": a >= b,
    }.get(op, False)


def _date(text: str) -> float:
    if text.isdigit():
        return float(text)
    stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()
