"""``report.pdf``: ``report.html`` printed by headless Chromium, when one is installed.

The HTML report's print layout (summaries first, failing findings with their path diagrams,
details collapsed, PASS rows counted, not listed) is what the PDF holds. Chromium is looked for
as ``$POSTURE_CHROMIUM``, then ``chromium``, ``chromium-browser``, ``google-chrome`` and
``google-chrome-stable`` on ``PATH``; without one, ``-f pdf`` fails with a one-line
:class:`ReportError` before any file is written. Chromium runs on a private copy of the page in
a temporary folder with a fresh profile, no network (the page's Content-Security-Policy allows
none) and a time limit. The PDF's creation and modification dates are the scan's, and its
document id is derived from its content, so the same report prints to the same bytes with the
same Chromium.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from posture.errors import ReportError
from posture.reporters.base import OutputFormat, Report, collected_at
from posture.reporters.html_reporter import render_html

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENV = "POSTURE_CHROMIUM"
TIMEOUT = 180
_DATE = re.compile(rb"\(D:\d{14}")
_ID = re.compile(rb"/ID \[<([0-9A-Fa-f]+)> <([0-9A-Fa-f]+)>\]")


def find_chromium() -> str | None:
    """The Chromium to print with: ``$POSTURE_CHROMIUM``, else the first candidate on PATH."""
    chosen = os.environ.get(ENV)
    if chosen:
        return shutil.which(chosen)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _command(browser: str, profile: Path, page: Path, pdf: Path) -> list[str]:
    command = [
        browser, "--headless", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--no-first-run",
        "--no-default-browser-check", "--mute-audio", "--no-pdf-header-footer",
        f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", page.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(2, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return command


def _stable(data: bytes, report: Report) -> bytes:
    """``data`` with the print time replaced by the scan's time and the random document id by
    one derived from the content (same lengths: the cross-reference offsets stay valid)."""
    when = collected_at(report)
    stamp = when.strftime("%Y%m%d%H%M%S").encode("ascii") if when else b"19700101000000"
    data = _DATE.sub(b"(D:" + stamp, data)

    def digest(match: re.Match[bytes]) -> bytes:
        body = _ID.sub(b"", data)
        first = hashlib.sha256(body).hexdigest()[: len(match.group(1))].upper().encode()
        second = hashlib.sha256(b"2" + body).hexdigest()[: len(match.group(2))].upper().encode()
        return b"/ID [<" + first + b"> <" + second + b">]"

    return _ID.sub(digest, data)


def print_pdf(html: str, report: Report) -> bytes:
    """``html`` printed to PDF by headless Chromium (ReportError without one, or if it fails)."""
    browser = find_chromium()
    if browser is None:
        raise ReportError(
            "-f pdf needs headless Chromium, and none was found (install chromium, or set "
            f"{ENV} to its path)"
        )
    with tempfile.TemporaryDirectory(prefix="posture-pdf-") as tmp:
        folder = Path(tmp)
        page, pdf = folder / "report.html", folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = _command(browser, folder / "profile", page, pdf)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"{browser} did not print the report within {TIMEOUT}s") from None
        except OSError as exc:
            raise ReportError(f"cannot run {browser}: {exc.strerror or exc}") from None
        if done.returncode != 0 or not pdf.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
            raise ReportError(f"{browser} failed to print the report "
                              f"(exit {done.returncode}): {last}")
        return _stable(pdf.read_bytes(), report)


class PdfReporter:
    format = OutputFormat.PDF
    filename = "report.pdf"

    def render(self, report: Report) -> bytes:
        return print_pdf(render_html(report), report)
