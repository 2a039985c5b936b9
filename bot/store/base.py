"""The store interface: deliveries and the job queue, one SQL implementation for both backends.

Each operation is a short synchronous function over a `Transaction`; a backend decides how to
run it off the event loop (SQLite: one dedicated thread; PostgreSQL: a connection pool).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from bot.errors import StoreError
from bot.store.group_commit import DEADLINE, GroupCommit, ItemFailed
from bot.store.models import Delivery, DeliveryOutcome, Job, JobState, NewJob

if TYPE_CHECKING:
    from bot.store.repo_configs import StoreFacts

T = TypeVar("T")
Row = Mapping[str, Any]
Clock = Callable[[], float]
#: told how many jobs a committed transaction queued to run now
Wake = Callable[[int], None]

DEFAULT_MAX_ATTEMPTS = 5


class CountedInsert(NamedTuple):
    """An insert whose rows stored are counted (`Store.inserts_counted`)."""

    table: str
    columns: str
    rows: list[tuple[Any, ...]]
    #: a conflict clause that does nothing
    tail: str


@dataclass(frozen=True)
class Admission:
    """What became of a delivery offered to the store."""

    #: stored for the first time (with its job, if any)
    new: bool
    #: the delivery whose body this one repeats (recorded as a duplicate), if any
    replay_of: str | None = None
    #: the delivery as stored (with the outcome the door decided in the transaction)
    delivery: Delivery | None = None
    #: a redelivery of a delivery dropped earlier that the door now admits (queued once)
    readmitted: bool = False


class Offer(Protocol):
    """A delivery offered to the store, its outcome decided inside the admitting transaction
    from what the store knows (`bot.store.admission`)."""

    #: (repository, issue or pull request number) whose facts in the store the decision
    #: needs; None: the delivery alone decides. Admissions that ask about one repository
    #: take turns across processes.
    @property
    def asks(self) -> tuple[str, int | None] | None: ...

    #: the delivery as offered: `decide` may change its outcome and reason, never its id or body
    @property
    def delivery(self) -> Delivery: ...

    def decide(self, known: StoreFacts | None) -> tuple[Delivery, NewJob | None]:
        """The delivery to store and its job; may run again should its batch be retried."""
        ...


@dataclass(frozen=True)
class Decided:
    """An offer decided before it is made."""

    delivery: Delivery
    job: NewJob | None = None
    asks: tuple[str, int | None] | None = None

    def decide(self, _known: StoreFacts | None) -> tuple[Delivery, NewJob | None]:
        return self.delivery, self.job


class SchemaTooNew(StoreError):
    """The database was migrated by a newer Triad; this one must not write to it."""


class SchemaNotCurrent(StoreError):
    """Opened without migrating (an operator command), the schema is not this code's."""


class Transaction(Protocol):
    """What a store operation may do inside one database transaction."""

    #: jobs it queued to run now (`Store.jobs_queued`): announced once it commits
    jobs_due: int

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def fetchall(
        self, sql: str, params: Sequence[Any] = (), *, planned_each_time: bool = False
    ) -> list[Row]:
        """Every row; `planned_each_time`: never as a prepared statement (PostgreSQL), for a
        lookup whose best plan depends on its parameters and on how big the table is now."""
        ...

    def run_before_next(self, statements: list[str]) -> None:
        """Statements without parameters, run before the transaction's next statement:
        PostgreSQL sends them with it where it can, in one round trip, and not at all when
        no statement follows (SQLite runs them at once)."""
        ...


