"""Nothing waits for a person to be finished: the workers' sweep and the finish job.

Every process that runs jobs sweeps the store every few seconds for work no live job is doing:
an issue whose undone actions lost their holder (its worker died, and no event came since), or
a stage job that died (out of attempts: crashes, GitHub or the store down through every retry)
without the workflow being told. For each such issue it queues one `finish` job, which tells
the workflow of its dead stage jobs (`needs-human`, with the stage, why, and how to run it
again) and carries out the undone actions in order.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from dataclasses import replace

from pydantic import ValidationError

from bot.errors import GitHubForbidden, GitHubNotFound, GitHubUnavailable
from bot.github.markers import marker
from bot.github.repo import Repo
from bot.repo_config import RepoConfig
from bot.stages.dead import category, details
from bot.stages.finish import apply_stage_event
from bot.stages.runner import finish_pending
from bot.stages.services import Services
from bot.stages.skeleton import read_task
from bot.stages.status import status_report
from bot.stages.undelivered import LostDelivery, lost_delivery, notice, notice_key
from bot.store import Job, NewJob, Store
from bot.store.recovery import TOLD_COMMENT, TOLD_LOG, Recovery
from bot.store.workflows import Holder, WorkflowStore
from bot.workflow.events import StageFailed
from bot.workflow.jobs import (
    STAGE_OF,
    ArchitectTask,
    CiWatchTask,
    DeveloperTask,
    FinishTask,
    JobKind,
    ReviewTask,
    StageTask,
)
from bot.workflow.model import Target

log = logging.getLogger(__name__)

#: a finish job keeps trying through a long GitHub outage (its backoff grows to ten minutes);
#: one that dies anyway is replaced by the next sweep, since its work is still there
FINISH_ATTEMPTS = 20

#: issues with undone actions and no known installation, already logged (per store)
_UNKNOWN_SAID: weakref.WeakKeyDictionary[Store, set[tuple[str, int]]] = weakref.WeakKeyDictionary()


async def sweep(store: Store) -> list[int]:
    """Queue a finish job for each issue with work no live job is doing (and none queued for
    it yet); returns the jobs queued."""
    recovery = Recovery(store)
    found: dict[tuple[str, int], int | None] = {}
    for stalled in await recovery.stalled():
        found[(stalled.repository, stalled.issue_number)] = stalled.installation_id
    for dead in await recovery.unreported_dead(list(STAGE_OF)):
        task = _target_of(dead)
        if task is not None:
            found[(task.repository, task.issue_number)] = task.installation_id
            continue
        log.warning(  # it died of its payload at once, and nothing ran
            "a stage job whose payload no stage reads died: no issue can be told",
            extra={"job": dead.id, "kind": dead.kind, "error": dead.last_error},
        )
        await recovery.mark_reported(dead, TOLD_LOG)
    for dead in await recovery.unreported_dead([JobKind.FINISH]):
        # its work is still in the store, where this sweep finds it and queues another
        log.warning(
            "a finish job died: another takes its work over",
            extra={"job": dead.id, "error": dead.last_error},
        )
        await recovery.mark_reported(dead, TOLD_LOG)
    for dead in await recovery.unreported_dead([JobKind.DELIVERY]):
        lost = await lost_delivery(store, dead)
        if lost.repository and lost.number and lost.installation_id:
            found[(lost.repository, lost.number)] = lost.installation_id
            continue
        log.warning(
            "a delivery job died and no issue can be told",
            extra={"job": dead.id, "delivery": lost.delivery_id, "error": dead.last_error},
        )
        await recovery.mark_reported(dead, TOLD_LOG)
    busy = {
        (str(payload.get("repository")), payload.get("issue_number"))
        for payload in await recovery.queued_for(JobKind.FINISH)
    }
    queued = []
    now = store.clock()
    for (repository, number), installation in found.items():
        if (repository, number) in busy:
            continue
        if installation is None:
            said = _UNKNOWN_SAID.setdefault(store, set())
            if (repository, number) not in said:  # once a process: every sweep finds it
                said.add((repository, number))
                log.error(
                    "undone actions of an issue whose installation is unknown: a later event"
                    " on the issue finishes them",
                    extra={"repository": repository, "issue": number},
                )
            continue
        finish = FinishTask(
            repository=repository, installation_id=installation, issue_number=number
        )
        job_id = await store.enqueue(
            NewJob(
                kind=finish.kind,
                idempotency_key=f"{finish.kind}:{finish.issue}:{now:.0f}",
                payload=finish.model_dump(mode="json"),
                max_attempts=FINISH_ATTEMPTS,
            )
        )
        if job_id is not None:
            log.info("work nobody is doing: finish job queued", extra={"issue": finish.issue})
            queued.append(job_id)
    return queued


async def sweep_periodically(store: Store, seconds: float) -> None:
    """The sweep every `seconds` (jittered, so processes started together spread out)."""
    while True:
        await asyncio.sleep(seconds * random.uniform(0.5, 1.0))
        try:
            await sweep(store)
        except Exception:  # the store is down: the next sweep tries again
            log.exception("the sweep failed; it runs again shortly")


async def handle_finish(job: Job, services: Services) -> None:
    """Tell the workflow of its dead stage jobs, then carry out its undone actions in order."""
    task = read_task(FinishTask, job)
    target, holder = task.target, Holder.of(job)
    repo = await services.repo(target.installation_id, target.repository)
    try:
        await repo.default_branch()  # the repository, as its installation sees it
    except (GitHubNotFound, GitHubForbidden) as exc:
        # 401 is Triad's own credentials failing (a bad key, a clock off): never a repository
        # gone, whatever its attempt
        if job.attempts < job.max_attempts or exc.status == 401:
            # one answer proves nothing (GitHub's incidents answer 404, 401 and 403 too, and
            # a suspended installation comes back): asked again later, on the outage schedule
            raise GitHubUnavailable(
                f"{target.repository} answered {exc.status}: taken for gone only if it still"
                " does on this job's last attempt"
            ) from exc
        # deleted, or the installation lost it: nobody there can be told, nor anything done
        await _gone(services.store, target, str(exc))
        return
    except GitHubUnavailable:
        pass  # an outage is not an answer: the work below says what it can
    config = (await services.repo_config(repo)).config
    await _report_dead(services, target, config, repo, holder)
    await _report_lost(services, target, repo)
    await finish_pending(
        services.store,
        repo,
        target,
        config,
        lambda: status_report(services.store, target),
        holder,
    )


async def _report_dead(
    services: Services, target: Target, config: RepoConfig, repo: Repo, holder: Holder | None
) -> None:
    recovery = Recovery(services.store)
    for dead in await recovery.unreported_dead(list(STAGE_OF)):
        if _target_of(dead) != target:
            continue
        event = dead_stage_failed(dead)
        if event is not None:
            source = f"dead:{dead.id}:{dead.finished_at or 0:.6f}"
            told = await apply_stage_event(services, repo, target, config, event, source, holder)
            if told.new:
                log.warning(
                    "a stage job died: the workflow is told",
                    extra={"job": dead.id, "kind": dead.kind, "error": dead.last_error},
                )
        await recovery.mark_reported(dead)


async def _gone(store: Store, target: Target, error: str) -> None:
    """The issue's repository or installation is gone: its deaths are logged (and counted in
    `triad_dead_letters_reported{how="log"}`), its undone actions dropped, once."""
    recovery = Recovery(store)
    told = []
    for dead in await recovery.unreported_dead([*STAGE_OF, JobKind.DELIVERY]):
        if await _issue_of(store, dead) == (target.repository, target.issue_number):
            await recovery.mark_reported(dead, TOLD_LOG)
            told.append(dead.id)
    dropped = await WorkflowStore(store).abandon(target.repository, target.issue_number)
    log.warning(
        "the repository or its installation is gone: dead jobs logged, undone actions dropped",
        extra={
            "repository": target.repository,
            "issue": target.issue_number,
            "jobs": told,
            "transitions": dropped,
            "error": error,
        },
    )


async def _report_lost(services: Services, target: Target, repo: Repo) -> None:
    """Say on the issue which of its deliveries Triad never acted on (their jobs died)."""
    store = services.store
    recovery, workflows = Recovery(store), WorkflowStore(store)
    untold: list[LostDelivery] = []
    acted: list[LostDelivery] = []
    for dead in await recovery.unreported_dead([JobKind.DELIVERY]):
        lost = await lost_delivery(store, dead)
        if (lost.repository, lost.number) != (target.repository, target.issue_number):
            continue
        # decided before the job died: its actions are finished by this job, nothing was lost
        # (a command is decided under its comment, an event on Triad's pull request under its
        # issue; a transition stored before they named their delivery, under the delivery)
        decided = await workflows.decided_by(lost.delivery_id) or (
            await workflows.transition_for(target.repository, target.issue_number, lost.delivery_id)
            is not None
        )
        (acted if decided else untold).append(lost)
    if untold:
        key = notice_key(store.clock())
        earlier = await repo.find_comment(target.issue_number, key)
        if earlier is None:
            await repo.comment_once(target.issue_number, key, notice(untold))
        else:  # a loss later that day joins the day's notice (its comments listed once)
            await repo.update_comment(earlier.id, f"{marker(key)}\n{notice(untold, earlier.body)}")
        log.warning(
            "deliveries Triad never acted on: said on the issue",
            extra={
                "repository": target.repository,
                "issue": target.issue_number,
                "jobs": [lost.job.id for lost in untold],
            },
        )
    for lost in untold:
        await recovery.mark_reported(lost.job, TOLD_COMMENT)
    for lost in acted:
        await recovery.mark_reported(lost.job, TOLD_LOG)


def dead_stage_failed(dead: Job) -> StageFailed | None:
    """The failure of a stage whose job ran out of attempts, as the engine is told it: what the
    job worked on (so a death after the workflow moved on changes nothing), and why. None for
    a payload no stage could read (that job died of it at once, and nothing ran)."""
    kind = JobKind(dead.kind)
    # what GitHub readers see: the kind of failure; the error itself stays in the logs and CLI
    why = category(dead.last_error)
    reason = f"its job ran out of attempts ({dead.attempts}): {why}. {details(dead.id)}"
    failed = StageFailed(STAGE_OF[kind], reason, job_id=dead.id)
    try:
        match kind:
            case JobKind.ARCHITECT:
                version = ArchitectTask.model_validate(dead.payload).version
                return replace(failed, version=version)
            case JobKind.DEVELOPER:
                return replace(failed, round=DeveloperTask.model_validate(dead.payload).round)
            case JobKind.REVIEW:
                head = ReviewTask.model_validate(dead.payload).head_sha
                return replace(failed, head_sha=head)
            case _:
                watch = CiWatchTask.model_validate(dead.payload)
                # the look right after a push leaves the deadline's job to ask a human
                return None if watch.look_only else replace(failed, head_sha=watch.head_sha)
    except ValidationError:
        return None


async def _issue_of(store: Store, dead: Job) -> tuple[str | None, int | None]:
    """The (repository, issue) a dead stage or delivery job was about, as far as known."""
    if dead.kind == JobKind.DELIVERY:
        lost = await lost_delivery(store, dead)
        return lost.repository, lost.number
    about = _target_of(dead)
    return (about.repository, about.issue_number) if about else (None, None)


def _target_of(job: Job) -> Target | None:
    try:
        return StageTask.model_validate(job.payload).target
    except ValidationError:
        return None
