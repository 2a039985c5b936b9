"""The design comment: one version rendered, earlier versions kept, hashes that catch edits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.repo_config import Labels
from bot.roles.architect.render import (
    content_hash,
    next_step,
    render_comment,
    render_placeholder,
    render_version,
    versions_in,
)
from bot.roles.architect.schema import DesignOption, DesignProposal, PlanStep


def design(questions: list[str] | None = None) -> DesignProposal:
    return DesignProposal(
        title="Add a search command",
        problem="Users cannot find notes by text.",
        clarifying_questions=questions or [],
        options=[
            DesignOption(name="grep", summary="scan files", pros=["simple"], cons=["slow"]),
            DesignOption(name="index", summary="SQLite FTS", pros=["fast"], cons=["a file"]),
        ],
        chosen_option="grep",
        rationale="Notes are few; simplicity wins.",
        plan=[PlanStep(path="notes/search.py", change="create", description="the | command")],
        acceptance_criteria=["`notes search foo` lists notes containing foo"],
        risks=["large folders are slow"],
    )


def test_a_version_has_every_section() -> None:
    text = render_version(2, design(["Case-sensitive?"]))
    for heading in (
        "## Design v2: Add a search command",
        "### Problem",
        "### Clarifying questions",
        "1. Case-sensitive?",
        "**grep** (chosen): scan files",
        "- ➕ simple",
        "- ➖ a file",
        "### Chosen design and trade-offs",
        "| `notes/search.py` | create | the \\| command |",
        "- [ ] `notes search foo` lists notes containing foo",
        "### Risks",
    ):
        assert heading in text


def test_the_chosen_option_must_be_one_of_the_options() -> None:
    data = design().model_dump()
    data["chosen_option"] = "magic"
    with pytest.raises(ValidationError, match="not one of"):
        DesignProposal.model_validate(data)


def test_a_new_version_keeps_the_earlier_ones_collapsed_and_readable() -> None:
    labels = Labels()
    v1 = render_version(1, design())
    first = render_comment(1, v1, {}, next_step(labels, questions=False))
    assert "`triad:approved`" in first and "<details>" not in first
    earlier = {n: t for n, t in versions_in(first).items() if n < 2}
    second = render_comment(2, render_version(2, design()), earlier, next_step(labels, False))
    assert versions_in(second) == {1: v1, 2: render_version(2, design())}
    assert "<details><summary>Design v1 (superseded)</summary>" in second
    assert second.index("Design v2") < second.index("Design v1 (superseded)")


def test_the_placeholder_says_the_architect_is_working() -> None:
    body = render_placeholder(3, {1: "old"})
    assert "⏳ Designing v3…" in body and "Nothing to approve yet." in body
    assert versions_in(body)[1] == "old"


def test_questions_change_what_the_comment_asks_for() -> None:
    assert "/triad revise" in next_step(Labels(), questions=True)
    assert "has questions" in next_step(Labels(), questions=True)


def test_the_hash_changes_with_any_edit_but_not_with_line_endings() -> None:
    body = render_comment(1, render_version(1, design()), {}, "approve")
    assert content_hash(body) == content_hash(body.replace("\n", "\r\n"))
    assert content_hash(body) != content_hash(body.replace("simple", "simpler"))
