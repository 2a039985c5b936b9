"""Group commit: concurrent callers share one transaction and one sync of the database.

Deliveries arrive concurrently and each must be durable before its 202. Committing each alone
costs one sync (SQLite) or one commit round trip and WAL flush (PostgreSQL) per delivery, and
on SQLite the commits queue behind each other on the store's one thread. Here an operation
offered while a batch is being committed waits and goes with the next batch, so the syncs are
shared. Each caller still waits for its own batch's commit: nothing is acknowledged before it
is stored. A batch starts the moment the previous one ends (or at once when none is under
way), from a callback rather than a task, so the database works while the event loop reads
the next requests.

A batch that fails (an operation raised, or the commit itself failed) is rolled back and its
operations are run again one transaction each, so a bad operation fails only its own caller
and a failure of the database (a commit that cannot be made) fails every caller: none is told
"stored" for what was not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from bot.store.base import Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
#: starts a function in one transaction of the store, off the event loop, now
Submit = Callable[[Callable[["Transaction"], Any]], "asyncio.Future[Any]"]


class _Waiting(Generic[T]):
    __slots__ = ("alone", "future", "operation")

    def __init__(
        self, operation: Callable[[Transaction], T], future: asyncio.Future[T], alone: bool
    ) -> None:
        self.operation = operation
        self.future = future
        #: retried after its batch failed: in a transaction of its own
        self.alone = alone

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        if self.future.done():  # its caller went away; the operation still ran
            return
        if error is None:
            self.future.set_result(result)
        elif isinstance(error, asyncio.CancelledError):
            self.future.cancel()
        else:
            self.future.set_exception(error)


class GroupCommit:
    """Batches the operations given to `run` into shared transactions started by `submit`."""

    def __init__(self, submit: Submit, max_batch: int = 256, parallel: int = 1) -> None:
        """`parallel`: batches under way at once (SQLite writes from one thread: 1;
        PostgreSQL commits concurrent transactions together itself)."""
        self._submit = submit
        self.max_batch = max_batch
        self.parallel = parallel
        self._waiting: list[_Waiting[Any]] = []
        self._under_way = 0
        #: transactions committed with more than one operation, and operations in all
        self.batches = 0
        self.operations = 0

    async def run(self, operation: Callable[[Transaction], T]) -> T:
        """`operation`'s result once the transaction holding it is committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(operation, future, alone=False))
        if self._under_way < self.parallel:
            self._start()
        return await future

    def _start(self) -> None:
        if self._waiting[0].alone:
            batch = self._waiting[:1]
        else:
            batch = []
            for waiting in self._waiting[: self.max_batch]:
                if waiting.alone:
                    break
                batch.append(waiting)
        del self._waiting[: len(batch)]
        self._under_way += 1
        try:
            if len(batch) == 1:
                started = self._submit(batch[0].operation)
            else:
                started = self._submit(lambda tx: [w.operation(tx) for w in batch])
        except Exception as exc:  # the store is closed
            self._under_way -= 1
            for waiting in batch:
                waiting.settle(error=exc)
            if self._waiting:
                self._start()
            return
        started.add_done_callback(lambda done: self._ended(batch, done))

    def _ended(self, batch: list[_Waiting[Any]], done: asyncio.Future[Any]) -> None:
        self._under_way -= 1
        self.operations += len(batch)
        error = done.exception() if not done.cancelled() else asyncio.CancelledError()
        if error is None:
            results = done.result() if len(batch) > 1 else [done.result()]
            self.batches += len(batch) > 1
            for waiting, result in zip(batch, results, strict=True):
                waiting.settle(result)
        elif len(batch) > 1 and isinstance(error, Exception):
            log.warning(
                "a grouped commit failed: its operations are retried one by one",
                extra={"operations": len(batch), "error": str(error)[:300]},
            )
            self.operations -= len(batch)
            self._waiting[:0] = [_Waiting(w.operation, w.future, alone=True) for w in batch]
        else:
            for waiting in batch:
                waiting.settle(error=error)
        if self._waiting and self._under_way < self.parallel:
            self._start()