class Store(ABC):
    """Deliveries, jobs (leases, attempts, backoff, dead letters) and, later, workflows."""

    dialect: str
    #: appended to the claim's inner SELECT so concurrent workers skip each other's rows
    lock_clause: str = ""
    #: group commit's batches under way at once
    commits_under_way: int = 1
    #: seconds a grouped operation (a delivery's admission) waits at most: `TimeoutError`
    admission_deadline: float = DEADLINE

    def __init__(self, clock: Clock = time.time, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        self.clock = clock
        #: attempts a job gets when it does not ask for its own number (TRIAD_JOB_MAX_ATTEMPTS)
        self.max_attempts = max_attempts
        self._admissions: GroupCommit[Offer, Admission] | None = None
        #: this process's listeners for jobs its own transactions queue (`wake_on_queued`)
        self._local_wakes: list[tuple[asyncio.AbstractEventLoop, Wake]] = []

    # -- lifecycle -------------------------------------------------------------------------

    @abstractmethod
    async def open(self, *, migrate: bool = True) -> None:
        """Connect and apply pending migrations; with `migrate=False` (operator commands),
        connect to an existing database only and refuse a schema that is not this code's."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def run(self, operation: Callable[[Transaction], T]) -> T:
        """Run `operation` in one transaction, off the event loop, and return its result."""

    def begin_grouped(self, tx: Transaction, keys: list[str]) -> None:  # noqa: B027 (a hook)
        """Prepare a grouped transaction, the batch's alone: bound its statements' time, and
        serialise it with other processes' transactions about each of `keys` until it commits
        (PostgreSQL: statement and lock timeouts, advisory locks, and the savepoint
        `undo_grouped` goes back to; SQLite's write lock already serialises every
        transaction)."""

    @abstractmethod
    def undo_grouped(self, tx: Transaction) -> None:
        """Undo what a grouped transaction wrote (`begin_grouped` is its first statement), so
        what it reads and writes next is as if it had written nothing. It is then serialised
        again, though another writer may have written meanwhile (SQLite: the write lock is let
        go and taken again); `tx.jobs_due` is not undone."""

    def keep_body(self, body: bytes) -> bytes:
        """A delivery's body as this backend stores it (`sent_body` gives it back): as sent,
        unless the backend packs it (SQLite: `bot.store.bodies`)."""
        return body

    def sent_body(self, kept: bytes | memoryview) -> bytes:
        """A stored delivery's body as it was sent, from what `keep_body` kept."""
        return bytes(kept)

    def database_failed(self, _error: BaseException) -> bool:
        """Whether an error an operation raised is the database's own (connection, lock,
        timeout, disk): every operation of its batch would fail alike."""
        return False

    async def listen_for_jobs(self, wake: Callable[[int], None]) -> None:  # noqa: B027 (a hook)
        """Call `wake(jobs)` whenever another process queues jobs to run now, until cancelled.
        A backend that cannot tell returns at once: its workers find jobs at their poll."""

    def jobs_queued(self, tx: Transaction, count: int = 1) -> None:
        """`tx` queued `count` jobs to run now: once it commits, this process's listeners are
        told (`wake_on_queued`), and other processes' where the backend can (`listen_for_jobs`)."""
        tx.jobs_due += count

    def wake_on_queued(self, wake: Wake) -> Callable[[], None]:
        """Call `wake(jobs)` on the calling event loop whenever a transaction of this store
        commits jobs queued to run now (a stage's next job, a delivery's, a retried one), so
        an idle worker of this process claims it at once rather than at its next poll; the
        function returned stops it. Every listener hears every job (a process runs one pool)."""
        listener = (asyncio.get_running_loop(), wake)
        self._local_wakes.append(listener)

        def stop() -> None:
            with contextlib.suppress(ValueError):  # stopped already
                self._local_wakes.remove(listener)

        return stop

    def _committed(self, tx: Transaction) -> None:
        """`tx` committed (called from the thread that ran it): tell the listeners of its jobs.
        Never raises: the transaction is committed whatever a listener's loop does."""
        if not tx.jobs_due:
            return
        for loop, wake in list(self._local_wakes):  # a copy: a pool may stop meanwhile
            with contextlib.suppress(RuntimeError):  # its loop closed without unsubscribing
                loop.call_soon_threadsafe(wake, tx.jobs_due)

    def submit(self, operation: Callable[[Transaction], T]) -> asyncio.Future[T]:
        """`run`, started now rather than when a task next gets the loop (group commit starts
        a batch from a callback); backends start their thread's work at once."""
        return asyncio.ensure_future(self.run(operation))

    @property
    def grouped_commits(self) -> int:
        """Transactions so far that admitted more than one delivery."""
        return self._admissions.batches if self._admissions is not None else 0

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        await self.run(lambda tx: tx.fetchone("SELECT 1 AS ok"))

    def pending_migrations(self, applied: set[int]) -> list[tuple[int, str, str]]:
        """The shipped migrations not yet applied; refuses a schema newer than this code."""
        known = self.migrations()
        newest = max((version for version, _, _ in known), default=0)
        if applied and max(applied) > newest:
            raise SchemaTooNew(
                f"the database schema is at version {max(applied)}, newer than this Triad "
                f"knows (up to {newest}): run the Triad release that upgraded it, or restore "
                "the backup taken before the upgrade"
            )
        return [migration for migration in known if migration[0] not in applied]

    def require_current_schema(self, applied: set[int]) -> None:
        """Refuse a schema older or newer than this code, saying what to do (never migrate)."""
        self.pending_migrations(applied)  # newer: SchemaTooNew
        known = [version for version, _, _ in self.migrations()]
        if not applied:
            raise SchemaNotCurrent(
                "the database has no Triad schema: is this the servers' database? "
                "`triad serve` or `triad worker` creates the schema when it starts"
            )
        if set(known) - applied:
            raise SchemaNotCurrent(
                f"the database schema is at version {max(applied)}, older than this Triad's "
                f"{max(known)}: operator commands never migrate; start this release's "
                "`triad serve` or `triad worker` once (servers migrate at start), then retry"
            )

    async def schema_version(self) -> int:
        """The newest migration applied to the database (0 for an empty one)."""
        row = await self.run(
            lambda tx: tx.fetchone("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        )
        return int(row["v"]) if row else 0

    def migrations(self) -> list[tuple[int, str, str]]:
        """(version, name, sql) of every migration shipped for this dialect, in order."""
        folder = resources.files("bot.store.migrations").joinpath(self.dialect)
        found = []
        for entry in folder.iterdir():
            if entry.name.endswith(".sql"):
                version = int(entry.name.split("_", 1)[0])
                found.append((version, entry.name, entry.read_text()))
        return sorted(found)

    # -- deliveries ------------------------------------------------------------------------

    async def record_delivery(self, delivery: Delivery, job: NewJob | None = None) -> bool:
        """Store a delivery and its job atomically; False when this delivery id was seen before."""
        return (await self.admit_delivery(delivery, job)).new

    async def admit_delivery(self, delivery: Delivery, job: NewJob | None = None) -> Admission:
        """Store a delivery and its job atomically, unless its id or its body was seen before.

        A delivery whose `body_hash` matches an earlier delivery's is a replay: it is recorded
        (outcome `duplicate`, without its body or job) and the earlier delivery is named.
        """
        return await self.admit(Decided(delivery, job))

    async def admit(self, offer: Offer) -> Admission:
        """`admit_delivery` for a delivery whose outcome the offer decides inside the admitting
        transaction from what the store knows (deliveries admitted together see each other).

        Concurrent admissions share one transaction and one commit (group commit,
        `bot.store.admission`); each returns once its own transaction is committed, or raises
        `TimeoutError` after `admission_deadline`. A redelivery (same id) of a delivery stored
        as ignored that the offer now queues is readmitted: its outcome becomes queued and its
        one job is queued."""
        if self._admissions is None:
            self._admissions = GroupCommit(
                self._admit_batch,
                parallel=self.commits_under_way,
                deadline=self.admission_deadline,
                fatal=self.database_failed,
            )
        return await self._admissions.run(offer)

    def _admit_batch(self, offers: list[Offer]) -> asyncio.Future[list[Admission | ItemFailed]]:
        from bot.store.admission import admit_batch  # it builds on this module

        now = self.clock()
        return self.submit(lambda tx: admit_batch(self, tx, offers, now))

    def insert_rows(
        self, tx: Transaction, table: str, columns: str, rows: list[tuple[Any, ...]], tail: str
    ) -> list[Row]:
        """Insert `rows` (values in the order of `columns`) in one statement ending in `tail`
        (a conflict clause, `RETURNING`); the rows it returns."""
        return tx.fetchall(
            values_insert(table, columns, len(rows), tail), [v for row in rows for v in row]
        )

    def settle_refused(
        self, tx: Transaction, delivery: Delivery, job: NewJob | None, now: float
    ) -> tuple[Admission, NewJob | None]:
        """A delivery the insert refused, and the job to queue for it: a redelivery of a
        stored id (readmitted, with `job`, when it was dropped, is now queued and carries the
        same body), or a replay of a stored body under a new id (recorded as a duplicate,
        without its body or job). A readmission counts only once its job is queued."""
        seen = tx.fetchone("SELECT outcome FROM deliveries WHERE id = ?", (delivery.id,))
        if seen is not None:
            if job is not None and self._readmit(tx, seen["outcome"], delivery):
                return Admission(new=True, delivery=delivery, readmitted=True), job
            return Admission(new=False), None
        original = self._replayed(tx, delivery)
        replay = replace(
            delivery,
            outcome=DeliveryOutcome.DUPLICATE,
            body=b"",
            reason=f"the body of delivery {original} sent again under a new delivery id",
        )
        self.insert_deliveries(tx, [replay], now)
        return Admission(new=False, replay_of=original), None

    def _readmit(self, tx: Transaction, stored: str, delivery: Delivery) -> bool:
        """Mark queued a delivery stored as ignored that the door now admits (its body again
        too, in case it was pruned), only when the redelivery carries the body it was stored
        with: another signed body sent under its id must not be acted on as it."""
        if stored != DeliveryOutcome.IGNORED.value or delivery.body_hash is None:
            return False
        return bool(
            tx.execute(
                "UPDATE deliveries SET outcome = ?, reason = NULL, body = ?,"
                " body_pruned_at = NULL WHERE id = ? AND outcome = ? AND body_hash = ?",
                (
                    delivery.outcome.value,
                    self.keep_body(delivery.body),
                    delivery.id,
                    DeliveryOutcome.IGNORED.value,
                    delivery.body_hash,
                ),
            )
        )

    def stored_deliveries(self, tx: Transaction, ids: list[str], hashes: list[str]) -> list[Row]:
        """The stored deliveries (id, outcome, body_hash) with one of `ids`, or one of `hashes`
        as the hash of a body they hold (replays hold none), in one indexed read."""
        return tx.fetchall(
            "SELECT id, outcome, body_hash FROM deliveries"
            " WHERE id IN (SELECT value FROM json_each(?))"
            " UNION SELECT id, outcome, body_hash FROM deliveries"
            " WHERE body_hash IN (SELECT value FROM json_each(?)) AND outcome <> 'duplicate'",
            (json.dumps(ids), json.dumps(hashes)),
        )

    def _replayed(self, tx: Transaction, delivery: Delivery) -> str | None:
        """The earlier delivery with the same body, if any."""
        if delivery.body_hash is None:
            return None
        row = tx.fetchone(
            "SELECT id FROM deliveries WHERE body_hash = ? AND outcome <> ?",
            (delivery.body_hash, DeliveryOutcome.DUPLICATE.value),
        )
        return str(row["id"]) if row else None

    def inserts_counted(self, tx: Transaction, inserts: list[CountedInsert]) -> list[int]:
        """How many rows each of `inserts` stored, where which ones is not needed
        (PostgreSQL: the inserts with rows in one statement; an insert of no rows stores none
        and sends nothing). Each tail is a conflict clause that does nothing: one that updated
        a row would be counted differently on each backend."""
        for insert in inserts:
            if not insert.tail.endswith("DO NOTHING"):
                raise ValueError(
                    f"a counted insert does nothing on a conflict, not {insert.tail!r}"
                )
        counted = iter(self._inserts_counted(tx, [insert for insert in inserts if insert.rows]))
        return [next(counted) if insert.rows else 0 for insert in inserts]

    def _inserts_counted(self, tx: Transaction, inserts: list[CountedInsert]) -> list[int]:
        """`inserts_counted` of inserts with rows, their clauses checked: one after another."""
        return [self._insert_counted(tx, *insert) for insert in inserts]

    @abstractmethod
    def _insert_counted(
        self, tx: Transaction, table: str, columns: str, rows: list[tuple[Any, ...]], tail: str
    ) -> int:
        """One insert of `inserts_counted`, its clause checked: how many of `rows` it stored."""

    def delivery_rows(self, deliveries: list[Delivery], now: float) -> list[tuple[Any, ...]]:
        """The deliveries' rows in the order of `DELIVERY_COLUMNS`, each body as kept here.

        Sorted by id: two web processes storing the same new ids (a replay sent to both) then
        take the ids' index entries in one order, so one waits for the other and finds them
        stored, where opposite orders deadlocked. Each is received at `now` plus a microsecond
        for each delivery before it in `deliveries`, so their arrival order stays in the
        store whatever order they are inserted in (readmission goes by it)."""
        rows = [
            delivery_values(each, now + index * 1e-6, self.keep_body(each.body))
            for index, each in enumerate(deliveries)
        ]
        rows.sort(key=itemgetter(0))  # the id
        return rows

    def insert_deliveries(
        self, tx: Transaction, deliveries: list[Delivery], now: float
    ) -> set[str]:
        """The ids inserted, each body as this backend keeps it; a delivery whose id or body's
        hash is stored already is not: the unique indexes decide."""
        if not deliveries:
            return set()
        rows = self.insert_rows(
            tx,
            "deliveries",
            DELIVERY_COLUMNS,
            self.delivery_rows(deliveries, now),
            "ON CONFLICT DO NOTHING RETURNING id",
        )
        return {row["id"] for row in rows}

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        row = await self.run(
            lambda tx: tx.fetchone("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        )
        if row is None:
            return None
        return Delivery(
            id=row["id"],
            event=row["event"],
            action=row["action"],
            installation_id=row["installation_id"],
            repository=row["repository"],
            sender=row["sender"],
            outcome=DeliveryOutcome(row["outcome"]),
            body=self.sent_body(row["body"]),
            received_at=row["received_at"],
            body_pruned_at=row["body_pruned_at"],
            body_hash=row["body_hash"],
            reason=row["reason"],
        )

    async def count_deliveries(self) -> int:
        row = await self.run(lambda tx: tx.fetchone("SELECT COUNT(*) AS n FROM deliveries"))
        return int(row["n"]) if row else 0

    # -- jobs ------------------------------------------------------------------------------

    async def enqueue(self, job: NewJob) -> int | None:
        """Queue a job; None when a job with the same idempotency key already exists."""
        now = self.clock()
        return await self.run(lambda tx: self._insert_job(tx, job, now))

    def _insert_job(self, tx: Transaction, job: NewJob, now: float) -> int | None:
        rows = self.insert_rows(
            tx,
            "jobs",
            JOB_COLUMNS,
            [job_values(job, now, self.max_attempts)],
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        if not rows:
            return None
        if job.delay_seconds <= 0:
            self.jobs_queued(tx)
        return int(rows[0]["id"])

    async def claim(
        self, worker_id: str, lease_seconds: float, kinds: Sequence[str] | None = None
    ) -> Job | None:
        """Lease the next due job to `worker_id`: a queued one, or one whose lease expired.

        A job whose lease expired on its last allowed attempt is dead-lettered instead.
        """
        now = self.clock()
        kind_filter = ""
        kind_params: tuple[str, ...] = ()
        if kinds:
            kind_filter = f" AND kind IN ({', '.join('?' for _ in kinds)})"
            kind_params = tuple(kinds)

        def operation(tx: Transaction) -> Job | None:
            tx.execute(
                "UPDATE jobs SET state = ?, finished_at = ?, lease_owner = NULL,"
                " lease_expires_at = NULL, last_error = ? || lease_owner"
                " WHERE state = ? AND lease_expires_at < ? AND attempts >= max_attempts",
                (
                    JobState.DEAD.value,
                    now,
                    "lease expired on the last attempt; worker was ",
                    JobState.RUNNING.value,
                    now,
                ),
            )
            row = tx.fetchone(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, lease_owner = ?,"
                " lease_expires_at = ? WHERE id = ("
                " SELECT id FROM jobs WHERE ((state = ? AND run_at <= ?)"
                " OR (state = ? AND lease_expires_at < ?))" + kind_filter + ""
                " ORDER BY run_at, id LIMIT 1" + self.lock_clause + ") RETURNING *",
                (
                    JobState.RUNNING.value,
                    worker_id,
                    now + lease_seconds,
                    JobState.QUEUED.value,
                    now,
                    JobState.RUNNING.value,
                    now,
                    *kind_params,
                ),
            )
            return job_from_row(row) if row else None

        return await self.run(operation)

    async def renew_leases(
        self, held: Sequence[tuple[int, str]], lease_seconds: float
    ) -> set[tuple[int, str]]:
        """A worker's heartbeat: extend the lease of each (job id, lease owner) still held, and
        so the transition claims those jobs hold; returns the pairs renewed. A job missing from
        them was taken by another worker, has ended, or its lease lapsed: a lapsed lease is
        never renewed, since its claims may have been taken by another job meanwhile."""
        if not held:
            return set()
        now = self.clock()
        pairs = " OR ".join("(id = ? AND lease_owner = ?)" for _ in held)
        rows = await self.run(
            lambda tx: tx.fetchall(
                "UPDATE jobs SET lease_expires_at = ? WHERE state = ? AND lease_expires_at > ?"
                f" AND ({pairs}) RETURNING id, lease_owner",
                (
                    now + lease_seconds,
                    JobState.RUNNING.value,
                    now,
                    *(value for pair in held for value in pair),
                ),
            )
        )
        return {(int(row["id"]), str(row["lease_owner"])) for row in rows}

    async def complete(self, job_id: int, worker_id: str) -> bool:
        now = self.clock()
        changed = await self.run(
            lambda tx: tx.execute(
                "UPDATE jobs SET state = ?, finished_at = ?, lease_owner = NULL,"
                " lease_expires_at = NULL WHERE id = ? AND lease_owner = ? AND state = ?",
                (JobState.DONE.value, now, job_id, worker_id, JobState.RUNNING.value),
            )
        )
        return bool(changed)

    async def fail(
        self, job_id: int, worker_id: str, error: str, retry_in: float | None
    ) -> JobState | None:
        """Record a failed attempt: retry after `retry_in` seconds, or dead-letter the job.

        The job is dead when `retry_in` is None or it has used all its attempts. Returns the new
        state, or None when the lease was no longer this worker's.
        """
        now = self.clock()

        def operation(tx: Transaction) -> JobState | None:
            row = tx.fetchone(
                "SELECT attempts, max_attempts FROM jobs WHERE id = ? AND lease_owner = ?"
                " AND state = ?",
                (job_id, worker_id, JobState.RUNNING.value),
            )
            if row is None:
                return None
            exhausted = retry_in is None or row["attempts"] >= row["max_attempts"]
            state = JobState.DEAD if exhausted else JobState.QUEUED
            # the owner again: on PostgreSQL another worker may claim the job between the two
            # statements (this one then waits for its lock and finds the row no longer ours)
            changed = tx.execute(
                "UPDATE jobs SET state = ?, last_error = ?, run_at = ?, finished_at = ?,"
                " lease_owner = NULL, lease_expires_at = NULL"
                " WHERE id = ? AND lease_owner = ? AND state = ?",
                (
                    state.value,
                    error[-4000:],
                    now + (retry_in or 0.0),
                    now if exhausted else None,
                    job_id,
                    worker_id,
                    JobState.RUNNING.value,
                ),
            )
            return state if changed else None

        return await self.run(operation)

    async def release(self, job_id: int, worker_id: str) -> bool:
        """Give a claimed job back untouched (a draining worker); its attempt is not counted."""
        now = self.clock()

        def operation(tx: Transaction) -> bool:
            changed = tx.execute(
                "UPDATE jobs SET state = ?, attempts = attempts - 1, run_at = ?,"
                " lease_owner = NULL, lease_expires_at = NULL"
                " WHERE id = ? AND lease_owner = ? AND state = ?",
                (JobState.QUEUED.value, now, job_id, worker_id, JobState.RUNNING.value),
            )
            if changed:  # another process's worker may take it at once
                self.jobs_queued(tx)
            return bool(changed)

        return await self.run(operation)

    async def get_job(self, job_id: int) -> Job | None:
        row = await self.run(lambda tx: tx.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,)))
        return job_from_row(row) if row else None

    async def list_jobs(self, state: JobState | None = None) -> list[Job]:
        if state is None:
            rows = await self.run(lambda tx: tx.fetchall("SELECT * FROM jobs ORDER BY id"))
        else:
            rows = await self.run(
                lambda tx: tx.fetchall(
                    "SELECT * FROM jobs WHERE state = ? ORDER BY id", (state.value,)
                )
            )
        return [job_from_row(row) for row in rows]

    async def job_counts(self) -> dict[JobState, int]:
        rows = await self.run(
            lambda tx: tx.fetchall("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        )
        counts = dict.fromkeys(JobState, 0)
        counts.update({JobState(row["state"]): int(row["n"]) for row in rows})
        return counts

    async def queue_depth(self) -> int:
        """Jobs due now and not yet claimed."""
        now = self.clock()
        row = await self.run(
            lambda tx: tx.fetchone(
                "SELECT COUNT(*) AS n FROM jobs WHERE state = ? AND run_at <= ?",
                (JobState.QUEUED.value, now),
            )
        )
        return int(row["n"]) if row else 0


def job_from_row(row: Row) -> Job:
    return Job(
        id=int(row["id"]),
        kind=row["kind"],
        idempotency_key=row["idempotency_key"],
        payload=json.loads(row["payload"]),
        state=JobState(row["state"]),
        attempts=int(row["attempts"]),
        max_attempts=int(row["max_attempts"]),
        run_at=float(row["run_at"]),
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        last_error=row["last_error"],
        created_at=float(row["created_at"]),
        finished_at=row["finished_at"],
        reported_at=row["reported_at"],
        reported_how=row["reported_how"],
    )


#: the columns every insert of a delivery names, in the order of `delivery_values`
DELIVERY_COLUMNS = (
    "id, event, action, installation_id, repository, sender, outcome, body, received_at,"
    " body_hash, reason"
)
#: the columns every insert of a job names, in the order of `job_values`
JOB_COLUMNS = (
    "kind, idempotency_key, payload, state, attempts, max_attempts, run_at, created_at, repository"
)


@functools.lru_cache(maxsize=512)
def values_insert(table: str, columns: str, rows: int, tail: str, verb: str = "INSERT") -> str:
    """An insert of `rows` rows (one text per size: the database reuses its plan); `verb`:
    SQLite's `INSERT OR IGNORE`, say."""
    row = "(" + ", ".join("?" * (columns.count(",") + 1)) + ")"
    return f"{verb} INTO {table} ({columns}) VALUES " + ", ".join([row] * rows) + " " + tail


def job_values(job: NewJob, now: float, max_attempts: int) -> tuple[Any, ...]:
    """A new job's row in the order of `JOB_COLUMNS` (`max_attempts` unless it asks its own)."""
    return (
        job.kind,
        job.idempotency_key,
        json.dumps(job.payload),
        JobState.QUEUED.value,
        0,
        job.max_attempts or max_attempts,
        now + job.delay_seconds,
        now,
        job.repository,
    )


def delivery_values(delivery: Delivery, now: float, body: bytes) -> tuple[Any, ...]:
    """A delivery's row in the order of `DELIVERY_COLUMNS`, with `body` as the store keeps it
    (`Store.keep_body`); a replay keeps no body hash (the original holds it, uniquely)."""
    replay = delivery.outcome is DeliveryOutcome.DUPLICATE
    return (
        delivery.id,
        delivery.event,
        delivery.action,
        delivery.installation_id,
        delivery.repository,
        delivery.sender,
        delivery.outcome.value,
        body,
        now,
        None if replay else delivery.body_hash,
        delivery.reason,
    )
