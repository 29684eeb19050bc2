"""Reporters: CSV, JSON and self-contained HTML, interchangeable behind :class:`Reporter`.

The CLI calls::

    formats = parse_formats("csv,json,html,controls") # ReportError on an unknown name
    report = Report.of(run, catalogue.frameworks)      # run: posture.pipeline.AuditRun
    written = write_reports(report, Path("out"), formats)   # {OutputFormat: Path}

Each format writes one file with a fixed name (:data:`FILENAMES`) into the output directory.
Beside ``controls.csv``, a report whose snapshot holds identities also gets ``identity.csv``
(:data:`IDENTITY_FILENAME`, :func:`companions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from posture import files
from posture.errors import ReportError
from posture.reporters.base import OutputFormat, Report, Reporter
from posture.reporters.controls_reporter import ControlsReporter
from posture.reporters.csv_reporter import CsvReporter
from posture.reporters.html_reporter import HtmlReporter
from posture.reporters.identity_reporter import FILENAME as IDENTITY_FILENAME
from posture.reporters.identity_reporter import render_identity_csv
from posture.reporters.json_reporter import JsonReporter

_REPORTERS: dict[OutputFormat, type[Reporter]] = {
    OutputFormat.CSV: CsvReporter,
    OutputFormat.JSON: JsonReporter,
    OutputFormat.HTML: HtmlReporter,
    OutputFormat.CONTROLS: ControlsReporter,
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


__all__ = [
    "FILENAMES",
    "IDENTITY_FILENAME",
    "OutputFormat",
    "Report",
    "ReportError",
    "Reporter",
    "companions",
    "parse_formats",
    "reporter_for",
    "write_reports",
]
