"""Tell other processes' workers of jobs queued to run now (PostgreSQL NOTIFY/LISTEN), so an
idle loop claims them at once rather than at its next poll of the queue.

A transaction that queued jobs due now is followed, once it committed, by a notice on channel
`triad_jobs` sent from its own short transaction: a NOTIFY inside the queuing transaction would
take PostgreSQL's database-wide notify lock through that commit's WAL flush, one committing
transaction at a time. Notices are coalesced ("<process token> <jobs>") and sent from one
thread on its own autocommit connection, one statement each (a pooled connection's
transaction took four round trips), so a batch of deliveries costs one. A process ignores its
own notices: it wakes its own loops itself. The poll stays the fallback: a notice lost (the
listening connection down, a pooler in transaction mode that cannot LISTEN) only delays a job
until the poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from bot.numbers import natural

log = logging.getLogger(__name__)

CHANNEL = "triad_jobs"
#: how the listening connection shows in pg_stat_activity
APPLICATION_NAME = "triad-listen"
#: how the announcing connection shows in pg_stat_activity
ANNOUNCER_NAME = "triad-notify"
#: seconds a notice waits to connect before it is given up (the poll covers)
_CONNECT_WAIT = 2
#: seconds `Announcer.close` waits for a notice under way
CLOSE_WAIT = 2.0
#: how long a connection waits on a peer that went silent: keepalives (a minute) and unanswered
#: writes (`tcp_user_timeout`, in ms)
_SILENT_PEER: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
#: the notice, a transaction of its own (it writes no WAL, so its commit waits for no flush)
NOTIFY = "SELECT pg_notify(%s, %s)"


class Announcer:
    """Sends one notice for all the jobs queued since the last one, from its own thread."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._lock = threading.Lock()
        self._pending = 0
        self._executor: ThreadPoolExecutor | None = None
        self._url: str | None = None
        #: used from the executor's one thread only (but for `_cut`); connected at the first
        #: notice
        self._connection: psycopg.Connection[Any] | None = None
        #: the last notice submitted
        self._sender: futures.Future[None] | None = None

    def open(self, url: str) -> None:
        self._url, self._pending = url, 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triad-notify")

    def close(self) -> None:
        """Send what is pending, then stop. A notice still under way after `CLOSE_WAIT`
        seconds (a server or pooler that stopped answering but keeps the connection open,
        which no keepalive notices) has its connection cut, so stopping is bounded: that
        notice is lost and logged, and the poll finds its jobs."""
        executor = self._executor
        if executor is not None:
            executor.shutdown(wait=False)
            if self._sender is not None and not self._sender.done():
                futures.wait([self._sender], timeout=CLOSE_WAIT)
                if not self._sender.done():
                    self._cut()
            executor.shutdown(wait=True)
        if self._connection is not None:
            self._connection.close()
        self._executor = self._url = self._connection = self._sender = None

    def _cut(self) -> None:
        """End the notice under way: its socket shut down under it, so its wait ends in an
        error at once (closing the connection from here would race the thread using it)."""
        connection = self._connection
        try:
            if connection is not None:
                with socket.socket(fileno=os.dup(connection.pgconn.socket)) as cut:
                    cut.shutdown(socket.SHUT_RDWR)
        except (OSError, psycopg.Error):  # it ended meanwhile, or never connected
            pass

    def announce(self, jobs: int) -> None:
        """`jobs` more jobs were committed, due now: a notice goes out soon (never waited for)."""
        with self._lock:
            scheduled = self._pending > 0
            self._pending += jobs
            executor = self._executor
        if scheduled or executor is None:
            return
        try:
            self._sender = executor.submit(self._send)
        except RuntimeError:  # closing: the poll finds them
            with self._lock:
                self._pending = 0

    def _send(self) -> None:
        with self._lock:
            jobs, self._pending = self._pending, 0
        if self._url is None or jobs == 0:
            return
        try:
            if self._connection is None or self._connection.closed:
                # a short wait: a store that is down must not hold `close` up
                self._connection = psycopg.connect(
                    self._url,
                    autocommit=True,
                    # never a named prepared statement: a pooler in transaction mode may
                    # run the next notice on a server connection that has none
                    prepare_threshold=None,
                    application_name=ANNOUNCER_NAME,
                    connect_timeout=_CONNECT_WAIT,
                    # idle between notices: a peer that vanished (a failover with no reset, a
                    # NAT that forgot the connection) fails a notice, and holds `close` up,
                    # for about a minute at most rather than the system's two hours
                    **_SILENT_PEER,
                )
            self._connection.execute(NOTIFY, (CHANNEL, f"{self.token} {jobs}"))
        except Exception as exc:  # the poll finds the jobs; the next notice connects again
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            log.warning(
                "could not tell other workers of queued jobs: they find them at their poll",
                extra={"jobs": jobs, "error": " ".join(str(exc).split())[:300]},
            )


def jobs_announced(payload: str, own_token: str) -> int:
    """How many jobs another process's notice announces (0 for this process's own notice; a
    notice that is not Triad's counts as one)."""
    token, _, count = payload.partition(" ")
    if token == own_token:
        return 0
    announced = natural(count)
    return announced if announced else 1


async def listen_for_jobs(
    url: str,
    wake: Callable[[int], None],
    own_token: str,
    retry_seconds: float = 1.0,
    max_retry: float = 60.0,
) -> None:
    """Call `wake(jobs)` for each notice of jobs another process queued, until cancelled;
    reconnect after a lost connection (a warning each time, `retry_seconds` doubling to
    `max_retry`, and a line once it listens again)."""
    delay = retry_seconds
    failed = False
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                url,
                autocommit=True,
                application_name=APPLICATION_NAME,
                connect_timeout=10,
                # a peer that vanished (a failover with no reset) is noticed within a minute,
                # not the system's two hours of TCP keepalive
                **_SILENT_PEER,
            ) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                if failed:  # notices sent meanwhile are lost: one loop looks now
                    log.info("hearing of queued jobs again")
                    wake(1)
                delay, failed = retry_seconds, False
                async for notice in connection.notifies():
                    if jobs := jobs_announced(notice.payload, own_token):
                        wake(jobs)
        except Exception as exc:  # any failure: the poll covers, and this keeps trying
            failed = True
            log.warning(
                "not hearing of queued jobs: workers find them at their poll meanwhile",
                extra={"error": " ".join(str(exc).split())[:300], "retry_in": delay},
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_retry)
