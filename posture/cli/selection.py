"""Which checks a run runs: ``--check`` (ids, aliases or glob patterns), ``--service`` (the
area of a check id, its middle part: ``aws.kubernetes.…`` is ``kubernetes``), ``--severity``
and ``--exclude-check``, resolved against the catalogue into check ids before a long scan.

``--severity`` selects *checks* by the severity the catalogue gives them (as ``posture checks
list`` shows it, and as Prowler does), not findings: the checks chosen run whole, and a check
that grades its findings by what it finds (the defense-depth checks) reports each finding at
its own severity. ``--fail-on`` and the exit code judge the findings of the checks that ran.

The options combine as an intersection (``-c`` ∩ ``--service`` ∩ ``--severity``), less
``--exclude-check``. A name that is not a check id, a pattern that matches no check, an
unknown service or severity, or a selection left empty is a usage error (exit 2).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Annotated, Any

import typer
from rich.console import Console

from posture.cli.logs import LogLevel, Quiet, Verbose, configure, parse_level
from posture.errors import CheckSelectionError
from posture.model import Provider, Severity
from posture.registry import Catalogue

CheckIds = Annotated[
    list[str] | None,
    typer.Option("--check", "-c", help="Run only these checks: ids or glob patterns such as "
                 "'aws.iam.*' (repeatable or comma-separated)."),
]
SeverityOpt = Annotated[
    list[str] | None,
    typer.Option("--severity", help="Run only the checks of these severities (repeatable or "
                 "comma-separated: critical,high,medium,low,info)."),
]
ServiceOpt = Annotated[
    list[str] | None,
    typer.Option("--service", help="Run only the checks of these areas, the middle part of a "
                 "check id, e.g. kubernetes, network, iam (repeatable or comma-separated)."),
]
ExcludeCheckOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude-check", help="Skip these checks: ids or glob patterns "
                 "(repeatable or comma-separated)."),
]

_GLOB = frozenset("*?[")


def split_values(values: Iterable[str] | None) -> tuple[str, ...]:
    """``-x a,b -x c`` -> ``("a", "b", "c")``: blanks dropped, first occurrence kept."""
    items = (v.strip() for value in values or () for v in value.split(","))
    return tuple(dict.fromkeys(i for i in items if i))


def service_of(check_id: str) -> str:
    """The area of a check id: ``aws.kubernetes.eks_endpoint_private`` -> ``kubernetes``."""
    return check_id.split(".")[1]


@dataclass(frozen=True, slots=True)
class Selection:
    """The check-selection options as given (``given`` is false when none was)."""

    checks: tuple[str, ...] = ()  # --check: ids, aliases or glob patterns
    services: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = ()
    excluded: tuple[str, ...] = ()  # --exclude-check: ids, aliases or glob patterns

    @classmethod
    def parse(
        cls,
        check: Iterable[str] | None = None,
        service: Iterable[str] | None = None,
        severity: Iterable[str] | None = None,
        exclude_check: Iterable[str] | None = None,
    ) -> Selection:
        severities = tuple(dict.fromkeys(Severity.parse(s) for s in split_values(severity)))
        services = tuple(s.lower() for s in split_values(service))
        return cls(split_values(check), services, severities, split_values(exclude_check))

    @property
    def given(self) -> bool:
        return bool(self.checks or self.services or self.severities or self.excluded)

    def describe(self) -> str:
        """The selection as options, for messages: ``--service iam --severity critical``."""
        parts = [f"-c {c}" for c in self.checks]
        parts += [f"--service {s}" for s in self.services]
        parts += [f"--severity {s.label}" for s in self.severities]
        parts += [f"--exclude-check {c}" for c in self.excluded]
        return " ".join(parts)

    def resolve(self, catalogue: Catalogue) -> tuple[str, ...]:
        """The sorted ids of the chosen checks; ``()`` (every check) when nothing was given."""
        if not self.given:
            return ()
        ids = set(_matching(catalogue, self.checks) if self.checks else catalogue.ids())
        if self.services:
            known = sorted({service_of(i) for i in catalogue.ids()})
            for s in self.services:
                if s not in known:
                    raise CheckSelectionError(
                        f"unknown service {s!r} (known: {', '.join(known)})")
            ids = {i for i in ids if service_of(i) in self.services}
        if self.severities:
            ids = {i for i in ids if catalogue.get(i).spec.severity in self.severities}
        ids -= _matching(catalogue, self.excluded, "--exclude-check")
        if not ids:
            raise CheckSelectionError(f"{self.describe()} selects no check "
                                      "(see `posture checks list`)")
        return tuple(sorted(ids))


def _matching(catalogue: Catalogue, patterns: Iterable[str],
              option: str = "-c") -> set[str]:
    """The ids each pattern names: an id or alias (an unknown one is an error), or a glob
    pattern over the ids (one that matches nothing is an error: a typo runs nothing)."""
    ids = catalogue.ids()
    found: set[str] = set()
    for pattern in patterns:
        if _GLOB & set(pattern):
            matched = {i for i in ids if fnmatchcase(i, pattern)}
            if not matched:
                raise CheckSelectionError(f"{option} {pattern!r} matches no check id "
                                          "(see `posture checks list`)")
            found |= matched
        else:
            found.add(catalogue.get(pattern).spec.id)
    return found


def require_provider(selection: Selection, check_ids: tuple[str, ...],
                     provider: Provider) -> None:
    """Refuse a selection that chose checks, none of them of the snapshot's provider
    (``--service appservice`` on an AWS snapshot would run nothing and report a clean run)."""
    if not check_ids or any(i.split(".", 1)[0] == provider.value for i in check_ids):
        return
    what = selection.describe() if selection.given else "the check selection"
    raise CheckSelectionError(f"{what} selects no {provider.value} check "
                               "(see `posture checks list --provider "
                               f"{provider.value}`)")


def select_ids(selection: Selection) -> tuple[str, ...]:
    """The ids ``selection`` chooses (``()``: every check), checked before a long scan."""
    if not selection.given:
        return ()
    from posture.registry import load_catalogue

    return selection.resolve(load_catalogue())


@dataclass(frozen=True, slots=True)
class Chosen:
    """The check selection and ``--quiet`` of a command, validated (``check_ids``: ``()`` is
    every check); logging is configured by then."""

    selection: Selection
    check_ids: tuple[str, ...]
    quiet: bool


# (name, typer annotation, default) of the selection and log options, in help order
SELECTION_PARAMS: tuple[tuple[str, Any, Any], ...] = (
    ("check", CheckIds, None),
    ("severity", SeverityOpt, None),
    ("service", ServiceOpt, None),
    ("exclude_check", ExcludeCheckOpt, None),
    ("quiet", Quiet, False),
    ("verbose", Verbose, False),
    ("log_level", LogLevel, None),
)


def selecting(console: Console) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command outside :func:`~posture.cli.options.report_command` (``demo``, ``evidence``)
    that takes the check selection and log options: they are appended to its parameters,
    logging goes to ``console`` at their level, and it receives them as ``chosen: Chosen``."""

    def wrap(func: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values()
               if p.name != "chosen"]
        shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                    annotation=hint) for name, hint, default in SELECTION_PARAMS]

        @functools.wraps(func)
        def command(**kwargs: Any) -> None:
            given = {name: kwargs.pop(name) for name, _, _ in SELECTION_PARAMS}
            configure(parse_level(given["quiet"], given["verbose"], given["log_level"]),
                      console)
            selection = Selection.parse(given["check"], given["service"], given["severity"],
                                        given["exclude_check"])
            func(chosen=Chosen(selection, select_ids(selection), given["quiet"]), **kwargs)

        signature = inspect.Signature([*own, *shared], return_annotation=None)
        command.__signature__ = signature  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        return command

    return wrap
