"""The developer stage: the approved design becomes one commit on `triad/issue-N` and a PR.

Idempotent by construction: each round's commit carries a `Triad-Round` trailer, so a job that
died after pushing finds its commit and goes on to the PR; the PR is found by its branch
before one is opened. A model failure becomes a StageFailed event, never a lost job.
"""

from __future__ import annotations

import logging

from bot.errors import (
    GitHubError,
    GitHubRateLimited,
    GitHubUnavailable,
    ModelError,
    PermanentJobError,
)
from bot.github import checks, gitdata, pulls
from bot.github.checks import has_ci
from bot.github.repo import Repo
from bot.roles.architect.schema import DesignProposal
from bot.roles.developer.context import DeveloperBrief, paths_named_in, plan_paths
from bot.roles.developer.edits import EditPolicy
from bot.roles.developer.render import Round, pr_body, pr_title
from bot.roles.developer.writer import write_change
from bot.roles.files import read_paths
from bot.stages.services import Services
from bot.stages.skeleton import StageRun, stage
from bot.workflow.events import (
    DesignIsWrong,
    Event,
    ImplementationPushed,
    StageFailed,
    StageName,
)
from bot.workflow.jobs import DeveloperTask, RoundReason
from bot.workflow.model import Stage, Workflow

log = logging.getLogger(__name__)


#: Triad's App has no `workflows` permission: GitHub would refuse these changes anyway
ALWAYS_PROTECTED = ".github/workflows/"


def branch_for(issue_number: int) -> str:
    return f"triad/issue-{issue_number}"


def round_trailer(round_: int) -> str:
    return f"Triad-Round: {round_}"


def _stale(task: DeveloperTask, workflow: Workflow) -> str | None:
    if workflow.stage is not Stage.IMPLEMENTING or workflow.round != task.round:
        return "the workflow is past this round"
    return None


@stage(DeveloperTask, stale=_stale)
async def handle_developer(run: StageRun[DeveloperTask]) -> None:
    """One developer round: a commit on the branch, then the PR opened or updated."""
    workflow = run.workflow
    if workflow.approved_design is None or workflow.approved_version is None:
        raise PermanentJobError(f"{run.task.issue} has no approved design")
    design = DesignProposal.model_validate(workflow.approved_design)
    event = await _round(run, design)
    if event is None:
        return

    # CI that reported before the push was recorded is read by the look the push queues
    await run.finish(event)


async def _round(run: StageRun[DeveloperTask], design: DesignProposal) -> Event | None:
    """This round's event, or None when the workflow moved on meanwhile (stopped, redesigned)."""
    task, repo, config = run.task, run.repo, run.config
    branch = branch_for(task.issue_number)
    base = await repo.default_branch()
    head = await gitdata.branch_head(repo, branch)
    if head is not None and round_trailer(task.round) in head.message.splitlines():
        log.info("round already committed: going on to the PR", extra={"branch": branch})
        steps, summary = _recorded(head.message)
        return await _open_or_update_pull(run, design, base, head.sha, "", steps, summary=summary)
    start = head or await gitdata.branch_head(repo, base)
    if start is None:
        raise PermanentJobError(f"{repo.full_name} has no branch {base}")
    feedback = task.feedback
    if task.reason is RoundReason.CI and not feedback and head is not None:
        feedback = (await checks.verdict(repo, head.sha)).report()
    if task.reason is RoundReason.HUMAN and head is not None and run.workflow.pr_number:
        feedback = await _people_said(
            repo, run.workflow.pr_number, head, run.services, task.feedback
        )
    task = task.model_copy(update={"feedback": feedback})
    tree = await gitdata.paths_at(repo, start.sha)
    wanted = plan_paths(design) + paths_named_in(task.feedback, set(tree))
    files = await read_paths(repo, list(dict.fromkeys(wanted)), start.sha)
    issue = await repo.issue(task.issue_number)
    brief = DeveloperBrief(
        issue, design, run.workflow.approved_version or 0, task.reason, task.feedback, files
    )
    protected = (ALWAYS_PROTECTED, *config.protected_paths)
    policy = EditPolicy(frozenset(plan_paths(design)), protected)
    try:
        change = await write_change(
            run.services.models,
            repo,
            start.sha,
            brief,
            policy,
            config.budget.context_tokens,
            run.usage(StageName.DEVELOPER),
        )
    except ModelError as exc:
        log.warning("developer failed", extra={"issue": task.issue_number, "error": str(exc)})
        return StageFailed(StageName.DEVELOPER, str(exc), round=task.round)
    if change.answer.design_problem.strip():
        return DesignIsWrong(task.round, change.answer.design_problem.strip())
    if not await run.is_current(_stale):
        log.info("the workflow moved on while the developer worked: nothing is pushed")
        return None
    message = _commit_message(change.answer.commit_message, task, change.result.steps_done)
    try:
        sha = await gitdata.commit_files(repo, start, change.result.changes, message)
        await gitdata.publish(repo, branch, sha, existed=head is not None)
    except (GitHubUnavailable, GitHubRateLimited):
        raise  # GitHub is having trouble: the job retries
    except GitHubError as exc:
        # GitHub refuses the change itself (e.g. a path the App may not write): a human decides
        return StageFailed(
            StageName.DEVELOPER,
            f"GitHub refused the commit ({exc.status}): {exc.reason[:300]}",
            round=task.round,
        )
    log.info(
        "developer pushed",
        extra={
            "branch": branch,
            "sha": sha,
            "round": task.round,
            "files": list(change.result.changes),
        },
    )
    note = change.answer.root_cause or change.answer.summary
    return await _open_or_update_pull(
        run,
        design,
        base,
        sha,
        note,
        set(change.result.steps_done),
        summary=change.answer.summary,
        # Triad never changes CI definitions (.github/workflows/ is protected): the tree it
        # started from tells whether the new commit has CI
        paths=tree,
    )


