"""The review stage: two reviewers, blind to each other and run concurrently, each post a PR
review; their agreement decides what happens next (QA, a fix round, the author's turn, or a
human), and Triad's check run shows it.

On Triad's own PR the reviewers compare the diff with the approved design; on a person's PR with
its description and the issues it closes. A fork's PR is reviewed from its diff alone (nothing
of the fork is read beyond it), and a re-review of a person's PR reads the diff since the last
reviewed head plus each reviewer's own open findings.

Idempotent: each review carries a marker with the head commit, its round and its structured
content, so a retried job reuses a review it already posted instead of asking (and paying) again.
"""

from __future__ import annotations

import asyncio
import logging

from bot.errors import (
    GitHubError,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubUnavailable,
    ModelError,
    PermanentJobError,
)
from bot.github import pulls
from bot.github.repo import IssueText, Repo
from bot.llm.context import ContextPart, estimate_tokens
from bot.llm.usage import UsageScope
from bot.roles.architect.render import render_version
from bot.roles.architect.schema import DesignProposal
from bot.roles.files import read_paths
from bot.roles.reviewer import render, report, spec
from bot.roles.reviewer.agreement import ReviewerResult, agree, fix_request, side_by_side
from bot.roles.reviewer.diff import DiffFile, parse_diff, split_diff
from bot.roles.reviewer.writer import LABELS, ReviewBrief, review
from bot.stages.services import Services
from bot.stages.skeleton import StageRun, stage
from bot.store.usage import UsageStore
from bot.workflow.events import Event, ReviewsFinished, ReviewVerdict, StageFailed, StageName
from bot.workflow.jobs import ReviewTask
from bot.workflow.model import Stage, Workflow, WorkflowKind

log = logging.getLogger(__name__)

REVIEWERS = ("reviewer_a", "reviewer_b")


def _stale(task: ReviewTask, workflow: Workflow) -> str | None:
    if (
        workflow.stage is not Stage.REVIEWING
        or workflow.head_sha != task.head_sha
        or workflow.review_round != task.round
    ):
        return "the workflow is past this head commit"
    return None


@stage(ReviewTask, stale=_stale)
async def handle_review(run: StageRun[ReviewTask]) -> None:
    """Both reviewers on the head commit, then their agreement decides what is next."""
    workflow = run.workflow
    if workflow.kind is WorkflowKind.ISSUE and workflow.approved_design is None:
        raise PermanentJobError(f"{run.task.issue} has no approved design")
    outcome = await _review(run)
    if outcome is not None:
        await run.finish(outcome)


