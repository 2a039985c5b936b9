"""Group commit: concurrent deliveries share a transaction, and none is reported stored before
its transaction is committed; a batch that cannot commit fails every caller in it."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from bot.errors import StoreError
from bot.store import Delivery, DeliveryOutcome, NewJob, Store, open_store
from bot.store.base import Decided
from bot.store.group_commit import GroupCommit, ItemFailed, ItemsFailed
from bot.store.postgres import PostgresStore, advisory_key
from bot.store.sqlite import SqliteStore
from tests.conftest import FakeClock

pytestmark = pytest.mark.asyncio


def delivery(number: int | str) -> Delivery:
    body = f'{{"action": "labeled", "n": "{number}"}}'.encode()
    return Delivery(
        id=f"d-{number}",
        event="issues",
        action="labeled",
        installation_id=1,
        repository="octo/repo",
        sender="alice",
        outcome=DeliveryOutcome.QUEUED,
        body=body,
        body_hash=hashlib.sha256(body).hexdigest(),
    )


def job(number: int | str) -> NewJob:
    return NewJob(kind="delivery", idempotency_key=f"delivery:d-{number}", payload={})


def committed(store: Store, delivery_id: str) -> bool:
    """Whether another connection sees the delivery: it is committed, not merely written."""
    sql = "SELECT 1 FROM deliveries WHERE id = "
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as other:
            return other.execute(sql + "?", (delivery_id,)).fetchone() is not None
    assert isinstance(store, PostgresStore)
    with psycopg.connect(store.url) as other:
        return other.execute(sql + "%s", (delivery_id,)).fetchone() is not None


async def test_concurrent_deliveries_share_commits_and_each_is_committed_before_it_returns(
    store: Store,
) -> None:
    async def admit(number: int) -> bool:
        admitted = await store.admit_delivery(delivery(number), job(number))
        return admitted.new and committed(store, f"d-{number}")

    assert all(await asyncio.gather(*(admit(n) for n in range(30))))
    assert store.grouped_commits >= 1  # some deliveries shared a transaction
    assert await store.count_deliveries() == 30
    assert len(await store.list_jobs()) == 30


async def test_copies_in_one_batch_are_still_one_delivery_and_one_job(store: Store) -> None:
    copies = [delivery(1), delivery(1), delivery(2)]
    admitted = await asyncio.gather(*(store.admit_delivery(d, job(d.id[2:])) for d in copies))
    assert [a.new for a in admitted] == [True, False, True]
    assert len(await store.list_jobs()) == 2


@contextmanager
def _failing_commits(store: Store) -> Iterator[None]:
    """Every transaction that stores a delivery fails at COMMIT (a deferred foreign key)."""
    setup = [
        "CREATE TABLE poison_parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE poison_child (parent INTEGER REFERENCES poison_parent (id)"
        " DEFERRABLE INITIALLY DEFERRED)",
    ]
    teardown = ["DROP TABLE poison_child", "DROP TABLE poison_parent"]
    if store.dialect == "sqlite":
        setup.append(
            "CREATE TRIGGER poison AFTER INSERT ON deliveries"
            " BEGIN INSERT INTO poison_child VALUES (1); END"
        )
        teardown.insert(0, "DROP TRIGGER poison")
    else:
        setup += [
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN INSERT INTO poison_child VALUES (1); RETURN NEW; END $$",
            "CREATE TRIGGER poison AFTER INSERT ON deliveries"
            " FOR EACH ROW EXECUTE FUNCTION poison()",
        ]
        teardown = ["DROP TRIGGER poison ON deliveries", "DROP FUNCTION poison()", *teardown]
    _ddl(store, setup)
    try:
        yield
    finally:
        _ddl(store, teardown)


def _ddl(store: Store, statements: list[str]) -> None:
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as other:
            for statement in statements:
                other.execute(statement)
        return
    assert isinstance(store, PostgresStore)
    with psycopg.connect(store.url, autocommit=True) as other:
        for statement in statements:
            other.execute(statement)


async def test_a_batch_that_cannot_commit_fails_every_caller_and_stores_nothing(
    store: Store,
) -> None:
    with _failing_commits(store):
        outcomes = await asyncio.gather(
            *(store.admit_delivery(delivery(n), job(n)) for n in range(10)),
            return_exceptions=True,
        )
    assert all(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert await store.count_deliveries() == 0
    assert await store.list_jobs() == []


async def test_a_failing_operation_fails_only_its_own_caller(store: Store) -> None:
    if store.dialect == "sqlite":
        trigger = [
            "CREATE TRIGGER poison BEFORE INSERT ON deliveries WHEN NEW.id = 'd-bad'"
            " BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        ]
        drop = ["DROP TRIGGER poison"]
    else:
        trigger = [
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.id = 'd-bad' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE INSERT ON deliveries"
            " FOR EACH ROW EXECUTE FUNCTION poison()",
        ]
        drop = ["DROP TRIGGER poison ON deliveries", "DROP FUNCTION poison()"]
    _ddl(store, trigger)
    try:
        numbers: list[int | str] = [0, 1, 2, "bad", 3, 4, 5]
        outcomes = await asyncio.gather(
            *(store.admit_delivery(delivery(n), job(n)) for n in numbers),
            return_exceptions=True,
        )
    finally:
        _ddl(store, drop)
    failed = [
        n for n, outcome in zip(numbers, outcomes, strict=True) if isinstance(outcome, Exception)
    ]
    assert failed == ["bad"]
    assert await store.count_deliveries() == 6
    assert len(await store.list_jobs()) == 6


async def test_a_closed_store_fails_its_callers_rather_than_leaving_them_waiting(
    store_url: str, clock: FakeClock
) -> None:
    store = open_store(store_url, clock=clock)
    await store.open()
    assert (await store.admit_delivery(delivery(1), job(1))).new
    await store.close()
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(store.admit_delivery(delivery(n), job(n)) for n in (2, 3)), return_exceptions=True
        ),
        timeout=10,
    )
    assert all(isinstance(outcome, StoreError) for outcome in outcomes), outcomes


async def test_a_database_that_fails_every_batch_costs_one_attempt_not_one_per_caller() -> None:
    loop = asyncio.get_running_loop()
    attempts = 0

    def submit(_items: list[int]) -> asyncio.Future[list[ItemFailed | None]]:
        nonlocal attempts
        attempts += 1
        failed: asyncio.Future[list[ItemFailed | None]] = loop.create_future()
        loop.call_later(0.05, failed.set_exception, RuntimeError("database is down"))
        return failed

    group: GroupCommit[int, None] = GroupCommit(submit, parallel=1)
    outcomes = await asyncio.gather(*(group.run(n) for n in range(20)), return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert attempts <= 2, attempts  # the first caller alone, then the other 19 together


@pytest.mark.parametrize("fatal", [False, True])
async def test_a_batch_whose_items_failed_goes_again_item_by_item_unless_the_database_failed(
    fatal: bool,
) -> None:
    """A multi-row statement that fails cannot say which row was at fault: the batch goes
    again in halves until only the bad one's caller fails; a database error fails them all."""
    loop = asyncio.get_running_loop()
    batches: list[list[str]] = []

    def submit(items: list[str]) -> asyncio.Future[list[str | ItemFailed]]:
        batches.append(items)
        done: asyncio.Future[list[str | ItemFailed]] = loop.create_future()
        if "bad" in items:
            done.set_exception(ItemsFailed(ValueError("a bad row")))
        else:
            done.set_result([item.upper() for item in items])
        return done

    group: GroupCommit[str, str] = GroupCommit(submit, parallel=1, fatal=lambda _e: fatal)
    items = ["first", "a", "b", "c", "bad", "d"]
    outcomes = await asyncio.gather(*(group.run(item) for item in items), return_exceptions=True)
    if fatal:
        assert outcomes[0] == "FIRST"
        assert all(isinstance(outcome, ValueError) for outcome in outcomes[1:])
        assert batches == [["first"], ["a", "b", "c", "bad", "d"]]
    else:
        assert [o for o in outcomes if not isinstance(o, Exception)] == [
            "FIRST",
            "A",
            "B",
            "C",
            "D",
        ]
        assert isinstance(outcomes[4], ValueError)
        assert batches == [
            ["first"],
            ["a", "b", "c", "bad", "d"],
            ["a", "b"],
            ["c", "bad", "d"],
            ["c"],
            ["bad", "d"],
            ["bad"],
            ["d"],
        ]


