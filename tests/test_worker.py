"""The worker pool over a real store: run, retry with backoff, dead letters, leases, drain."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest

from bot.errors import GitHubRateLimited, GitHubUnavailable, PermanentJobError
from bot.github.client import GitHubApp
from bot.jobs import Handler, stage_handlers
from bot.llm.errors import ModelUnavailable
from bot.llm.models import build_models
from bot.metrics import Metrics
from bot.settings import Settings
from bot.stages.services import Services
from bot.store import Delivery, DeliveryOutcome, Job, JobState, NewJob, Store, open_store
from bot.store.wakeups import APPLICATION_NAME
from bot.worker import WorkerPool, retry_delay
from tests.conftest import _truncate_postgres


@pytest.fixture
async def live_store(store_url: str) -> AsyncIterator[Store]:
    """A store on the wall clock, as workers use it."""
    async with open_store(store_url) as opened:
        yield opened


def _pool(store: Store, handlers: dict[str, Any], **options: Any) -> WorkerPool[Any]:
    settings: dict[str, Any] = {
        "concurrency": 2,
        "lease_seconds": 30,
        "poll_seconds": 0.05,
        "context": None,
    }
    settings.update(options)
    return WorkerPool(store, handlers, Metrics(), **settings)


async def _until_cancelled(cancelled: asyncio.Event) -> None:
    """A handler's long wait, which sets `cancelled` when the pool cancels it."""
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        cancelled.set()
        raise


async def _wait_for(store: Store, job_id: int, state: JobState, timeout: float = 10) -> Job:
    async with asyncio.timeout(timeout):
        while True:
            job = await store.get_job(job_id)
            if job is not None and job.state is state:
                return job
            await asyncio.sleep(0.01)


async def test_a_queued_job_runs_once_and_is_done(live_store: Store) -> None:
    seen: list[dict[str, Any]] = []

    async def record(job: Job, context: object) -> None:
        seen.append(job.payload)

    pool = _pool(live_store, {"k": record})
    pool.start()
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1", payload={"n": 1}))
    await _wait_for(live_store, job_id or 0, JobState.DONE)
    await pool.stop()
    assert seen == [{"n": 1}]


async def test_a_failing_job_is_retried_later_with_its_error_kept(live_store: Store) -> None:
    async def boom(job: Job, context: object) -> None:
        raise RuntimeError("GitHub answered 502")

    pool = _pool(live_store, {"k": boom})
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    pool.start()
    job = await _wait_for(live_store, job_id or 0, JobState.QUEUED)
    while job.attempts == 0:
        job = await _wait_for(live_store, job_id or 0, JobState.QUEUED)
    await pool.stop()
    assert job.attempts == 1
    assert job.last_error == "RuntimeError: GitHub answered 502"
    assert job.run_at >= live_store.clock() + 0.5, "retried only after a backoff"


async def test_the_last_failed_attempt_dead_letters(live_store: Store) -> None:
    async def boom(job: Job, context: object) -> None:
        raise RuntimeError("still broken")

    pool = _pool(live_store, {"k": boom})
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1", max_attempts=1))
    pool.start()
    job = await _wait_for(live_store, job_id or 0, JobState.DEAD)
    await pool.stop()
    assert job.last_error == "RuntimeError: still broken"


async def test_a_permanent_error_dead_letters_at_once(live_store: Store) -> None:
    async def bad(job: Job, context: object) -> None:
        raise PermanentJobError("payload names no repository")

    pool = _pool(live_store, {"k": bad})
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    pool.start()
    job = await _wait_for(live_store, job_id or 0, JobState.DEAD)
    await pool.stop()
    assert (job.attempts, job.last_error) == (1, "payload names no repository")


async def test_stop_lets_a_short_job_finish(live_store: Store) -> None:
    started = asyncio.Event()

    async def short(job: Job, context: object) -> None:
        started.set()
        await asyncio.sleep(0.2)

    pool = _pool(live_store, {"k": short}, drain_seconds=5)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    pool.start()
    await started.wait()
    await pool.stop()
    job = await live_store.get_job(job_id or 0)
    assert job is not None and job.state is JobState.DONE