async def _review(run: StageRun[ReviewTask]) -> Event | None:
    task, workflow, repo, config, services = (
        run.task,
        run.workflow,
        run.repo,
        run.config,
        run.services,
    )
    of_person = workflow.kind is WorkflowKind.PULL
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
    what = await _pull_spec(repo, task.pr_number) if of_person else _design_spec(workflow)
    what = spec.capped(what, config.budget.context_tokens)
    spec_tokens = sum(estimate_tokens(part.text) for part in what)
    room = max(config.budget.context_tokens - spec_tokens - 500, 1000)
    previous = task.previous_sha if task.previous_sha != task.head_sha else None
    since = ""
    if previous:
        changed = await pulls.changes_since(repo, task.pr_number, previous)
        since = f"Since the last review ({previous[:7]}):\n{changed}" if changed else ""
    reviewed, incremental = files, False
    if of_person and previous and since:
        newer = await _diff_since(repo, previous, task.head_sha)
        if newer is not None:
            reviewed, incremental = newer, True
    # the diff takes at most two thirds of the room; the rest is the changed files' code
    split = split_diff(reviewed, room * 2 // 3)
    code: dict[str, str | None] = {}
    if not workflow.from_fork:  # a fork's PR is reviewed from its diff alone
        paths = [f.path for f in reviewed if not f.binary and f.commentable]
        code = await read_paths(repo, paths, task.head_sha)
    brief = ReviewBrief(
        what,
        split,
        since,
        code,
        config.budget.context_tokens,
        spec.review_instructions(config.review, [f.path for f in files]),
        spec.matched_paths(config.review, [f.path for f in files]),
        of_person=of_person,
        incremental=incremental,
    )
    scope = run.usage(StageName.REVIEW)
    me = await services.own_login()
    posted = [r.body for r in await pulls.reviews(repo, task.pr_number) if r.author == me]
    outcomes = await asyncio.gather(
        *(
            _one(role, task, brief, scope, posted, _open_points(role, previous, posted), services)
            for role in REVIEWERS
        ),
        return_exceptions=True,
    )
    if not await run.is_current(_stale):
        # stopped, closed or moved on while the reviewers read: nothing is posted
        log.info("the workflow moved on while the reviewers worked", extra={"pr": task.pr_number})
        return None
    already = await pulls.review_comment_keys(repo, task.pr_number, me)
    commentable = {f.path: f.commentable for f in files}
    results: list[ReviewerResult] = []
    for outcome in outcomes:
        if isinstance(outcome, ReviewerResult):
            # a finished review is posted even when the other failed: it is not asked again
            await _post(repo, task, outcome, commentable, already, posted, since, of_person)
            results.append(outcome)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures:
        if not isinstance(failure, ModelError):
            raise failure
    if failures:
        log.warning("a reviewer failed", extra={"pr": task.pr_number, "error": str(failures[0])})
        return StageFailed(StageName.REVIEW, str(failures[0]), head_sha=task.head_sha)
    return await _finished(run, results[0], results[1])


async def _finished(run: StageRun[ReviewTask], a: ReviewerResult, b: ReviewerResult) -> Event:
    """The agreement, told on the PR (what Triad says) and on its check run (the report)."""
    task, workflow = run.task, run.workflow
    agreement = agree(a, b)
    log.info(
        "reviews finished",
        extra={"pr": task.pr_number, "verdict": agreement.verdict, "sha": task.head_sha},
    )
    totals = await UsageStore(run.services.store).totals(workflow.id or 0)
    checked = report.check_report(
        a, b, agreement, round_=task.round, cost=totals.cost, tokens=totals.tokens
    )
    # the first review of a pull request walks human reviewers through it
    walk = report.walkthrough(a, b) if task.round == 1 else ""
    verdict = agreement.verdict
    if workflow.kind is WorkflowKind.PULL:
        said = {
            ReviewVerdict.APPROVE: lambda: report.approved(a, b, walk),
            ReviewVerdict.CHANGES: lambda: report.for_the_author(b, agreement, walk),
            ReviewVerdict.DISAGREE: lambda: "\n\n".join(
                filter(None, [side_by_side(a, b, agreement, report.PULL_HOW), walk])
            ),
        }[verdict]()
    elif verdict is ReviewVerdict.DISAGREE:
        said = side_by_side(a, b, agreement)
    elif verdict is ReviewVerdict.CHANGES:
        said = fix_request(a, b, agreement)
    else:
        said = ""
    return ReviewsFinished(
        task.head_sha, verdict, said, round=task.round, report=checked, walkthrough=walk
    )


def _design_spec(workflow: Workflow) -> tuple[ContextPart, ...]:
    design = DesignProposal.model_validate(workflow.approved_design)
    version = workflow.approved_version or 0
    text = render_version(version, design)
    return (ContextPart(f"approved design v{version}", text, truncatable=False),)


async def _pull_spec(repo: Repo, number: int) -> tuple[ContextPart, ...]:
    """The pull request's title and body, and the issues it closes (people's words: data)."""
    pull = await pulls.get_pull(repo, number)
    if pull is None:
        raise PermanentJobError(f"{repo.full_name}#{number} is gone")
    issues: list[IssueText] = []
    for linked in spec.closing_issues(pull.body, repo.full_name):
        try:
            issues.append(await repo.issue(linked))
        except GitHubNotFound:
            continue
    return spec.pull_spec(number, pull.title, pull.body, issues)


async def _diff_since(repo: Repo, previous: str, head: str) -> list[DiffFile] | None:
    """The diff since the last reviewed head, or None when it cannot be had (then the whole
    pull request's diff is reviewed again)."""
    text = await pulls.diff_between(repo, previous, head)
    if not text:
        return None
    try:
        return parse_diff(text)
    except ValueError:
        return None


def _open_points(role: str, previous: str | None, posted: list[str]) -> str:
    """What this reviewer found in its last review (its own only: the two stay blind)."""
    if previous is None:
        return ""
    for body in reversed(posted):
        if render.is_review_of(body, role, previous):
            earlier = render.decode(body, role, LABELS[role])
            if earlier is not None and earlier.answer.findings:
                return "\n".join(
                    f"- `{f.path}:{f.line}` ({f.severity} {f.category}): {f.message}"
                    if f.line
                    else f"- `{f.path}` ({f.severity} {f.category}): {f.message}"
                    for f in earlier.answer.findings
                )
    return ""


def _earlier(role: str, task: ReviewTask, posted: list[str]) -> ReviewerResult | None:
    """This reviewer's review of the head already posted for this task, if any: any round's
    unless the head is reviewed afresh, then this round's only. One whose data is gone (cut
    to GitHub's limit) is none: the reviewer is asked again and its answer posted, so the
    verdict Triad acts on is always one the pull request shows."""
    for body in posted:
        if render.is_review_of(body, role, task.head_sha) and (
            not task.fresh or render.of_round(body, role, task.head_sha, task.round)
        ):
            earlier = render.decode(body, role, LABELS[role])
            if earlier is not None:
                return earlier
    return None


async def _one(
    role: str,
    task: ReviewTask,
    brief: ReviewBrief,
    scope: UsageScope,
    posted: list[str],
    open_points: str,
    services: Services,
) -> ReviewerResult:
    """This reviewer's review of the head: the one already posted, or a new one."""
    earlier = _earlier(role, task, posted)
    return earlier or await review(services.models, role, brief, scope, open_points)


async def _post(
    repo: Repo,
    task: ReviewTask,
    result: ReviewerResult,
    commentable: dict[str, frozenset[int]],
    already: set[tuple[str, int, str]],
    posted: list[str],
    since: str,
    of_person: bool,
) -> None:
    if _earlier(result.role, task, posted) is not None:
        return
    inline, in_body, repeats = render.place(result, commentable, already)
    body = render.review_body(
        result, task.head_sha, task.round, in_body, repeats, since, own_pull=not of_person
    )
    await pulls.post_review(repo, task.pr_number, task.head_sha, body, inline)
    already.update((c.path, c.line, render.normalise(c.body)) for c in inline)