async def test_an_item_that_failed_alone_fails_only_its_caller_in_one_transaction() -> None:
    loop = asyncio.get_running_loop()
    batches: list[list[str]] = []

    def submit(items: list[str]) -> asyncio.Future[list[str | ItemFailed]]:
        batches.append(items)
        done: asyncio.Future[list[str | ItemFailed]] = loop.create_future()
        done.set_result([ItemFailed(ValueError(i)) if i == "bad" else i.upper() for i in items])
        return done

    group: GroupCommit[str, str] = GroupCommit(submit, parallel=1)
    outcomes = await asyncio.gather(
        *(group.run(item) for item in ["first", "a", "bad", "b"]), return_exceptions=True
    )
    assert outcomes[:2] == ["FIRST", "A"] and outcomes[3] == "B"
    assert isinstance(outcomes[2], ValueError)
    assert batches == [["first"], ["a", "bad", "b"]]


class NeverCommits:
    """A store whose transactions never end (stuck on a lock): what each batch was given."""

    def __init__(self) -> None:
        self.submitted: list[list[int]] = []
        self.hung: list[asyncio.Future[list[int | ItemFailed]]] = []

    def __call__(self, items: list[int]) -> asyncio.Future[list[int | ItemFailed]]:
        self.submitted.append(items)
        self.hung.append(asyncio.get_running_loop().create_future())
        return self.hung[-1]


