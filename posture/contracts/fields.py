"""The small type language of the asset contracts: what one attribute may hold.

A :class:`Field` accepts a JSON value of its kind, or ``null`` when ``nullable`` (``null`` is how a
collector says "unknown"). A *structural* field is one the verdicts of other assets rest on (the
rules of a security group, the routes of a table, the policies of a role): a wrong value there
cannot be contained to its own asset, so a snapshot holding one is rejected. Any other misfit is
contained: the attribute becomes unknown and the asset gets a collection gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_LABELS: Mapping[type, str] = {
    bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "object",
}


@dataclass(frozen=True, slots=True)
class Field:
    """One attribute's contract.

    ``kinds`` are the accepted Python types of the decoded JSON (``bool`` is never an ``int``
    here); ``items`` types every element of a list, ``values`` every value of an object whose keys
    are names, ``shape`` the known keys of a record (other keys are allowed and not typed).
    """

    kinds: tuple[type, ...]
    nullable: bool = True
    structural: bool = False
    items: Field | None = None
    values: Field | None = None
    shape: Mapping[str, Field] | None = None

    def label(self) -> str:
        name = " or ".join(_LABELS.get(k, k.__name__) for k in self.kinds)
        if self.items is not None:
            name = f"list of {self.items.label()}"
        return f"{name} or null" if self.nullable else name

    def strict(self) -> Field:
        """Structural, and ``null`` not allowed (the collector always writes a value)."""
        return dataclasses.replace(self, nullable=False, structural=True)

    def structure(self) -> Field:
        """Structural; ``null`` (unknown, with a collection error) still allowed."""
        return dataclasses.replace(self, structural=True)


_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1

BOOL = Field((bool,))
INT = Field((int,))
NUM = Field((int, float))
STR = Field((str,))
OBJ = Field((dict,))
ANY_LIST = Field((list,))


def list_of(item: Field) -> Field:
    """A list whose elements are never null."""
    return Field((list,), items=dataclasses.replace(item, nullable=False))


def map_of(value: Field) -> Field:
    """An object keyed by names (tags, policy names, parameters), values of one kind."""
    return Field((dict,), values=value)


def required(field: Field) -> Field:
    """``field`` without ``null`` (inside a record: a key the collector always fills)."""
    return dataclasses.replace(field, nullable=False)


def record(**shape: Field) -> Field:
    return Field((dict,), shape=shape)


STRS = list_of(STR)


def misfit(value: Any, field: Field, path: str) -> str | None:
    """The first place where ``value`` breaks ``field``: ``<path> must be <kind>, not <kind>``."""
    if value is None:
        return None if field.nullable else f"{path} must be {field.label()}, not null"
    if not isinstance(value, field.kinds) or (
        isinstance(value, bool) and bool not in field.kinds
    ):
        return f"{path} must be {field.label()}, not {_name(value)}"
    if type(value) is int and not _INT_MIN <= value <= _INT_MAX:
        return f"{path} must be {field.label()}, not an integer beyond 64 bits"
    return _inside(value, field, path)


def _inside(value: Any, field: Field, path: str) -> str | None:
    """The first misfit among the elements, values or known keys of a container ``value``."""
    if field.items is not None:
        for i, item in enumerate(value):
            found = misfit(item, field.items, f"{path}[{i}]")
            if found:
                return found
    elif field.values is not None:
        for key, item in value.items():
            found = misfit(item, field.values, f"{path}.{key}")
            if found:
                return found
    elif field.shape is not None:
        for key, sub in field.shape.items():
            if key in value:
                found = misfit(value[key], sub, f"{path}.{key}")
                if found:
                    return found
    return None


def _name(value: Any) -> str:
    return _LABELS.get(type(value), type(value).__name__)


# The shorthand of the per-cloud tables.
B, N, S, D = BOOL, INT, STR, OBJ
ID = STR.structure()  # an id other assets are joined on
NET_LIST = STRS.strict()  # a list the collector always writes

__all__ = [
    "ANY_LIST",
    "BOOL",
    "ID",
    "INT",
    "NET_LIST",
    "NUM",
    "OBJ",
    "STR",
    "STRS",
    "B",
    "D",
    "Field",
    "N",
    "S",
    "list_of",
    "map_of",
    "misfit",
    "record",
    "required",
]
