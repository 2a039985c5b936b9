"""The architect stage: read the issue and the repository, post (or update) the design comment.

The comment exists from the start ("designing…") and is updated in place; earlier versions stay
in it, collapsed. A model failure becomes a StageFailed event, which the engine turns into a
comment and `needs-human`: the job itself never fails for it.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.errors import ModelError
from bot.github.markers import carries, marker
from bot.github.repo import IssueComment
from bot.roles.architect.context import ArchitectBrief, gather_brief
from bot.roles.architect.render import (
    DESIGN_KEY,
    content_hash,
    next_step,
    render_comment,
    render_placeholder,
    render_version,
    sensitive_warning,
    versions_in,
)
from bot.roles.architect.writer import write_design
from bot.roles.paths import is_protected, is_sensitive
from bot.stages.skeleton import StageRun, stage
from bot.store.workflows import WorkflowStore
from bot.workflow.events import DesignPublished, Event, StageFailed, StageName
from bot.workflow.frozen import FrozenComment, FrozenIssue, freeze
from bot.workflow.jobs import ArchitectTask
from bot.workflow.model import Stage, Workflow

log = logging.getLogger(__name__)


def _stale(task: ArchitectTask, workflow: Workflow) -> str | None:
    if workflow.stage is not Stage.DESIGNING:
        return "nothing to design"
    if workflow.design_version != task.version:
        return "an older version"
    return None


@stage(ArchitectTask, stale=_stale)
async def handle_architect(run: StageRun[ArchitectTask]) -> None:
    """Write design `version` into the issue's design comment."""
    task, repo = run.task, run.repo
    comments = await repo.comments(task.issue_number)
    existing = next((c for c in comments if carries(c.body, DESIGN_KEY) and repo.is_mine(c)), None)
    versions = versions_in(existing.body) if existing else {}
    earlier = {number: text for number, text in versions.items() if number < task.version}

    # a version an earlier attempt wrote (and died before recording) is written again: the
    # design itself must reach the workflow, and it is not proposed until recorded
    await repo.upsert_comment(
        task.issue_number, DESIGN_KEY, render_placeholder(task.version, earlier)
    )
    designed = await _design(run, comments, earlier)
    if designed is not None:
        await run.finish(designed)


async def _stopped_meanwhile(run: StageRun[ArchitectTask], earlier: dict[int, str]) -> None:
    """The workflow moved on while the architect wrote: nothing is proposed. Stopped (or its
    issue closed) at this version, the design comment says so instead of "designing…"."""
    task = run.task
    log.info("the workflow moved on while the architect worked", extra={"issue": task.issue})
    now = await WorkflowStore(run.services.store).get(task.repository, task.issue_number)
    if now is not None and now.stage is Stage.STOPPED and now.design_version == task.version:
        note = f"Design v{task.version} was not written: the workflow was stopped meanwhile."
        body = render_comment(task.version, note, earlier, "")
        await run.repo.upsert_comment(task.issue_number, DESIGN_KEY, body)


async def _design(
    run: StageRun[ArchitectTask], comments: list[IssueComment], earlier: dict[int, str]
) -> Event | None:
    task, repo, config = run.task, run.repo, run.config
    issue_number = task.issue_number
    try:
        brief = replace(
            await gather_brief(repo, issue_number, comments, earlier), feedback=task.feedback
        )
        design = await write_design(
            run.services.models, repo, brief, config, run.usage(StageName.ARCHITECT)
        )
    except ModelError as exc:
        failed = render_comment(
            task.version,
            f"Design v{task.version} could not be written: {exc}",
            earlier,
            "See the comment below for what happened and how to retry.",
        )
        await repo.upsert_comment(issue_number, DESIGN_KEY, failed)
        log.warning("architect failed", extra={"issue": issue_number, "error": str(exc)})
        return StageFailed(StageName.ARCHITECT, str(exc))
    if not await run.is_current(_stale):
        await _stopped_meanwhile(run, earlier)
        return None
    sensitive = [
        step.path
        for step in design.plan
        if is_sensitive(step.path, tuple(config.sensitive_paths))
        or is_protected(step.path, tuple(config.protected_paths))
    ]
    body = render_comment(
        task.version,
        render_version(task.version, design) + sensitive_warning(list(dict.fromkeys(sensitive))),
        earlier,
        next_step(config.labels, bool(design.clarifying_questions)),
    )
    comment_id = await repo.upsert_comment(issue_number, DESIGN_KEY, body)
    posted = repo.writable(f"{marker(DESIGN_KEY)}\n{body}")
    return DesignPublished(
        task.version,
        comment_id,
        content_hash(posted),
        bool(design.clarifying_questions),
        design.model_dump(mode="json"),
        _frozen(brief).to_dict(),
    )


def _frozen(brief: ArchitectBrief) -> FrozenIssue:
    """The issue exactly as the architect read it: what the later stages will read."""
    issue = brief.issue
    used = [FrozenComment(c.id, c.author, c.body) for c in brief.discussion]
    return freeze(issue.number, issue.title, issue.body, issue.author, used)
