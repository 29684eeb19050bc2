"""Checks: a decorator that annotates a function with its spec, and a loader that collects them.

Nothing registers itself at import time: :func:`check` only attaches a :class:`CheckSpec` to the
function, and :func:`load_catalogue` walks the ``posture.checks`` package to find annotated
functions. Control mappings come from the framework data files (``checks/frameworks/*.toml``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
import textwrap
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from posture.errors import CatalogueError, CheckSelectionError
from posture.model import Principle, Provider, Severity

if TYPE_CHECKING:
    from posture.engine import CheckContext, Result

CheckFunc = Callable[["CheckContext"], Iterable["Result"]]

CHECK_ID = re.compile(r"^(aws|azure|gcp|github)\.[a-z0-9_]+\.[a-z0-9_]+$")
_ATTR = "__posture_check__"


@dataclass(frozen=True, slots=True)
class CheckSpec:
    id: str
    title: str
    severity: Severity
    principles: tuple[Principle, ...]
    reads: frozenset[str]
    remediation: str
    rationale: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    # judges relations between accounts: in an organisation run it runs once, on the merged
    # assets of its ``reads`` from every account, instead of once per account
    organization: bool = False

    @property
    def provider(self) -> Provider:
        return Provider(self.id.split(".", 1)[0])


@dataclass(frozen=True, slots=True)
class Check:
    spec: CheckSpec
    func: CheckFunc
    controls: Mapping[str, tuple[str, ...]]


def check(
    id: str,
    severity: Severity,
    principles: Iterable[Principle],
    *,
    reads: Iterable[str],
    title: str | None = None,
    remediation: str | None = None,
    rationale: str | None = None,
    params: Mapping[str, Any] | None = None,
    aliases: Iterable[str] = (),
    organization: bool = False,
) -> Callable[[CheckFunc], CheckFunc]:
    """Annotate a check function with its spec (no registration happens here).

    The structured fields are the decorator's arguments; the prose lives in the function's
    docstring, where a reader of the code and ``help()`` find it: the first paragraph is the
    title, the paragraphs after it the rationale, and the last paragraph, which starts with
    ``Remediation:``, the remediation. A keyword given here wins over the docstring (for prose
    shared by several checks). Paragraphs are unwrapped: line breaks become single spaces.
    """

    def annotate(func: CheckFunc) -> CheckFunc:
        prose = _docstring_prose(id, func)
        spec = CheckSpec(
            id=id,
            title=title if title is not None else prose.title,
            severity=severity,
            principles=tuple(principles),
            reads=frozenset(reads),
            remediation=remediation if remediation is not None else prose.remediation,
            rationale=rationale if rationale is not None else prose.rationale,
            params=dict(params or {}),
            aliases=tuple(aliases),
            organization=organization,
        )
        if not spec.title or not spec.remediation:
            raise CatalogueError(
                f"check {id}: a title (the docstring's first paragraph) and a remediation "
                "(a last paragraph starting with 'Remediation:') are required"
            )
        setattr(func, _ATTR, spec)
        return func

    return annotate


@dataclass(frozen=True, slots=True)
class Prose:
    title: str = ""
    rationale: str = ""
    remediation: str = ""


REMEDIATION = "Remediation:"


def parse_prose(doc: str | None) -> Prose:
    """Title, rationale and remediation from a check docstring (see :func:`check`)."""
    if not doc:
        return Prose()
    paragraphs = [" ".join(p.split()) for p in inspect.cleandoc(doc).split("\n\n")]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return Prose()
    title, rest = paragraphs[0], paragraphs[1:]
    remediation = ""
    if rest and rest[-1].startswith(REMEDIATION):
        remediation = rest.pop()[len(REMEDIATION):].strip()
    return Prose(title=title, rationale=" ".join(rest), remediation=remediation)


def _docstring_prose(check_id: str, func: CheckFunc) -> Prose:
    """The docstring's prose; read from the source when the interpreter dropped docstrings
    (``python -OO``), so the catalogue is the same under every optimisation level."""
    doc = func.__doc__
    if doc is None and sys.flags.optimize >= 2:
        try:
            node = ast.parse(textwrap.dedent(inspect.getsource(func)))
        except (OSError, TypeError, SyntaxError):
            raise CatalogueError(
                f"check {check_id}: its docstring is not available (running with -OO and "
                "without source files); run posture without -OO"
            ) from None
        fn = node.body[0]
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(fn, clean=False)
    return parse_prose(doc)


@dataclass(frozen=True, slots=True)
class Framework:
    """One framework data file: its controls (id -> title) and the checks behind each.

    ``provider`` is the cloud a benchmark is written for (the CIS Foundations benchmarks); a
    provider-neutral framework (SOC 2, ISO/IEC 27001, NIST SP 800-53, PCI DSS) has none and
    applies to every scan. ``version`` and ``source`` say which edition the control ids are
    taken from and where that edition is published."""

    id: str
    name: str
    controls: Mapping[str, str]  # control id -> title
    checks_by_control: Mapping[str, tuple[str, ...]]
    provider: Provider | None = None
    version: str = ""
    source: str = ""

    def applies_to(self, providers: Iterable[Provider]) -> bool:
        return self.provider is None or self.provider in set(providers)


@dataclass(frozen=True, slots=True)
class Catalogue:
    checks: tuple[Check, ...]
    frameworks: tuple[Framework, ...]

    def ids(self) -> tuple[str, ...]:
        return tuple(c.spec.id for c in self.checks)

    def get(self, check_id: str) -> Check:
        for c in self.checks:
            if check_id == c.spec.id or check_id in c.spec.aliases:
                return c
        raise CheckSelectionError(f"unknown check id {check_id!r} (see `posture checks list`)")

    def select(
        self,
        ids: Iterable[str] = (),
        provider: Provider | None = None,
        principles: Iterable[Principle] = (),
    ) -> tuple[Check, ...]:
        chosen = [self.get(i) for i in ids] if ids else list(self.checks)
        if provider is not None:
            chosen = [c for c in chosen if c.spec.provider == provider]
        wanted = set(principles)
        if wanted:
            chosen = [c for c in chosen if wanted & set(c.spec.principles)]
        unique = {c.spec.id: c for c in chosen}
        return tuple(unique[k] for k in sorted(unique))

    def version(self) -> str:
        """The check-catalogue version: the tool version plus a digest of every check's id,
        severity, inputs, parameters and control mappings (``0.1.0+c7`` + 12 hex digits).
        Two runs with the same catalogue version judge the same snapshot the same way."""
        import hashlib
        import json

        from posture import __version__

        doc = [
            [c.spec.id, int(c.spec.severity), sorted(c.spec.reads), repr(sorted(
                c.spec.params.items())), {k: list(v) for k, v in sorted(c.controls.items())}]
            for c in self.checks
        ]
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        return f"{__version__}+c{len(self.checks)}.{digest[:12]}"

    def framework(self, framework_id: str) -> Framework:
        return find_framework(self.frameworks, framework_id)


def spec_of(func: object) -> CheckSpec | None:
    """The spec :func:`check` attached to ``func``, if any."""
    spec = getattr(func, _ATTR, None)
    return spec if isinstance(spec, CheckSpec) else None


def _iter_specs(package: str) -> Iterator[tuple[CheckSpec, CheckFunc]]:
    pkg = importlib.import_module(package)
    for info in sorted(
        pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."), key=lambda i: i.name
    ):
        module = importlib.import_module(info.name)
        for name in sorted(vars(module)):
            obj = getattr(module, name)
            spec = spec_of(obj)
            if spec is not None and getattr(obj, "__module__", None) == module.__name__:
                yield spec, obj


def load_frameworks(package: str = "posture.checks") -> tuple[Framework, ...]:
    """Every ``frameworks/*.toml`` of ``package``, in file-name order. The ``[framework]``
    table names the framework (``id``, ``name``, ``version``, ``source`` and, for a
    benchmark of one cloud, ``provider``); each ``[controls."ID"]`` table a control's
    ``title`` and the ``checks`` that evidence it."""
    frameworks = []
    folder = resources.files(package).joinpath("frameworks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            meta = data["framework"]
            controls = data.get("controls", {})
            provider = meta.get("provider")
            frameworks.append(
                Framework(
                    id=str(meta["id"]),
                    name=str(meta["name"]),
                    controls={k: str(v.get("title", "")) for k, v in controls.items()},
                    checks_by_control={k: tuple(v.get("checks", ())) for k, v in controls.items()},
                    provider=Provider(provider) if provider is not None else None,
                    version=str(meta.get("version", "")),
                    source=str(meta.get("source", "")),
                )
            )
        except (tomllib.TOMLDecodeError, KeyError, AttributeError, TypeError, ValueError) as exc:
            raise CatalogueError(f"framework file {entry.name}: {exc}") from None
    ids = [f.id.lower() for f in frameworks]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"two framework files share an id: {sorted(ids)}")
    return tuple(frameworks)


def find_framework(frameworks: Iterable[Framework], framework_id: str) -> Framework:
    """The framework of that id (case-insensitive); an unknown id is a selection error."""
    frameworks = tuple(frameworks)
    for f in frameworks:
        if f.id.lower() == framework_id.strip().lower():
            return f
    known = ", ".join(f.id for f in frameworks)
    raise CheckSelectionError(f"unknown framework {framework_id.strip()!r} (known: {known})")


def framework_ids(values: Iterable[str] | None) -> tuple[str, ...]:
    """``--framework a,b --framework c`` -> ``("a", "b", "c")``: blanks dropped, first
    occurrence kept."""
    ids = (v.strip() for value in values or () for v in value.split(","))
    return tuple(dict.fromkeys(i for i in ids if i))


def select_frameworks(
    frameworks: Iterable[Framework],
    providers: Iterable[Provider],
    chosen: Iterable[str] = (),
) -> tuple[Framework, ...]:
    """The frameworks a report shows: those ``chosen`` by id (in the catalogue's order, each
    id checked), or by default every provider-neutral framework and the benchmarks of the
    ``providers`` scanned (an AWS audit lists no Azure or GCP benchmark)."""
    frameworks = tuple(frameworks)
    wanted = {find_framework(frameworks, i).id for i in chosen}
    if wanted:
        return tuple(f for f in frameworks if f.id in wanted)
    scanned = tuple(providers)
    return tuple(f for f in frameworks if f.applies_to(scanned))


def load_catalogue(package: str = "posture.checks") -> Catalogue:
    """Collect every annotated check below ``package`` and attach its control mappings."""
    found: dict[str, tuple[CheckSpec, CheckFunc]] = {}
    for spec, func in _iter_specs(package):
        if not CHECK_ID.match(spec.id):
            raise CatalogueError(
                f"check id {spec.id!r} is not of the form <provider>.<area>.<name>"
            )
        if spec.id in found:
            raise CatalogueError(f"duplicate check id {spec.id!r}")
        found[spec.id] = (spec, func)
    frameworks = load_frameworks(package)
    controls: dict[str, dict[str, list[str]]] = {k: {} for k in found}
    for fw in frameworks:
        for control, check_ids in fw.checks_by_control.items():
            for cid in check_ids:
                if cid not in found:
                    raise CatalogueError(
                        f"framework {fw.id}: control {control} maps unknown check {cid!r}"
                    )
                controls[cid].setdefault(fw.id, []).append(control)
    checks = tuple(
        Check(
            spec=spec,
            func=func,
            controls={
                fw: tuple(sorted(c, key=_control_key)) for fw, c in sorted(controls[cid].items())
            },
        )
        for cid, (spec, func) in sorted(found.items())
    )
    return Catalogue(checks=checks, frameworks=frameworks)


def _control_key(control: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", control))
