"""Ask one reviewer about every chunk of the diff and merge its answers into one review."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from bot.llm.context import ContextPart
from bot.llm.usage import UsageScope
from bot.roles.context_budget import fit_budget
from bot.roles.models import RoleModels
from bot.roles.reviewer.agreement import ReviewerResult
from bot.roles.reviewer.diff import SplitDiff, with_line_numbers
from bot.roles.reviewer.schema import CriterionCheck, ReviewAnswer, Verdict

LABELS = {"reviewer_a": "Reviewer A", "reviewer_b": "Reviewer B"}


@dataclass(frozen=True)
class ReviewBrief:
    #: what the change must do: the approved design, or the pull request's text and the
    #: issues it closes (people's words: fenced as data like everything else)
    spec: tuple[ContextPart, ...]
    split: SplitDiff
    #: what changed since the last round (empty on the first)
    since: str
    #: the changed files' new content (the code around the diff), by path; none for a fork
    code: dict[str, str | None]
    #: what one call may read; the surrounding code is cut to fit
    budget_tokens: int
    #: the repository's review instructions (`review.instructions`, `review.path_instructions`)
    instructions: str = ""
    #: which changed files the path instructions' globs match (data: the names are the author's)
    matched: ContextPart | None = None
    #: a person's pull request (no approved design, no developer)
    of_person: bool = False
    #: `split` is the diff since the last reviewed head, not the whole pull request's
    incremental: bool = False


def system_prompt(brief: ReviewBrief) -> str:
    """The reviewer's instructions; the repository's own review instructions come from its
    default branch, written by people who may change the repository, so they are followed."""
    name = "system_pull.md" if brief.of_person else "system.md"
    system = resources.files("bot.roles.reviewer").joinpath(name).read_text()
    if brief.instructions:
        system += (
            "\n## This repository's review instructions\n"
            "Its maintainers ask every review to check this too:\n\n"
            f"{brief.instructions.strip()}\n"
        )
    return system


def _parts(brief: ReviewBrief, chunk_index: int, open_points: str) -> list[ContextPart]:
    chunk = brief.split.chunks[chunk_index]
    total = len(brief.split.chunks)
    what = "diff since your last review" if brief.incremental else "diff"
    parts = [
        *brief.spec,
        *([brief.matched] if brief.matched else []),
        ContextPart(
            f"{what} part {chunk_index + 1} of {total} (new-file line numbers on the left)",
            "\n\n".join(with_line_numbers(f) for f in chunk.files),
            truncatable=False,
        ),
    ]
    if brief.since:
        parts.append(ContextPart("changes since your last review", brief.since))
    if open_points:
        parts.append(
            ContextPart(
                "your findings in your last review (still open unless the changes address them)",
                open_points,
            )
        )
    for file in chunk.files:
        text = brief.code.get(file.path)
        if text:
            parts.append(ContextPart(f"file {file.path} (new version, for context)", text))
    return fit_budget(parts, brief.budget_tokens).parts


async def review(
    models: RoleModels,
    role: str,
    brief: ReviewBrief,
    scope: UsageScope,
    open_points: str = "",
) -> ReviewerResult:
    """One reviewer over every chunk (in order); blind to the other reviewer."""
    system = system_prompt(brief)
    if not brief.split.chunks:
        nothing = ReviewAnswer(
            verdict="request_changes",
            summary="Nothing in this change could be reviewed (see below); a human must look.",
            walkthrough=[],
            findings=[],
            criteria=[],
        )
        return ReviewerResult(
            role, LABELS.get(role, role), "none", "none", nothing, brief.split.left_out
        )
    answers, models_used, provider = [], [], ""
    for index in range(len(brief.split.chunks)):
        parts = _parts(brief, index, open_points)
        asked = await models.ask_with_usage(role, system, parts, ReviewAnswer, scope)
        answers.append(asked.value)
        models_used.append(asked.usage.model)
        provider = asked.usage.provider
    model = ", ".join(dict.fromkeys(models_used))  # a fallback may have answered some chunks
    return ReviewerResult(
        role, LABELS.get(role, role), model, provider, merge(answers), brief.split.left_out
    )


def merge(answers: list[ReviewAnswer]) -> ReviewAnswer:
    """One review from several chunks: any request for changes wins; a criterion is met when
    some chunk shows it met."""
    if len(answers) == 1:
        return answers[0]
    verdict: Verdict = (
        "approve" if all(a.verdict == "approve" for a in answers) else "request_changes"
    )
    criteria: dict[str, CriterionCheck] = {}
    for answer in answers:
        for check in answer.criteria:
            kept = criteria.get(check.criterion)
            if kept is None or (check.met and not kept.met):
                criteria[check.criterion] = check
    return ReviewAnswer(
        verdict=verdict,
        summary=" ".join(a.summary.strip() for a in answers),
        walkthrough=[group for a in answers for group in a.walkthrough],
        findings=[f for a in answers for f in a.findings],
        criteria=list(criteria.values()),
    )
