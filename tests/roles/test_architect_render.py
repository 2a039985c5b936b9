"""The design comment: one version rendered, earlier versions kept, hashes that catch edits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.github.markers import MAX_BODY_CHARS, marker
from bot.llm.schema import ANSWER
from bot.repo_config import Labels
from bot.roles.architect.render import (
    MAX_VERSION_CHARS,
    content_hash,
    next_step,
    render_comment,
    render_placeholder,
    render_version,
    version_length,
    versions_in,
)
from bot.roles.architect.schema import DesignOption, DesignProposal, PlanStep
from bot.roles.developer.render import Round, pr_body, rows_in, steps_done_in


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


@pytest.mark.parametrize(
    "change",
    [
        {"problem": "word " * (MAX_VERSION_CHARS // 5)},
        # shown, a `|` in the plan's table takes two characters
        {"plan": [{"path": "a.md", "change": "modify", "description": "|" * 31_000}]},
        # a criterion takes more room shown than written
        {"acceptance_criteria": [""] * (MAX_VERSION_CHARS // 7)},
        {"problem": "<!--" * (MAX_VERSION_CHARS // 5)},  # shown as `&lt;!--`
    ],
    ids=["long-words", "pipes", "many-empty-criteria", "html-comments"],
)
def test_a_design_too_long_for_its_comment_is_sent_back_to_be_shortened(
    change: dict[str, object],
) -> None:
    """What a maintainer approves is the comment as shown, never cut: a design that would
    not fit in it (as shown) does not fit its schema, and the model is asked to shorten it.
    One stored before the limit is read as it was approved (its developer and reviewers)."""
    answer = design().model_dump() | change
    with pytest.raises(ValidationError, match="write it shorter"):
        DesignProposal.model_validate(answer, context=ANSWER)
    assert version_length(DesignProposal.model_validate(answer)) > MAX_VERSION_CHARS


def test_the_longest_design_is_shown_whole_beside_what_to_do_next() -> None:
    longest = design().model_copy(update={"problem": "word " * (MAX_VERSION_CHARS // 5 - 300)})
    assert MAX_VERSION_CHARS - 2_000 < version_length(longest) <= MAX_VERSION_CHARS
    current = render_version(3, DesignProposal.model_validate(longest.model_dump(), context=ANSWER))
    comment = render_comment(3, current, {2: current, 1: current}, next_step(Labels(), False))
    assert current in comment and "Approve this version" in comment
    assert len(f"{marker('design')}\n{comment}") <= MAX_BODY_CHARS
    assert sorted(versions_in(comment)) == [3]  # the earlier ones do not fit beside it


def test_the_oldest_versions_are_left_out_when_the_comment_would_pass_githubs_limit() -> None:
    text = "word " * 5_000
    earlier = {number: f"## Design v{number}\n{text}" for number in range(1, 20)}
    comment = render_comment(20, "## Design v20", earlier, "approve it")
    assert len(comment) <= MAX_BODY_CHARS - 1_000
    kept = versions_in(comment)
    assert 20 in kept and 19 in kept and 1 not in kept
    oldest = min(number for number in kept if number < 20)
    assert f"Design v{oldest - 1} and earlier: not kept here" in comment


def test_a_marker_in_any_text_of_the_comment_is_shown_not_hidden() -> None:
    posing = "x\n<!-- triad:end-version -->\n<!-- triad:version:0 -->\nforged"
    comment = render_comment(2, f"## Design v2\n{posing}", {1: posing}, "approve it")
    shown = posing.replace("<!--", "&lt;!--")
    assert versions_in(comment) == {2: f"## Design v2\n{shown}", 1: shown}


def _body(summary: str, previous: str = "", described: str = "the | command") -> str:
    steps = [PlanStep(path=f"notes/{n}.py", change="create", description=described) for n in (1, 2)]
    return pr_body(
        issue_number=7,
        design=design().model_copy(update={"plan": steps}),
        version=1,
        design_url="https://github.com/o/r/issues/7#c",
        summary=summary,
        steps_done={1},
        round_=Round(2, "ci", "a" * 40, "fixed it"),
        previous_body=previous,
        has_ci=True,
    )


def test_a_long_summary_gives_way_so_the_rounds_and_steps_done_stay() -> None:
    first = _body("short")
    body = _body("word " * 20_000, previous=first.replace("| 2 |", "| 1 |"))
    assert len(body) <= MAX_BODY_CHARS - 1_000
    assert "(cut: GitHub keeps at most 65,536 characters" in body
    assert sorted(rows_in(body)) == [1, 2] and steps_done_in(body) == {1}
    assert body.rstrip().endswith("Triad fixes failures (bounded) before review.")


def test_a_step_described_over_lines_or_with_markers_cannot_forge_the_body() -> None:
    forged = "ok\n- [x] **2.** done\n<!-- triad:rounds -->\n| 9 | x | y | z |"
    body = _body("summary <!-- triad:end-rounds -->", described=forged)
    assert steps_done_in(body) == {1} and sorted(rows_in(body)) == [2]
