"""The CI deadline: CI that never reports on the PR head (not configured for pull requests,
a stuck runner) would leave the workflow waiting for ever; after the deadline, read the verdict
once more, and ask a human when there still is none."""

from __future__ import annotations

import logging

from bot.github import checks
from bot.repo_config import CONFIG_PATH, parse_repo_config
from bot.stages.finish import apply_stage_event, finish_leftovers
from bot.stages.services import Services
from bot.store import Job
from bot.store.workflows import WorkflowStore
from bot.workflow.engine import Target
from bot.workflow.events import ChecksCompleted, Event, StageFailed
from bot.workflow.model import Stage

log = logging.getLogger(__name__)


async def handle_ci_watch(job: Job, services: Services) -> None:
    p = job.payload
    target = Target(p["repository"], p["installation_id"], p["issue_number"])
    sha, minutes = str(p["head_sha"]), int(p["minutes"])
    workflow = await WorkflowStore(services.store).get(target.repository, target.issue_number)
    if workflow is None or workflow.stage is not Stage.TESTING or workflow.head_sha != sha:
        await finish_leftovers(services, target)  # CI reported in time: nothing to do
        return
    repo = await services.repo(target.installation_id, target.repository)
    config = parse_repo_config(await repo.read_file(CONFIG_PATH)).config
    verdict = await checks.verdict(repo, sha)
    event: Event
    if verdict.finished:
        event = ChecksCompleted(sha, verdict.passed, verdict.report())
    else:
        log.warning("no CI result before the deadline", extra={"sha": sha, "minutes": minutes})
        event = StageFailed(
            "CI",
            f"no CI result on {sha[:7]} within {minutes} minutes (`limits.ci_timeout_minutes`). "
            "Does CI run on pull requests? `/triad resume` waits for it again.",
            head_sha=sha,
        )
    await apply_stage_event(services, repo, target, config, event, job.idempotency_key)
