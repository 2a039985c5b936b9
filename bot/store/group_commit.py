"""Group commit: concurrent callers share one transaction and one sync of the database.

Deliveries arrive concurrently and each must be durable before its 202. Committing each alone
costs one sync (SQLite) or one commit round trip and WAL flush (PostgreSQL) per delivery, and
on SQLite the commits queue behind each other on the store's one thread. Here an operation
offered while a batch is being committed waits and goes with the next batch, so the syncs are
shared. Each caller still waits for its own batch's commit: nothing is acknowledged before it
is stored. A batch starts the moment the previous one ends (or at once when none is under
way), from a callback rather than a task, so the database works while the event loop reads
the next requests.

A batch that fails is rolled back. When one operation raised (a constraint, a bad row), that
caller alone fails and the rest go again in the next batch; when the database failed (the
commit, the connection, a timeout: every operation would fail alike), every caller fails at
once rather than each retried in turn. None is told "stored" for what was not. Every caller
waits at most `deadline` seconds (then `TimeoutError`, before anything is acknowledged), and
a batch that outlives it frees its place, so one stuck transaction cannot hold every later one.
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
#: whether an error raised inside an operation is the database's (all would fail alike)
Fatal = Callable[[BaseException], bool]

#: seconds a caller waits for its batch: well below GitHub's 10 s delivery timeout
DEADLINE = 5.0


class _Waiting(Generic[T]):
    __slots__ = ("future", "operation", "order")

    def __init__(
        self, operation: Callable[[Transaction], T], future: asyncio.Future[T], order: int
    ) -> None:
        self.operation = operation
        self.future = future
        self.order = order

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        if self.future.done():  # its caller went away; the operation still ran
            return
        if error is None:
            self.future.set_result(result)
        elif isinstance(error, asyncio.CancelledError):
            self.future.cancel()
        else:
            self.future.set_exception(error)


class _OperationFailed(Exception):
    """Operation `index` of a batch raised `error` (the batch is rolled back)."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


class _Batch:
    __slots__ = ("over", "timer", "waiting")

    def __init__(self, waiting: list[_Waiting[Any]]) -> None:
        self.waiting = waiting
        self.over = False
        self.timer: asyncio.TimerHandle | None = None


class GroupCommit:
    """Batches the operations given to `run` into shared transactions started by `submit`."""

    def __init__(
        self,
        submit: Submit,
        max_batch: int = 256,
        parallel: int = 1,
        deadline: float = DEADLINE,
        fatal: Fatal | None = None,
    ) -> None:
        """`parallel`: batches under way at once (SQLite writes from one thread: 1;
        PostgreSQL commits concurrent transactions together itself)."""
        self._submit = submit
        self.max_batch = max_batch
        self.parallel = parallel
        self.deadline = deadline
        self._fatal = fatal or (lambda _error: False)
        self._waiting: list[_Waiting[Any]] = []
        self._under_way = 0
        #: transactions committed with more than one operation
        self.batches = 0

    async def run(self, operation: Callable[[Transaction], T], order: int = 0) -> T:
        """`operation`'s result once the transaction holding it is committed. Operations run
        in a batch by `order`, then as they came (PostgreSQL: locks are taken in one order,
        so two batches never wait on each other); `TimeoutError` after `deadline` seconds."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(operation, future, order))
        if self._under_way < self.parallel:
            self._start()
        async with asyncio.timeout(self.deadline):
            return await future

    def _start(self) -> None:
        self._waiting = [w for w in self._waiting if not w.future.done()]  # timed out: dropped
        if not self._waiting:
            return
        batch = _Batch(sorted(self._waiting[: self.max_batch], key=lambda w: w.order))
        del self._waiting[: len(batch.waiting)]
        self._under_way += 1
        operations = [w.operation for w in batch.waiting]
        try:
            started = self._submit(lambda tx: _together(operations, tx))
        except Exception as exc:  # the store is closed
            self._under_way -= 1
            for waiting in batch.waiting:
                waiting.settle(error=exc)
            self._next()
            return
        batch.timer = asyncio.get_running_loop().call_later(self.deadline, self._expired, batch)
        started.add_done_callback(lambda done: self._ended(batch, done))

    def _expired(self, batch: _Batch) -> None:
        """The batch outlived the deadline: its callers have been answered; its place goes to
        the next batch (it may still commit: nothing was acknowledged, a redelivery is safe)."""
        if batch.over:
            return
        batch.over = True
        self._under_way -= 1
        log.warning("a grouped commit outlived its deadline", extra={"deadline": self.deadline})
        for waiting in batch.waiting:
            waiting.settle(error=TimeoutError("the store did not answer in time"))
        self._next()

    def _ended(self, batch: _Batch, done: asyncio.Future[Any]) -> None:
        if batch.timer is not None:
            batch.timer.cancel()
        if batch.over:
            return
        batch.over = True
        self._under_way -= 1
        error = done.exception() if not done.cancelled() else asyncio.CancelledError()
        if error is None:
            self.batches += len(batch.waiting) > 1
            for waiting, result in zip(batch.waiting, done.result(), strict=True):
                waiting.settle(result)
        elif isinstance(error, _OperationFailed) and not self._fatal(error.error):
            failed = batch.waiting[error.index]
            failed.settle(error=error.error)
            rest = [w for w in batch.waiting if w is not failed]
            if rest:
                log.warning(
                    "an operation failed its grouped commit: the others go again",
                    extra={"operations": len(rest), "error": str(error)[:300]},
                )
            self._waiting[:0] = rest
        else:
            cause = error.error if isinstance(error, _OperationFailed) else error
            for waiting in batch.waiting:
                waiting.settle(error=cause)
        self._next()

    def _next(self) -> None:
        if self._waiting and self._under_way < self.parallel:
            self._start()


def _together(operations: list[Callable[[Transaction], Any]], tx: Transaction) -> list[Any]:
    results = []
    for index, operation in enumerate(operations):
        try:
            results.append(operation(tx))
        except Exception as exc:
            raise _OperationFailed(index, exc) from exc
    return results