async def test_stop_releases_a_job_that_outlives_the_drain(live_store: Store) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def long(job: Job, context: object) -> None:
        started.set()
        await _until_cancelled(cancelled)

    pool = _pool(live_store, {"k": long}, drain_seconds=0.2)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    pool.start()
    await started.wait()
    await pool.stop()
    assert cancelled.is_set()
    job = await live_store.get_job(job_id or 0)
    assert job is not None
    assert (job.state, job.attempts, job.lease_owner) == (JobState.QUEUED, 0, None)


async def test_a_lost_lease_cancels_the_handler(live_store: Store) -> None:
    cancelled = asyncio.Event()

    async def long(job: Job, context: object) -> None:
        await live_store.run(
            lambda tx: tx.execute("UPDATE jobs SET lease_owner = 'thief' WHERE id = ?", (job.id,))
        )
        await _until_cancelled(cancelled)

    pool = _pool(live_store, {"k": long}, lease_seconds=0.3)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    pool.start()
    async with asyncio.timeout(5):
        await cancelled.wait()
    await pool.stop()
    job = await live_store.get_job(job_id or 0)
    assert job is not None and job.lease_owner == "thief" and job.state is JobState.RUNNING


async def test_a_delivery_job_reads_the_stored_delivery(live_store: Store) -> None:
    body = {
        "action": "labeled",
        "issue": {"number": 1, "title": "t", "user": {"login": "a", "id": 1}},
        "sender": {"login": "a", "id": 1},
        "installation": {"id": 5},
    }
    delivery = Delivery(
        id="d-1",
        event="issues",
        action="labeled",
        installation_id=5,
        repository=None,
        sender="a",
        outcome=DeliveryOutcome.QUEUED,
        body=json.dumps(body).encode(),
    )
    job = NewJob(kind="delivery", idempotency_key="delivery:d-1", payload={"delivery_id": "d-1"})
    await live_store.record_delivery(delivery, job)
    missing = NewJob(kind="delivery", idempotency_key="delivery:gone", payload={"delivery_id": "x"})
    missing_id = await live_store.enqueue(missing)
    no_keys = Settings(anthropic_api_key=None, openai_api_key=None)
    models = build_models(no_keys, live_store, environ={})  # unused: no model is asked
    services = Services(live_store, GitHubApp(1, "unused: no GitHub call is made"), models)
    pool = _pool(live_store, stage_handlers(), context=services)
    pool.start()
    await pool.run_until_idle()
    await pool.stop()
    assert (await live_store.job_counts())[JobState.DONE] == 1
    dead = await live_store.get_job(missing_id or 0)
    assert dead is not None and dead.state is JobState.DEAD
    assert dead.last_error == "delivery x is not in the store"


@pytest.mark.parametrize("attempt", [1, 2, 5, 20])
def test_retry_delay_grows_exponentially_within_its_cap(attempt: int) -> None:
    delays = [retry_delay(attempt, base=2, cap=600) for _ in range(200)]
    assert all(2 <= delay <= min(600, 2 * 2**attempt) for delay in delays)
    assert len(set(delays)) > 1, "jittered"


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        (
            "issue_comment",
            {
                "action": "created",
                "issue": {"number": 1, "title": "t", "user": {"login": "a", "id": 1}},
                "comment": {"id": 2, "body": "LGTM", "user": {"login": "a", "id": 1}},
            },
        ),
        (
            "check_suite",
            {"action": "completed", "check_suite": {"id": 3, "head_sha": "a" * 40}},
        ),
    ],
)
async def test_a_job_an_older_version_queued_is_dropped_at_the_door_again(
    live_store: Store, event: str, payload: dict[str, Any]
) -> None:
    """Older versions queued every comment and every CI run: the door is checked again."""
    body = payload | {
        "sender": {"login": "a", "id": 1},
        "installation": {"id": 5},
        "repository": {"id": 4, "name": "r", "full_name": "o/r", "owner": {"login": "o", "id": 9}},
    }
    delivery = Delivery(
        id="old-1",
        event=event,
        action="created" if event == "issue_comment" else "completed",
        installation_id=5,
        repository="o/r",
        sender="a",
        outcome=DeliveryOutcome.QUEUED,
        body=json.dumps(body).encode(),
    )
    job = NewJob(
        kind="delivery", idempotency_key="delivery:old-1", payload={"delivery_id": "old-1"}
    )
    await live_store.record_delivery(delivery, job)
    no_keys = Settings(anthropic_api_key=None, openai_api_key=None)
    models = build_models(no_keys, live_store, environ={})
    # nothing listens there: a GitHub request would fail the job
    github = GitHubApp(1, "unused", base_url="http://127.0.0.1:9")
    services = Services(live_store, github, models, bot_login="triad[bot]")
    pool = _pool(live_store, stage_handlers(), context=services)
    pool.start()
    await pool.run_until_idle()
    await pool.stop()
    assert (await live_store.job_counts())[JobState.DONE] == 1


