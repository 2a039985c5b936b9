"""The embedded store: one SQLite file in WAL mode, driven from one dedicated thread."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import StoreError
from bot.store.base import DEFAULT_MAX_ATTEMPTS, Clock, Row, Store, Transaction, values_insert
from bot.store.bodies import packed, unpacked

T = TypeVar("T")


class _SqliteTransaction:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.jobs_due = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._connection.execute(sql, params).rowcount

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cursor = self._connection.execute(sql, params)
        row: Row | None = cursor.fetchone()
        cursor.fetchall()  # finish the statement so a RETURNING write is complete
        return row

    def fetchall(
        self,
        sql: str,
        params: Sequence[Any] = (),
        *,
        planned_each_time: bool = False,  # noqa: ARG002 (SQLite's plans do not go by a table's size)
    ) -> list[Row]:
        return self._connection.execute(sql, params).fetchall()

    def run_before_next(self, statements: list[str]) -> None:
        for statement in statements:
            self._connection.execute(statement)


class SqliteStore(Store):
    """SQLite with WAL and synchronous=FULL: a delivery is on disk before the webhook answers
    (its body as an LZ4 frame: `bot.store.bodies`).

    All statements run on one thread with one connection, so a process never contends with
    itself; other processes (a `triad worker` beside `triad serve`) wait on the busy timeout.
    """

    dialect = "sqlite"

    def __init__(
        self, path: str | Path, clock: Clock = time.time, max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ) -> None:
        super().__init__(clock, max_attempts)
        self.path = str(path)
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    def keep_body(self, body: bytes) -> bytes:
        return packed(body)

    def sent_body(self, kept: bytes | memoryview) -> bytes:
        return unpacked(kept)

    def undo_grouped(self, tx: Transaction) -> None:
        """Rolled back and begun again, waiting for the write lock (another process may take
        it between: what the batch reads next includes what that one wrote). A savepoint would
        have SQLite copy every page the batch changes into a journal of its own, in case it is
        rolled back to: 11 µs a delivery, where this costs nothing until used."""
        tx.execute("ROLLBACK")
        tx.execute("BEGIN IMMEDIATE")

    def _insert_counted(
        self,
        tx: Transaction,
        table: str,
        columns: str,
        rows: list[tuple[Any, ...]],
        tail: str,  # noqa: ARG002 (OR IGNORE stands for any clause that does nothing)
    ) -> int:
        """`INSERT OR IGNORE` of the rows, a few statements of 2ⁿ rows each. A row any
        constraint refuses is left out, and so counted out, which sends the batch to the
        careful path (where such a row fails alone). As no row can fail the statement, SQLite
        keeps no journal of the pages it changes (with `ON CONFLICT DO NOTHING` it did, in
        case a later row failed: spilled to a temporary file past 64 kB, 30 µs a delivery
        where a statement run for each row took 18); and as a few statements rather than one
        a row, the store's thread lets the GIL go and takes it back a few times a batch while
        the event loop holds it (`bench/harness.py`: 2% more deliveries a second). Sizes of
        2ⁿ keep a few prepared statements a table (one for each batch size took 130 MB for
        sizes up to 256)."""
        count, start = 0, 0
        while start < len(rows):
            size = 1 << ((len(rows) - start).bit_length() - 1)  # the most 2ⁿ that remain
            chunk = rows[start : start + size]
            params = [value for row in chunk for value in row]
            count += tx.execute(values_insert(table, columns, size, "", "INSERT OR IGNORE"), params)
            start += size
        return count

    async def open(self, *, migrate: bool = True) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triad-sqlite")
        try:
            await self._submit(lambda: self._connect(create=migrate))
            await self._submit(self._migrate if migrate else self._check_schema)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._executor is None:
            return
        if self._connection is not None:
            await self._submit(self._connection.close)
            self._connection = None
        self._executor.shutdown(wait=True)
        self._executor = None

    async def run(self, operation: Callable[[Transaction], T]) -> T:
        return await self._submit(lambda: self._in_transaction(operation))

    def submit(self, operation: Callable[[Transaction], T]) -> asyncio.Future[T]:
        if self._executor is None:
            raise StoreError("the SQLite store is not open")
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, self._in_transaction, operation)

    async def _submit(self, function: Callable[[], T]) -> T:
        if self._executor is None:
            raise StoreError("the SQLite store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function)

    def database_failed(self, error: BaseException) -> bool:
        return isinstance(error, sqlite3.OperationalError)

    def _connect(self, create: bool) -> None:
        """Open the file, creating it (and its folder) only when `create`: an operator command
        pointed at a mistyped path must not leave an empty database there."""
        if not create and not Path(self.path).is_file():
            raise StoreError(
                f"no SQLite database at {self.path}: is TRIAD_DATABASE_URL the servers' "
                "database? (`triad serve` or `triad worker` creates it when it starts)"
            )
        try:
            if create and self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            target = self.path if create else Path(self.path).resolve().as_uri() + "?mode=rw"
            connection = sqlite3.connect(
                target, isolation_level=None, check_same_thread=False, timeout=30.0, uri=not create
            )
            connection.row_factory = sqlite3.Row
            if create:  # the servers' files are in WAL mode; a command changes no file's mode
                _enter_wal(connection)
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
        except (sqlite3.Error, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StoreError(f"cannot open the SQLite database {self.path}: {reason}") from exc
        self._connection = connection

    def _in_transaction(self, operation: Callable[[Transaction], T]) -> T:
        connection = self._connection
        if connection is None:
            raise StoreError("the SQLite store is not open")
        connection.execute("BEGIN IMMEDIATE")
        tx = _SqliteTransaction(connection)
        try:
            result = operation(tx)
            connection.execute("COMMIT")
        except BaseException:
            # a COMMIT that fails (a deferred constraint, a full disk) leaves the transaction
            # open, holding the write lock: roll it back, or every later one fails too
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        self._committed(tx)
        return result

    def _migrate(self) -> None:
        def operation(tx: Transaction) -> None:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            applied = {
                row["version"] for row in tx.fetchall("SELECT version FROM schema_migrations")
            }
            for version, name, sql in self.pending_migrations(applied):
                for statement in _statements(sql):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, self.clock()),
                )

        self._in_transaction(operation)

    def _check_schema(self) -> None:
        def applied(tx: Transaction) -> set[int]:
            table = tx.fetchone(
                "SELECT 1 AS found FROM sqlite_master"
                " WHERE type = 'table' AND name = 'schema_migrations'"
            )
            if table is None:
                return set()
            return {
                int(row["version"]) for row in tx.fetchall("SELECT version FROM schema_migrations")
            }

        self.require_current_schema(self._in_transaction(applied))


def _enter_wal(connection: sqlite3.Connection, seconds: float = 30.0) -> None:
    """WAL mode, which the file keeps once the first process to open it has set it. Setting it
    needs the file to itself, and while another connection writes SQLite answers "locked" at
    once rather than waiting out the busy timeout, so two processes starting together on a
    new file (`triad serve` beside `triad worker`) would see one of them fail: it tries again
    for `seconds` (a try that waits on the busy timeout may add that much once more)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            primary = exc.sqlite_errorcode & 0xFF  # extended codes keep it in the low byte
            busy = primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (migrations hold no semicolons in literals)."""
    return [part.strip() for part in sql.split(";") if part.strip()]
