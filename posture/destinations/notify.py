"""``--notify URL``: after a recorded scan, post the failures that are new since the previous
scan of the same scope in the history store, as a Slack-compatible JSON message.

What it guarantees:

- the message is :func:`message`: ``text`` (the one-line summary a chat client notifies with)
  and ``blocks`` (a header, the scope, one section per new failure, most severe first, at most
  :data:`LISTED`, then how many more): what Slack's incoming webhooks, and the many receivers
  that copy their shape, accept;
- nothing is posted when there is nothing new (a channel fed by a nightly scan stays quiet)
  or when the scan is the first of its scope (nothing to compare with): :func:`message` is
  ``None``, and the command line says so;
- the message carries what the reports print (check, severity, resource, region, message),
  never evidence, never the history store's address (a database URL may hold a password);
  resource names are escaped (``&``, ``<``, ``>``), so a name cannot mention ``@channel`` or
  forge a link;
- the webhook's URL is a credential (Slack's holds its token in the path): errors name only
  its scheme and host (:func:`redacted`);
- a failed post is a :class:`~posture.destinations.DestinationError` the command line prints
  as a warning: the reports and the history record are written before it.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from posture.destinations import DestinationError
from posture.history.diff import Change, ScanDiff
from posture.model import ScanMeta

LISTED = 20  # new failures shown one by one (a Slack message holds at most 50 blocks)
SECTION_MAX = 2900  # a section's text is at most 3000 characters
TIMEOUT = 10.0  # seconds


def check_url(url: str) -> str:
    """``--notify``: an http(s) URL with a host (anything else is a usage error)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--notify needs an http:// or https:// URL, not {redacted(url)!r}")
    return url.strip()


def redacted(url: str) -> str:
    """``scheme://host[:port]/…``: a webhook URL without the path and query that hold its
    token."""
    parts = urlsplit(url.strip())
    if not parts.hostname:
        return "(not a URL)"
    port = f":{parts.port}" if parts.port else ""
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}{port}{rest}"


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: ``&``, ``<`` and ``>`` (so ``<!channel>`` stays text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "`" + escape(text).replace("`", "'") + "`"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _order(c: Change) -> tuple[int, str, str]:
    f = c.current
    return (-int(f.severity), f.check_id, f.resource_uid)


def _section(change: Change) -> dict[str, Any]:
    f = change.current
    where = f.resource_name or f.resource_uid
    lines = [f"*{f.severity.label.upper()}*  {_code(f.check_id)}",
             f"{_code(where)} in {escape(f.region)} (account {escape(f.account)})",
             escape(f.message)]
    return {"type": "section",
            "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), SECTION_MAX)}}


def message(
    changes: ScanDiff | None,
    meta: ScanMeta,
    record_id: int,
    previous_id: int | None,
) -> dict[str, Any] | None:
    """The message of the failures new in scan ``record_id`` since ``previous_id``; ``None``
    when there is nothing to post (no previous scan, or nothing new)."""
    if changes is None or previous_id is None or not changes.new:
        return None
    new = sorted(changes.new, key=_order)
    count = len(new)
    noun = "failure" if count == 1 else "failures"
    accounts = (", ".join(meta.accounts) if len(meta.accounts) <= 3
                else f"{len(meta.accounts)} accounts") or "-"
    text = (f"posture: {count} new {noun} in {meta.provider.value} {accounts} "
            f"since scan #{previous_id}")
    scope = (f"*{escape(meta.provider.value)}* {escape(accounts)} · scan {_code(meta.scan_id)} "
             f"(record #{record_id}) compared with record #{previous_id}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": _clip(f"posture: {count} new {noun}", 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(scope, SECTION_MAX)}},
        {"type": "divider"},
        *(_section(c) for c in new[:LISTED]),
    ]
    if count > LISTED:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"… and {count - LISTED} more in the reports"}]})
    return {"text": _clip(escape(text), 3000), "blocks": blocks}


def post(url: str, payload: dict[str, Any], timeout: float = TIMEOUT) -> int:
    """POST ``payload`` as JSON; the HTTP status, or :class:`DestinationError` naming the
    receiver by :func:`redacted` and what went wrong."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8", "replace")
    request = urllib.request.Request(
        url, data=data, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "posture"})
    where = redacted(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        raise DestinationError(f"--notify {where}: the receiver answered HTTP {exc.code}") \
            from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DestinationError(f"--notify {where}: cannot post: {reason}") from None
    except (http.client.HTTPException, ValueError) as exc:  # a garbled answer or address
        raise DestinationError(f"--notify {where}: cannot post: {type(exc).__name__}") \
            from None
