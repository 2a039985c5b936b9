"""The state diagrams in docs/architecture.md are the engine's: every stage, every change, for
an issue's workflow and for the review of a person's pull request."""

from __future__ import annotations

import re
from pathlib import Path

from bot.workflow.model import Stage
from tests.workflow.exploration import observed_pull_transitions, observed_transitions

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
_EDGE = re.compile(r"^\s*(\[\*\]|[A-Z_]+)\s*-->\s*(\[\*\]|[A-Z_]+)\s*(?::.*)?$")


def _drawn(index: int = 0) -> set[tuple[str, str]]:
    block = DOC.read_text().split("```mermaid")[index + 1].split("```", 1)[0]
    edges = set()
    for line in block.splitlines():
        match = _EDGE.match(line)
        if match and match.group(2) != "[*]":
            start, end = match.groups()
            edges.add(("start" if start == "[*]" else Stage[start].value, Stage[end].value))
    return edges


def test_the_diagram_draws_exactly_the_stage_changes_the_engine_makes() -> None:
    assert _drawn(0) == observed_transitions()


def test_the_pull_review_diagram_draws_exactly_its_stage_changes() -> None:
    assert _drawn(1) == observed_pull_transitions()


def test_every_stage_is_in_the_diagrams() -> None:
    drawn = {stage for edge in _drawn(0) | _drawn(1) for stage in edge}
    assert {stage.value for stage in Stage} <= drawn
