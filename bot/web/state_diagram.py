"""One workflow's transitions drawn as a state diagram (inline SVG): its stages as boxes, each
transition an arrow labelled with its number and cause."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.workflows import Transition
from bot.web.admin_html import escape

_BOX_W, _BOX_H, _GAP, _MID, _TOP = 170, 34, 84, 420, 20
START = "(start)"


def state_diagram(transitions: Sequence[Transition], current: str | None) -> str:
    """An SVG of the stages visited, in order of first visit, with one arrow per transition
    (forward arrows on the left, backward ones on the right, loops beside their stage)."""
    stages: list[str] = []
    for transition in transitions:
        for stage in (transition.from_stage or START, transition.to_stage or "(none)"):
            if stage not in stages:
                stages.append(stage)
    y = {stage: _TOP + i * _GAP for i, stage in enumerate(stages)}
    height = _TOP * 2 + max(len(stages) - 1, 0) * _GAP + _BOX_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="state-diagram" width="{_MID * 2}"'
        f' height="{height}" viewBox="0 0 {_MID * 2} {height}" role="img"'
        ' aria-label="the workflow\'s transitions">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
        ' fill="#57606a"/></marker></defs>',
    ]
    lanes: dict[str, int] = {}
    for number, transition in enumerate(transitions, start=1):
        source = transition.from_stage or START
        target = transition.to_stage or "(none)"
        parts.append(_arrow(number, transition, y[source], y[target], lanes))
    for stage in stages:
        fill = "#ddf4ff" if stage == current else "#ffffff"
        stroke = "#0969da" if stage == current else "#57606a"
        top = y[stage]
        parts.append(
            f'<g class="stage" data-stage="{escape(stage)}"><rect x="{_MID - _BOX_W / 2}"'
            f' y="{top}" width="{_BOX_W}" height="{_BOX_H}" rx="8" fill="{fill}"'
            f' stroke="{stroke}" stroke-width="{2 if stage == current else 1}"/>'
            f'<text x="{_MID}" y="{top + _BOX_H / 2 + 4}" text-anchor="middle">'
            f"{escape(stage)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _arrow(number: int, t: Transition, y0: float, y1: float, lanes: dict[str, int]) -> str:
    """A curve beside the boxes; arrows sharing a side move outwards lane by lane."""
    backward = y1 <= y0
    side = "right" if backward else "left"
    lane = lanes.get(side, 0)
    lanes[side] = lane + 1
    sign = 1 if backward else -1
    edge = _MID + sign * _BOX_W / 2
    bend = _MID + sign * (_BOX_W / 2 + 30 + 22 * (lane % 8))
    start_y, end_y = y0 + _BOX_H / 2, y1 + _BOX_H / 2
    if y0 == y1:  # a transition that stays in its stage: a loop beside it
        start_y, end_y = y0 + 8, y0 + _BOX_H - 8
    path = f"M{edge},{start_y} C{bend},{start_y} {bend},{end_y} {edge},{end_y}"
    label_x = bend + sign * 6
    anchor = "start" if backward else "end"
    actor = f" ({t.actor})" if t.actor else ""
    return (
        f'<g class="transition" data-number="{number}" data-cause="{escape(t.cause)}">'
        f"<title>{escape(t.reason)}</title>"
        f'<path d="{path}" fill="none" stroke="#57606a" marker-end="url(#arrow)"/>'
        f'<text x="{label_x}" y="{(start_y + end_y) / 2 + 4}" text-anchor="{anchor}">'
        f"{number}. {escape(t.cause)}{escape(actor)}</text></g>"
    )
