"""The developer stage: the approved design becomes one commit on `triad/issue-N` and a PR.

Idempotent by construction: each round's commit is recorded in the store before the branch
moves to it, so a job that died after pushing finds its commit and goes on to the PR; the PR is
found by its branch before one is opened. Only recorded commits count as Triad's: a branch
someone else created under Triad's name is never built on. A model failure becomes a
StageFailed event, never a lost job.
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
from bot.github.repo import IssueText, Repo
from bot.numbers import natural
from bot.roles.architect.schema import DesignProposal
from bot.roles.developer.context import DeveloperBrief, paths_named_in, plan_paths
from bot.roles.developer.edits import EditPolicy
from bot.roles.developer.render import Round, pr_body, pr_title
from bot.roles.developer.writer import write_change
from bot.roles.files import read_paths
from bot.stages.services import Services
from bot.stages.skeleton import StageRun, stage
from bot.store.commits import CommitLog
from bot.workflow.events import (
    DesignIsWrong,
    EditsHeld,
    Event,
    ImplementationPushed,
    StageFailed,
    StageName,
)
from bot.workflow.frozen import FrozenIssue
from bot.workflow.jobs import DeveloperTask, RoundReason
from bot.workflow.model import Stage, Workflow

log = logging.getLogger(__name__)


#: Triad's App has no `workflows` permission: GitHub would refuse these changes anyway
ALWAYS_PROTECTED = ".github/workflows/"


#: how many `triad/issue-N-K` names are tried when planted branches are in the way
MAX_BRANCH_ATTEMPTS = 20


def branch_for(issue_number: int, attempt: int = 1) -> str:
    """`triad/issue-N`, or `triad/issue-N-K` when earlier names are taken by someone else."""
    return f"triad/issue-{issue_number}" + (f"-{attempt}" if attempt > 1 else "")


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
    commits = CommitLog(run.services.store)
    branch, head = await _branch(run, commits)
    base = await repo.default_branch()
    if (
        head is not None
        and await commits.round_of(repo.full_name, task.issue_number, head.sha) == task.round
    ):
        log.info("round already committed: going on to the PR", extra={"branch": branch})
        steps, summary = _recorded(head.message)
        return await _open_or_update_pull(
            run, design, branch, base, head.sha, "", steps, summary=summary
        )
    # neither Triad's commit nor a push the workflow saw (and sent through CI): never built on
    if (
        head is not None
        and head.sha != run.workflow.head_sha
        and await commits.round_of(repo.full_name, task.issue_number, head.sha) is None
    ):
        reason = (
            f"the branch `{branch}` points at {head.sha[:7]}, a commit Triad did not make "
            "and has not seen pushed; check the branch, then `/triad resume`"
        )
        return StageFailed(StageName.DEVELOPER, reason, round=task.round)
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
    issue = _approved_issue(run.workflow, design)
    brief = DeveloperBrief(
        issue, design, run.workflow.approved_version or 0, task.reason, task.feedback, files
    )
    protected = (ALWAYS_PROTECTED, *config.protected_paths)
    policy = EditPolicy(
        frozenset(plan_paths(design)),
        protected,
        sensitive=tuple(config.sensitive_paths),
        allowed=frozenset(run.workflow.allowed_paths),
    )
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
    if change.result.outside_plan:
        held = tuple((e.path, e.reason, e.sensitive) for e in change.result.outside_plan)
        log.info("developer edits outside the plan: held", extra={"paths": [h[0] for h in held]})
        refused = tuple(p for p in change.result.problems if p.startswith("refused:"))
        return EditsHeld(task.round, held, task.reason.value, run.task.feedback, refused)
    if not await run.is_current(_stale):
        log.info("the workflow moved on while the developer worked: nothing is pushed")
        return None
    message = _commit_message(change.answer.commit_message, task, change.result.steps_done)
    try:
        sha = await gitdata.commit_files(repo, start, change.result.changes, message)
        # recorded before the branch moves: only a recorded commit is Triad's work
        await commits.record(repo.full_name, task.issue_number, task.round, sha, branch)
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
        branch,
        base,
        sha,
        note,
        set(change.result.steps_done),
        summary=change.answer.summary,
        # Triad never changes CI definitions (.github/workflows/ is protected): the tree it
        # started from tells whether the new commit has CI
        paths=tree,
    )


def _approved_issue(workflow: Workflow, design: DesignProposal) -> IssueText:
    """The issue as approved with the design: never the live issue, which anyone who can open
    an issue may edit after the approval."""
    if workflow.approved_issue is None:  # approved before Triad froze the issue's text
        note = "(The issue's text was not frozen with this design: follow the design.)"
        return IssueText(workflow.issue_number, design.title, note, "unknown", ())
    frozen = FrozenIssue.from_dict(workflow.approved_issue)
    return IssueText(frozen.number, frozen.title, frozen.body, frozen.author, ())


async def _branch(
    run: StageRun[DeveloperTask], commits: CommitLog
) -> tuple[str, gitdata.HeadCommit | None]:
    """The branch this round commits to, and its head.

    Triad's branch once it has one; for the first round `triad/issue-N`, unless that branch
    exists with a head Triad did not make (someone planted it): then the next free
    `triad/issue-N-K` (Triad never builds on, or opens a PR for, someone else's commits).
    """
    repo, number = run.repo, run.task.issue_number
    if run.workflow.branch:
        return run.workflow.branch, await gitdata.branch_head(repo, run.workflow.branch)
    for attempt in range(1, MAX_BRANCH_ATTEMPTS + 1):
        name = branch_for(number, attempt)
        head = await gitdata.branch_head(repo, name)
        if head is None or await commits.round_of(repo.full_name, number, head.sha) is not None:
            if attempt > 1:
                log.warning(
                    "a branch Triad did not create is in the way: using another",
                    extra={"planted": branch_for(number), "branch": name},
                )
            return name, head
    raise PermanentJobError(
        f"{repo.full_name}: {MAX_BRANCH_ATTEMPTS} branches named {branch_for(number)}(-K) exist"
        " that Triad did not create"
    )


def _branch_note(issue_number: int, branch: str) -> str:
    usual = branch_for(issue_number)
    if branch == usual:
        return ""
    return (
        f"A branch `{usual}` that Triad did not create already existed, so Triad works on "
        f"`{branch}` instead and never builds on, or reviews, commits it did not make."
    )


async def _open_or_update_pull(  # noqa: PLR0913 - the round's facts, each named
    run: StageRun[DeveloperTask],
    design: DesignProposal,
    branch: str,
    base: str,
    sha: str,
    note: str,
    steps_done: set[int],
    summary: str = "",
    paths: list[str] | None = None,
) -> Event | None:
    task, workflow, repo, config = run.task, run.workflow, run.repo, run.config
    ci = await _has_ci(
        repo, base, paths if paths is not None else await gitdata.paths_at(repo, sha)
    )
    found = await pulls.open_pulls_from(repo, branch)
    existing = _own_pull(found, await run.services.own_login(), base, workflow.pr_number)
    if existing is None and found:
        # GitHub allows one open PR per branch: someone else's is in the way, never adopted
        others = ", ".join(f"#{p.number} by @{p.author}" for p in found)
        reason = (
            f"pull request {others} from `{branch}` was not opened by Triad; close it, "
            "then `/triad resume`"
        )
        return StageFailed(StageName.DEVELOPER, reason, round=task.round)
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
        branch_note=_branch_note(task.issue_number, branch),
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


def _own_pull(
    found: list[pulls.PullInfo], me: str, base: str, recorded: int | None
) -> pulls.PullInfo | None:
    """Triad's own PR among the open ones from its branch: opened by Triad onto the default
    branch, the one the workflow recorded first (a PR anyone else opened is never adopted)."""
    mine = [p for p in found if p.author == me and p.base_ref == base]
    return next((p for p in mine if p.number == recorded), mine[0] if mine else None)


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
            listed = (natural(n.strip()) for n in line.split(":", 1)[1].split(","))
            steps = {n for n in listed if n is not None}
    subject, _, rest = message.partition("\n\n")
    body = rest.split("\nRefs #", 1)[0].strip()
    return steps, body if body and not body.startswith("Refs #") else subject.strip()


def _previous_summary(body: str) -> str:
    start = body.find("### Summary\n")
    if start < 0:
        return ""
    rest = body[start + len("### Summary\n") :]
    return rest.split("\n### ", 1)[0].strip()
