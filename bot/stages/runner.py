"""Apply one event to an issue's workflow: decide once per source, store, then carry out.

An issue's actions are carried out in transition order, each transition by the one job holding
its claim. A retried job first finishes what earlier attempts decided and left undone; an
event whose source was already applied is not decided again; actions of a transition the
workflow has since moved past are reconciled with where it stands now, never replayed blindly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.github.repo import Repo
from bot.repo_config import RepoConfig
from bot.stages.executor import StatusReport, carry_out
from bot.store import Store
from bot.store.workflows import ConcurrentUpdate, Holder, Transition, WorkflowStore
from bot.workflow.engine import decide
from bot.workflow.events import Event
from bot.workflow.model import Target, Workflow
from bot.workflow.reconcile import still_wanted

log = logging.getLogger(__name__)

DECIDE_ATTEMPTS = 3
#: how long a job waits for an earlier transition another job holds before leaving its own to
#: that job (which carries on in order) or to the workers' sweep; a dead holder's claim lapses
#: with its lease, so a short wait usually suffices
WAIT_FOR_EARLIER_SECONDS = 10.0
_POLL_SECONDS = 0.2


async def finish_pending(
    store: Store,
    repo: Repo,
    target: Target,
    config: RepoConfig,
    status_report: StatusReport,
    holder: Holder | None = None,
    *,
    upto: int | None = None,
    own: int | None = None,
) -> bool:
    """Carry out the issue's undone actions in transition order, claiming each transition
    (`own` is one the caller holds already: the one it just decided).

    A transition another live job holds stops the walk: its holder goes on in order after it.
    Up to transition `upto` (the caller's), the walk waits a while for such a holder first,
    since the caller's actions must not run before it; then it gives its own up to that holder
    (or the workers' sweep). True when nothing up to `upto` is left undone.
    """
    workflows = WorkflowStore(store)
    waiting_since: float | None = None
    while True:
        pending = await workflows.pending(target.repository, target.issue_number)
        if not pending:
            return True
        first = pending[0]
        if first.id == own or await workflows.claim(first.id, holder):
            if first.id != upto:
                log.info("finishing earlier actions", extra={"source": first.source})
            workflow = await workflows.get(target.repository, target.issue_number)
            if not await _carry_out(
                workflows, first, workflow, repo, config, status_report, holder
            ):
                return False  # its lease lapsed: the transition's new holder goes on in order
            waiting_since = None
            continue
        if upto is None or first.id > upto:
            return upto is not None
        waiting_since = waiting_since or time.monotonic()
        if time.monotonic() - waiting_since > WAIT_FOR_EARLIER_SECONDS:
            log.warning(
                "earlier actions are still held by another job: leaving the rest to it",
                extra={"source": first.source, "issue": target.issue_number},
            )
            if own is not None:
                await workflows.release(own, holder)
            return False
        await asyncio.sleep(_POLL_SECONDS)


async def _carry_out(
    workflows: WorkflowStore,
    transition: Transition,
    workflow: Workflow | None,
    repo: Repo,
    config: RepoConfig,
    status_report: StatusReport,
    holder: Holder | None,
) -> bool:
    """Carry out one transition's actions under `holder`'s claim; False when the claim was lost
    on the way (this job stalled past its lease), so its new holder does the rest."""
    actions = transition.actions
    if workflow is not None and workflow.revision > transition.revision:
        # late: the workflow moved past this transition, so only what still fits it now
        actions = still_wanted(actions, workflow, config.labels)
        if actions != transition.actions:
            log.info(
                "late actions reconciled with the workflow as it stands",
                extra={"source": transition.source, "stage": workflow.stage},
            )
    pull = workflow.pr_number if workflow else None
    try:
        held = await carry_out(
            actions,
            repo,
            transition.issue_number,
            workflows.store,
            config,
            status_report,
            pull,
            installation_id=transition.installation_id,
            still_held=lambda: workflows.holds(transition.id, holder),
        )
    except BaseException:
        # the job's retry takes them up again; a claim another job took since stays its own
        await workflows.release(transition.id, holder)
        raise
    if not held or not await workflows.mark_done(transition.id, holder):
        log.warning(
            "the transition's claim was lost (this job's lease lapsed): left to its new holder",
            extra={"source": transition.source, "transition": transition.id},
        )
        return False
    return True


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
    holder: Holder | None = None,
    delivery_id: str | None = None,
) -> Applied:
    """Decide `event` once per `source`, store the transition, and carry out its actions
    (after any earlier ones of the issue); `holder` is the job doing it, for `delivery_id`
    when it is a delivery's."""
    workflows = WorkflowStore(store)
    issue = target.issue_number

    async def finish(upto: int | None, own: int | None = None) -> bool:
        return await finish_pending(
            store, repo, target, config, status_report, holder, upto=upto, own=own
        )

    await finish(None)

    earlier = await workflows.transition_for(target.repository, issue, source)
    if earlier is not None:
        if not earlier.actions_done:
            # an earlier attempt decided and died (or failed) before its actions were done
            await finish(earlier.id)
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
                holder=holder,
                installation_id=target.installation_id,
                delivery_id=delivery_id,
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
        await finish(transition.id, own=transition.id)
    return Applied(after, transition, new=True)
