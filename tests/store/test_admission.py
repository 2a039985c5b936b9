"""A batch of deliveries admitted in a few statements, on both backends: decided in order with
what the store knows, read once per question, and every delivery the insert refused settled
as when each was admitted alone."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import psycopg
import pytest
from psycopg import pq

from bot.store import Admission, Delivery, DeliveryOutcome, NewJob, Store, open_store
from bot.store.admission import admit_batch
from bot.store.base import (
    DELIVERY_COLUMNS,
    JOB_COLUMNS,
    CountedInsert,
    Decided,
    Offer,
    Row,
    Transaction,
    job_values,
)
from bot.store.group_commit import ItemFailed
from bot.store.repo_configs import CachedConfig, ConfigCache, StoreFacts
from bot.store.workflows import WorkflowStore
from bot.workflow.jobs import JobKind
from bot.workflow.model import Stage, Workflow
from tests.conftest import FakeClock


def delivery(name: str, repository: str = "octo/repo", body: str | None = None) -> Delivery:
    raw = (body or f'{{"action": "labeled", "n": "{name}"}}').encode()
    return Delivery(
        id=name,
        event="issues",
        action="labeled",
        installation_id=None,
        repository=repository,
        sender="alice",
        outcome=DeliveryOutcome.QUEUED,
        body=raw,
        body_hash=hashlib.sha256(raw).hexdigest(),
    )


def job(name: str, repository: str = "octo/repo") -> NewJob:
    return NewJob(
        kind=JobKind.DELIVERY.value,
        idempotency_key=f"delivery:{name}",
        payload={"delivery_id": name},
        repository=repository,
    )


@dataclass
class PendingOnly:
    """An offer the store's facts drop unless a delivery of its repository is pending (as the
    door drops a label outside the cached config's set), noting what it was told."""

    name: str
    repository: str = "octo/repo"
    number: int = 7
    told: list[StoreFacts | None] = field(default_factory=list)

    @property
    def asks(self) -> tuple[str, int | None]:
        return self.repository, self.number

    @property
    def delivery(self) -> Delivery:
        return delivery(self.name, self.repository)

    def decide(self, known: StoreFacts | None) -> tuple[Delivery, NewJob | None]:
        self.told.append(known)
        if known is not None and known.pending:
            return delivery(self.name, self.repository), job(self.name, self.repository)
        dropped = replace(delivery(self.name, self.repository), outcome=DeliveryOutcome.IGNORED)
        return dropped, None


class Counting:
    """The admitting transaction, counting the door's reads of the store."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.jobs_due = 0
        self.fact_reads = 0
        self.stored_reads = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.tx.execute(sql, params)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self.tx.fetchone(sql, params)

    def fetchall(
        self, sql: str, params: Sequence[Any] = (), *, planned_each_time: bool = False
    ) -> list[Row]:
        self.fact_reads += sql.startswith("WITH asked (question, repository, number)")
        self.stored_reads += sql.startswith("SELECT id, outcome, body_hash FROM deliveries")
        return self.tx.fetchall(sql, params, planned_each_time=planned_each_time)

    def run_before_next(self, statements: list[str]) -> None:
        self.tx.run_before_next(statements)


async def admit_together(store: Store, offers: Sequence[Offer]) -> tuple[list[Admission], int]:
    """The offers admitted in one batch (none failing); how many times the store's facts
    were read."""
    results, reads = await admit_raw(store, offers)
    admitted = [result for result in results if isinstance(result, Admission)]
    assert len(admitted) == len(results), results
    return admitted, reads


async def admit_raw(
    store: Store, offers: Sequence[Offer]
) -> tuple[list[Admission | ItemFailed], int]:
    """`admit_together`, failures included."""

    def operation(tx: Transaction) -> tuple[list[Admission | ItemFailed], int]:
        counting = Counting(tx)
        admitted = admit_batch(store, counting, list(offers), store.clock())
        tx.jobs_due += counting.jobs_due
        return admitted, counting.fact_reads

    return await store.run(operation)


async def test_a_delivery_queued_earlier_in_the_batch_makes_its_repository_pending(
    store: Store,
) -> None:
    """As if each were admitted alone, in order: the first queues a delivery job of the
    repository, so the store's word on that repository may be about to change."""
    same, other = PendingOnly("same"), PendingOnly("other", repository="octo/other")
    before = PendingOnly("before")
    admitted, _ = await admit_together(
        store, [before, Decided(delivery("first"), job("first")), same, other]
    )
    assert [a.new for a in admitted] == [True, True, True, True]
    outcomes = [a.delivery.outcome if a.delivery else None for a in admitted]
    assert outcomes == [
        DeliveryOutcome.IGNORED,  # decided before the first was queued
        DeliveryOutcome.QUEUED,
        DeliveryOutcome.QUEUED,  # pending: the first waits for its job
        DeliveryOutcome.IGNORED,  # another repository
    ]
    assert [told.pending for told in before.told + same.told + other.told if told] == [
        False,
        True,
        False,
    ]
    keys = sorted(j.idempotency_key for j in await store.list_jobs())
    assert keys == ["delivery:first", "delivery:same"]


