"""Apply one event to an issue's workflow: decide once per source, store, then carry out.

A retried job first finishes actions an earlier attempt decided but did not complete, and an
event whose source was already applied is not decided again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.github.repo import Repo
from bot.repo_config import RepoConfig
from bot.stages.executor import StatusReport, carry_out
from bot.store import Store
from bot.store.workflows import ConcurrentUpdate, Transition, WorkflowStore
from bot.workflow.engine import decide
from bot.workflow.events import Event
from bot.workflow.model import Target, Workflow

log = logging.getLogger(__name__)

DECIDE_ATTEMPTS = 3


async def finish_pending(
    store: Store, repo: Repo, target: Target, config: RepoConfig, status_report: StatusReport
) -> None:
    """Carry out the actions earlier attempts decided but did not finish (a job that died or
    failed half way), oldest first, each by one job at a time."""
    workflows = WorkflowStore(store)
    for leftover in await workflows.pending(target.repository, target.issue_number):
        if await workflows.claim(leftover.id):
            log.info("finishing actions of an earlier attempt", extra={"source": leftover.source})
            workflow = await workflows.get(target.repository, target.issue_number)
            await _carry_out(workflows, leftover, workflow, repo, config, status_report)


async def _carry_out(
    workflows: WorkflowStore,
    transition: Transition,
    workflow: Workflow | None,
    repo: Repo,
    config: RepoConfig,
    status_report: StatusReport,
) -> None:
    pull = workflow.pr_number if workflow else None
    try:
        await carry_out(
            transition.actions,
            repo,
            transition.issue_number,
            workflows.store,
            config,
            status_report,
            pull,
        )
    except BaseException:
        await workflows.release(transition.id)  # the job's retry takes them up again
        raise
    await workflows.mark_done(transition.id)


@dataclass(frozen=True)
class Applied:
    workflow: Workflow | None
    transition: Transition
    #: False when this source had been applied by an earlier attempt
    new: bool


async def apply_event(  # noqa: PLR0913 (what a transition needs; the cause keyword-only)
    store: Store,
    repo: Repo,
    target: Target,
    config: RepoConfig,
    event: Event,
    *,
    source: str,
    actor: str | None,
    status_report: StatusReport,
    config_problems: Sequence[str] = (),
) -> Applied:
    """Decide `event` once per `source`, store the transition, and carry out its actions."""
    workflows = WorkflowStore(store)
    issue = target.issue_number

    async def finish(transition: Transition, workflow: Workflow | None) -> None:
        await _carry_out(workflows, transition, workflow, repo, config, status_report)

    await finish_pending(store, repo, target, config, status_report)

    earlier = await workflows.transition_for(target.repository, issue, source)
    if earlier is not None:
        return Applied(await workflows.get(target.repository, issue), earlier, new=False)

    for attempt in range(1, DECIDE_ATTEMPTS + 1):
        before = await workflows.get(target.repository, issue)
        decision = decide(before, event, target, config, config_problems)
        try:
            after, transition = await workflows.apply(
                target.repository,
                issue,
                before,
                decision.workflow,
                decision.actions,
                source=source,
                cause=type(event).__name__,
                actor=actor,
                reason=decision.reason,
            )
            break
        except ConcurrentUpdate:
            # another event moved the workflow first: decide again on what it is now
            if attempt == DECIDE_ATTEMPTS:
                raise
            log.info("workflow changed concurrently: deciding again", extra={"source": source})
    log.info(
        "workflow event",
        extra={
            "repository": target.repository,
            "issue": issue,
            "event": type(event).__name__,
            "from": transition.from_stage,
            "to": transition.to_stage,
            "reason": decision.reason,
            "source": source,
        },
    )
    if transition.actions:
        await finish(transition, after)
    return Applied(after, transition, new=True)