async def _first_failure(store: Store, handler: Handler[object]) -> Job:
    """One job whose first attempt `handler` fails, as queued again for its next attempt."""
    pool = _pool(store, {"k": handler})
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    pool.start()
    job = await _wait_for(store, job_id or 0, JobState.QUEUED)
    while job.attempts == 0:
        job = await _wait_for(store, job_id or 0, JobState.QUEUED)
    await pool.stop()
    return job


async def test_a_rate_limited_job_comes_back_when_github_said(live_store: Store) -> None:
    async def limited(job: Job, context: object) -> None:
        raise GitHubRateLimited("API rate limit exceeded", retry_after=1800)

    job = await _first_failure(live_store, limited)
    assert job.run_at >= live_store.clock() + 1700, "not before GitHub's reset"


@pytest.mark.parametrize(
    "outage",
    [GitHubUnavailable("GitHub answered 503"), ConnectionRefusedError("connection refused")],
)
async def test_an_outage_is_retried_after_a_minute_not_seconds(
    live_store: Store, outage: Exception
) -> None:
    """A GitHub outage outlasts the ordinary backoff: five attempts must span it."""

    async def down(job: Job, context: object) -> None:
        raise outage

    job = await _first_failure(live_store, down)
    assert job.run_at >= live_store.clock() + 50, "not within the outage's first minute"


@pytest.mark.parametrize(
    ("error", "traceback"),
    [
        (GitHubUnavailable("GET /repos/o/r: ConnectError: All connection attempts failed"), False),
        (GitHubRateLimited("API rate limit exceeded", retry_after=60), False),
        (ModelUnavailable("the model could not answer: anthropic: 529 overloaded"), False),
        (ConnectionResetError("a git subprocess's pipe: maybe a defect"), True),
        (KeyError("a defect"), True),
    ],
)
async def test_an_outage_is_logged_in_one_line_and_a_defect_with_its_traceback(
    live_store: Store, caplog: pytest.LogCaptureFixture, error: Exception, traceback: bool
) -> None:
    """During an outage every attempt fails alike: a line each, not a traceback each."""

    async def fails(job: Job, context: object) -> None:
        raise error

    with caplog.at_level(logging.WARNING, logger="bot.worker"):
        await _first_failure(live_store, fails)
    [failed] = [r for r in caplog.records if r.getMessage() == "job failed"]
    if traceback:
        assert failed.levelno == logging.ERROR and failed.exc_info
    else:
        assert failed.levelno == logging.WARNING and failed.exc_info is None
        assert str(error) in failed.error and failed.retry_in >= 2  # type: ignore[attr-defined]


async def test_a_long_job_keeps_its_lease_while_its_worker_lives(live_store: Store) -> None:
    """The heartbeat: a job running four leases long (a slow model call) is never taken by
    another worker polling for expired leases."""
    started: list[int] = []

    async def long(job: Job, context: object) -> None:
        started.append(job.id)
        await asyncio.sleep(1.2)

    first = _pool(live_store, {"k": long}, lease_seconds=0.3, concurrency=1)
    second = _pool(live_store, {"k": long}, lease_seconds=0.3, concurrency=1)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    first.start()
    async with asyncio.timeout(5):
        while not started:
            await asyncio.sleep(0.01)
    second.start()
    job = await _wait_for(live_store, job_id or 0, JobState.DONE)
    await first.stop()
    await second.stop()
    assert started == [job_id] and job.attempts == 1