async def test_the_batch_reads_its_stored_ids_only_when_one_of_them_is_stored(
    store: Store,
) -> None:
    """A batch of new deliveries is decided as new and stored by its inserts; one that holds a
    delivery stored already is decided again, having read which are."""
    assert (await store.admit_delivery(delivery("old"), job("old"))).new

    async def reads(offers: list[Offer]) -> tuple[list[Admission], int]:
        def operation(tx: Transaction) -> tuple[list[Admission], int]:
            counting = Counting(tx)
            results = admit_batch(store, counting, offers, store.clock())
            tx.jobs_due += counting.jobs_due
            return [r for r in results if isinstance(r, Admission)], counting.stored_reads

        return await store.run(operation)

    new, read = await reads([Decided(delivery("m"), job("m")), PendingOnly("after")])
    assert ([a.new for a in new], read) == ([True, True], 0)
    alone, read = await reads([PendingOnly("alone")])
    assert ([a.new for a in alone], read) == ([True], 0)
    copies, read = await reads([Decided(delivery("old"), job("old")), Decided(delivery("n"))])
    assert ([a.new for a in copies], read) == ([False, True], 1)


async def test_an_id_sent_again_with_another_body_leaves_that_body_to_a_new_delivery(
    store: Store,
) -> None:
    """The id is stored (its own body kept): the other body it came with is not stored by it,
    so a new delivery carrying that body is new, as it would be alone."""
    dropped = replace(delivery("x", body='{"a": 1}'), outcome=DeliveryOutcome.IGNORED)
    assert (await store.admit_delivery(dropped)).new
    offers = [
        Decided(delivery("x", body='{"b": 2}'), job("x")),
        Decided(delivery("y", body='{"b": 2}'), job("y")),
    ]
    admitted, _ = await admit_together(store, offers)
    assert [(a.new, a.replay_of) for a in admitted] == [(False, None), (True, None)]
    assert [j.idempotency_key for j in await store.list_jobs()] == ["delivery:y"]


async def test_a_batch_taken_for_new_is_decided_again_when_one_of_it_is_stored(
    store: Store,
) -> None:
    """Decided as new, a redelivery (its job done) would queue, and make the delivery after it
    see its repository pending. Its insert is refused: what the batch wrote is undone, and it
    is decided again, as if each were admitted alone."""
    assert (await store.admit_delivery(delivery("old"), job("old"))).new
    claimed = await store.claim("w", 60)
    assert claimed is not None and await store.complete(claimed.id, "w")
    after = PendingOnly("after")
    admitted, _ = await admit_together(store, [Decided(delivery("old"), job("old")), after])
    assert [a.new for a in admitted] == [False, True]
    assert [told.pending for told in after.told if told] == [True, False]
    stored = await store.get_delivery("after")
    assert stored is not None and stored.outcome is DeliveryOutcome.IGNORED
    assert [j.idempotency_key for j in await store.list_jobs()] == ["delivery:old"]
    assert await store.count_deliveries() == 2


