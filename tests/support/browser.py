"""The HTML reports in a real headless Chromium: the browser run on a page (a console message,
a script error or a CSP violation, fails the test unless allowed), and the DOM it dumps read
back as elements and text."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 30
needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"{CHROMIUM} not installed (CI installs Debian's chromium; apt-get install chromium)",
)

Attrs = dict[str, str | None]


def chromium(
    profile: Path, *args: str, console_ok: bool = False, timeout: int = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a fresh ``profile`` directory, run with ``args``."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--no-first-run",
        "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within {timeout}s: {' '.join(command)}")
    assert done.returncode == 0, done.stderr[-3000:]
    # console messages (script errors, CSP violations) are logged as ":CONSOLE" lines
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console_ok or not console, "\n".join(console)
    return done


def dumped(profile: Path, url: str, marked: Callable[[Attrs], bool] | None = None) -> Dom:
    """The DOM of ``url`` once its scripts ran (``--dump-dom``), ``marked`` as in :class:`Dom`."""
    return Dom(chromium(profile, "--dump-dom", url).stdout, marked)


class Dom(HTMLParser):
    """The elements of a dumped DOM as (tag, attributes) in document order, and the text of each
    element whose attributes ``marked`` picks."""

    def __init__(self, text: str, marked: Callable[[Attrs], bool] | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, Attrs]] = []
        self.texts: list[str] = []
        self._marked = marked or (lambda attrs: False)
        self._in_marked = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_marked = self._marked(dict(attrs))
        if self._in_marked:
            self.texts.append("")

    def handle_data(self, data: str) -> None:
        if self._in_marked:
            self.texts[-1] += data

    def handle_endtag(self, tag: str) -> None:
        self._in_marked = False

    @property
    def text(self) -> str:
        """The text of the marked elements, joined."""
        return "".join(self.texts)

    def of(self, tag: str) -> list[Attrs]:
        """The attributes of every ``tag`` element."""
        return [a for t, a in self.elements if t == tag]

    def first(self, tag: str) -> Attrs:
        return self.of(tag)[0]
