"""Hear of jobs other processes queue (PostgreSQL LISTEN), so idle workers claim them at once.

Migration 0014's triggers notify channel `triad_jobs` when a job is queued to run now (at
commit, from any process); without this a worker in another process found it at its next
poll. The poll stays the fallback: while the listening connection is down, nothing is lost,
jobs only wait for the poll again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "triad_jobs"
#: how the listening connection shows in pg_stat_activity
APPLICATION_NAME = "triad-listen"


async def listen_for_jobs(
    url: str,
    wake: Callable[[], None],
    ignore: Callable[[int], bool] = lambda _pid: False,
    retry_seconds: float = 1.0,
    max_retry: float = 60.0,
) -> None:
    """Call `wake` once per job queued to run now, until cancelled, but for jobs queued by a
    server process `ignore` names (this process's own: it wakes its loops itself); reconnect
    after a lost connection (a warning each time, `retry_seconds` doubling to `max_retry`)."""
    delay = retry_seconds
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, application_name=APPLICATION_NAME, connect_timeout=10
            ) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                delay = retry_seconds
                async for notify in connection.notifies():
                    if not ignore(notify.pid):
                        wake()
        except Exception as exc:  # any failure: the poll covers, and this keeps trying
            log.warning(
                "not hearing of queued jobs: workers find them at their poll meanwhile",
                extra={"error": " ".join(str(exc).split())[:300], "retry_in": delay},
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_retry)
