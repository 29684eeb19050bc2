"""The check decorator: structured fields as arguments, prose from the docstring."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from posture.errors import CatalogueError, CheckSelectionError
from posture.model import Principle, Provider, Severity
from posture.registry import (
    Framework,
    check,
    framework_ids,
    load_frameworks,
    parse_prose,
    select_frameworks,
    spec_of,
)


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


# ------------------------------------------------------------------------------- frameworks


def _ids(frameworks: tuple[Framework, ...]) -> list[str]:
    return [f.id for f in frameworks]


def test_a_report_shows_the_neutral_frameworks_and_the_benchmarks_of_its_cloud() -> None:
    frameworks = load_frameworks()
    neutral = ["ISO27001-2022", "NIST-800-53-R5", "PCI-DSS-4.0", "SOC2"]
    aws = _ids(select_frameworks(frameworks, (Provider.AWS,)))
    assert aws == ["CIS-AWS-3.0", "CIS-AWS-7.0", *neutral]
    assert _ids(select_frameworks(frameworks, (Provider.GCP,))) == [
        "CIS-GCP-3.0", "CIS-GCP-5.0", *neutral]
    assert _ids(select_frameworks(frameworks, (Provider.GITHUB,))) == neutral
    both = _ids(select_frameworks(frameworks, (Provider.AZURE, Provider.GCP)))
    assert [i for i in both if i.startswith("CIS-")] == [
        "CIS-AZURE-3.0", "CIS-AZURE-6.0", "CIS-GCP-3.0", "CIS-GCP-5.0"]


def test_chosen_frameworks_win_in_catalogue_order_whatever_the_cloud() -> None:
    frameworks = load_frameworks()
    chosen = framework_ids(["soc2, cis-gcp-5.0", "Iso27001-2022", "SOC2", " "])
    assert chosen == ("soc2", "cis-gcp-5.0", "Iso27001-2022", "SOC2")
    assert _ids(select_frameworks(frameworks, (Provider.AWS,), chosen)) == [
        "CIS-GCP-5.0", "ISO27001-2022", "SOC2"]
    with pytest.raises(CheckSelectionError, match=r"unknown framework 'iso'.*ISO27001-2022"):
        select_frameworks(frameworks, (Provider.AWS,), ["iso"])
    assert framework_ids(None) == ()


def test_a_framework_applies_to_its_cloud_only() -> None:
    cis = Framework("CIS-X", "x", {}, {}, provider=Provider.AZURE)
    neutral = Framework("N", "n", {}, {})
    assert cis.applies_to([Provider.AZURE]) and not cis.applies_to([Provider.AWS])
    assert neutral.applies_to([]) and neutral.applies_to([Provider.GITHUB])


def _framework_package(root: Path, name: str, *files: str) -> str:
    """A package ``name`` under ``root`` whose frameworks/ holds the given TOML texts."""
    folder = root / name / "frameworks"
    folder.mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    for i, text in enumerate(files):
        (folder / f"f{i}.toml").write_text(text)
    return name


def test_framework_files_are_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    good = '[framework]\nid = "X-1"\nname = "X"\nprovider = "gcp"\nversion = "1.0"\nsource = "s"\n'
    loaded = load_frameworks(_framework_package(tmp_path, "fw_good", good))
    assert loaded[0].provider is Provider.GCP and (loaded[0].version, loaded[0].source) == (
        "1.0", "s")
    bad_cloud = good.replace('"gcp"', '"oracle"')
    with pytest.raises(CatalogueError, match=r"f0\.toml"):
        load_frameworks(_framework_package(tmp_path, "fw_cloud", bad_cloud))
    with pytest.raises(CatalogueError, match="share an id"):
        load_frameworks(_framework_package(tmp_path, "fw_twice", good, good.replace("X-1", "x-1")))
