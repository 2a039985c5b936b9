"""How a stage job ends: its outcome applied to the workflow, or, when the job finds its work
stale, what earlier attempts decided and left undone carried out."""

from __future__ import annotations

from bot.github.repo import Repo
from bot.repo_config import RepoConfig
from bot.stages.runner import Applied, apply_event, finish_pending
from bot.stages.services import Services
from bot.stages.status import status_report
from bot.store.workflows import Holder, WorkflowStore
from bot.workflow.events import Event
from bot.workflow.model import Target


async def finish_leftovers(services: Services, target: Target, holder: Holder | None) -> None:
    """Carry out actions decided for this issue but never completed (e.g. queueing the next
    stage), so a job that died after deciding never leaves the workflow stuck."""
    if not await WorkflowStore(services.store).pending(target.repository, target.issue_number):
        return
    repo = await services.repo(target.installation_id, target.repository)
    config = (await services.repo_config(repo)).config
    await finish_pending(
        services.store, repo, target, config, lambda: status_report(services.store, target), holder
    )


async def apply_stage_event(
    services: Services,
    repo: Repo,
    target: Target,
    config: RepoConfig,
    event: Event,
    source: str,
    holder: Holder | None,
) -> Applied:
    """A stage job's outcome, applied once per job (its idempotency key is the source)."""
    return await apply_event(
        services.store,
        repo,
        target,
        config,
        event,
        source=source,
        actor=None,
        status_report=lambda: status_report(services.store, target),
        holder=holder,
    )