async def test_a_new_delivery_whose_job_exists_is_stored_once_with_that_one_job(
    store: Store,
) -> None:
    """The jobs' insert refuses the job (its key is taken): the batch is undone and admitted
    again, the delivery stored once, and no worker woken for a job this batch did not queue."""
    assert await store.enqueue(job("early")) is not None
    heard: list[int] = []
    stop = store.wake_on_queued(heard.append)
    try:
        offers = [Decided(delivery("early"), job("early")), Decided(delivery("next"), job("next"))]
        admitted, _ = await admit_together(store, offers)
        for _ in range(3):  # the listener is called soon after the commit, on this loop
            await asyncio.sleep(0)
    finally:
        stop()
    assert [a.new for a in admitted] == [True, True]
    keys = sorted(j.idempotency_key for j in await store.list_jobs())
    assert keys == ["delivery:early", "delivery:next"]
    assert await store.count_deliveries() == 2
    assert heard == [1]  # next's job; early's was queued before


async def test_the_store_is_read_once_for_every_question_of_a_batch(store: Store) -> None:
    """One statement answers every (repository, number) the batch asks about, each its own."""
    await store.admit_delivery(delivery("waiting", repository="octo/r1"), job("waiting", "octo/r1"))
    offers = [
        PendingOnly(f"d{n}", repository=f"octo/r{n % 3}", number=7 + n % 2) for n in range(12)
    ]
    admitted, reads = await admit_together(store, offers)
    assert all(a.new for a in admitted)
    assert reads == 1  # not one per repository and number, nor one per delivery
    assert all(offer.told == offer.told[:1] for offer in offers)  # each decided once
    told = {(o.repository, o.number): o.told[0] for o in offers}
    assert len(told) == 6
    assert {key for key, facts in told.items() if facts and facts.pending} == {
        ("octo/r1", 7),
        ("octo/r1", 8),
    }


async def test_the_store_tells_each_number_of_a_repository_its_own_workflow(
    store: Store,
) -> None:
    await WorkflowStore(store).apply(
        "octo/repo",
        7,
        None,
        Workflow(repository="octo/repo", installation_id=5, issue_number=7, stage=Stage.DESIGNING),
        (),
        source="d-0",
        cause="DesignRequested",
        actor="maya",
        reason="design requested",
    )
    seven, eight = PendingOnly("seven", number=7), PendingOnly("eight", number=8)
    await admit_together(store, [seven, eight, PendingOnly("seven again", number=7)])
    assert [told.workflow for told in seven.told + eight.told if told] == [True, False]


async def test_a_redelivery_or_a_replay_does_not_make_its_repository_pending(
    store: Store, clock: FakeClock
) -> None:
    """A redelivery (of a delivery whose job is done) or a replay queues nothing, so the
    store's word on the repository stands for the deliveries decided after it."""
    assert (await store.admit_delivery(delivery("old", body='{"old": 1}'), job("old"))).new
    claimed = await store.claim("w", 60)
    assert claimed is not None and await store.complete(claimed.id, "w")
    after_redelivery, after_replay = PendingOnly("after"), PendingOnly("later")
    offers: list[Offer] = [
        Decided(delivery("old", body='{"old": 1}'), job("old")),
        after_redelivery,
        Decided(delivery("replay", body='{"old": 1}'), job("replay")),
        after_replay,
    ]
    admitted, _ = await admit_together(store, offers)
    assert [(a.new, a.replay_of) for a in admitted] == [
        (False, None),
        (True, None),
        (False, "old"),
        (True, None),
    ]
    assert [told.pending for told in after_redelivery.told + after_replay.told if told] == [
        False,
        False,
    ]
    assert [a.delivery.outcome for a in (admitted[1], admitted[3]) if a.delivery] == [
        DeliveryOutcome.IGNORED,
        DeliveryOutcome.IGNORED,
    ]
    assert [j.idempotency_key for j in await store.list_jobs()] == ["delivery:old"]


async def test_a_readmission_queues_its_job_in_arrival_order_and_only_with_its_own_body(
    store: Store,
) -> None:
    dropped = replace(delivery("dropped"), outcome=DeliveryOutcome.IGNORED, reason="no label")
    assert (await store.admit_delivery(dropped)).new
    other_body = delivery("dropped", body='{"another": "signed body"}')
    offers = [
        Decided(other_body, job("dropped")),  # another body under its id: not readmitted
        Decided(delivery("dropped"), job("dropped")),  # its own body, now admitted
        Decided(delivery("next"), job("next")),
    ]
    admitted, _ = await admit_together(store, offers)
    assert [(a.new, a.readmitted) for a in admitted] == [
        (False, False),
        (True, True),
        (True, False),
    ]
    jobs = sorted(await store.list_jobs(), key=lambda j: j.id)
    assert [j.idempotency_key for j in jobs] == ["delivery:dropped", "delivery:next"]
    stored = await store.get_delivery("dropped")
    assert stored is not None and stored.body == delivery("dropped").body


