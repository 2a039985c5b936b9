"""The scale-out store: PostgreSQL, shared by any number of web and worker processes."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from bot.errors import StoreError
from bot.store.base import (
    DEFAULT_MAX_ATTEMPTS,
    Clock,
    CountedInsert,
    Row,
    Store,
    Transaction,
)
from bot.store.wakeups import Announcer, listen_for_jobs

T = TypeVar("T")

#: seconds a statement of a grouped (admitting) transaction may take: below the group's deadline
ADMISSION_TIMEOUT = 4.0

#: SQLSTATE class 40, transaction rollback: a deadlock (40P01), a serialization failure
#: (40001) and their kin (psycopg's classes for them do not share a base but OperationalError)
_TRANSACTION_ROLLBACK = "40"

#: the savepoint a grouped transaction sets once it holds its locks
_GROUPED = "grouped"

# Any number of processes may start at once; one of them applies the migrations.
_MIGRATION_LOCK_ID = 0x7472696164  # "triad"


class _PostgresTransaction:
    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection
        self.jobs_due = 0
        #: statements without parameters not sent yet (`run_before_next`): they go in the
        #: text of the next read planned each time, one round trip for both, or alone before
        #: any other statement
        self._pending: str | None = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._send_pending()
        return self._connection.execute(_placeholders(sql), params).rowcount

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self._send_pending()
        return self._connection.execute(_placeholders(sql), params).fetchone()

    def fetchall(
        self, sql: str, params: Sequence[Any] = (), *, planned_each_time: bool = False
    ) -> list[Row]:
        """psycopg prepares a statement once it has run five times, and the server may then
        keep one plan for it, made for the table as it was: one prepared while `deliveries`
        was nearly empty scanned the whole table on every run (6 ms a batch and growing, on a
        fresh database) until an ANALYZE replaced it. `planned_each_time` opts out."""
        # binary parameters (`%b`) cannot be bound as literals: the pending text goes alone
        if planned_each_time and self._pending is not None and "%b" not in sql:
            return self._after_pending(self._pending, _placeholders(sql), params)
        self._send_pending()
        prepare = False if planned_each_time else None
        return self._connection.execute(_placeholders(sql), params, prepare=prepare).fetchall()

    def run_before_next(self, statements: list[str]) -> None:
        self._send_pending()
        self._pending = "; ".join(statements)

    def _send_pending(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._connection.execute(pending)

    def _after_pending(self, pending: str, sql: str, params: Sequence[Any]) -> list[Row]:
        """The statements `pending` and then `sql`, as one text: its parameters bound by psycopg
        as quoted literals (a text of statements cannot carry parameters of its own), the rows
        of its last statement read. One round trip where there were two: each cost the batch
        about 0.3-0.6 ms of waiting for the server and then for the GIL."""
        self._pending = None  # sent now (a transaction that raises is undone)
        cursor = psycopg.ClientCursor(self._connection, row_factory=dict_row)
        # the text is psycopg's to format: a % of the statements pending is a literal one
        cursor.execute(f"{pending.replace('%', '%%')}; {sql}", params)
        while cursor.nextset():
            pass
        rows: list[Row] = [*cursor.fetchall()]
        return rows


#: the oldest server Triad runs on: from 13, a `statement_timeout` set in a text of statements
#: bounds the statements after it in that text (a grouped transaction's facts read is one)
OLDEST_SERVER = 130000


def require_supported(server_version: int) -> None:
    """Refuse a server older than `OLDEST_SERVER` (`server_version_num`, as libpq gives it)."""
    if server_version < OLDEST_SERVER:
        raise StoreError(
            f"PostgreSQL {server_version // 10000} is too old: Triad needs PostgreSQL"
            f" {OLDEST_SERVER // 10000} or newer"
        )


def _one_line(exc: Exception) -> str:
    """psycopg's message, which spans lines (one per address tried), as one line."""
    return " ".join(str(exc).split())


def _applied_versions(tx: Transaction) -> set[int]:
    table = tx.fetchone("SELECT to_regclass('schema_migrations') IS NOT NULL AS found")
    if table is None or not table["found"]:
        return set()
    return {int(row["version"]) for row in tx.fetchall("SELECT version FROM schema_migrations")}


