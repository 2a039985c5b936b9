"""Ask the developer for a change, read what it asks for, and repair edits that do not apply."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources

from bot.errors import ModelError
from bot.github.repo import Repo
from bot.llm.context import ContextPart
from bot.llm.usage import UsageScope
from bot.roles.context_budget import fit_budget
from bot.roles.developer.context import DeveloperBrief, brief_parts
from bot.roles.developer.edits import EditPolicy, EditResult, apply_edits, path_problem
from bot.roles.developer.schema import Implementation
from bot.roles.files import WITHHELD, read_paths
from bot.roles.models import RoleModels

log = logging.getLogger(__name__)

ROLE = "developer"


class EditsDoNotApply(ModelError):
    """The developer's edits still did not apply after one repair round."""


@dataclass(frozen=True)
class Change:
    answer: Implementation
    result: EditResult


async def write_change(
    models: RoleModels,
    repo: Repo,
    ref: str,
    brief: DeveloperBrief,
    policy: EditPolicy,
    budget_tokens: int,
    scope: UsageScope,
) -> Change:
    """The developer's change at `ref`; `answer.design_problem` set, or edits held outside the
    plan (`result.outside_plan`), mean none is to be pushed."""
    system = resources.files("bot.roles.developer").joinpath("system.md").read_text()
    not_shown: set[str] = set()

    async def ask(brief: DeveloperBrief, extra: list[ContextPart]) -> Implementation:
        fitted = fit_budget([*brief_parts(brief), *extra], budget_tokens)
        # what this prompt left out (a later prompt that shows a file makes it editable)
        not_shown.clear()
        not_shown.update(label[5:] for label in fitted.dropped if label.startswith("file "))
        log.info(
            "developer context",
            extra={
                "repository": repo.full_name,
                "issue": brief.issue.number,
                "tokens": fitted.tokens,
                "budget": budget_tokens,
                "dropped": fitted.dropped,
            },
        )
        return await models.ask(ROLE, system, fitted.parts, Implementation, scope)

    answer = await ask(brief, [])
    wanted = [p for p in answer.read_first if p not in brief.files and not path_problem(p)]
    if wanted and not answer.edits and not answer.design_problem:
        brief = replace(brief, files=brief.files | await read_paths(repo, wanted, ref))
        answer = await ask(brief, [])
    if answer.design_problem.strip():
        return Change(answer, EditResult())

    def policy_now(brief: DeveloperBrief) -> EditPolicy:
        empty = {path for path, text in brief.files.items() if text == WITHHELD}
        return replace(policy, unseen=policy.unseen | frozenset(not_shown | empty))

    brief, result = await _apply(repo, ref, brief, answer, policy_now)
    if result.outside_plan:
        return Change(answer, result)  # nothing is pushed: a human decides on those paths
    if result.problems or not result.changes:
        problems = result.problems or ["the answer made no change to any file"]
        log.info("developer edits do not apply: one repair round", extra={"problems": problems})
        repair = ContextPart(
            "why your previous answer could not be applied",
            "Your previous answer:\n"
            + json.dumps(answer.model_dump(), indent=1)[:20_000]
            + "\n\nProblems:\n"
            + "\n".join(f"- {p}" for p in problems)
            + "\n\nAnswer again with edits that apply to the files as they are now.",
            truncatable=False,
        )
        answer = await ask(brief, [repair])
        if answer.design_problem.strip():
            return Change(answer, EditResult())
        brief, result = await _apply(repo, ref, brief, answer, policy_now)
        if result.outside_plan:
            return Change(answer, result)
        if result.problems or not result.changes:
            problems = result.problems or ["the answer made no change to any file"]
            raise EditsDoNotApply(
                "the developer's edits did not apply after a repair round: " + "; ".join(problems)
            )
    return Change(answer, result)


async def _apply(
    repo: Repo,
    ref: str,
    brief: DeveloperBrief,
    answer: Implementation,
    policy: Callable[[DeveloperBrief], EditPolicy],
) -> tuple[DeveloperBrief, EditResult]:
    missing = [
        e.path for e in answer.edits if e.path not in brief.files and not path_problem(e.path)
    ]
    if missing:
        brief = replace(brief, files=brief.files | await read_paths(repo, missing, ref))
    # a file read only now (not in the prompt) is one the model has not seen
    unseen = frozenset(p for p in missing if brief.files.get(p) is not None)
    chosen = policy(brief)
    return brief, apply_edits(
        brief.files, answer.edits, replace(chosen, unseen=chosen.unseen | unseen)
    )