@pytest.mark.parametrize("size", [3, 37, 256])
async def test_an_insert_counts_the_rows_its_conflict_clause_let_in(
    store: Store, size: int
) -> None:
    """`inserts_counted`, which the batch's inserts are made of, counts the rows stored, in a
    batch of any size (on SQLite a few statements of 2ⁿ rows)."""
    names = ["j0"] + [f"j{n}" for n in range(size - 1)]  # the second repeats the first
    rows = [job_values(job(name), store.clock(), 5) for name in names]
    insert = CountedInsert("jobs", JOB_COLUMNS, rows, "ON CONFLICT (idempotency_key) DO NOTHING")

    def operation(tx: Transaction) -> tuple[list[int], list[int]]:
        first = store.inserts_counted(tx, [insert])
        return first, store.inserts_counted(tx, [insert])

    assert await store.run(operation) == ([size - 1], [0])
    assert len(await store.list_jobs()) == size - 1


async def test_inserts_counted_together_count_each_insert_alone(store: Store) -> None:
    """On PostgreSQL one statement for several inserts; each count is its own insert's, and
    an insert of no rows counts none."""
    now = store.clock()
    deliveries = store.delivery_rows([delivery(f"d{n}") for n in range(3)], now)
    jobs = [job_values(job(name), now, 5) for name in ("j0", "j1", "j0")]  # the third repeats

    def operation(tx: Transaction) -> list[int]:
        return store.inserts_counted(
            tx,
            [
                CountedInsert("deliveries", DELIVERY_COLUMNS, deliveries, "ON CONFLICT DO NOTHING"),
                CountedInsert("jobs", JOB_COLUMNS, [], "ON CONFLICT DO NOTHING"),
                CountedInsert(
                    "jobs", JOB_COLUMNS, jobs, "ON CONFLICT (idempotency_key) DO NOTHING"
                ),
            ],
        )

    assert await store.run(operation) == [3, 0, 2]
    assert await store.run(operation) == [0, 0, 0]
    assert await store.count_deliveries() == 3
    assert len(await store.list_jobs()) == 2


async def test_statements_run_before_the_next_may_hold_a_percent_sign(store: Store) -> None:
    """On PostgreSQL they go in a text psycopg formats, with the next read's parameters."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite runs them at once, unformatted")

    def operation(tx: Transaction) -> list[Row]:
        tx.run_before_next(["SET LOCAL application_name = '100% triad'"])
        return tx.fetchall(
            "SELECT current_setting('application_name') AS name, ? AS asked",
            ("it's 5%",),
            planned_each_time=True,
        )

    assert await store.run(operation) == [{"name": "100% triad", "asked": "it's 5%"}]


async def test_inserts_counted_together_each_only_ever_do_nothing_on_a_conflict(
    store: Store,
) -> None:
    rows = [job_values(job("a"), store.clock(), 5)]

    def operation(tx: Transaction) -> list[int]:
        return store.inserts_counted(
            tx,
            [
                CountedInsert("jobs", JOB_COLUMNS, rows, "ON CONFLICT DO NOTHING"),
                CountedInsert(
                    "jobs",
                    JOB_COLUMNS,
                    rows,
                    "ON CONFLICT (idempotency_key) DO UPDATE SET attempts = 1",
                ),
            ],
        )

    with pytest.raises(ValueError, match="does nothing on a conflict"):
        await store.run(operation)
    assert await store.list_jobs() == []


def round_trips(trace: str) -> list[list[str]]:
    """The statements the client sent in each round trip (their first two words), from
    libpq's trace: an exchange ends with the server ready for the next query. A statement
    psycopg has prepared is sent without its text: the traced stores here are new."""
    trips: list[list[str]] = []
    sent: list[str] = []
    for line in trace.splitlines():
        direction, _length, message, *rest = line.split("\t")
        if direction == "F" and message in ("Query", "Parse"):
            text = rest[0].split('"')[1] if message == "Query" else rest[0].split('"')[3]
            sent += [" ".join(statement.split()[:2]) for statement in text.split("; ")]
        elif direction == "B" and message == "ReadyForQuery":
            trips.append(sent)
            sent = []
    return trips


async def test_postgresql_admits_a_new_batch_in_two_round_trips(store: Store) -> None:
    """Between its BEGIN and its COMMIT: the timeouts, the locks and the savepoint in one
    text with the read of the store's facts; the deliveries and their jobs in one statement.
    There were four, and each cost a batch 0.3-0.6 ms of waiting for the server and then
    for the GIL."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite runs in this process: a statement is a call, not a round trip")
    offers: list[Offer] = [Decided(delivery("first"), job("first")), PendingOnly("asks")]

    def operation(tx: Transaction) -> tuple[list[Admission | ItemFailed], str]:
        connection = cast(Any, tx)._connection  # the transaction's own, traced while it admits
        with tempfile.TemporaryFile() as trace:
            connection.pgconn.trace(trace.fileno())
            connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            try:
                admitted = admit_batch(store, tx, offers, store.clock())
            finally:
                connection.pgconn.untrace()
            trace.seek(0)
            return admitted, trace.read().decode()

    admitted, trace = await store.run(operation)
    assert [isinstance(a, Admission) and a.new for a in admitted] == [True, True]
    assert round_trips(trace) == [
        [
            "SET LOCAL",
            "SET LOCAL",
            "SELECT pg_advisory_xact_lock(k)",
            "SAVEPOINT grouped",
            "WITH asked",
        ],
        ["WITH i0"],
    ]
    assert len(await store.list_jobs()) == 2  # the second saw the first pending


