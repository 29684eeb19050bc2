"""Azure role-assignment conditions (ABAC, condition version 2.0), evaluated three-valued.

A condition is an expression over the action being performed (``ActionMatches{'...'}``) and
attributes of the request, the resource, the principal or the environment
(``@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals
{...}``), joined with ``AND``/``&&``, ``OR``/``||`` and ``!``/``NOT`` and grouped with parentheses
(Microsoft requires parentheses when ``AND`` and ``OR`` mix; ``AND`` binds tighter here). An action
the assignment grants is allowed only when the whole condition is true; the usual shape is
``(!(ActionMatches{'<action>'})) OR (<constraint>)`` per constrained action.

:func:`evaluate` answers :class:`~posture.iam.conditions.Truth` for one request: the attributes
the caller knows (lower-case ``source[name]`` keys, e.g. ``request[microsoft.authorization/
roleassignments:roledefinitionid]``) are compared with Azure's operators (``String*``, ``Guid*``,
their ``IgnoreCase``/``Not``/``Like``/``StartsWith`` forms, and the cross-product prefixes
``ForAnyOfAnyValues`` ... ``ForAllOfAllValues``); an attribute it does not know, an operator outside
those families (numeric, date, boolean) or a condition that does not parse is UNKNOWN, never
silently true or false. A request has no suboperation (``SubOperationMatches`` is false).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from posture.iam.conditions import Truth

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<attr>@\w+\[[^\]]*\])
    | (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<op>&&|\|\||!|[(){},])
    | (?P<word>[A-Za-z0-9_.:\-]+)
    )""",
    re.VERBOSE,
)
_PREFIXES = ("foranyofanyvalues", "forallofanyvalues", "foranyofallvalues", "forallofallvalues")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class ConditionSyntaxError(ValueError):
    """The condition text does not parse (the caller treats it as UNKNOWN)."""


@dataclass(frozen=True, slots=True)
class Request:
    """What is known of one request: the action and the attributes (missing = unknown)."""

    action: str
    attributes: Mapping[str, Sequence[str]]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionSyntaxError(f"unexpected text at {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _unquote(value: str) -> str:
    if value.startswith("'") and value.endswith("'"):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


Node = Callable[[Request], Truth]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i][1] if self.i < len(self.toks) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise ConditionSyntaxError("unexpected end of condition")
        tok = self.toks[self.i]
        if expected is not None and tok[1].upper() != expected.upper():
            raise ConditionSyntaxError(f"expected {expected!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.or_expr()
        if self.i != len(self.toks):
            raise ConditionSyntaxError(f"unexpected {self.peek()!r}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek().upper() in ("OR", "||"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else _any_of(parts)

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while self.peek().upper() in ("AND", "&&"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else _all_of(parts)

    def unary(self) -> Node:
        if self.peek().upper() in ("!", "NOT"):
            self.take()
            inner = self.unary()
            return lambda r: ~inner(r)
        if self.peek() == "(":
            self.take()
            node = self.or_expr()
            self.take(")")
            return node
        word = self.peek().lower()
        if word in ("actionmatches", "suboperationmatches"):
            self.take()
            self.take("{")
            pattern = _unquote(self.take()[1]).lower()
            self.take("}")
            if word == "suboperationmatches":
                return lambda r: Truth.FALSE
            return lambda r: Truth(2 * fnmatch.fnmatchcase(r.action.lower(), pattern))
        return self.comparison()

    def operand(self) -> tuple[str | None, tuple[str, ...]]:
        """An attribute (its key) or literal values."""
        kind, value = self.take()
        if kind == "attr":
            source, _, name = value[1:].partition("[")
            return f"{source.lower()}[{name[:-1].lower()}]", ()
        if value == "{":
            values = []
            while self.peek() != "}":
                values.append(_unquote(self.take()[1]))
                if self.peek() == ",":
                    self.take()
            self.take("}")
            return None, tuple(values)
        return None, (_unquote(value),)

    def comparison(self) -> Node:
        left = self.operand()
        op = self.take()[1].lower()
        right = self.operand()
        prefix, _, base = op.rpartition(":")
        if prefix and prefix not in _PREFIXES:
            raise ConditionSyntaxError(f"unknown operator {op!r}")
        compare = _function(base)
        return lambda r: _compare(r, left, prefix, compare, right)


def _any_of(parts: list[Node]) -> Node:
    return lambda r: max((p(r) for p in parts), default=Truth.FALSE)


def _all_of(parts: list[Node]) -> Node:
    return lambda r: min((p(r) for p in parts), default=Truth.TRUE)


def _norm_guid(value: str) -> str:
    return value.strip("{}").lower().rsplit("/", 1)[-1]


def _equals(a: str, b: str) -> bool:
    return a == b


def _guid_equals(a: str, b: str) -> bool:
    return _norm_guid(a) == _norm_guid(b)


def _like(a: str, b: str) -> bool:
    return fnmatch.fnmatchcase(a, b)


def _starts(a: str, b: str) -> bool:
    return a.startswith(b)


_BASE: dict[str, Callable[[str, str], bool]] = {
    "guidequals": _guid_equals,
    "stringequals": _equals,
    "stringstartswith": _starts,
    "stringlike": _like,
}


@dataclass(frozen=True, slots=True)
class _Function:
    """One of Azure's string/GUID comparisons of a left value with a right value."""

    base: Callable[[str, str], bool]
    fold: bool
    negated: bool

    def __call__(self, a: str, b: str) -> bool:
        if self.fold:
            a, b = a.lower(), b.lower()
        return self.base(a, b) != self.negated


def _function(name: str) -> _Function | None:
    """``StringNotEqualsIgnoreCase`` -> its comparison (None: an unsupported family)."""
    negated = name.startswith(("stringnot", "guidnot"))
    name = name.replace("not", "", 1) if negated else name
    fold = name.endswith("ignorecase")
    base = _BASE.get(name.removesuffix("ignorecase"))
    return None if base is None else _Function(base, fold, negated)


def _compare(
    r: Request,
    left: tuple[str | None, tuple[str, ...]],
    prefix: str,
    fn: _Function | None,
    right: tuple[str | None, tuple[str, ...]],
) -> Truth:
    if fn is None:
        return Truth.UNKNOWN

    def values(side: tuple[str | None, tuple[str, ...]]) -> Sequence[str] | None:
        key, literal = side
        return literal if key is None else r.attributes.get(key)

    lhs, rhs = values(left), values(right)
    if lhs is None or rhs is None:
        return Truth.UNKNOWN
    if prefix:
        outer = all if prefix.startswith("forall") else any
        inner = all if prefix.endswith("allvalues") else any
    else:  # single values: a negated comparison must hold against every right value
        outer, inner = any, all if fn.negated else any
    return Truth(2 * outer(inner(fn(a, b) for b in rhs) for a in lhs))


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The condition as a function of a :class:`Request` (raises ConditionSyntaxError)."""
    return _Parser(text).parse()


def evaluate(text: str | None, request: Request) -> Truth:
    """Whether the condition allows ``request``; no condition allows everything."""
    if not text or not text.strip():
        return Truth.TRUE
    try:
        return parse(text)(request)
    except ConditionSyntaxError:
        return Truth.UNKNOWN


def guids(text: str | None) -> list[str]:
    """Every GUID the condition names (role definitions, principals), lower case, in order."""
    return list(dict.fromkeys(g.lower() for g in GUID.findall(text or "")))
