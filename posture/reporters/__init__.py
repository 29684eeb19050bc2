"""Reporters: CSV, JSON and self-contained HTML, interchangeable behind :class:`Reporter`.

The CLI calls::

    formats = parse_formats("csv,json,html,controls") # ReportError on an unknown name
    report = Report.of(run, catalogue.frameworks)      # run: posture.pipeline.AuditRun
    written = write_reports(report, Path("out"), formats)   # {OutputFormat: Path}

Each format writes one file with a fixed name (:data:`FILENAMES`) into the output directory.
Beside ``controls.csv``, a report whose snapshot holds identities also gets ``identity.csv``
(:data:`IDENTITY_FILENAME`, :func:`companions`). A run of the command line then sweeps the
folder (:func:`sweep_outputs`): the files its previous run wrote and this one did not are
removed, nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from posture import files
from posture.errors import ReportError
from posture.reporters.asff_reporter import AsffReporter
from posture.reporters.base import OutputFormat, Report, Reporter
from posture.reporters.controls_reporter import ControlsReporter
from posture.reporters.csv_reporter import CsvReporter
from posture.reporters.html_reporter import HtmlReporter
from posture.reporters.identity_reporter import FILENAME as IDENTITY_FILENAME
from posture.reporters.identity_reporter import render_identity_csv
from posture.reporters.json_reporter import JsonReporter
from posture.reporters.junit_reporter import JunitReporter
from posture.reporters.ocsf_reporter import OcsfReporter
from posture.reporters.pdf_reporter import PdfReporter

_REPORTERS: dict[OutputFormat, type[Reporter]] = {
    OutputFormat.CSV: CsvReporter,
    OutputFormat.JSON: JsonReporter,
    OutputFormat.HTML: HtmlReporter,
    OutputFormat.CONTROLS: ControlsReporter,
    OutputFormat.OCSF: OcsfReporter,
    OutputFormat.JUNIT: JunitReporter,
    OutputFormat.ASFF: AsffReporter,
    OutputFormat.PDF: PdfReporter,
}

FILENAMES: dict[OutputFormat, str] = {fmt: cls().filename for fmt, cls in _REPORTERS.items()}


def reporter_for(fmt: OutputFormat | str) -> Reporter:
    """The reporter of a format (a name such as ``"csv"`` is parsed; unknown → ReportError)."""
    chosen = fmt if isinstance(fmt, OutputFormat) else OutputFormat.parse(fmt)
    return _REPORTERS[chosen]()


def parse_formats(text: str) -> tuple[OutputFormat, ...]:
    """``"csv, JSON,html"`` → the formats, in the order given, without duplicates.

    Raises :class:`ReportError` naming the valid formats for an unknown or empty list.
    """
    chosen: list[OutputFormat] = []
    for name in text.split(","):
        if not name.strip():
            continue
        fmt = OutputFormat.parse(name)
        if fmt not in chosen:
            chosen.append(fmt)
    if not chosen:
        valid = ", ".join(f.value for f in OutputFormat)
        raise ReportError(f"no report format given (valid formats: {valid})")
    return tuple(chosen)


def _prepare_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir}: output path exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{out_dir}: cannot create output directory: "
                          f"{exc.strerror or exc}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    files.write_atomic(path, data, ReportError, "cannot write report")


def companions(report: Report, formats: Iterable[OutputFormat | str]) -> dict[str, bytes]:
    """The files written beside the chosen formats: ``identity.csv`` beside ``controls.csv``
    when the report holds identities (file name -> bytes)."""
    chosen = {f if isinstance(f, OutputFormat) else OutputFormat.parse(f) for f in formats}
    if OutputFormat.CONTROLS in chosen and report.identity:
        return {IDENTITY_FILENAME: render_identity_csv(report.identity)}
    return {}


def write_reports(
    report: Report, out_dir: Path, formats: Iterable[OutputFormat | str]
) -> dict[OutputFormat, Path]:
    """Render each format and write it into ``out_dir`` (created if missing), with its
    :func:`companions`.

    Returns the path written per format (the companions are not in it: :func:`companions`
    names them). Raises :class:`ReportError` for an unknown format or
    an output directory that cannot be created or written (all formats are rendered before
    the first file is written, so a rendering bug leaves no partial set of reports).
    """
    formats = list(formats)
    reporters = [reporter_for(f) for f in formats]
    rendered = {r.format: (r.filename, r.render(report)) for r in reporters}
    extra = companions(report, formats)
    _prepare_dir(out_dir)
    written: dict[OutputFormat, Path] = {}
    for fmt, (filename, data) in rendered.items():
        path = out_dir / filename
        _write_atomic(path, data)
        written[fmt] = path
    for filename, data in extra.items():
        _write_atomic(out_dir / filename, data)
    return written


OUTPUTS_MARKER = ".posture-outputs"
"""The bookkeeping of a reports folder: ``sha256  name`` (``sha256sum``'s format) of each file
the last run wrote there, so that the next run can remove what it does not write again."""


@dataclass(frozen=True, slots=True)
class Swept:
    removed: tuple[Path, ...] = ()  # the previous run's files this run did not write again
    kept: tuple[Path, ...] = ()  # report files not from this run, left as they are


def sweep_outputs(out_dir: Path, written: Iterable[Path]) -> Swept:
    """After a run wrote ``written`` into ``out_dir``: remove the report files the previous
    run wrote there (named in its :data:`OUTPUTS_MARKER`, and unchanged since: same SHA-256)
    that this run did not write, and record this run's files in the marker. A report file
    that posture did not write, or that changed since, is kept, and named in ``kept``."""
    names = {p.name for p in written}
    before = _marker(out_dir / OUTPUTS_MARKER)
    removed: list[Path] = []
    kept: list[Path] = []
    for name in sorted(_OUTPUT_NAMES - names):
        path = out_dir / name
        if not path.is_file():
            continue
        if path.is_symlink() or before.get(name) != _sha256(path):
            kept.append(path)
            continue
        try:
            path.unlink()
        except OSError:
            kept.append(path)
        else:
            removed.append(path)
    lines = ["# written by posture: the files of the last run into this folder (sha256sum -c)"]
    lines += [f"{_sha256(out_dir / n)}  {n}" for n in sorted(names)]
    _write_atomic(out_dir / OUTPUTS_MARKER, ("\n".join(lines) + "\n").encode("utf-8"))
    return Swept(tuple(removed), tuple(kept))


_OUTPUT_NAMES = frozenset(FILENAMES.values()) | {IDENTITY_FILENAME}


def _marker(path: Path) -> dict[str, str]:
    """name -> sha256 of a marker's lines (nothing, if there is none or it is unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and name in _OUTPUT_NAMES:
            found[name] = digest
    return found


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


__all__ = [
    "FILENAMES",
    "IDENTITY_FILENAME",
    "OUTPUTS_MARKER",
    "OutputFormat",
    "Report",
    "ReportError",
    "Reporter",
    "companions",
    "parse_formats",
    "reporter_for",
    "sweep_outputs",
    "write_reports",
]
