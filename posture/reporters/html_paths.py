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
:data:`PER_ROW` per row. This module only computes
the geometry and the (plain text) labels; the template draws them, autoescaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BOX_W = 176
BOX_H = 44
GAP_X = 30
GAP_Y = 22
PAD = 6
PER_ROW = 5
MAX_PATHS = 3
MAX_HOPS = 20
LABEL_CHARS = 27
RULE_CHARS = 29


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: Any) -> str:
    """A rule as one line: a string as is, a mapping as ``key=value`` pairs."""
    if value is None or value == "":
        return ""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return str(value)


def _hop(raw: Any) -> tuple[str, str]:
    """(label, admitting rule) of a hop: ``kind id``, and its ``rule`` (or ``detail``)."""
    if isinstance(raw, Mapping):
        kind = str(raw.get("kind", "") or "")
        ident = str(raw.get("id", "") or raw.get("name", "") or "")
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
                return list(value[key])
    return None


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


def layout(hops: list[Any]) -> dict[str, Any]:
    """Boxes and arrows of one path (coordinates in SVG user units)."""
    shown = hops[:MAX_HOPS]
    boxes, arrows = [], []
    for n, raw in enumerate(shown):
        label, rule = _hop(raw)
        row, col = divmod(n, PER_ROW)
        x = PAD + col * (BOX_W + GAP_X)
        y = PAD + row * (BOX_H + GAP_Y)
        boxes.append(
            {
                "x": x,
                "y": y,
                "w": BOX_W,
                "h": BOX_H,
                "tx": x + 8,
                "ty1": y + 18,
                "ty2": y + 35,
                "label": _short(label, LABEL_CHARS),
                "rule": _short(rule, RULE_CHARS),
                "title": f"{label}\n{rule}".strip(),
                "continued": col == 0 and row > 0,
                "identity": isinstance(raw, Mapping) and raw.get("layer") == "identity",
            }
        )
        if col > 0:
            x1, x2, ym = x - GAP_X + 2, x - 3, y + BOX_H // 2
            arrows.append(
                {
                    "x1": x1,
                    "x2": x2 - 6,
                    "y": ym,
                    "head": f"{x2 - 7},{ym - 4} {x2},{ym} {x2 - 7},{ym + 4}",
                }
            )
    rows = (len(shown) + PER_ROW - 1) // PER_ROW
    cols = min(len(shown), PER_ROW)
    width = 2 * PAD + cols * BOX_W + (cols - 1) * GAP_X
    height = 2 * PAD + rows * BOX_H + (rows - 1) * GAP_Y
    summary = " → ".join(_hop(h)[0] for h in shown)
    return {
        "width": width,
        "height": height,
        "boxes": boxes,
        "arrows": arrows,
        "label": _short(f"path: {summary}", 500),
        "more": len(hops) - len(shown),
    }


def diagrams(evidence: Any) -> list[dict[str, Any]]:
    """Layouts of the paths in a finding's evidence (none when it carries no path)."""
    if not isinstance(evidence, Mapping):
        return []
    return [layout(hops) for hops in _hop_lists(evidence)]