@pytest.mark.parametrize(
    "hostile", ["o'wner\\/re\";po; DROP TABLE deliveries; --", "ōwnér/ré'pô$$ 🐙 %s ?"]
)
async def test_the_store_facts_read_with_the_opening_statements_quotes_what_it_is_asked(
    store: Store, clock: FakeClock, hostile: str
) -> None:
    """The read is bound by psycopg into the opening's text on PostgreSQL: a repository
    name that is not one (quotes, a backslash, a statement's end, placeholders, non-ASCII
    text) is asked about as it is."""
    await ConfigCache(store).put(CachedConfig(hostile, "a" * 40, "labels: {}\n", clock()))
    asks = PendingOnly("hostile", repository=hostile)
    admitted, reads = await admit_together(store, [asks])
    assert reads == 1 and admitted[0].new
    assert [told.config.commit if told and told.config else None for told in asks.told] == [
        "a" * 40
    ]
    assert await store.count_deliveries() == 1


async def test_a_repository_name_the_database_cannot_hold_fails_its_delivery_alone(
    store: Store,
) -> None:
    """A NUL in the name asked about: PostgreSQL's text cannot hold it, so the batch's read
    raises before anything is sent; the batch goes again in halves and only that delivery's
    caller fails (SQLite holds the name)."""
    offers = [PendingOnly("before"), PendingOnly("nul", repository="octo/re\x00po")]
    offers += [PendingOnly("after", repository="octo/other")]
    answers = await asyncio.gather(*(store.admit(o) for o in offers), return_exceptions=True)
    failed = [isinstance(answer, Exception) for answer in answers]
    assert failed == [False, store.dialect == "postgresql", False]
    assert await store.count_deliveries() == (2 if store.dialect == "postgresql" else 3)


async def test_a_batch_keeps_its_arrival_order_in_the_store(store: Store) -> None:
    """Its rows go in by id (one lock order across web processes), but each is received a
    microsecond after the one before it: readmission goes by `received_at`."""
    arrived = ["f0", "c1", "a2", "e3"]
    await admit_together(store, [Decided(delivery(name)) for name in arrived])
    rows = await store.run(lambda tx: tx.fetchall("SELECT id FROM deliveries ORDER BY received_at"))
    assert [row["id"] for row in rows] == arrived


