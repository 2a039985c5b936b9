"""Group commit: concurrent callers share one transaction and one sync of the database.

Deliveries arrive concurrently and each must be durable before its 202. Committing each alone
costs one sync (SQLite) or one commit round trip and WAL flush (PostgreSQL) per delivery, and
on SQLite the commits queue behind each other on the store's one thread. Here an operation
offered while a batch is being committed waits and goes with the next batch, so the syncs are
shared. Each caller still waits for its own batch's commit: nothing is acknowledged before it
is stored.

A batch that fails (an operation raised, or the commit itself failed) is rolled back and its
operations are run again one transaction each, so a bad operation fails only its own caller
and a failure of the database (a commit that cannot be made) fails every caller: none is told
"stored" for what was not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from bot.store.base import Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")
#: runs a function in one transaction of the store, off the event loop
Runner = Callable[[Callable[["Transaction"], Any]], Awaitable[Any]]


class _Waiting(Generic[T]):
    __slots__ = ("future", "operation")

    def __init__(self, operation: Callable[[Transaction], T], future: asyncio.Future[T]) -> None:
        self.operation = operation
        self.future = future


class GroupCommit:
    """Batches the operations given to `run` into shared transactions of `runner`."""

    def __init__(self, runner: Runner, max_batch: int = 256) -> None:
        self._runner = runner
        self.max_batch = max_batch
        self._waiting: list[_Waiting[Any]] = []
        self._flushing: asyncio.Task[None] | None = None
        #: transactions committed with more than one operation, and operations in all
        self.batches = 0
        self.operations = 0

    async def run(self, operation: Callable[[Transaction], T]) -> T:
        """`operation`'s result once the transaction holding it is committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(operation, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(), name="triad-group-commit")
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                await self._commit(batch)
            except BaseException as exc:  # cancelled at shutdown: nobody is left waiting
                for waiting in [*batch, *self._waiting]:
                    if waiting.future.done():
                        continue
                    if isinstance(exc, asyncio.CancelledError):
                        waiting.future.cancel()
                    else:
                        waiting.future.set_exception(exc)
                self._waiting.clear()
                raise

    async def _commit(self, batch: list[_Waiting[Any]]) -> None:
        self.operations += len(batch)
        if len(batch) > 1:
            try:
                results = await self._runner(lambda tx: [w.operation(tx) for w in batch])
            except Exception as exc:
                log.warning(
                    "a grouped commit failed: its operations are retried one by one",
                    extra={"operations": len(batch), "error": str(exc)[:300]},
                )
            else:
                self.batches += 1
                for waiting, result in zip(batch, results, strict=True):
                    if not waiting.future.done():
                        waiting.future.set_result(result)
                return
        for waiting in batch:
            try:
                result = await self._runner(waiting.operation)
            except Exception as exc:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
            else:
                if not waiting.future.done():
                    waiting.future.set_result(result)