async def test_jobs_that_need_the_warm_up_wait_for_it_and_others_do_not(
    live_store: Store,
) -> None:
    warmed = threading.Event()
    ran: list[str] = []

    async def record(job: Job, context: object) -> None:
        ran.append(job.kind)

    pool = _pool(
        live_store,
        {"architect": record, "delivery": record},
        warm_up=lambda: warmed.wait(10),
        cold_kinds=["architect"],
    )
    model_job = await live_store.enqueue(NewJob(kind="architect", idempotency_key="a:1"))
    delivery = await live_store.enqueue(NewJob(kind="delivery", idempotency_key="d:1"))
    pool.start()
    await _wait_for(live_store, delivery or 0, JobState.DONE)
    waiting = await live_store.get_job(model_job or 0)
    assert waiting is not None and waiting.state is JobState.QUEUED and waiting.attempts == 0
    warmed.set()
    await _wait_for(live_store, model_job or 0, JobState.DONE)
    await pool.stop()
    assert ran == ["delivery", "architect"]


async def test_a_pool_warmed_before_it_starts_takes_every_kind_at_once_and_warms_once(
    live_store: Store,
) -> None:
    """`triad serve` warms its pool before it answers a request (the SDK import would hold
    the GIL while requests wait): started warm, a model job runs at once, never re-warmed."""
    warmings: list[int] = []
    ran: list[str] = []

    async def record(job: Job, context: object) -> None:
        ran.append(job.kind)

    pool = _pool(
        live_store,
        {"architect": record},
        warm_up=lambda: warmings.append(1),
        cold_kinds=["architect"],
        poll_seconds=30,  # only the wake-up at start or the notify can run it in time
    )
    await pool.warm()
    model_job = await live_store.enqueue(NewJob(kind="architect", idempotency_key="a:1"))
    pool.start()
    await _wait_for(live_store, model_job or 0, JobState.DONE, timeout=5)
    await pool.stop()
    assert ran == ["architect"] and warmings == [1]


async def test_a_warm_up_that_fails_is_logged_and_leaves_no_kind_unclaimed(
    live_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """An SDK that cannot be imported must not silently stop the model jobs: they run (and
    fail where they are seen), and the warm-up's failure is logged."""
    ran: list[str] = []

    async def record(job: Job, context: object) -> None:
        ran.append(job.kind)

    def broken() -> None:
        raise ImportError("No module named 'anthropic'")

    pool = _pool(live_store, {"architect": record}, warm_up=broken, cold_kinds=["architect"])
    model_job = await live_store.enqueue(NewJob(kind="architect", idempotency_key="a:1"))
    with caplog.at_level(logging.ERROR, logger="bot.worker"):
        pool.start()
        await _wait_for(live_store, model_job or 0, JobState.DONE, timeout=5)
        await pool.stop()
    assert ran == ["architect"]
    assert any(r.getMessage() == "warming up failed" and r.exc_info for r in caplog.records)


async def test_a_job_whose_process_stalled_past_its_lease_is_abandoned_not_renewed(
    live_store: Store,
) -> None:
    """The process froze for longer than a lease (a blocking call, a paused VM): another job
    may have taken the job's claims meanwhile, so the heartbeat gives the job up."""
    cancelled = asyncio.Event()

    async def freezes(job: Job, context: object) -> None:
        time.sleep(0.6)  # blocks the whole event loop, heartbeat included, for two leases
        await _until_cancelled(cancelled)

    pool = _pool(live_store, {"k": freezes}, lease_seconds=0.3, concurrency=1)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    pool.start()
    async with asyncio.timeout(5):
        await cancelled.wait()  # a renewed lease would have let it run on
    await pool.stop()
    assert job_id is not None


@contextlib.contextmanager
def _renewals_blocked(store_url: str, job_id: int) -> Iterator[None]:
    """Another client holds what renewing the job's lease must write (SQLite's write lock, or
    the job's row on PostgreSQL): a renewal waits for it, as on a store that does not answer."""
    if store_url.startswith("sqlite:///"):
        held = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
        held.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            held.rollback()
            held.close()
        return
    with psycopg.connect(store_url) as connection:
        connection.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (job_id,))
        yield
        connection.rollback()


