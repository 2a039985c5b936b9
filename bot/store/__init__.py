"""Where Triad remembers: deliveries, the job queue and workflows, on SQLite or PostgreSQL."""

from __future__ import annotations

import time

from bot.store.base import (
    DEFAULT_MAX_ATTEMPTS,
    Admission,
    Clock,
    SchemaNotCurrent,
    SchemaTooNew,
    Store,
    Transaction,
)
from bot.store.models import Delivery, DeliveryOutcome, Job, JobState, NewJob

__all__ = [
    "Admission",
    "Delivery",
    "DeliveryOutcome",
    "Job",
    "JobState",
    "NewJob",
    "SchemaNotCurrent",
    "SchemaTooNew",
    "Store",
    "Transaction",
    "open_store",
]


def open_store(
    url: str, clock: Clock = time.time, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> Store:
    """The store for a database URL (`sqlite:///path` or `postgresql://...`); not yet opened.

    `max_attempts` is what a job gets when it does not ask for its own number.
    """
    if url.startswith("sqlite:///"):
        from bot.store.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"), clock=clock, max_attempts=max_attempts)
    if url.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresStore

        return PostgresStore(url, clock=clock, max_attempts=max_attempts)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
