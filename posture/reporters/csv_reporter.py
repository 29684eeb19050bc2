"""``findings.csv``: one row per finding, for spreadsheets and audit working papers.

The file is RFC 4180: comma separated, CRLF line ends, a field quoted (``"``, doubled inside)
when it holds a comma, a quote or a line break. It is UTF-8 with a byte order mark so that
Excel detects the encoding. Columns are :data:`HEADER` (``provider`` is ``aws``, ``azure``,
``gcp`` or ``github``: a sheet of several clouds' findings filters on it); ``principles`` are
joined with ``;``;
``controls`` are ``FRAMEWORK:ID;ID`` per framework, frameworks joined with ``|``
(``SOC2:CC6.1;CC6.6|CIS-AWS-3.0:5.2``); ``evidence`` is compact JSON with sorted keys;
``depth`` is the defense depth a finding gives its asset (0 = exposed; ``>=N`` a lower bound,
``undecided``; empty when the finding is not about depth), so a working paper can show "every
database is at depth >= 2".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from posture.reporters.base import OutputFormat, Report, account_columns, utf8
from posture.reporters.html_depth import depth_cell
from posture.results import COLUMNS, to_frame

# the result columns (the provider after the severity, as in findings.json), then the defense
# depth
HEADER: tuple[str, ...] = (*COLUMNS, "depth")
# an organisation run adds the account's name and OU path right after the account id
ORG_COLUMNS: tuple[str, ...] = ("account_name", "ou")


def header_of(report: Report) -> tuple[str, ...]:
    """:data:`HEADER`, with :data:`ORG_COLUMNS` after ``account`` for an organisation run."""
    if report.organization is None:
        return HEADER
    at = HEADER.index("account") + 1
    return (*HEADER[:at], *ORG_COLUMNS, *HEADER[at:])

CELL_LIMIT = 32_767
"""Excel's maximum number of characters in one cell; longer cells are cut (findings.json has
them whole)."""
TRUNCATED = " …[truncated, see findings.json]"

FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""Characters that make a spreadsheet read a cell as a formula when they come first:
``= + - @``, tab and carriage return (OWASP "CSV injection"), and their full-width
forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) that some spreadsheet locales also accept."""


def _leading_skippable(ch: str) -> bool:
    # whitespace, control and format characters (zero-width space, BOM, bidi marks) that a
    # spreadsheet may skip or that hide what the cell really begins with
    return ch.isspace() or ch in "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f" or ord(ch) < 32


def defuse(cell: str) -> str:
    """Make ``cell`` safe to open in a spreadsheet (formula / CSV injection).

    If the cell's first character — or its first character after any leading whitespace,
    control or zero-width characters, which some spreadsheets skip — is ``=``, ``+``, ``-``,
    ``@``, a tab, a carriage return or the full-width form of ``= + - @``, the cell is
    prefixed with a single quote ``'``, which spreadsheets treat as "this is text" and do not
    show.
    The rest of the cell is kept exactly, so the value stays readable and greppable; a reader
    of the raw CSV sees the extra leading quote. Every cell is treated this way, including
    ordinary text such as a message beginning with ``-``.
    """
    for ch in cell:
        if ch in FORMULA_TRIGGERS:
            return "'" + cell
        if not _leading_skippable(ch):
            break
    return cell


def _limit(cell: str) -> str:
    if len(cell) < CELL_LIMIT:
        return cell
    return cell[: CELL_LIMIT - len(TRUNCATED) - 1] + TRUNCATED


def join_controls(controls: Iterable[str]) -> str:
    """``("SOC2:CC6.1", "SOC2:CC6.6", "CIS:5.2")`` → ``"SOC2:CC6.1;CC6.6|CIS:5.2"``."""
    grouped: dict[str, list[str]] = {}
    for qualified in controls:
        fw, _, control = qualified.partition(":")
        grouped.setdefault(fw, []).append(control)
    return "|".join(f"{fw}:{';'.join(ids)}" for fw, ids in grouped.items())


def compact_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def _cells(row: Mapping[str, Any], header: Sequence[str] = HEADER,
           report: Report | None = None) -> list[str]:
    values: dict[str, Any] = dict(row)
    if report is not None:
        values.update(account_columns(report, str(row["account"])))
    values["principles"] = ";".join(row["principles"])
    values["controls"] = join_controls(row["controls"])
    values["evidence"] = compact_json(row["evidence"])
    values["depth"] = depth_cell(row["evidence"], str(row["status"]))
    return [defuse(_limit(str(values[col]))) for col in header]


def rows(frame: pd.DataFrame, report: Report | None = None) -> list[list[str]]:
    """The data rows (header excluded) of the CSV for a :func:`posture.results.to_frame`
    (with the organisation columns of ``report``, when it is an organisation run)."""
    header = header_of(report) if report is not None else HEADER
    return [_cells(record, header, report) for record in frame.to_dict(orient="records")]


def write_csv(header: Sequence[str], body: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n",
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(body)
    return b"\xef\xbb\xbf" + utf8(buffer.getvalue())


class CsvReporter:
    format = OutputFormat.CSV
    filename = "findings.csv"

    def render(self, report: Report) -> bytes:
        return write_csv(header_of(report), rows(to_frame(report.findings), report))
