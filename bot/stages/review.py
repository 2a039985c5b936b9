"""The review stage: two reviewers, blind to each other and run concurrently, each post a PR
review; their agreement decides what happens next (QA, a fix round, or a human).

Idempotent: each review carries a marker with the head commit and its structured content, so a
retried job reuses a review it already posted instead of asking (and paying) again.
"""

from __future__ import annotations

import asyncio
import logging

from bot.errors import (
    GitHubError,
    GitHubRateLimited,
    GitHubUnavailable,
    ModelError,
    PermanentJobError,
)
from bot.github import pulls
from bot.github.repo import Repo, marker
from bot.llm.context import estimate_tokens
from bot.llm.usage import UsageScope
from bot.roles.architect.render import render_version
from bot.roles.architect.schema import DesignProposal
from bot.roles.files import read_paths
from bot.roles.reviewer import render
from bot.roles.reviewer.agreement import ReviewerResult, agree, fix_request, side_by_side
from bot.roles.reviewer.diff import parse_diff, split_diff
from bot.roles.reviewer.writer import LABELS, ReviewBrief, review
from bot.stages.services import Services
from bot.stages.skeleton import StageRun, stage
from bot.workflow.events import Event, ReviewsFinished, ReviewVerdict, StageFailed, StageName
from bot.workflow.jobs import ReviewTask
from bot.workflow.model import Stage, Workflow

log = logging.getLogger(__name__)

REVIEWERS = ("reviewer_a", "reviewer_b")


def _stale(task: ReviewTask, workflow: Workflow) -> str | None:
    if workflow.stage is not Stage.REVIEWING or workflow.head_sha != task.head_sha:
        return "the workflow is past this head commit"
    return None


@stage(ReviewTask, stale=_stale)
async def handle_review(run: StageRun[ReviewTask]) -> None:
    """Both reviewers on the head commit, then their agreement decides what is next."""
    if run.workflow.approved_design is None:
        raise PermanentJobError(f"{run.task.issue} has no approved design")
    await run.finish(await _review(run))


async def _review(run: StageRun[ReviewTask]) -> Event:
    task, workflow, repo, config, services = (
        run.task,
        run.workflow,
        run.repo,
        run.config,
        run.services,
    )
    design = DesignProposal.model_validate(workflow.approved_design)
    version = workflow.approved_version or 0
    try:
        files = parse_diff(await pulls.diff(repo, task.pr_number))
    except (GitHubUnavailable, GitHubRateLimited):
        raise  # GitHub is having trouble: the job retries
    except (ValueError, GitHubError) as exc:
        # an unreadable or too-large diff (GitHub answers 406) needs a human, not retries
        log.warning("the PR's diff cannot be reviewed", extra={"error": str(exc)})
        return StageFailed(
            StageName.REVIEW,
            f"the pull request's diff could not be read ({exc})",
            head_sha=task.head_sha,
        )
    design_tokens = estimate_tokens(render_version(version, design))
    room = max(config.budget.context_tokens - design_tokens - 500, 1000)
    # the diff takes at most two thirds of the room; the rest is the changed files' code
    split = split_diff(files, room * 2 // 3)
    since = ""
    if task.previous_sha:
        changed = await pulls.changes_since(repo, task.pr_number, task.previous_sha)
        since = f"Since the last review ({task.previous_sha[:7]}):\n{changed}" if changed else ""
    code = await read_paths(
        repo, [f.path for f in files if not f.binary and f.commentable], task.head_sha
    )
    brief = ReviewBrief(design, version, split, since, code, config.budget.context_tokens)
    scope = run.usage(StageName.REVIEW)
    me = await services.own_login()
    posted = [r.body for r in await pulls.reviews(repo, task.pr_number) if r.author == me]
    outcomes = await asyncio.gather(
        *(_one(role, task.head_sha, brief, scope, posted, services) for role in REVIEWERS),
        return_exceptions=True,
    )
    already = await pulls.review_comment_keys(repo, task.pr_number, me)
    commentable = {f.path: f.commentable for f in files}
    results: list[ReviewerResult] = []
    for outcome in outcomes:
        if isinstance(outcome, ReviewerResult):
            # a finished review is posted even when the other failed: it is not asked again
            await _post(repo, task, outcome, commentable, already, posted, since)
            results.append(outcome)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures:
        if not isinstance(failure, ModelError):
            raise failure
    if failures:
        log.warning("a reviewer failed", extra={"pr": task.pr_number, "error": str(failures[0])})
        return StageFailed(StageName.REVIEW, str(failures[0]), head_sha=task.head_sha)
    a, b = results
    agreement = agree(a, b)
    log.info(
        "reviews finished",
        extra={"pr": task.pr_number, "verdict": agreement.verdict, "sha": task.head_sha},
    )
    if agreement.verdict is ReviewVerdict.DISAGREE:
        return ReviewsFinished(task.head_sha, agreement.verdict, side_by_side(a, b, agreement))
    if agreement.verdict is ReviewVerdict.CHANGES:
        return ReviewsFinished(task.head_sha, agreement.verdict, fix_request(a, b, agreement))
    return ReviewsFinished(task.head_sha, ReviewVerdict.APPROVE)


async def _one(
    role: str,
    head_sha: str,
    brief: ReviewBrief,
    scope: UsageScope,
    posted: list[str],
    services: Services,
) -> ReviewerResult:
    """This reviewer's review of the head: the one already posted, or a new one."""
    key = marker(render.review_key(role, head_sha))
    for body in posted:
        if key in body:
            earlier = render.decode(body, role, LABELS[role])
            if earlier is not None:
                return earlier
    return await review(services.models, role, brief, scope)


async def _post(
    repo: Repo,
    task: ReviewTask,
    result: ReviewerResult,
    commentable: dict[str, frozenset[int]],
    already: set[tuple[str, int, str]],
    posted: list[str],
    since: str,
) -> None:
    key = marker(render.review_key(result.role, task.head_sha))
    if any(key in body for body in posted):
        return
    inline, in_body, repeats = render.place(result, commentable, already)
    body = render.review_body(result, task.head_sha, task.round, in_body, repeats, since)
    await pulls.post_review(repo, task.pr_number, task.head_sha, body, inline)
    already.update((c.path, c.line, render.normalise(c.body)) for c in inline)
