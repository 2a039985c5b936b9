"""One skeleton for every stage job: read its typed task, load the workflow, drop stale work,
read the repository's config once, and hand the stage what it needs.

A stage module then holds only what is particular to it: when its job is stale, and its work.
A dead stage job that an operator queued again (`triad jobs retry`) first takes the workflow
back from `needs-human` to its stage, then runs as before.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import ValidationError

from bot.errors import PermanentJobError
from bot.github.repo import Repo
from bot.jobs import Handler
from bot.llm.usage import UsageScope
from bot.repo_config import RepoConfig
from bot.stages.finish import apply_stage_event, finish_leftovers
from bot.stages.runner import Applied
from bot.stages.services import Services
from bot.store import Job
from bot.store.workflows import Holder, WorkflowStore
from bot.workflow.events import Event, StageRetried
from bot.workflow.jobs import STAGE_OF, JobPayload, StageTask
from bot.workflow.model import Stage, Workflow

log = logging.getLogger(__name__)

TaskT = TypeVar("TaskT", bound=StageTask)
PayloadT = TypeVar("PayloadT", bound=JobPayload)

#: why a job no longer fits its workflow (None: it does)
StaleCheck = Callable[[TaskT, Workflow], "str | None"]
JobHandler = Handler[Services]


def read_task(task_type: type[PayloadT], job: Job) -> PayloadT:
    """The job's payload as its typed task; a payload that does not fit is dead at once."""
    try:
        return task_type.model_validate(job.payload)
    except ValidationError as exc:
        raise PermanentJobError(f"{job.kind} job {job.id} has a malformed payload: {exc}") from exc


@dataclass(frozen=True)
class StageRun(Generic[TaskT]):
    """What a stage works with: its task, the workflow as the job found it, the repository,
    its config, and the process's services."""

    task: TaskT
    #: the job's idempotency key: a stage's outcome is applied once per job
    source: str
    workflow: Workflow
    repo: Repo
    config: RepoConfig
    services: Services
    #: the job running the stage, whose lease the transition claims it holds follow
    holder: Holder | None = None

    def usage(self, role: str) -> UsageScope:
        """Where this stage's model calls are counted, and the budget they draw on."""
        return UsageScope(
            self.task.installation_id,
            self.task.repository,
            self.workflow.id,
            role,
            budget_tokens=self.config.budget.tokens,
            budget_dollars=self.config.budget.dollars,
            model_overrides=self.config.models,
        )

    async def finish(self, event: Event, source: str | None = None) -> Applied:
        """Apply the stage's outcome to the workflow (once per `source`)."""
        return await apply_stage_event(
            self.services,
            self.repo,
            self.task.target,
            self.config,
            event,
            source or self.source,
            self.holder,
        )

    async def is_current(self, still: StaleCheck[TaskT]) -> bool:
        """Re-read before writing: a `/triad stop` or redesign meanwhile means do nothing."""
        target = self.task.target
        now = await WorkflowStore(self.services.store).get(target.repository, target.issue_number)
        return now is not None and still(self.task, now) is None


def stage(
    task_type: type[TaskT], *, stale: StaleCheck[TaskT]
) -> Callable[[Callable[[StageRun[TaskT]], Awaitable[None]]], JobHandler]:
    """Make a stage's work a job handler with the common skeleton around it."""

    def wrap(work: Callable[[StageRun[TaskT]], Awaitable[None]]) -> JobHandler:
        @functools.wraps(work)
        async def handle(job: Job, services: Services) -> None:
            task = read_task(task_type, job)
            target, holder = task.target, Holder.of(job)
            workflows = WorkflowStore(services.store)
            workflow = await workflows.get(target.repository, target.issue_number)
            if workflow is not None and workflow.stage is Stage.NEEDS_HUMAN:
                workflow = await _retried_by_operator(job, task, workflow, services, holder)
            why = "there is no workflow" if workflow is None else stale(task, workflow)
            if workflow is None or why is not None:
                log.info(
                    "stale job: nothing to do",
                    extra={"kind": task.kind, "key": job.idempotency_key, "why": why},
                )
                # what earlier attempts decided and left undone is still carried out
                await finish_leftovers(services, target, holder)
                return
            repo = await services.repo(target.installation_id, target.repository)
            loaded = await services.repo_config(repo)
            await work(
                StageRun(task, job.idempotency_key, workflow, repo, loaded.config, services, holder)
            )

        return handle

    return wrap


async def _retried_by_operator(
    job: Job, task: StageTask, workflow: Workflow, services: Services, holder: Holder | None
) -> Workflow:
    """The workflow as the job should see it: back in the job's stage when it waits on a human
    because this very job died (only an operator's retry runs a dead job again)."""
    if workflow.escalated_job != job.id:
        return workflow
    repo = await services.repo(task.installation_id, task.repository)
    config = (await services.repo_config(repo)).config
    event = StageRetried(STAGE_OF[task.kind], job.id)
    source = f"operator-retry:{job.id}:{workflow.revision}"
    applied = await apply_stage_event(services, repo, task.target, config, event, source, holder)
    return applied.workflow or workflow
