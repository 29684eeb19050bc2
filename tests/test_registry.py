"""The check decorator: structured fields as arguments, prose from the docstring."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from posture.errors import CatalogueError
from posture.model import Principle, Severity
from posture.registry import check, parse_prose, spec_of


def test_parse_prose_splits_title_rationale_and_remediation() -> None:
    doc = """Buckets are private

        Public buckets leak data
        to anyone.

        Objects listed publicly are indexed by search engines.

        Remediation: Turn on Block Public Access
        at the account level.
        """
    prose = parse_prose(doc)
    assert prose.title == "Buckets are private"
    assert prose.rationale == (
        "Public buckets leak data to anyone. Objects listed publicly are indexed by search engines."
    )
    assert prose.remediation == "Turn on Block Public Access at the account level."


def test_parse_prose_without_remediation_paragraph_leaves_it_empty() -> None:
    prose = parse_prose("Title only\n\nWhy it matters.")
    assert (prose.title, prose.rationale) == ("Title only", "Why it matters.")
    assert prose.remediation == ""


def test_decorator_reads_docstring_and_keywords_win() -> None:
    @check("aws.test.example", Severity.LOW, (Principle.AUDITABLE,), reads={"AWS::X"},
           rationale="Shared rationale.")
    def example(ctx: object) -> Iterator[object]:
        """Example title

        Docstring rationale that the keyword replaces.

        Remediation: Do the thing.
        """
        yield from ()

    spec = spec_of(example)
    assert spec is not None
    assert (spec.title, spec.rationale, spec.remediation) == (
        "Example title", "Shared rationale.", "Do the thing."
    )


def test_decorator_without_remediation_is_a_catalogue_error() -> None:
    with pytest.raises(CatalogueError, match=r"aws\.test\.bare"):
        @check("aws.test.bare", Severity.LOW, (), reads=())
        def bare(ctx: object) -> Iterator[object]:
            """Only a title"""
            yield from ()


_DUMP = (
    "import json; from posture.registry import load_catalogue; "
    "print(json.dumps([[c.spec.id, c.spec.title, c.spec.rationale, c.spec.remediation] "
    "for c in load_catalogue().checks]))"
)


def test_catalogue_prose_is_the_same_under_python_OO() -> None:
    """-OO drops docstrings; the catalogue reads them from the source instead."""
    normal = subprocess.run([sys.executable, "-c", _DUMP], capture_output=True, text=True,
                            check=True)
    optimised = subprocess.run([sys.executable, "-OO", "-c", _DUMP], capture_output=True,
                               text=True, check=True)
    specs = json.loads(normal.stdout)
    assert len(specs) > 100 and all(title and remediation for _, title, _, remediation in specs)
    assert json.loads(optimised.stdout) == specs
