"""Where Triad remembers: deliveries, the job queue and workflows, on SQLite or PostgreSQL."""

from __future__ import annotations

import time

from bot.store.base import Clock, Store, Transaction
from bot.store.models import Delivery, DeliveryOutcome, Job, JobState, NewJob

__all__ = [
    "Delivery",
    "DeliveryOutcome",
    "Job",
    "JobState",
    "NewJob",
    "Store",
    "Transaction",
    "open_store",
]


def open_store(url: str, clock: Clock = time.time) -> Store:
    """The store for a database URL (`sqlite:///path` or `postgresql://...`); not yet opened."""
    if url.startswith("sqlite:///"):
        from bot.store.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"), clock=clock)
    if url.startswith(("postgresql://", "postgres://")):
        from bot.store.postgres import PostgresStore

        return PostgresStore(url, clock=clock)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")
