"""The architect stage: read the issue and the repository, post (or update) the design comment.

The comment exists from the start ("designing…") and is updated in place; earlier versions stay
in it, collapsed. A model failure becomes a StageFailed event, which the engine turns into a
comment and `needs-human`: the job itself never fails for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from bot.errors import ModelError
from bot.github.repo import IssueComment, Repo, marker, marker_keys
from bot.llm.usage import UsageScope
from bot.repo_config import CONFIG_PATH, RepoConfig, parse_repo_config
from bot.roles.architect.context import gather_brief
from bot.roles.architect.render import (
    DESIGN_KEY,
    content_hash,
    next_step,
    render_comment,
    render_placeholder,
    render_version,
    versions_in,
)
from bot.roles.architect.writer import write_design
from bot.stages.finish import apply_stage_event, finish_leftovers
from bot.stages.services import Services
from bot.store import Job
from bot.store.workflows import WorkflowStore
from bot.workflow.engine import Target
from bot.workflow.events import DesignPublished, Event, StageFailed
from bot.workflow.model import Stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchitectJob:
    target: Target
    version: int
    feedback: str = ""

    @classmethod
    def from_job(cls, job: Job) -> ArchitectJob:
        payload = job.payload
        target = Target(payload["repository"], payload["installation_id"], payload["issue_number"])
        return cls(target, int(payload["version"]), str(payload.get("feedback") or ""))


async def handle_architect(job: Job, services: Services) -> None:
    task = ArchitectJob.from_job(job)
    target = task.target
    workflow = await WorkflowStore(services.store).get(target.repository, target.issue_number)
    if workflow is None or workflow.stage is not Stage.DESIGNING:
        log.info("architect job is stale: nothing to design", extra={"key": job.idempotency_key})
        await finish_leftovers(services, target)
        return
    if workflow.design_version != task.version:
        log.info("architect job is for an older version", extra={"key": job.idempotency_key})
        await finish_leftovers(services, target)
        return
    repo = await services.repo(target.installation_id, target.repository)
    config = parse_repo_config(await repo.read_file(CONFIG_PATH)).config
    comments = await repo.comments(target.issue_number)
    existing = next(
        (c for c in comments if DESIGN_KEY in marker_keys(c.body) and repo.is_mine(c)), None
    )
    versions = versions_in(existing.body) if existing else {}
    earlier = {number: text for number, text in versions.items() if number < task.version}

    # a version an earlier attempt wrote (and died before recording) is written again: the
    # design itself must reach the workflow, and it is not proposed until recorded
    await repo.upsert_comment(
        target.issue_number, DESIGN_KEY, render_placeholder(task.version, earlier)
    )
    event = await _design(task, repo, config, comments, earlier, services, workflow.id)
    await apply_stage_event(services, repo, target, config, event, job.idempotency_key)


async def _design(
    task: ArchitectJob,
    repo: Repo,
    config: RepoConfig,
    comments: list[IssueComment],
    earlier: dict[int, str],
    services: Services,
    workflow_id: int | None,
) -> Event:
    issue_number = task.target.issue_number
    try:
        brief = replace(
            await gather_brief(repo, issue_number, comments, earlier), feedback=task.feedback
        )
        scope = UsageScope(
            task.target.installation_id,
            task.target.repository,
            workflow_id,
            "architect",
            budget_tokens=config.budget.tokens,
            budget_dollars=config.budget.dollars,
            model_overrides=config.models,
        )
        design = await write_design(services.models, repo, brief, config, scope)
    except ModelError as exc:
        failed = render_comment(
            task.version,
            f"Design v{task.version} could not be written: {exc}",
            earlier,
            "See the comment below for what happened and how to retry.",
        )
        await repo.upsert_comment(issue_number, DESIGN_KEY, failed)
        log.warning("architect failed", extra={"issue": issue_number, "error": str(exc)})
        return StageFailed("architect", str(exc))
    body = render_comment(
        task.version,
        render_version(task.version, design),
        earlier,
        next_step(config.labels, bool(design.clarifying_questions)),
    )
    comment_id = await repo.upsert_comment(issue_number, DESIGN_KEY, body)
    posted = f"{marker(DESIGN_KEY)}\n{body}"
    return DesignPublished(
        task.version,
        comment_id,
        content_hash(posted),
        bool(design.clarifying_questions),
        design.model_dump(mode="json"),
    )
