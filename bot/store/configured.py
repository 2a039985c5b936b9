"""The store a process's settings name, opened with a failure that names the setting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.errors import ConfigError, StoreError
from bot.settings import Settings
from bot.store import Store, open_store


@asynccontextmanager
async def configured_store(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Store]:
    """Open TRIAD_DATABASE_URL's store (jobs get TRIAD_JOB_MAX_ATTEMPTS attempts); a store
    that cannot be opened is a ConfigError naming TRIAD_DATABASE_URL and the cause.

    Servers migrate at start; operator commands pass `migrate=False`: they never create or
    migrate a database, and refuse one whose schema is not this code's.
    """
    store = open_store(settings.database_url, max_attempts=settings.job_max_attempts)
    try:
        await store.open(migrate=migrate)
    except StoreError as exc:
        raise ConfigError(f"TRIAD_DATABASE_URL: {exc}") from None
    try:
        yield store
    finally:
        await store.close()