async def test_callers_waiting_behind_a_stuck_batch_are_answered_by_their_own_deadline() -> None:
    loop = asyncio.get_running_loop()
    stuck = NeverCommits()
    group: GroupCommit[int, int] = GroupCommit(stuck, parallel=1, deadline=1.0)
    first = asyncio.create_task(group.run(1))
    await asyncio.sleep(0.5)
    second = asyncio.create_task(group.run(2))  # waits behind the stuck batch
    started = loop.time()
    with pytest.raises(TimeoutError):
        await first
    with pytest.raises(TimeoutError):
        await second
    # its own deadline (1.0 s from now), not the first's plus its own (1.5 s)
    assert loop.time() - started < 1.0 + 0.3
    assert stuck.submitted == [[1], [2]]


async def test_a_stuck_batch_answers_each_caller_by_its_own_deadline_not_the_last_ones() -> None:
    """Callers that waited together go in one batch; the batch's one timer is its earliest
    caller's deadline, so none waits for a later caller's."""
    loop = asyncio.get_running_loop()
    stuck = NeverCommits()
    group: GroupCommit[int, int] = GroupCommit(stuck, parallel=1, deadline=1.0)
    first = asyncio.create_task(group.run(1))
    await asyncio.sleep(0.1)
    early = asyncio.create_task(group.run(2))
    called = loop.time()
    await asyncio.sleep(0.5)
    late = asyncio.create_task(group.run(3))  # due 0.5 s after the early one
    with pytest.raises(TimeoutError):
        await first
    with pytest.raises(TimeoutError):
        await early
    assert loop.time() - called < 1.0 + 0.3  # by its own deadline, not the late one's (1.5 s)
    assert not late.done()  # the late caller's deadline is still ahead
    assert stuck.submitted == [[1], [2, 3]]
    with pytest.raises(TimeoutError):
        await late


async def test_a_batch_that_never_ends_fails_its_callers_by_the_deadline_and_frees_its_place() -> (
    None
):
    stuck = NeverCommits()
    group: GroupCommit[int, int] = GroupCommit(stuck, parallel=2, deadline=0.2)
    tasks = [asyncio.create_task(group.run(n)) for n in range(5)]
    done, pending = await asyncio.wait(tasks, timeout=2)
    assert not pending
    assert all(isinstance(task.exception(), TimeoutError) for task in done)
    await asyncio.sleep(0.5)  # every stuck batch outlived its deadline
    # the stuck batches gave their places back: a later caller gets a batch of its own
    started = len(stuck.hung)
    later = asyncio.create_task(group.run(7))
    await asyncio.sleep(0)
    assert len(stuck.hung) == started + 1
    stuck.hung[-1].set_result([7])
    assert await later == 7


