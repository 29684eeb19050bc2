"""The layout of a finding's path (an exposure or an escalation) as a small inline SVG.

A check that proves a finding with a path puts it in its evidence as ``path``: a list of hops
``{"kind": ..., "id": ..., "rule": ...}`` (internet → gateway → route → filter → host, or
principal → permission → role → ...), or a mapping whose ``hops`` is such a list; ``paths`` (or
``exposed``) may hold several; identity ``steps`` (``{"from", "to", "technique"}``) are drawn as
principal → ... → target. An ``attack_path`` (an attack path across network and identity:
internet → ... → host → role → administrator) is drawn alone, instead of the paths it joins;
its hops say their ``layer`` (``network`` or ``identity``) and identity boxes are drawn apart.
Any list of hop mappings is drawn: each hop a box labelled
``kind id`` with the rule that admitted the step under it, boxes joined by arrows, at most
:data:`PER_ROW` per row. A label is wrapped over lines rather than cut (an ARN keeps its user
name), and shortened in the middle, keeping its distinctive tail, only past three lines; the
full text is the box's tooltip. The internet end is labelled with the range the path's rules
admit it from (``internet 0.0.0.0/0``), the example client the graph found under it. This
module only computes the geometry and the (plain text) labels; the template draws them,
autoescaped.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

BOX_W = 232
GAP_X = 28
GAP_Y = 20
PAD = 6
PER_ROW = 4  # on screen: ~1016 units wide, the width of the findings table
PRINT_PER_ROW = 3  # printed: ~764 units, a portrait page's width at nearly full size
MAX_PATHS = 3
MAX_HOPS = 20
LINE_H = 14  # one text line of a box (11px label, 10px rule)
TOP = 16  # baseline of a box's first line below its top edge
# a box's text width is BOX_W - 16; monospace 11px (label) and 10px (rule) advance ~0.6em per
# character, with a margin for fonts that run a little wider
LABEL_CHARS = 30
RULE_CHARS = 33
LABEL_LINES = 3
RULE_LINES = 3
_BREAKS = " /:,-_.@=|>)]"

Rename = Callable[[str], str]


def _middle(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, shortened in the middle: the head says what kind
    of id it is, the tail (a user, role or resource name) what it is."""
    if len(text) <= limit:
        return text
    head = max(1, limit // 3)
    return text[:head] + "…" + text[len(text) - (limit - head - 1):]


def _wrap(text: str, width: int) -> list[str]:
    """``text`` over lines of at most ``width`` characters, broken after a space or separator
    (``/ : , - _ . @``) where one falls in a line's second half, else at ``width``."""
    lines: list[str] = []
    while len(text) > width:
        cut = width
        for at in range(width, width // 2, -1):
            if text[at - 1] in _BREAKS:
                cut = at
                break
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip(" ")
    return [*lines, text] if text or not lines else lines


def fit(text: str, width: int, most: int) -> list[str]:
    """``text`` over at most ``most`` lines of ``width``: wrapped whole when it fits, else
    shortened in the middle (the full text is the box's tooltip, and in the evidence)."""
    lines = _wrap(text, width)
    limit = width * most
    while len(lines) > most:
        limit -= 2
        lines = _wrap(_middle(text, limit), width)
    return lines


def _text(value: Any) -> str:
    """A rule as one line: a string as is, a mapping as ``key=value`` pairs."""
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


_CIDR = re.compile(r"(?:from|source|sources|ranges?)\s+([0-9A-Fa-f:.]+/\d{1,3})")


def _networks(raw: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The source ranges a hop's admitting rule names (``peer``/``cidr`` of a rule mapping,
    ``from 1.2.3.0/24`` in its text)."""
    texts: list[str] = []
    if isinstance(raw, Mapping):
        if isinstance(raw.get("admitted_from"), list):
            texts += raw["admitted_from"]
        rule = raw.get("rule")
        if isinstance(rule, Mapping) and rule.get("peer_word", "from") == "from":
            texts += [str(rule[k]) for k in ("peer", "cidr") if isinstance(rule.get(k), str)]
        for value in (rule, raw.get("detail")):
            if isinstance(value, str):
                texts += _CIDR.findall(value)
    found = []
    for text in texts:
        try:
            found.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            continue
    return found


def _internet(hops: list[Any]) -> dict[int, tuple[str, str]]:
    """The internet end of a path, labelled with the range that admits it: a hop ``internet
    11.0.0.0`` (one example client the graph found) becomes ``internet 0.0.0.0/0`` when the
    rules along the path admit that client from 0.0.0.0/0 (the narrowest range that does),
    with the example client as its second line. {hop index: (label, rule)}."""
    out: dict[int, tuple[str, str]] = {}
    for n, raw in enumerate(hops):
        if not (isinstance(raw, Mapping) and raw.get("kind") == "internet"):
            continue
        try:
            client = ipaddress.ip_address(str(raw.get("id", "")).strip())
        except ValueError:
            continue
        ranges = [net for later in hops[n:] for net in _networks(later)
                  if net.version == client.version and client in net]
        rule = _text(raw.get("rule") or raw.get("detail"))
        example = f"e.g. client {client}" + (f" · {rule}" if rule else "")
        if ranges:
            narrowest = max(ranges, key=lambda net: net.prefixlen)
            out[n] = (f"internet {narrowest}", example)
        else:
            out[n] = ("internet", example)
    return out


def _hop(raw: Any) -> tuple[str, str]:
    """(label, admitting rule) of a hop: ``kind id``, and its ``rule`` (or ``detail``)."""
    if isinstance(raw, Mapping):
        kind = str(raw.get("kind", "") or "")
        ident = str(raw.get("id", "") or raw.get("name", "") or "")
        if ident.lower() == kind.lower():  # Azure's {"kind": "internet", "id": "Internet"}
            ident = ""
        label = f"{kind} {ident}".strip() or "?"
        rule = raw.get("rule")
        if rule in (None, "") or (isinstance(rule, Mapping) and raw.get("detail")):
            rule = raw.get("detail")
        return label, _text(rule)
    return str(raw), ""


def _is_hops(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and any(isinstance(h, Mapping) for h in value)


def _as_hops(value: Any) -> list[Any] | None:
    """A path as a list of hops: a list of hop mappings, or a mapping with ``hops``/``path``."""
    if _is_hops(value):
        return list(value)
    if isinstance(value, Mapping):
        for key in ("hops", "path"):
            if _is_hops(value.get(key)):
                return _with_sources(list(value[key]), value)
    return None


def _with_sources(hops: list[Any], path: Mapping[str, Any]) -> list[Any]:
    """``hops`` whose internet end knows the source ranges of the rule that admits the path,
    when the path names that rule beside its hops (GCP: ``firewall_rule.source_ranges``)."""
    rule = path.get("firewall_rule")
    ranges = rule.get("source_ranges") if isinstance(rule, Mapping) else None
    first = hops[0]
    if isinstance(ranges, list) and isinstance(first, Mapping) and first.get("kind") == "internet":
        hops[0] = {**first, "admitted_from": [str(r) for r in ranges]}
    return hops


def _steps(steps: Any) -> list[Any] | None:
    """Identity steps ``{"from", "to", "technique"}`` as hops: principal → ... → target."""
    if not _is_hops(steps) or not all(isinstance(s, Mapping) and "to" in s for s in steps):
        return None
    hops: list[Any] = [{"id": steps[0].get("from", "?")}]
    hops.extend({"id": s["to"], "rule": s.get("technique") or s.get("detail")} for s in steps)
    return hops


def _hop_lists(evidence: Mapping[str, Any]) -> list[list[Any]]:
    joined = _as_hops(evidence.get("attack_path"))
    if joined:
        return [joined]
    found: list[list[Any]] = []
    single = _as_hops(evidence.get("path"))
    if single:
        found.append(single)
    for key in ("paths", "exposed"):
        many = evidence.get(key)
        if isinstance(many, list):
            found.extend(h for h in (_as_hops(item) for item in many) if h)
    steps = _steps(evidence.get("steps"))
    if steps and not found:
        found.append(steps)
    return found[:MAX_PATHS]


def _label_lines(label: str, raw: Any) -> list[str]:
    """A box's label lines: ``kind id`` on one line when it fits, else the kind on its own
    line(s) and the id wrapped under it."""
    kind = str(raw.get("kind", "") or "") if isinstance(raw, Mapping) else ""
    if len(label) <= LABEL_CHARS or not kind or not label.startswith(kind + " "):
        return fit(label, LABEL_CHARS, LABEL_LINES)
    head = fit(kind, LABEL_CHARS, 1)
    return head + fit(label[len(kind) + 1:], LABEL_CHARS, LABEL_LINES)


def _box(raw: Any, named: tuple[str, str] | None, rename: Rename) -> dict[str, Any]:
    full_label, full_rule = _hop(raw)
    label, rule = named or (full_label, full_rule)
    label, rule = rename(label), rename(rule)
    lines = _label_lines(label, raw)
    rules = fit(rule, RULE_CHARS, RULE_LINES) if rule else []
    title = "\n".join(x for x in (full_label, full_rule) if x)
    if (label, rule) != (full_label, full_rule):  # the shown text first, then the ids
        title = "\n".join(x for x in (label, rule) if x) + "\n" + title
    return {
        "label": label,
        "rule": rule,
        "lines": lines,
        "rules": rules,
        "title": title,
        "identity": isinstance(raw, Mapping) and raw.get("layer") == "identity",
    }


def _same(text: str) -> str:
    return text


def layout(hops: list[Any], rename: Rename = _same, per_row: int = PER_ROW) -> dict[str, Any]:
    """Boxes and arrows of one path (coordinates in SVG user units): each box's label (``kind
    id``) wrapped over up to three lines and its rule over two, so no id is cut at the box's
    edge; a row of boxes is as tall as its tallest box."""
    shown = hops[:MAX_HOPS]
    internet = _internet(shown)
    boxes = [_box(raw, internet.get(n), rename) for n, raw in enumerate(shown)]
    arrows = []
    y = PAD
    for start in range(0, len(boxes), per_row):
        row = boxes[start:start + per_row]
        height = max(len(b["lines"]) + len(b["rules"]) for b in row) * LINE_H + 10
        for col, box in enumerate(row):
            x = PAD + col * (BOX_W + GAP_X)
            texts = [("hop-label", line) for line in box["lines"]]
            texts += [("hop-rule", line) for line in box["rules"]]
            box.update(
                x=x, y=y, w=BOX_W, h=height, tx=x + 8, continued=col == 0 and start > 0,
                texts=[{"cls": c, "y": y + TOP + k * LINE_H, "text": t}
                       for k, (c, t) in enumerate(texts)],
            )
            if col > 0:
                x1, x2, ym = x - GAP_X + 2, x - 3, y + height // 2
                arrows.append(
                    {"x1": x1, "x2": x2 - 6, "y": ym,
                     "head": f"{x2 - 7},{ym - 4} {x2},{ym} {x2 - 7},{ym + 4}"}
                )
        y += height + GAP_Y
    cols = per_row  # every diagram as wide as a full row: printed, all scale alike
    summary = " → ".join(b["label"] for b in boxes)
    return {
        "width": 2 * PAD + cols * BOX_W + (cols - 1) * GAP_X,
        "height": y - GAP_Y + PAD,
        "boxes": boxes,
        "arrows": arrows,
        "label": f"path: {summary}" if len(summary) < 500 else _middle(f"path: {summary}", 500),
        "more": len(hops) - len(shown),
    }


def diagrams(
    evidence: Any, rename: Rename = _same, per_row: int = PER_ROW
) -> list[dict[str, Any]]:
    """Layouts of the paths in a finding's evidence (none when it carries no path); ``rename``
    turns the ids in a label into the names shown (Azure object ids into display names)."""
    if not isinstance(evidence, Mapping):
        return []
    return [layout(hops, rename, per_row) for hops in _hop_lists(evidence)]


def one_sentence(message: str) -> str:
    """The Message column's text for a finding whose path is drawn: its first sentence,
    without the path written out after ``; path:`` (the diagram shows it)."""
    head = message.split("; path: ", 1)[0].strip()
    end = _SENTENCE_END.search(head)
    return head[: end.start() + 1] if end else head


_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")
