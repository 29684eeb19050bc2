"""IAM policy documents parsed into typed, frozen statements with precompiled matchers.

A document is parsed once (:func:`parse_policy`); its statements carry the action bitset over
the :class:`~posture.iam.actions.ActionCatalogue` (``NotAction`` already complemented) and the
patterns of their ``Resource``/``NotResource`` element, compiled on first use and cached.
Policy variables (``${aws:username}``, ``${aws:PrincipalTag/team}``, ``${*}``) are resolved per
principal before a resource pattern is compiled; an unresolvable variable matches nothing, as in
AWS.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from posture.iam.actions import ActionCatalogue, glob_regex

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "\x00STAR\x00", "?": "\x00QM\x00", "$": "$"}


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


def as_tuple(value: Any) -> tuple[str, ...]:
    """A policy element that may be a scalar or a list, as a tuple of strings."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key, values) test of a Condition block."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # lower-case, e.g. "aws:sourceip"
    values: tuple[str, ...]
    base: str  # lower-case operator without qualifiers, e.g. "stringlike"
    if_exists: bool
    set_op: str | None  # "forallvalues" / "foranyvalue" / None

    @classmethod
    def parse(cls, operator: str, key: str, values: Any) -> Condition:
        op = operator.strip()
        set_op, _, rest = op.rpartition(":")
        base = rest.lower()
        if_exists = base.endswith("ifexists") and base != "null"
        if if_exists:
            base = base[: -len("ifexists")]
        vals = tuple(
            str(v).lower() if isinstance(v, bool) else str(v)
            for v in (values if isinstance(values, list | tuple) else [values])
        )
        return cls(op, key.strip().lower(), vals, base, if_exists, set_op.lower() or None)


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """The Principal (or NotPrincipal) element of a resource or trust policy."""

    wildcard: bool  # "*" or {"AWS": "*"}: every principal
    aws: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_users: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: Any) -> PrincipalSpec:
        if value == "*":
            return cls(wildcard=True)
        if not isinstance(value, Mapping):
            return cls(wildcard=False)
        aws = as_tuple(value.get("AWS"))
        return cls(
            wildcard="*" in aws,
            aws=tuple(a for a in aws if a != "*"),
            services=as_tuple(value.get("Service")),
            federated=as_tuple(value.get("Federated")),
            canonical_users=as_tuple(value.get("CanonicalUser")),
        )

    def accounts(self) -> tuple[str, ...]:
        """Account ids named in the AWS element (bare ids, ``:root`` ARNs and principal ARNs)."""
        out = []
        for entry in self.aws:
            if entry.isdigit():
                out.append(entry)
            elif entry.startswith("arn:") and len(entry.split(":")) > 4:
                out.append(entry.split(":")[4])
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement; ``action_mask`` is the catalogue bitset it covers (NotAction complemented)."""

    policy: str  # label of the policy it belongs to (managed ARN or "<principal arn>#inline/<n>")
    index: int
    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    principal: PrincipalSpec | None
    not_principal: bool
    conditions: tuple[Condition, ...]
    action_mask: int = field(repr=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def all_resources(self) -> bool:
        """The statement applies to every resource (``*``), or all but a few (NotResource)."""
        if self.not_resource:
            return "*" not in self.resources
        return "*" in self.resources

    def matches_action(self, action: str, bit: int | None) -> bool:
        if bit is not None:
            return bool(self.action_mask >> bit & 1)
        hit = any(_action_rx(p).fullmatch(action) for p in self.actions)
        return hit != self.not_action

    def matches_resource(self, arn: str, variables: Mapping[str, str] | None = None) -> bool:
        hit = any(_resource_match(p, arn, variables) for p in self.resources)
        return hit != self.not_resource

    def evidence(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "statement_index": self.index,
            "sid": self.sid,
            "statement": dict(self.raw),
        }


@dataclass(frozen=True, slots=True)
class Policy:
    label: str
    statements: tuple[Statement, ...]
    unparsed: bool = False

    def allows(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.effect == Effect.ALLOW)

    def denies(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.effect == Effect.DENY)


def parse_policy(document: Any, label: str, catalogue: ActionCatalogue) -> Policy:
    """Parse a policy document (dict, as in the inventory) into typed statements."""
    if not isinstance(document, Mapping) or "Unparsed" in document:
        return Policy(label, (), unparsed=document is not None)
    raw = document.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, stmt in enumerate(items):
        if isinstance(stmt, Mapping):
            out.append(parse_statement(stmt, label, i, catalogue))
    return Policy(label, tuple(out))


def parse_statement(
    stmt: Mapping[str, Any], label: str, index: int, catalogue: ActionCatalogue
) -> Statement:
    not_action = "NotAction" in stmt
    actions = as_tuple(stmt.get("NotAction" if not_action else "Action"))
    mask = 0
    for pattern in actions:
        mask |= catalogue.expand(pattern)
    if not_action:
        mask = catalogue.all & ~mask
    not_resource = "NotResource" in stmt
    principal_key = "NotPrincipal" if "NotPrincipal" in stmt else "Principal"
    conditions: list[Condition] = []
    block = stmt.get("Condition")
    if isinstance(block, Mapping):
        for operator, tests in block.items():
            if isinstance(tests, Mapping):
                conditions.extend(
                    Condition.parse(str(operator), str(k), v) for k, v in tests.items()
                )
    return Statement(
        policy=label,
        index=index,
        sid=str(stmt["Sid"]) if stmt.get("Sid") is not None else None,
        effect=Effect.DENY if str(stmt.get("Effect")) == "Deny" else Effect.ALLOW,
        actions=actions,
        not_action=not_action,
        resources=as_tuple(stmt.get("NotResource" if not_resource else "Resource")),
        not_resource=not_resource,
        principal=PrincipalSpec.parse(stmt[principal_key]) if principal_key in stmt else None,
        not_principal=principal_key == "NotPrincipal",
        conditions=tuple(conditions),
        action_mask=mask,
        raw=stmt,
    )


@functools.lru_cache(maxsize=16384)
def _action_rx(pattern: str) -> re.Pattern[str]:
    return glob_regex(pattern.strip(), ignore_case=True)


@functools.lru_cache(maxsize=65536)
def _resource_rx(pattern: str) -> re.Pattern[str]:
    return glob_regex(pattern, ignore_case=False)


def _resource_match(pattern: str, arn: str, variables: Mapping[str, str] | None) -> bool:
    if pattern == "*":
        return True
    if "${" in pattern:
        resolved = substitute(pattern, variables or {})
        if resolved is None:
            return False
        return _substituted_rx(resolved).fullmatch(arn) is not None
    return _resource_rx(pattern).fullmatch(arn) is not None


def substitute(pattern: str, variables: Mapping[str, str]) -> str | None:
    """Resolve ``${...}`` variables; None when one has no value (and no default)."""
    missing = False

    def repl(m: re.Match[str]) -> str:
        nonlocal missing
        inner = m.group(1).strip()
        if inner in _SPECIAL:
            return _SPECIAL[inner]
        key, _, default = inner.partition(",")
        value = variables.get(key.strip().lower())
        if value is None:
            default = default.strip()
            if len(default) >= 2 and default[0] == default[-1] == "'":
                return default[1:-1]
            missing = True
            return ""
        return value

    out = _VARIABLE.sub(repl, pattern)
    return None if missing else out


@functools.lru_cache(maxsize=65536)
def _substituted_rx(pattern: str) -> re.Pattern[str]:
    """Like a resource pattern, but ``${*}``/``${?}`` placeholders are literal characters."""
    rx = glob_regex(pattern, ignore_case=False).pattern
    rx = rx.replace(re.escape(_SPECIAL["*"]), re.escape("*"))
    rx = rx.replace(re.escape(_SPECIAL["?"]), re.escape("?"))
    return re.compile(rx, re.DOTALL)
