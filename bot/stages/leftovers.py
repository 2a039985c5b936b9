"""A job that finds its work stale still finishes what earlier attempts left undone."""

from __future__ import annotations

from bot.repo_config import CONFIG_PATH, parse_repo_config
from bot.stages.runner import finish_pending
from bot.stages.services import Services
from bot.stages.status import status_report
from bot.store.workflows import WorkflowStore
from bot.workflow.engine import Target


async def finish_leftovers(services: Services, target: Target) -> None:
    """Carry out actions decided for this issue but never completed (e.g. queueing the next
    stage), so a job that died after deciding never leaves the workflow stuck."""
    if not await WorkflowStore(services.store).pending(target.repository, target.issue_number):
        return
    repo = await services.repo(target.installation_id, target.repository)
    config = parse_repo_config(await repo.read_file(CONFIG_PATH)).config
    await finish_pending(
        services.store, repo, target, config, lambda: status_report(services.store, target)
    )
