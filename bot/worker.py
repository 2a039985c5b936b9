"""The worker pool: claims jobs, keeps their leases alive with a heartbeat, retries with
backoff, drains on stop."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Generic, TypeVar

from bot.errors import GitHubRateLimited, GitHubUnavailable, Outage, PermanentJobError
from bot.jobs import Handler
from bot.metrics import Metrics
from bot.store import Job, JobState, Store

log = logging.getLogger(__name__)

ContextT = TypeVar("ContextT")


def retry_delay(attempt: int, base: float = 2.0, cap: float = 600.0) -> float:
    """Exponential backoff with full jitter: uniform in [base, min(cap, base * 2**attempt)]."""
    ceiling = min(cap, base * 2 ** max(attempt, 0))
    return random.uniform(min(base, ceiling), ceiling)


class WorkerPool(Generic[ContextT]):
    """`concurrency` loops in one process, each running one job at a time.

    One heartbeat per process renews the lease of every job it runs every sixth of a lease, so
    a long model call keeps its job (and the transition claims the job holds) for as long as the
    process lives, and a process that dies loses them within one lease. A job whose lease
    another worker took (this process stalled past its lease) is cancelled.
    """

    def __init__(  # noqa: PLR0913 (the store, handlers and metrics, then keyword-only tuning)
        self,
        store: Store,
        handlers: Mapping[str, Handler[ContextT]],
        metrics: Metrics,
        *,
        concurrency: int = 4,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        drain_seconds: float = 30.0,
        outage_seconds: float = 60.0,
        context: ContextT,
        warm_up: Callable[[], None] | None = None,
        cold_kinds: Collection[str] = (),
    ) -> None:
        """`warm_up` runs in a thread at start (e.g. importing the model SDKs); until it is
        done, jobs of `cold_kinds` are left to other workers, so a job never spends its lease
        (and a crash its attempt) waiting on it."""
        self.store = store
        self.context = context
        self.handlers = dict(handlers)
        self.metrics = metrics
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.drain_seconds = drain_seconds
        #: the first retry after an outage (GitHub unavailable, a failed connection)
        self.outage_seconds = outage_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        #: idle loops, each waiting to be woken (one per queued job) or for its next poll
        self._idle: collections.deque[asyncio.Future[None]] = collections.deque()
        #: wakes no idle loop was there to take (it was between a claim and its wait)
        self._missed = 0
        self._stopping = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._heartbeat: asyncio.Task[None] | None = None
        #: hears of jobs other processes queue (PostgreSQL), to wake idle loops at once
        self._listening: asyncio.Task[None] | None = None
        #: stops hearing of the jobs this process's own transactions queue
        self._stop_hearing: Callable[[], None] | None = None
        self._warm_up = warm_up
        self._cold_kinds = frozenset(cold_kinds)
        self._warm: asyncio.Task[None] | None = None
        self._warmed = False
        #: (job id, lease owner) -> (its handler, when its lease was last renewed, monotonic)
        #: for every attempt this process runs (a stale attempt and its successor may overlap)
        self._running: dict[tuple[int, str], tuple[asyncio.Task[None], float]] = {}

    def notify(self, jobs: int = 1) -> None:
        """`jobs` jobs were queued: wake as many idle loops now rather than at their next
        poll (not every idle loop: all but one would claim nothing)."""
        for _ in range(min(jobs, self.concurrency)):
            while self._idle and self._idle[0].done():
                self._idle.popleft()
            if self._idle:
                self._idle.popleft().set_result(None)
            else:
                self._missed = min(self._missed + 1, self.concurrency)

    def start(self) -> None:
        self._loops = [
            asyncio.create_task(self._loop(n), name=f"triad-worker-{n}")
            for n in range(self.concurrency)
        ]
        self._heartbeat = asyncio.create_task(self._beat(), name="triad-heartbeat")
        self._stop_hearing = self.store.wake_on_queued(self.notify)
        self._listening = asyncio.create_task(
            self.store.listen_for_jobs(self.notify), name="triad-listen"
        )
        if not self._warmed:  # not warmed before the start (`warm`): beside the first jobs
            self._warm = asyncio.create_task(self.warm(), name="triad-warm")
        log.info(
            "worker pool started",
            extra={"worker": self.worker_id, "concurrency": self.concurrency},
        )

    async def warm(self) -> None:
        """Warm up, then move every object the process holds by now (its modules, classes and
        pydantic schemas) out of the garbage collector's sight: each full collection would
        otherwise walk them all again. Garbage is collected first, so what running jobs have
        already dropped is not frozen with them.

        `start` does it beside the first jobs. A process that also answers webhooks awaits it
        before it serves: importing the SDKs holds the GIL for a second or more, and requests
        answered meanwhile would wait on it (hundreds of ms at 100 deliveries/s)."""
        if self._warm_up is not None:
            try:
                await asyncio.to_thread(self._warm_up)
            except Exception:
                # the jobs that need what did not load fail where they are seen, when they run
                log.exception("warming up failed", extra={"worker": self.worker_id})
        gc.collect()
        gc.freeze()
        self._warmed = True

    async def stop(self) -> None:
        """Stop claiming; let running jobs finish for `drain_seconds`, then release the rest."""
        self._stopping.set()
        if self._stop_hearing is not None:
            self._stop_hearing()
            self._stop_hearing = None
        if self._listening is not None:
            self._listening.cancel()
            await asyncio.gather(self._listening, return_exceptions=True)
            self._listening = None
        self.notify(len(self._idle))
        if not self._loops:
            return
        _, pending = await asyncio.wait(self._loops, timeout=self.drain_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        if self._heartbeat is not None:  # beats until the last job is finished or released
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        log.info("worker pool stopped", extra={"worker": self.worker_id})

    async def run_until_idle(self, timeout: float = 30.0) -> None:
        """For tests and the demo: wait until no job is due or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = await self.store.job_counts()
            if counts[JobState.RUNNING] == 0 and await self.store.queue_depth() == 0:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("jobs still running or due after the timeout")

    async def _loop(self, index: int) -> None:
        worker_id = f"{self.worker_id}/{index}"
        while not self._stopping.is_set():
            try:
                job = await self.store.claim(worker_id, self.lease_seconds, self._claimable())
            except Exception:
                log.exception("claiming a job failed; retrying", extra={"worker": worker_id})
                job = None
            if job is None:
                await self._idle_until_woken()
                continue
            try:
                await self._run(job, worker_id)
            except Exception:  # the store failed to record the outcome: the lease decides
                log.exception("recording a job's outcome failed", extra=_job_fields(job))
                await asyncio.sleep(self.poll_seconds)

    async def _idle_until_woken(self) -> None:
        if self._stopping.is_set():
            return
        if self._missed:  # a job was queued while this loop was claiming
            self._missed -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._idle.append(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, self.poll_seconds)
        finally:
            with contextlib.suppress(ValueError):
                self._idle.remove(waiter)

    def _claimable(self) -> list[str]:
        if self._warmed:
            return list(self.handlers)
        return [kind for kind in self.handlers if kind not in self._cold_kinds]

    async def _run(self, job: Job, worker_id: str) -> None:
        self.metrics.job_wait.labels(kind=job.kind).observe(
            max(0.0, self.store.clock() - job.run_at)
        )
        started, cpu_at_start = time.monotonic(), time.process_time()
        handler_task = asyncio.create_task(self.handlers[job.kind](job, self.context))
        attempt = (job.id, worker_id)
        self._running[attempt] = (handler_task, time.monotonic())
        outcome = "done"
        try:
            await asyncio.shield(handler_task)
            await self.store.complete(job.id, worker_id)
        except asyncio.CancelledError:
            if handler_task.cancelled() and not self._stopping.is_set():
                outcome = "lease_lost"
                log.warning("lease lost; job abandoned", extra=_job_fields(job))
            else:
                # draining: give the job back so another worker runs it
                handler_task.cancel()
                with contextlib.suppress(BaseException):
                    await handler_task
                await self.store.release(job.id, worker_id)
                outcome = "released"
                log.info("job released on shutdown", extra=_job_fields(job))
                raise
        except PermanentJobError as exc:
            outcome = "dead"
            await self.store.fail(job.id, worker_id, str(exc), retry_in=None)
            log.error("job failed permanently", extra={**_job_fields(job), "error": str(exc)})
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            # GitHub's own word on when to come back beats the backoff (a rate limit's reset)
            delay = retry_delay(job.attempts)
            if isinstance(exc, GitHubRateLimited):
                delay = max(delay, exc.retry_after)
            elif isinstance(exc, GitHubUnavailable | ConnectionError):
                # an outage lasts minutes: 1 minute doubling to 10 spreads the attempts over
                # ~15 (at least 4), where 2 s doubling dead-letters within a minute
                delay = retry_delay(job.attempts, base=self.outage_seconds)
            state = await self.store.fail(job.id, worker_id, error, delay)
            outcome = "dead" if state is JobState.DEAD else "retry"
            fields = {**_job_fields(job), "next": outcome}
            if not isinstance(exc, Outage):  # an outage's traceback per attempt buried the log
                log.exception("job failed", extra=fields)
            elif outcome == "dead":
                log.error("job failed", extra={**fields, "error": error})
            else:
                log.warning("job failed", extra={**fields, "error": error, "retry_in": delay})
        finally:
            # a job often queues the next: an idle loop was woken for it when it committed,
            # and this loop claims again as soon as it returns (one of them finds nothing)
            self._running.pop(attempt, None)
            seconds = time.monotonic() - started
            # the whole process's CPU meanwhile: the job's own when it ran alone
            cpu = time.process_time() - cpu_at_start
            self.metrics.job_duration.labels(kind=job.kind, outcome=outcome).observe(seconds)
            log.info(
                "job ended",
                extra={
                    **_job_fields(job),
                    "outcome": outcome,
                    "seconds": round(seconds, 3),
                    "cpu": round(cpu, 4),
                },
            )

    async def _beat(self) -> None:
        """Renew the leases of the jobs this process runs, every sixth of a lease, for as long
        as it lives; cancel those whose lease is no longer theirs, and those not renewed by
        the time the next try could land only after their lease ends (this process stalled, or
        the store failed or hung: they are given up before another worker may take them and
        their claims, not after). A renewal is given up after a sixth of a lease,
        so a store that hangs cannot hold the heartbeat past the leases, and one failed or
        slow renewal costs nothing: the next comes in time."""
        sixth = self.lease_seconds / 6
        while True:
            await asyncio.sleep(sixth)
            now = time.monotonic()
            lapsed = {
                attempt: handler
                for attempt, (handler, renewed_at) in self._running.items()
                if now - renewed_at >= self.lease_seconds
            }
            held = [attempt for attempt in self._running if attempt not in lapsed]
            try:
                renewed = await asyncio.wait_for(
                    self.store.renew_leases(held, self.lease_seconds), sixth
                )
                lost = [attempt for attempt in held if attempt not in renewed]
            except Exception:
                log.exception("heartbeat failed; trying again", extra={"worker": self.worker_id})
                renewed, lost = set(), []  # not renewed, not known lost
            # the next decision comes within two sixths (a sleep, a renewal given up): one not
            # renewed for half a lease by then could not be renewed before its lease ends
            late = time.monotonic() - self.lease_seconds / 2
            for attempt, (handler, renewed_at) in list(self._running.items()):
                if attempt in renewed:
                    self._running[attempt] = (handler, now)
                elif attempt in lost or renewed_at <= late:
                    lapsed[attempt] = handler
            for attempt, handler in lapsed.items():
                entry = self._running.get(attempt)
                if entry is not None and entry[0] is handler:
                    handler.cancel()  # `_run` records it as a lost lease


def _job_fields(job: Job) -> dict[str, object]:
    return {"job": job.id, "kind": job.kind, "attempt": job.attempts}