#: the PostgreSQL type of each column `insert_rows` may be given
_COLUMN_TYPES = {
    "deliveries": {
        "id": "text",
        "event": "text",
        "action": "text",
        "installation_id": "bigint",
        "repository": "text",
        "sender": "text",
        "outcome": "text",
        "body": "bytea",
        "received_at": "float8",
        "body_hash": "text",
        "reason": "text",
    },
    "jobs": {
        "kind": "text",
        "idempotency_key": "text",
        "payload": "text",
        "state": "text",
        "attempts": "integer",
        "max_attempts": "integer",
        "run_at": "float8",
        "created_at": "float8",
        "repository": "text",
    },
}


def advisory_key(key: str) -> int:
    """The advisory lock of `key` (a repository's full name)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def _unnest_insert(table: str, columns: str, tail: str) -> str:
    """An insert of `columns` from one binary array each (`_by_column`), ending in `tail`."""
    types = _COLUMN_TYPES[table]
    arrays = ", ".join(f"%b::{types[name.strip()]}[]" for name in columns.split(","))
    return f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {tail}"


def _by_column(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def _placeholders(sql: str) -> str:
    """The shared SQL uses sqlite's `?`; psycopg wants `%s`."""
    return sql.replace("?", "%s")


class PostgresStore(Store):
    """PostgreSQL through a psycopg connection pool; workers claim with FOR UPDATE SKIP LOCKED."""

    dialect = "postgresql"
    lock_clause = " FOR UPDATE SKIP LOCKED"
    #: one batch at a time, as on SQLite: a batch is a few statements, so overlapping the next
    #: one with a commit saved less than a second thread's contention for the GIL cost (9% fewer
    #: deliveries/s with two, in-process; see the README's Benchmarks)
    commits_under_way = 1

    def __init__(
        self,
        url: str,
        clock: Clock = time.time,
        pool_size: int = 8,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        super().__init__(clock, max_attempts)
        self.url = url
        self._pool_size = pool_size
        self._pool: ConnectionPool[Any] | None = None
        #: tells other processes of jobs this one queued (`bot.store.wakeups`)
        self._announcer = Announcer(uuid.uuid4().hex[:12])

    async def open(self, *, migrate: bool = True) -> None:
        await asyncio.to_thread(self._check_server)
        pool: ConnectionPool[Any] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self._pool_size,
            kwargs={"row_factory": dict_row, "autocommit": False},
            open=False,
        )
        try:
            await asyncio.to_thread(pool.open, wait=True, timeout=10.0)
        except Exception as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        self._pool = pool
        self._announcer.open(self.url)
        try:
            if migrate:
                await self.run(self._migrate)
            else:
                self.require_current_schema(await self.run(_applied_versions))
        except BaseException:
            await self.close()
            raise

    def _check_server(self) -> None:
        """Connect once, so a server that is down or a database that is missing is named at
        once with the server's own words (the pool would retry quietly until its timeout),
        and one too old for Triad is refused."""
        try:
            with psycopg.connect(self.url, connect_timeout=5) as connection:
                version = connection.info.server_version
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {_one_line(exc)}") from None
        require_supported(version)

    async def close(self) -> None:
        if self._pool is not None:
            await asyncio.to_thread(self._announcer.close)
            await asyncio.to_thread(self._pool.close)
            self._pool = None

    async def run(self, operation: Callable[[Transaction], T]) -> T:
        return await asyncio.to_thread(self._in_transaction, operation)

    def submit(self, operation: Callable[[Transaction], T]) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(None, self._in_transaction, operation)

    async def listen_for_jobs(self, wake: Callable[[int], None]) -> None:
        await listen_for_jobs(self.url, wake, self._announcer.token)

    def begin_grouped(self, tx: Transaction, keys: list[str]) -> None:
        """A grouped transaction's statements and lock waits end within the group's deadline
        (`lock_timeout` too, as it was before Triad required PostgreSQL 13: `statement_timeout`
        set in a text of statements did not always bound the statements after it): a stuck one
        is cancelled rather than holding its batch's callers.

        Transaction-scoped advisory locks on the keys' hashes: web processes admitting
        deliveries of one repository take turns (the door reads what the other stored); taken
        in ascending order in one statement, so batches that share repositories wait for each
        other but never deadlock. Then the savepoint `undo_grouped` rolls back to: the batch's
        rows are written in a subtransaction, one more transaction id a batch (two when it
        falls back).

        They go as one text of statements, in one round trip after the BEGIN (psycopg waits
        for its BEGIN's answer), so the server reads it as one simple query: as a pipeline,
        psycopg spent 0.2 ms more of its own CPU a batch. The text ends with the batch's read
        of the store's facts, its parameters (from the deliveries) bound by psycopg as quoted
        literals (`Transaction.run_before_next`); or it goes alone before any other
        statement."""
        bound = int(ADMISSION_TIMEOUT * 1000)
        statements = [f"SET LOCAL statement_timeout = {bound}", f"SET LOCAL lock_timeout = {bound}"]
        if keys:
            hashes = ",".join(str(key) for key in sorted({advisory_key(key) for key in keys}))
            # a function scan yields the array's elements in order, each locked as it comes
            locks = f"SELECT pg_advisory_xact_lock(k) FROM unnest('{{{hashes}}}'::bigint[]) AS k"
            statements.append(locks)
        statements.append(f"SAVEPOINT {_GROUPED}")
        tx.run_before_next(statements)

    def undo_grouped(self, tx: Transaction) -> None:
        """Back to the savepoint: the timeouts and locks stay. psycopg takes the ROLLBACK for
        a reason to forget the connection's prepared statements (a DEALLOCATE ALL, and each is
        prepared again after five more runs): a cost of the rare batch that falls back."""
        tx.execute(f"ROLLBACK TO SAVEPOINT {_GROUPED}")

    def database_failed(self, error: BaseException) -> bool:
        """A deadlock or a serialization failure is not: another transaction's rows were in
        the batch's way (a replay sent to two web processes, batched in orders that cross),
        so the batch goes again, in halves, and finds what the other stored."""
        if not isinstance(error, psycopg.OperationalError):
            return False
        return not (error.sqlstate or "").startswith(_TRANSACTION_ROLLBACK)

    def _in_transaction(self, operation: Callable[[Transaction], T]) -> T:
        if self._pool is None:
            raise StoreError("the PostgreSQL store is not open")
        with self._pool.connection() as connection:
            tx = _PostgresTransaction(connection)
            with connection.transaction():
                result = operation(tx)
        if tx.jobs_due:
            self._announcer.announce(tx.jobs_due)
        self._committed(tx)
        return result

    def insert_rows(
        self, tx: Transaction, table: str, columns: str, rows: list[tuple[Any, ...]], tail: str
    ) -> list[Row]:
        """One `unnest` of a binary array per column: a short text psycopg parses once (a
        multi-row VALUES text is parsed again each time) and bodies sent as they are rather
        than escaped."""
        return tx.fetchall(_unnest_insert(table, columns, tail), _by_column(rows))

    def _insert_counted(
        self, tx: Transaction, table: str, columns: str, rows: list[tuple[Any, ...]], tail: str
    ) -> int:
        """The command's own count of rows inserted: no row sent back for each."""
        return tx.execute(_unnest_insert(table, columns, tail), _by_column(rows))

    def _inserts_counted(self, tx: Transaction, inserts: list[CountedInsert]) -> list[int]:
        """Several inserts as one statement (each a data-modifying `WITH` query counted by
        the main one): one round trip for a batch's deliveries and its jobs, where two cost
        it about 0.4 ms more of waiting. Each runs, even after one came up short (the batch
        is then undone). PostgreSQL runs each query as the main one first reads it, so in the
        order given (deliveries, by id, before jobs); it does not promise that order, and
        should it change, two web processes storing a replay's rows in crossing orders would
        deadlock, which sends the batch again in halves (`database_failed`)."""
        if len(inserts) < 2:
            return super()._inserts_counted(tx, inserts)
        queries = ", ".join(
            f"i{n} AS ({_unnest_insert(table, columns, tail)} RETURNING 1)"
            for n, (table, columns, _rows, tail) in enumerate(inserts)
        )
        counts = ", ".join(f"(SELECT count(*) FROM i{n}) AS i{n}" for n in range(len(inserts)))
        params = [column for insert in inserts for column in _by_column(insert.rows)]
        row = tx.fetchall(f"WITH {queries} SELECT {counts}", params)[0]
        return [int(row[f"i{n}"]) for n in range(len(inserts))]

    def stored_deliveries(self, tx: Transaction, ids: list[str], hashes: list[str]) -> list[Row]:
        return tx.fetchall(
            # two index lookups: as one OR, the planner may scan the table
            "SELECT id, outcome, body_hash FROM deliveries WHERE id = ANY(%b::text[])"
            " UNION SELECT id, outcome, body_hash FROM deliveries"
            " WHERE body_hash = ANY(%b::text[]) AND outcome <> 'duplicate'",
            (ids, hashes),
            planned_each_time=True,
        )

    def _migrate(self, tx: Transaction) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK_ID,))
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
        )
        applied = {row["version"] for row in tx.fetchall("SELECT version FROM schema_migrations")}
        for version, name, sql in self.pending_migrations(applied):
            tx.execute(sql)
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, self.clock()),
            )
