"""The job queue's semantics, run identically on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from typing import Any

import psycopg
import pytest

from bot.store import Delivery, DeliveryOutcome, JobState, NewJob, Store, open_store
from bot.store.queue_admin import QueueAdmin
from bot.store.wakeups import (
    ANNOUNCER_NAME,
    CHANNEL,
    CLOSE_WAIT,
    NOTIFY,
    Announcer,
    jobs_announced,
)
from tests.conftest import FakeClock, _truncate_postgres


def _delivery(delivery_id: str = "d-1") -> Delivery:
    return Delivery(
        id=delivery_id,
        event="issues",
        action="labeled",
        installation_id=7,
        repository="octo/repo",
        sender="alice",
        outcome=DeliveryOutcome.QUEUED,
        body=b'{"action": "labeled"}',
    )


async def test_delivery_and_job_are_stored_together_once(store: Store) -> None:
    job = NewJob(kind="delivery", idempotency_key="delivery:d-1", payload={"delivery_id": "d-1"})
    assert await store.record_delivery(_delivery(), job) is True
    assert await store.record_delivery(_delivery(), job) is False
    stored = await store.get_delivery("d-1")
    assert stored is not None and stored.body == b'{"action": "labeled"}'
    assert stored.outcome is DeliveryOutcome.QUEUED
    jobs = await store.list_jobs()
    assert [(j.kind, j.payload) for j in jobs] == [("delivery", {"delivery_id": "d-1"})]


async def test_concurrent_copies_of_one_delivery_store_one_job(store: Store) -> None:
    job = NewJob(kind="delivery", idempotency_key="delivery:d-1")
    results = await asyncio.gather(*(store.record_delivery(_delivery(), job) for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]
    assert len(await store.list_jobs()) == 1


async def test_idempotency_key_drops_a_second_enqueue(store: Store) -> None:
    first = await store.enqueue(NewJob(kind="design", idempotency_key="design:1"))
    second = await store.enqueue(NewJob(kind="design", idempotency_key="design:1"))
    assert first is not None and second is None
    assert len(await store.list_jobs()) == 1


async def test_claim_leases_a_job_to_one_worker(store: Store) -> None:
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1", payload={"n": 1}))
    claimed = await store.claim("w1", lease_seconds=30)
    assert claimed is not None and claimed.id == job_id
    assert claimed.state is JobState.RUNNING and claimed.attempts == 1
    assert claimed.lease_owner == "w1" and claimed.payload == {"n": 1}
    assert await store.claim("w2", lease_seconds=30) is None
    assert await store.complete(job_id, "w1") is True
    done = await store.get_job(job_id)
    assert done is not None and done.state is JobState.DONE and done.finished_at is not None


async def test_concurrent_claims_never_share_a_job(store: Store) -> None:
    for n in range(10):
        await store.enqueue(NewJob(kind="k", idempotency_key=f"k:{n}"))
    claims = await asyncio.gather(*(store.claim(f"w{n}", 30) for n in range(15)))
    ids = [job.id for job in claims if job is not None]
    assert len(ids) == 10 and len(set(ids)) == 10


async def test_claim_filters_by_kind(store: Store) -> None:
    await store.enqueue(NewJob(kind="a", idempotency_key="a:1"))
    await store.enqueue(NewJob(kind="b", idempotency_key="b:1"))
    claimed = await store.claim("w", 30, kinds=["b"])
    assert claimed is not None and claimed.kind == "b"


async def test_an_expired_lease_lets_another_worker_run_the_job(
    store: Store, clock: FakeClock
) -> None:
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    assert await store.claim("dies", lease_seconds=10) is not None
    clock.advance(5)
    assert await store.claim("w2", lease_seconds=10) is None
    clock.advance(6)
    again = await store.claim("w2", lease_seconds=10)
    assert again is not None and again.id == job_id and again.attempts == 2
    # the worker that lost its lease can no longer finish or fail the job
    assert await store.complete(job_id, "dies") is False
    assert await store.fail(job_id, "dies", "late", retry_in=1) is None
    assert await store.renew_leases([(job_id, "dies")], 10) == set()
    assert await store.renew_leases([(job_id, "w2"), (99, "w3")], 10) == {(job_id, "w2")}


async def test_a_heartbeat_keeps_a_long_job_from_every_other_worker(
    store: Store, clock: FakeClock
) -> None:
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    assert await store.claim("alive", lease_seconds=10) is not None
    for _ in range(30):  # five minutes of a long model call, a beat every 10 s / 3
        clock.advance(10 / 3)
        assert await store.renew_leases([(job_id or 0, "alive")], 10) == {(job_id, "alive")}
        assert await store.claim("other", lease_seconds=10) is None
    clock.advance(11)  # the worker died: no beat for one lease period
    taken = await store.claim("other", lease_seconds=10)
    assert taken is not None and taken.id == job_id and taken.attempts == 2


async def test_failure_retries_after_backoff_then_dead_letters(
    store: Store, clock: FakeClock
) -> None:
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1", max_attempts=2))
    assert job_id is not None
    await store.claim("w", 30)
    assert await store.fail(job_id, "w", "boom 1", retry_in=60) is JobState.QUEUED
    assert await store.claim("w", 30) is None, "not due before its backoff"
    assert await store.queue_depth() == 0
    clock.advance(61)
    assert await store.queue_depth() == 1
    second = await store.claim("w", 30)
    assert second is not None and second.attempts == 2
    assert await store.fail(job_id, "w", "boom 2", retry_in=60) is JobState.DEAD
    dead = await store.get_job(job_id)
    assert dead is not None and dead.state is JobState.DEAD and dead.last_error == "boom 2"
    clock.advance(3600)
    assert await store.claim("w", 30) is None


async def test_a_permanent_failure_dead_letters_at_once(store: Store) -> None:
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    assert job_id is not None
    await store.claim("w", 30)
    assert await store.fail(job_id, "w", "bad payload", retry_in=None) is JobState.DEAD


async def test_a_lease_that_expires_on_the_last_attempt_dead_letters(
    store: Store, clock: FakeClock
) -> None:
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1", max_attempts=1))
    await store.claim("crashes", 10)
    clock.advance(11)
    assert await store.claim("w2", 10) is None
    dead = await store.get_job(job_id or 0)
    assert dead is not None and dead.state is JobState.DEAD
    assert dead.last_error is not None and "crashes" in dead.last_error


async def test_release_returns_the_job_without_spending_an_attempt(store: Store) -> None:
    job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    await store.claim("draining", 30)
    assert await store.release(job_id or 0, "draining") is True
    again = await store.claim("w2", 30)
    assert again is not None and again.attempts == 1


async def test_counts_and_depth(store: Store) -> None:
    for n in range(3):
        await store.enqueue(NewJob(kind="k", idempotency_key=f"k:{n}"))
    await store.enqueue(NewJob(kind="k", idempotency_key="later", delay_seconds=600))
    await store.claim("w", 30)
    counts = await store.job_counts()
    assert counts[JobState.QUEUED] == 3 and counts[JobState.RUNNING] == 1
    assert await store.queue_depth() == 2


async def test_migrations_are_recorded_and_applied_once(store_url: str, clock: FakeClock) -> None:
    async with open_store(store_url, clock=clock) as first:
        await first.enqueue(NewJob(kind="k", idempotency_key="k:1"))
    async with open_store(store_url, clock=clock) as second:
        versions = await second.run(
            lambda tx: tx.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        )
        assert [row["version"] for row in versions] == [v for v, _, _ in second.migrations()]
        assert len(await second.list_jobs()) == 1


async def test_a_failure_recorded_as_another_worker_claims_the_job_changes_nothing(
    postgres_url: str, clock: FakeClock
) -> None:
    """PostgreSQL runs transactions side by side: worker A's `fail` reads the job as A's, and
    before its write lands A's lease lapses and B claims the job. A's write must not requeue
    the job B runs (a third worker would run it beside B)."""
    _truncate_postgres(postgres_url)
    async with open_store(postgres_url, clock=clock) as store:
        job_id = await store.enqueue(NewJob(kind="k", idempotency_key="k:1"))
        assert await store.claim("A", 10) is not None
        with psycopg.connect(postgres_url) as other:
            # B's claim, in its own transaction: it locks the row first, so A's write waits
            other.execute("SELECT id FROM jobs WHERE id = %s FOR UPDATE", (job_id,))
            failing = asyncio.create_task(store.fail(job_id or 0, "A", "boom", retry_in=1))
            await asyncio.sleep(0.5)
            assert not failing.done(), "A's write waits for B's claim"
            other.execute(
                "UPDATE jobs SET lease_owner = 'B', attempts = attempts + 1,"
                " lease_expires_at = %s WHERE id = %s",
                (clock() + 10, job_id),
            )
            other.commit()
        assert await failing is None, "A's lease was no longer A's"
    async with open_store(postgres_url, clock=clock) as store:
        job = await store.get_job(job_id or 0)
        assert job is not None
        assert (job.state, job.lease_owner) == (JobState.RUNNING, "B")


def _notices(url: str) -> psycopg.Connection[Any]:
    connection = psycopg.connect(url, autocommit=True)
    connection.execute(f"LISTEN {CHANNEL}")
    return connection


def _heard(listening: psycopg.Connection[Any], expected: int = 1) -> list[str]:
    """The notices heard: the `expected` ones (and any more sent with them), or none within
    half a second when none is expected."""
    wait = 5.0 if expected else 0.5
    heard = [n.payload for n in listening.notifies(timeout=wait, stop_after=expected or None)]
    return heard + [n.payload for n in listening.notifies(timeout=0.2)]


async def test_jobs_due_now_are_announced_once_committed_and_later_ones_are_not(
    postgres_url: str,
) -> None:
    """Other processes' workers hear of jobs due now (queued, released, retried, admitted with
    their delivery) by a notice sent after the queuing transaction committed, one for a batch;
    a job due later (a retry's backoff) makes none: the poll finds it when it is due."""
    _truncate_postgres(postgres_url)
    async with open_store(postgres_url) as store:
        token = store._announcer.token  # type: ignore[attr-defined]
        with _notices(postgres_url) as listening:
            await store.enqueue(NewJob(kind="k", idempotency_key="later", delay_seconds=60))
            assert _heard(listening, expected=0) == []

            await store.run(
                lambda tx: [
                    store._insert_job(tx, NewJob(kind="k", idempotency_key=f"n{n}"), 0.0)
                    for n in range(3)
                ]
            )
            assert _heard(listening) == [f"{token} 3"]

            job = await store.claim("A", 30)
            assert job is not None and await store.release(job.id, "A")
            assert _heard(listening) == [f"{token} 1"]

            delivery = Delivery(
                "d-1", "issues", "labeled", 7, "o/r", "u", DeliveryOutcome.QUEUED, b"{}"
            )
            await store.admit_delivery(delivery, NewJob(kind="delivery", idempotency_key="d-1"))
            assert _heard(listening) == [f"{token} 1"]

            with contextlib.suppress(ZeroDivisionError):  # rolled back: nothing to take
                await store.run(
                    lambda tx: [
                        store._insert_job(tx, NewJob(kind="k", idempotency_key="lost"), 0.0),
                        1 / 0,
                    ]
                )
            assert _heard(listening, expected=0) == []

            dying = await store.claim("A", 30)
            assert dying is not None
            await store.fail(dying.id, "A", "boom", retry_in=None)
            assert _heard(listening, expected=0) == []  # dead: nothing to take
            await QueueAdmin(store).retry([dying.id])  # `triad jobs retry`
            assert _heard(listening) == [f"{token} 1"]


async def test_notices_go_on_their_own_connection_that_comes_back_after_it_is_lost(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A notice is one statement on the announcer's own connection (not a pooled one's
    transaction); a notice lost with its connection is
    logged (the poll finds the jobs), and the next one connects again."""
    _truncate_postgres(postgres_url)
    async with open_store(postgres_url) as store:
        token = store._announcer.token  # type: ignore[attr-defined]
        with _notices(postgres_url) as listening:
            await store.enqueue(NewJob(kind="k", idempotency_key="first"))
            assert _heard(listening) == [f"{token} 1"]
            announcer = listening.execute(
                "SELECT pid, xact_start, query FROM pg_stat_activity WHERE application_name = %s",
                (ANNOUNCER_NAME,),
            ).fetchall()
            assert len(announcer) == 1, "one connection of its own"
            pid, in_transaction, last = announcer[0]
            assert in_transaction is None, "idle, in no transaction"
            # its one statement, in a transaction of its own
            assert last == NOTIFY.replace("%s", "$1", 1).replace("%s", "$2", 1)
            listening.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))

            await store.enqueue(NewJob(kind="k", idempotency_key="lost"))
            assert _heard(listening, expected=0) == []
            await store.enqueue(NewJob(kind="k", idempotency_key="next"))
            assert _heard(listening) == [f"{token} 1"]
    assert "could not tell other workers of queued jobs" in caplog.text


class _FreezingProxy:
    """A TCP proxy to PostgreSQL that can stop forwarding while keeping its connections open
    (a server or pooler that stopped answering: no keepalive notices it)."""

    def __init__(self, url: str) -> None:
        self.frozen = threading.Event()
        self._listening = socket.create_server(("127.0.0.1", 0))
        port = self._listening.getsockname()[1]
        self.url = url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{port}/")
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._listening.accept()
                server = socket.create_connection(("127.0.0.1", 5432))
                for source, target in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                while self.frozen.is_set():
                    time.sleep(0.02)
                target.sendall(data)

    def close(self) -> None:
        self.frozen.clear()
        self._listening.close()


def test_closing_does_not_wait_for_ever_on_a_notice_a_silent_server_holds(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping a process must not hang on a notice its server stopped answering: after a
    short wait the notice's connection is cut (the notice is lost and logged; the poll finds
    its jobs)."""
    if "@127.0.0.1:5432/" not in postgres_url:
        pytest.skip("the proxy forwards to PostgreSQL at 127.0.0.1:5432")
    proxy = _FreezingProxy(postgres_url)
    announcer = Announcer("t")
    announcer.open(proxy.url)
    thaw = threading.Timer(10, proxy.frozen.clear)  # so a close that waits does end
    try:
        with _notices(postgres_url) as listening:
            announcer.announce(1)  # connects and is heard
            assert _heard(listening) == ["t 1"]
            proxy.frozen.set()
            thaw.start()
            announcer.announce(2)
            time.sleep(0.3)  # under way, held by the silent server
            started = time.monotonic()
            announcer.close()
            assert time.monotonic() - started < CLOSE_WAIT + 2
    finally:
        thaw.cancel()
        proxy.close()
        announcer.close()
    assert "could not tell other workers of queued jobs" in caplog.text


async def test_this_process_hears_of_the_jobs_its_own_committed_transactions_queue(
    store: Store,
) -> None:
    """Every transaction of the store that commits jobs due now tells this process's
    listeners how many (a stage's next job, a delivery's, a released or retried one), on the
    listener's event loop; a job due later, a rolled-back transaction and a listener that
    stopped hear nothing, and a listener whose loop is gone does not fail the commit."""
    heard: list[int] = []
    stop = store.wake_on_queued(heard.append)

    async def hears(*expected: int) -> None:
        await asyncio.sleep(0.05)  # the wake is a callback on this loop
        assert heard == list(expected)
        heard.clear()

    await store.enqueue(NewJob(kind="k", idempotency_key="later", delay_seconds=60))
    await hears()
    await store.run(
        lambda tx: [
            store._insert_job(tx, NewJob(kind="k", idempotency_key=f"n{n}"), 0.0) for n in range(3)
        ]
    )
    await hears(3)
    job = await store.claim("A", 30)
    assert job is not None and await store.release(job.id, "A")
    await hears(1)
    await store.admit_delivery(_delivery(), NewJob(kind="delivery", idempotency_key="d-1"))
    await hears(1)
    with contextlib.suppress(ZeroDivisionError):
        await store.run(
            lambda tx: [store._insert_job(tx, NewJob(kind="k", idempotency_key="lost"), 0.0), 1 / 0]
        )
    await hears()

    closed = asyncio.new_event_loop()
    closed.close()
    store._local_wakes.append((closed, heard.append))  # a pool that never unsubscribed
    stop()
    assert await store.enqueue(NewJob(kind="k", idempotency_key="after")) is not None
    await hears()


def test_a_notice_counts_another_process_s_jobs_never_this_one_s() -> None:
    assert jobs_announced("abc 3", own_token="xyz") == 3
    assert jobs_announced("xyz 3", own_token="xyz") == 0
    assert jobs_announced("not triad's", own_token="xyz") == 1  # someone else's: poll-cheap
    assert jobs_announced("abc -2", own_token="xyz") == 1
    assert jobs_announced("abc ²", own_token="xyz") == 1  # a digit to isdigit, not to int