async def test_a_delivery_a_constraint_refuses_fails_alone_and_its_batch_is_stored(
    store: Store,
) -> None:
    """A row the table refuses (here a delivery without an event): on SQLite the batch's
    insert leaves it out and so falls back, on PostgreSQL the insert raises; either way the
    batch goes again in halves and only that delivery's caller fails."""
    broken = replace(delivery("broken"), event=cast(str, None))
    offers = [Decided(delivery(f"n{n}"), job(f"n{n}")) for n in range(5)]
    offers.insert(3, Decided(broken))
    answers = await asyncio.gather(
        *(store.admit(offer) for offer in offers), return_exceptions=True
    )
    failed = [n for n, answer in enumerate(answers) if isinstance(answer, Exception)]
    assert failed == [3]
    assert all(isinstance(a, Admission) and a.new for n, a in enumerate(answers) if n != 3)
    assert await store.count_deliveries() == 5
    assert len(await store.list_jobs()) == 5


@dataclass
class Raising:
    """An offer whose decision fails (a bug in a door)."""

    delivery: Delivery
    asks: tuple[str, int | None] | None = None

    def decide(self, _known: StoreFacts | None) -> tuple[Delivery, NewJob | None]:
        raise RuntimeError("a door that raises")


@pytest.mark.parametrize("first", ["new", "stored already"])
async def test_an_offer_whose_decision_raises_fails_alone_and_the_batch_is_stored(
    store: Store, first: str
) -> None:
    """Also when the batch is decided again (its first delivery stored already)."""
    if first != "new":
        assert (await store.admit_delivery(delivery("a"), job("a"))).new
    offers: list[Offer] = [
        Decided(delivery("a"), job("a")),
        Raising(delivery("b")),
        Decided(delivery("c")),
    ]
    admitted, _ = await admit_raw(store, offers)
    assert isinstance(admitted[1], ItemFailed) and isinstance(admitted[1].error, RuntimeError)
    news = [a.new for a in (admitted[0], admitted[2]) if isinstance(a, Admission)]
    assert news == [first == "new", True]
    assert await store.get_delivery("b") is None
    assert await store.count_deliveries() == 2