async def _open_or_update_pull(
    run: StageRun[DeveloperTask],
    design: DesignProposal,
    base: str,
    sha: str,
    note: str,
    steps_done: set[int],
    summary: str = "",
    paths: list[str] | None = None,
) -> Event | None:
    task, workflow, repo, config = run.task, run.workflow, run.repo, run.config
    branch = branch_for(task.issue_number)
    ci = await _has_ci(
        repo, base, paths if paths is not None else await gitdata.paths_at(repo, sha)
    )
    existing = await pulls.find_open_pull(repo, branch)
    if existing is None and not await run.is_current(_stale):
        log.info("the workflow moved on: no pull request is opened")
        return None
    body = pr_body(
        issue_number=task.issue_number,
        design=design,
        version=workflow.approved_version or 0,
        design_url=f"../issues/{task.issue_number}#issuecomment-{workflow.design_comment_id}",
        summary=summary or _previous_summary(existing.body if existing else "") or design.problem,
        steps_done=steps_done,
        round_=Round(task.round, task.reason, sha, note),
        previous_body=existing.body if existing else "",
        has_ci=ci,
    )
    if existing is None:
        pull = await pulls.open_pull(
            repo,
            branch=branch,
            base=base,
            title=pr_title(design),
            body=body,
            draft=config.gates.draft_pr,
        )
    else:
        pull = existing
        if existing.body != body:
            await pulls.update_body(repo, existing.number, body)
    return ImplementationPushed(task.round, pull.number, branch, sha, ci)


async def _people_said(
    repo: Repo, number: int, head: gitdata.HeadCommit, services: Services, asked: str
) -> str:
    """`/triad fix`: the reviews and comments people left since Triad's last commit."""
    notes = await pulls.notes_since(repo, number, head.date, await services.own_login())
    writers = {
        author
        for author in {note.author for note in notes}
        if (await repo.permission(author)).can_write
    }
    lines = [f"The maintainer's request: {asked}"] if asked else []
    for note in notes:
        if note.author not in writers:
            continue  # only people who may change the code steer the developer
        where = f" on `{note.path}` line {note.line}" if note.path else ""
        if note.body.strip() and not note.body.lstrip().startswith("/triad"):
            lines.append(f"- @{note.author}{where}: {note.body.strip()}")
    return "\n".join(lines)


async def _has_ci(repo: Repo, base: str, paths: list[str]) -> bool:
    """GitHub Actions workflows among `paths`, or other CI that reported on the base branch."""
    if has_ci(paths):
        return True
    head = await gitdata.branch_head(repo, base)
    return head is not None and await checks.reports_on(repo, head.sha)


def _commit_message(message: str, task: DeveloperTask, steps: frozenset[int]) -> str:
    """The model's message with trailers: the round (so a retry finds its commit) and the plan
    steps done (so a PR opened after a crash still ticks them)."""
    text = message.strip() or f"Implement #{task.issue_number}"
    done = ",".join(str(n) for n in sorted(steps))
    return (
        f"{text}\n\nRefs #{task.issue_number}\n{round_trailer(task.round)}\nTriad-Steps: {done}\n"
    )


def _recorded(message: str) -> tuple[set[int], str]:
    """The plan steps and the summary a committed round recorded in its message."""
    steps: set[int] = set()
    for line in message.splitlines():
        if line.startswith("Triad-Steps:"):
            steps = {int(n) for n in line.split(":", 1)[1].split(",") if n.strip().isdigit()}
    subject, _, rest = message.partition("\n\n")
    body = rest.split("\nRefs #", 1)[0].strip()
    return steps, body if body and not body.startswith("Refs #") else subject.strip()


def _previous_summary(body: str) -> str:
    start = body.find("### Summary\n")
    if start < 0:
        return ""
    rest = body[start + len("### Summary\n") :]
    return rest.split("\n### ", 1)[0].strip()
