"""The CI deadline: CI that never reports on the PR head (not configured for pull requests,
a stuck runner) would leave the workflow waiting for ever; after the deadline, read the verdict
once more, and ask a human when there still is none."""

from __future__ import annotations

import logging

from bot.github import checks
from bot.stages.skeleton import StageRun, stage
from bot.workflow.events import ChecksCompleted, Event, StageFailed, StageName
from bot.workflow.jobs import CiWatchTask
from bot.workflow.model import Stage, Workflow

log = logging.getLogger(__name__)


def _stale(task: CiWatchTask, workflow: Workflow) -> str | None:
    if workflow.stage is not Stage.TESTING or workflow.head_sha != task.head_sha:
        return "CI reported in time"
    return None


@stage(CiWatchTask, stale=_stale)
async def handle_ci_watch(run: StageRun[CiWatchTask]) -> None:
    """The deadline passed with the head still testing: the verdict now, or a human. (Right
    after the push, only the verdict if there is one.)"""
    sha, minutes = run.task.head_sha, run.task.minutes
    verdict = await checks.verdict(run.repo, sha)
    event: Event
    if verdict.finished:
        event = ChecksCompleted(sha, verdict.passed, verdict.report())
    elif run.task.look_only:
        return  # CI has not reported yet: its webhook will tell
    else:
        log.warning("no CI result before the deadline", extra={"sha": sha, "minutes": minutes})
        event = StageFailed(
            StageName.CI,
            f"no CI result on {sha[:7]} within {minutes} minutes (`limits.ci_timeout_minutes`). "
            "Does CI run on pull requests? `/triad resume` waits for it again.",
            head_sha=sha,
        )
    await run.finish(event)