async def test_postgresql_keeps_the_batchs_timeouts_and_locks_when_it_is_undone(
    store: Store,
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite's undo is a rollback: its write lock is taken again")

    def operation(tx: Transaction) -> tuple[Row | None, Row | None, Row | None]:
        store.begin_grouped(tx, ["octo/repo"])
        rows = [job_values(job("j"), 0.0, 5)]
        store.inserts_counted(
            tx, [CountedInsert("jobs", JOB_COLUMNS, rows, "ON CONFLICT DO NOTHING")]
        )
        store.undo_grouped(tx)
        locks = tx.fetchone(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'"
            " AND pid = pg_backend_pid() AND granted"
        )
        timeouts = tx.fetchone(
            "SELECT current_setting('statement_timeout') AS statement,"
            " current_setting('lock_timeout') AS lock"
        )
        return locks, timeouts, tx.fetchone("SELECT count(*) AS n FROM jobs")

    locks, timeouts, jobs = await store.run(operation)
    assert locks is not None and locks["n"] == 1
    assert timeouts is not None and (timeouts["statement"], timeouts["lock"]) == ("4s", "4s")
    assert jobs is not None and jobs["n"] == 0


#: a test trigger: each row a transaction inserts after its first waits for the gate's lock
_PAUSE_AFTER_FIRST_ROW = """
CREATE FUNCTION pause_after_first_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('test.inserted', true) = 'yes' THEN
        PERFORM pg_advisory_xact_lock_shared(%(gate)s);
    END IF;
    PERFORM set_config('test.inserted', 'yes', true);
    RETURN NEW;
END $$;
CREATE TRIGGER pause_after_first_row BEFORE INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION pause_after_first_row();
CREATE TRIGGER pause_after_first_row BEFORE INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION pause_after_first_row();
"""


async def _waiting_for_locks(watcher: psycopg.Connection[Any], count: int) -> None:
    """Until `count` transactions of the database wait for a lock."""
    for _ in range(500):
        row = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        if row is not None and row[0] >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never {count} transactions waiting")


@pytest.mark.parametrize("with_jobs", [False, True])
async def test_two_web_processes_storing_the_same_new_ids_take_turns_not_deadlock(
    store: Store, store_url: str, clock: FakeClock, with_jobs: bool
) -> None:
    """A replay of the same deliveries sent to two web processes at once, batched in opposite
    orders, with nothing to ask the store (so no repository lock orders them). Each batch
    stores its first row, then waits at a gate (a test trigger) until both are there: had
    each inserted in the order its deliveries came, one would hold `a` and the other `b`,
    and each then wait for the other: a deadlock, in which PostgreSQL fails one batch and
    every delivery in it is answered 500. With their jobs (in the order the deliveries came,
    and in the same statement as the deliveries: `Store.inserts_counted`), the deliveries'
    rows must still go first, or the jobs' would cross."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: two transactions never interleave")
    gate = 7_000_001
    ignored = DeliveryOutcome.IGNORED

    def offers(*names: str) -> list[Offer]:
        if with_jobs:
            return [Decided(replace(delivery(name), event="star"), job(name)) for name in names]
        return [Decided(replace(delivery(name), event="star", outcome=ignored)) for name in names]

    with psycopg.connect(store_url, autocommit=True) as watcher:
        watcher.execute(_PAUSE_AFTER_FIRST_ROW % {"gate": gate})
        try:
            watcher.execute("SELECT pg_advisory_lock(%s)", (gate,))
            async with open_store(store_url, clock=clock) as other:
                one = asyncio.ensure_future(admit_raw(store, offers("a", "b")))
                await _waiting_for_locks(watcher, 1)
                two = asyncio.ensure_future(admit_raw(other, offers("b", "a")))
                await _waiting_for_locks(watcher, 2)
                watcher.execute("SELECT pg_advisory_unlock(%s)", (gate,))
                answers = [results for results, _ in await asyncio.gather(one, two)]
        finally:
            watcher.execute("DROP FUNCTION pause_after_first_row CASCADE")

    news = sorted([a.new for a in results if isinstance(a, Admission)] for results in answers)
    assert news == [[False, False], [True, True]]  # one stored both, the other found them
    assert await store.count_deliveries() == 2
    assert len(await store.list_jobs()) == (2 if with_jobs else 0)


@dataclass
class Holding:
    """An offer whose decision waits for `release`: its store's batch is held, so the offers
    made meanwhile gather into the next one."""

    delivery: Delivery
    entered: threading.Event
    release: threading.Event
    asks: tuple[str, int | None] | None = None

    def decide(self, _known: StoreFacts | None) -> tuple[Delivery, NewJob | None]:
        self.entered.set()
        self.release.wait(10)
        return self.delivery, None


async def test_a_batch_a_deadlock_fails_goes_again_and_finds_what_the_other_stored(
    store: Store, store_url: str, clock: FakeClock
) -> None:
    """Two web processes sent the same two bodies under other ids (replays), batched so that
    their ids sort one way and their bodies the other: each stores its first row, waits at
    the gate, then needs the body the other holds, and PostgreSQL aborts one. That batch goes
    again, in halves, and finds the other's deliveries: its own are replays, and no caller is
    answered with the deadlock."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: two transactions never interleave")
    gate = 7_000_002
    release = threading.Event()

    def ignored(name: str, body: str) -> Delivery:
        return replace(delivery(name, body=body), event="star", outcome=DeliveryOutcome.IGNORED)

    one, two = '{"action": "created", "n": "one"}', '{"action": "created", "n": "two"}'
    answers: list[asyncio.Future[Admission]] = []
    with psycopg.connect(store_url, autocommit=True) as watcher:
        watcher.execute(_PAUSE_AFTER_FIRST_ROW % {"gate": gate})
        try:
            watcher.execute("SELECT pg_advisory_lock(%s)", (gate,))
            async with open_store(store_url, clock=clock) as other:
                for each, batch in (
                    (store, [("x", one), ("y", two)]),
                    (other, [("p", two), ("q", one)]),
                ):
                    entered = threading.Event()
                    name = f"held-{batch[0][0]}"
                    held = Holding(ignored(name, f'{{"n": "{name}"}}'), entered, release)
                    answers.append(asyncio.ensure_future(each.admit(held)))
                    await asyncio.to_thread(entered.wait, 10)
                    answers += [
                        asyncio.ensure_future(each.admit(Decided(ignored(name, body))))
                        for name, body in batch
                    ]
                await asyncio.sleep(0.05)  # each store's next batch gathers its two
                release.set()
                await _waiting_for_locks(watcher, 2)
                watcher.execute("SELECT pg_advisory_unlock(%s)", (gate,))
                results = await asyncio.gather(*answers, return_exceptions=True)
        finally:
            release.set()
            for answer in answers:  # none left running should the test fail midway
                answer.cancel()
            watcher.execute("DROP FUNCTION pause_after_first_row CASCADE")

    failed = [result for result in results if isinstance(result, BaseException)]
    assert failed == []
    by_id = dict(zip(["held-x", "x", "y", "held-p", "p", "q"], results, strict=True))
    replays = {
        name: a.replay_of for name, a in by_id.items() if isinstance(a, Admission) and a.replay_of
    }
    assert replays in ({"p": "y", "q": "x"}, {"x": "q", "y": "p"})