async def test_a_job_whose_renewal_hangs_is_given_up_before_its_lease_runs_out(
    live_store: Store, store_url: str
) -> None:
    """The heartbeat waited for a renewal that never answered, the job ran on past its lease,
    and another worker ran it too (both posted)."""
    cancelled = asyncio.Event()
    started = 0.0

    async def held_up(job: Job, context: object) -> None:
        nonlocal started
        started = time.monotonic()
        await _until_cancelled(cancelled)

    pool = _pool(live_store, {"k": held_up}, lease_seconds=3.0, concurrency=1)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    assert job_id is not None
    pool.start()
    while not started:
        await asyncio.sleep(0.01)
    with _renewals_blocked(store_url, job_id):
        async with asyncio.timeout(5):
            await cancelled.wait()
        assert time.monotonic() - started < 3.0, "cancelled only once its lease had run out"
    await pool.stop()


async def test_one_renewal_that_hangs_a_while_costs_a_long_job_nothing(
    live_store: Store, store_url: str
) -> None:
    """A renewal given up once (the store slow for a moment) is followed by another in time:
    cancelling the job for it would throw away a model call that still held its lease."""
    lease = 3.0
    finished = asyncio.Event()

    async def long(job: Job, context: object) -> None:
        await asyncio.sleep(lease * 1.4)  # outlives its first lease: renewals keep it
        finished.set()

    pool = _pool(live_store, {"k": long}, lease_seconds=lease, concurrency=1)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    assert job_id is not None
    pool.start()
    await asyncio.sleep(lease / 3 + 0.1)

    def hold_a_while() -> None:
        with _renewals_blocked(store_url, job_id):
            time.sleep(lease / 2)  # a renewal or two given up; then they land again

    await asyncio.to_thread(hold_a_while)
    async with asyncio.timeout(lease * 2):
        await finished.wait()
    done = await _wait_for(live_store, job_id, JobState.DONE)
    await pool.stop()
    assert done.attempts == 1


async def test_a_stale_attempt_ending_leaves_the_new_attempt_renewed(live_store: Store) -> None:
    """One loop's attempt stalled past its lease and another loop of the same process took the
    job over; when the stale attempt ends, the new one's lease is still renewed."""
    release_first = asyncio.Event()
    calls: list[str] = []

    async def handler(job: Job, context: object) -> None:
        calls.append(job.lease_owner or "")
        if len(calls) == 1:
            await release_first.wait()
        else:
            await asyncio.sleep(1.5)

    pool = _pool(live_store, {"k": handler}, lease_seconds=0.3, concurrency=0)
    job_id = await live_store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    first = await live_store.claim("P/0", 0.05)
    assert first is not None
    stale = asyncio.create_task(pool._run(first, "P/0"))
    await asyncio.sleep(0.1)  # P/0's lease lapsed before any heartbeat
    second = await live_store.claim("P/1", 0.3)
    assert second is not None and second.id == job_id
    new = asyncio.create_task(pool._run(second, "P/1"))
    await asyncio.sleep(0.05)
    release_first.set()
    await stale
    pool.start()  # the heartbeat alone (no loops): the test ran the two attempts itself
    await asyncio.sleep(0.9)  # three leases: only the heartbeat keeps P/1's
    assert await live_store.claim("thief", 30) is None, "the new attempt's lease lapsed"
    await new
    job = await live_store.get_job(job_id or 0)
    assert job is not None and job.state is JobState.DONE
    if pool._heartbeat is not None:
        pool._heartbeat.cancel()


