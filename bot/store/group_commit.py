"""Group commit: concurrent callers share one transaction and one sync of the database.

Deliveries arrive concurrently and each must be durable before its 202. Committing each alone
costs one sync (SQLite) or one commit round trip and WAL flush (PostgreSQL) per delivery, and
on SQLite the commits queue behind each other on the store's one thread. Here an item offered
while a batch is being committed waits and goes with the next batch, so the syncs are shared
(and the store may store a batch's items in a few statements rather than a few each: see
`bot.store.admission`). Each caller still waits for its own batch's commit: nothing is
acknowledged before it is stored. A batch starts the moment the previous one ends (or at once
when none is under way), from a callback rather than a task, so the database works while the
event loop reads the next requests.

An item that fails by itself (`ItemFailed` as its result: its decision raised) is answered
with its error while the rest of its batch is stored. A batch that fails is rolled back. When
its items' own statements failed (`ItemsFailed`: a constraint, a bad row) and the database
did not, the fault may be one item's: the batch goes again in two halves, and a half that
fails again in halves, so only that item's caller fails, after a few transactions rather than
one per item. When the database failed (the commit, the connection, a timeout: every item
would fail alike), every caller fails at once rather than each retried in turn. None is told
"stored" for what was not. Every caller is answered within `deadline` seconds of its call
(`TimeoutError`, before anything is acknowledged), and a batch whose every caller was
answered so frees its place, so one stuck transaction cannot hold every later one. The
deadline costs no timer per caller: a batch's one timer fires at the earliest deadline of its
callers still waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
#: starts storing a batch of items in one transaction, off the event loop, now; the future's
#: result holds one result per item, in order (`ItemFailed` for an item that failed alone)
Submit = Callable[[list[Item]], "asyncio.Future[list[Result | ItemFailed]]"]
#: whether an error is the database's (every item would fail alike)
Fatal = Callable[[BaseException], bool]

#: seconds a caller waits for its batch: well below GitHub's 10 s delivery timeout
DEADLINE = 5.0


class ItemsFailed(Exception):
    """A batch's own statements raised `error` (perhaps because of one item): the batch is
    rolled back and, unless the database itself failed, its items go again in halves."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class ItemFailed:
    """One item's result when that item alone failed (its batch is stored without it)."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


class _Waiting(Generic[Item, Result]):
    __slots__ = ("due", "future", "item", "piece")

    def __init__(self, item: Item, future: asyncio.Future[Result], due: float) -> None:
        self.item = item
        self.future = future
        #: the loop time by which its caller is answered
        self.due = due
        #: the part of a failed batch it goes again with (None: any batch)
        self.piece: int | None = None

    def late(self, now: float) -> bool:
        """Whether its deadline has passed (its caller is then answered with `TimeoutError`)."""
        if self.due > now:
            return False
        self.settle(error=TimeoutError("the store did not answer in time"))
        return True

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        if self.future.done():  # answered already (by its deadline); the item may still commit
            return
        if isinstance(result, ItemFailed):
            error = result.error
        if error is None:
            self.future.set_result(result)
        elif isinstance(error, asyncio.CancelledError):
            self.future.cancel()
        else:
            self.future.set_exception(error)


class _Batch:
    __slots__ = ("over", "timer", "waiting")

    def __init__(self, waiting: list[_Waiting[Any, Any]]) -> None:
        self.waiting = waiting
        self.over = False
        self.timer: asyncio.TimerHandle | None = None


class GroupCommit(Generic[Item, Result]):
    """Batches the items given to `run` into shared transactions started by `submit`."""

    def __init__(
        self,
        submit: Submit[Item, Result],
        max_batch: int = 256,
        parallel: int = 1,
        deadline: float = DEADLINE,
        fatal: Fatal | None = None,
    ) -> None:
        """`parallel`: batches under way at once (both stores use 1: a batch is a few
        statements, and a second one's thread costs more in contention than it overlaps)."""
        self._submit = submit
        self.max_batch = max_batch
        self.parallel = parallel
        self.deadline = deadline
        self._fatal = fatal or (lambda _error: False)
        self._waiting: list[_Waiting[Item, Result]] = []
        self._under_way = 0
        #: transactions committed with more than one item
        self.batches = 0
        self._pieces = 0

    async def run(self, item: Item) -> Result:
        """`item`'s result once the transaction holding it is committed (items of a batch are
        stored in the order they came); `TimeoutError` after `deadline` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append(_Waiting(item, future, loop.time() + self.deadline))
        if self._under_way < self.parallel:
            self._start()
        return await future

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._prune(loop.time())
        if not self._waiting:
            return
        # the parts of a failed batch go first, each as a batch of its own
        piece = self._waiting[0].piece
        taken = 1
        while (
            taken < min(self.max_batch, len(self._waiting)) and self._waiting[taken].piece == piece
        ):
            taken += 1
        batch = _Batch(self._waiting[:taken])
        del self._waiting[:taken]
        self._under_way += 1
        try:
            started = self._submit([w.item for w in batch.waiting])
        except Exception as exc:  # the store is closed
            self._under_way -= 1
            for waiting in batch.waiting:
                waiting.settle(error=exc)
            self._next()
            return
        due = min(w.due for w in batch.waiting)
        batch.timer = loop.call_at(due, self._expired, batch)
        started.add_done_callback(lambda done: self._ended(batch, done))

    def _prune(self, now: float) -> None:
        """Forget callers that went away; answer those whose deadline passed while waiting."""
        self._waiting = [w for w in self._waiting if not w.future.done() and not w.late(now)]

    def _expired(self, batch: _Batch) -> None:
        """The batch outlived a caller's deadline: the callers whose deadline passed are
        answered; once none is left, its place goes to the next batch (it may still commit:
        nothing was acknowledged, a redelivery is safe)."""
        if batch.over:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        left = [w.due for w in batch.waiting if not w.future.done() and not w.late(now)]
        if left:
            batch.timer = loop.call_at(min(left), self._expired, batch)
            return
        batch.over = True
        self._under_way -= 1
        log.warning("a grouped commit outlived its deadline", extra={"deadline": self.deadline})
        self._next()

    def _ended(self, batch: _Batch, done: asyncio.Future[list[Result | ItemFailed]]) -> None:
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
        elif self._one_may_be_at_fault(error, len(batch.waiting)):
            log.warning(
                "a grouped commit failed: its items go again, in two halves",
                extra={"items": len(batch.waiting), "error": str(error)[:300]},
            )
            half = len(batch.waiting) // 2
            for part, waiting in enumerate(batch.waiting):
                waiting.piece = self._pieces + (part >= half)
            self._pieces += 2
            self._waiting[:0] = batch.waiting
        else:
            cause = error.error if isinstance(error, ItemsFailed) else error
            for waiting in batch.waiting:
                waiting.settle(error=cause)
        self._next()

    def _one_may_be_at_fault(self, error: BaseException, items: int) -> bool:
        return isinstance(error, ItemsFailed) and items > 1 and not self._fatal(error.error)

    def _next(self) -> None:
        if self._waiting and self._under_way < self.parallel:
            self._start()