async def test_copies_and_replays_in_one_batch_are_settled_as_if_admitted_alone(
    store: Store,
) -> None:
    assert (await store.admit_delivery(delivery("old"), job("old"))).new
    offers = [
        Decided(delivery("a"), job("a")),
        Decided(delivery("a"), job("a")),  # GitHub's redelivery, arriving with the first
        Decided(delivery("b", body='{"same": "body"}'), job("b")),
        Decided(delivery("c", body='{"same": "body"}'), job("c")),  # a replay under a new id
        Decided(delivery("old"), job("old")),  # a redelivery of one stored before
    ]
    admitted, _ = await admit_together(store, offers)
    assert [(a.new, a.replay_of) for a in admitted] == [
        (True, None),
        (False, None),
        (True, None),
        (False, "b"),
        (False, None),
    ]
    keys = sorted(j.idempotency_key for j in await store.list_jobs())
    assert keys == ["delivery:a", "delivery:b", "delivery:old"]
    replay = await store.get_delivery("c")
    assert replay is not None and replay.outcome is DeliveryOutcome.DUPLICATE
    assert replay.body == b""


async def test_a_batch_of_deliveries_without_an_installation_or_a_job_is_stored(
    store: Store,
) -> None:
    """Columns that hold no value in any row of the batch (PostgreSQL sends each column as one
    typed array)."""
    offers = [Decided(delivery(f"n{n}")) for n in range(3)]
    admitted, _ = await admit_together(store, offers)
    assert all(a.new for a in admitted)
    stored = await store.get_delivery("n1")
    assert stored is not None and stored.installation_id is None and stored.reason is None
    assert await store.list_jobs() == []


async def test_the_jobs_a_batch_queues_wake_the_workers_once_it_commits(store: Store) -> None:
    heard: list[int] = []
    stop = store.wake_on_queued(heard.append)
    try:
        delayed = NewJob(kind="k", idempotency_key="later", delay_seconds=60)
        offers = [
            Decided(delivery("x"), job("x")),
            Decided(delivery("y"), job("y")),
            Decided(delivery("z"), delayed),
        ]
        await admit_together(store, offers)
        for _ in range(3):  # the listener is called soon after the commit, on this loop
            await asyncio.sleep(0)
    finally:
        stop()
    assert heard == [2]  # due now: x and y; z's job waits a minute


async def test_the_stored_read_stays_an_index_lookup_as_the_table_grows(store: Store) -> None:
    """The read of a busy batch's ids and bodies, run often while `deliveries` was empty (a
    fresh database), must not keep a plan made for an empty table: on PostgreSQL such a
    prepared statement scanned the whole table in every batch (6 ms a batch and growing)."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite keeps no statistics: its plans do not go by a table's size")
    ids = [f"id-{n}" for n in range(32)]
    hashes = [hashlib.sha256(name.encode()).hexdigest() for name in ids]

    def scans(tx: Transaction) -> int:
        """The whole-table scans of `deliveries` the read made."""
        counted = "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'deliveries'"
        before = tx.fetchone(counted)
        store.stored_deliveries(tx, ids, hashes)
        after = tx.fetchone(counted)
        return int(after["seq_scan"]) - int(before["seq_scan"]) if after and before else 0

    # psycopg prepares a statement at its sixth run; the server plans the prepared statement
    # for its parameters five times, then may keep one generic plan (made for an empty table)
    for _ in range(15):
        await store.run(scans)
    await store.run(
        lambda tx: tx.execute(
            "INSERT INTO deliveries (id, event, outcome, body, received_at, body_hash)"
            " SELECT 'grown-' || n, 'issues', 'queued', '\\x00', 0, md5(n::text)"
            " FROM generate_series(1, 100000) AS n"
        )
    )
    assert [await store.run(scans) for _ in range(3)] == [0, 0, 0]