async def test_a_batch_holds_at_most_max_batch_operations() -> None:
    loop = asyncio.get_running_loop()
    sizes: list[int] = []

    def submit(items: list[int]) -> asyncio.Future[list[int | ItemFailed]]:
        sizes.append(len(items))
        done: asyncio.Future[list[int | ItemFailed]] = loop.create_future()
        loop.call_soon(done.set_result, list[int | ItemFailed](items))
        return done

    group = GroupCommit(submit, max_batch=4, parallel=1)
    assert await asyncio.gather(*(group.run(n) for n in range(10))) == list(range(10))
    assert sizes == [1, 4, 4, 1]


async def test_a_store_that_stalls_fails_the_admission_by_its_deadline(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "triad.db")
    await store.open()
    store.admission_deadline = 0.3
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(TimeoutError):
            await store.admit_delivery(delivery(1), job(1))
    finally:
        other.execute("ROLLBACK")
        other.close()
        await store.close()


async def test_postgresql_bounds_the_admitting_transactions_statements(store: Store) -> None:
    if not isinstance(store, PostgresStore):
        pytest.skip("PostgreSQL's statement_timeout")
    _ddl(
        store,
        [
            "CREATE TABLE seen_timeout (value TEXT)",
            "CREATE FUNCTION see_timeout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " INSERT INTO seen_timeout VALUES (current_setting('statement_timeout'));"
            " RETURN NEW; END $$",
            "CREATE TRIGGER see_timeout AFTER INSERT ON deliveries"
            " FOR EACH ROW EXECUTE FUNCTION see_timeout()",
        ],
    )
    try:
        assert (await store.admit_delivery(delivery(1), job(1))).new
        seen = await store.run(lambda tx: tx.fetchall("SELECT value FROM seen_timeout"))
    finally:
        _ddl(
            store,
            [
                "DROP TRIGGER see_timeout ON deliveries",
                "DROP FUNCTION see_timeout()",
                "DROP TABLE seen_timeout",
            ],
        )
    assert [row["value"] for row in seen] == ["4s"]
    plain = await store.run(lambda tx: tx.fetchone("SHOW statement_timeout"))
    assert plain is not None and plain["statement_timeout"] == "0"  # workers' work: unbounded


async def test_web_processes_admitting_one_repositorys_deliveries_take_turns(
    store: Store,
) -> None:
    """Another process holding the repository's lock (admitting a delivery of it) holds this
    admission back until it commits, so the door reads what the other stored."""
    if not isinstance(store, PostgresStore):
        pytest.skip("PostgreSQL's advisory lock (SQLite's write lock serialises every writer)")
    store.admission_deadline = 0.5
    with psycopg.connect(store.url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("octo/repo"),))
        with pytest.raises(TimeoutError):
            await store.admit(Decided(delivery(1), job(1), asks=("octo/repo", None)))
        # another repository's deliveries do not wait
        other_repo = await store.admit(Decided(delivery(2), job(2), asks=("octo/b", 2)))
        assert other_repo.new
        other.rollback()
    admitted = await store.admit(Decided(delivery(3), job(3), asks=("octo/repo", None)))
    assert admitted.new


async def test_a_batch_asking_about_many_repositories_waits_for_each_ones_lock(
    store: Store,
) -> None:
    if not isinstance(store, PostgresStore):
        pytest.skip("PostgreSQL's advisory lock (SQLite's write lock serialises every writer)")
    store.admission_deadline = 0.5
    with psycopg.connect(store.url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("octo/z"),))
        one = Decided(delivery("a"), job("a"), asks=("octo/a", None))
        other_one = Decided(delivery("z"), job("z"), asks=("octo/z", None))
        first = asyncio.create_task(store.admit(Decided(delivery("x"), job("x"))))
        together = asyncio.gather(store.admit(one), store.admit(other_one), return_exceptions=True)
        assert (await first).new  # alone in its batch: no lock asked for
        outcomes = await together  # one batch, asking about octo/a and octo/z
        assert all(isinstance(outcome, TimeoutError) for outcome in outcomes), outcomes
        other.rollback()