async def test_idle_loops_are_woken_one_per_queued_job_not_all(store_url: str) -> None:
    """At low load a queued job wakes one idle loop, not all of them (issue 14 review: waking
    every loop doubled the empty claims). A parent's child wakes an idle loop too, and the
    parent's loop claims again once it ends: per job its own claim and one that finds
    nothing (20 here), where waking all four loops would cost about five (50)."""
    base: Any = type(open_store(store_url))

    class CountingClaims(base):  # type: ignore[misc]  # the URL's store class, known at run time
        claims = 0

        async def claim(self, *args: Any, **kwargs: Any) -> Job | None:
            self.claims += 1
            job: Job | None = await super().claim(*args, **kwargs)
            return job

    ran: list[str] = []

    async with CountingClaims(store_url.removeprefix("sqlite:///"), clock=time.time) as store:

        async def parent(job: Job, context: object) -> None:
            ran.append(job.idempotency_key)
            await store.enqueue(NewJob(kind="child", idempotency_key=f"{job.idempotency_key}/c"))

        async def child(job: Job, context: object) -> None:
            ran.append(job.idempotency_key)

        pool = _pool(store, {"parent": parent, "child": child}, concurrency=4, poll_seconds=30)
        pool.start()
        await asyncio.sleep(0.2)  # every loop has claimed nothing and waits
        before = store.claims
        async with asyncio.timeout(10):  # the child is claimed now, not at the next poll
            for n in range(5):
                await store.enqueue(NewJob(kind="parent", idempotency_key=f"p{n}"))
                while len(ran) < 2 * (n + 1):
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.05)
        claims = store.claims - before
        await pool.stop()

    assert len(ran) == 10
    assert claims <= 25


async def test_a_job_a_running_job_queues_wakes_an_idle_loop_of_its_process_at_once(
    live_store: Store,
) -> None:
    """A stage that queues the next job while it still runs (two reviewers at once) has it
    claimed by an idle loop now, not at its next poll (30 s away here): the store tells the
    process's pool of every job its committed transactions queue."""
    child_ran = asyncio.Event()

    async def parent(job: Job, context: object) -> None:
        await live_store.enqueue(NewJob(kind="child", idempotency_key="child"))
        await child_ran.wait()  # this loop stays busy until another one runs the child

    async def child(job: Job, context: object) -> None:
        child_ran.set()

    pool = _pool(
        live_store,
        {"parent": parent, "child": child},
        concurrency=2,
        poll_seconds=30,
        drain_seconds=0.1,
    )
    pool.start()
    try:
        async with asyncio.timeout(5):
            while len(pool._idle) < 2:  # both loops claimed nothing and wait for their poll
                await asyncio.sleep(0.01)
            await live_store.enqueue(NewJob(kind="parent", idempotency_key="parent"))
            pool.notify()  # the parent is claimed either way: what is tested is its child
            await child_ran.wait()
    finally:
        await pool.stop()
    assert [job.state for job in await live_store.list_jobs()] == [JobState.DONE] * 2


async def _listening(url: str) -> int:
    """The backend pid of a worker pool's listening connection, once it listens."""
    async with asyncio.timeout(10):
        while True:
            with psycopg.connect(url, autocommit=True) as connection:
                row = connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
                    " AND datname = current_database() AND query LIKE 'LISTEN%%'",
                    (APPLICATION_NAME,),
                ).fetchone()
            if row is not None:
                return int(row[0])
            await asyncio.sleep(0.05)


async def test_a_job_another_process_queues_wakes_an_idle_worker_at_once(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL tells every process's workers of a job queued to run now (LISTEN/NOTIFY): an
    idle worker claims a job another process queued at once, not at its next poll (30 s away
    here); a job queued while its listening connection was down is claimed once it is back."""
    _truncate_postgres(postgres_url)
    ran: list[str] = []

    async def record(job: Job, context: object) -> None:
        ran.append(job.idempotency_key)

    async def queued_elsewhere(key: str) -> None:
        await other.enqueue(NewJob(kind="k", idempotency_key=key))
        async with asyncio.timeout(5):
            while key not in ran:
                await asyncio.sleep(0.01)

    async with open_store(postgres_url) as mine, open_store(postgres_url) as other:
        pool = _pool(mine, {"k": record}, concurrency=2, poll_seconds=30)
        pool.start()
        listener = await _listening(postgres_url)
        async with asyncio.timeout(5):  # both loops claimed nothing and wait for their poll
            while len(pool._idle) < 2:
                await asyncio.sleep(0.01)
        await queued_elsewhere("k:1")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (listener,))
        await queued_elsewhere("k:2")  # its notice is lost: the listener reconnects in 1 s
        assert await _listening(postgres_url) != listener
        await pool.stop()
    assert ran == ["k:1", "k:2"]
    assert any("not hearing of queued jobs" in r.getMessage() for r in caplog.records)
