"""Shared fixtures: a store on each backend (PostgreSQL when TRIAD_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from bot.logs import BatchingStreamHandler
from bot.store import Store, open_store
from triad_lab.scratch import TEST_DATABASE_ENV, postgres_database

#: real example deliveries from GitHub (a copy of ../shared/fixtures/github-webhooks)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "github-webhooks"
POSTGRES_SKIP = (
    "PostgreSQL tests need TRIAD_TEST_DATABASE_URL, e.g. "
    "TRIAD_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make test"
)


#: tests that start servers or processes and play whole workflows: `make test-fast` skips them
SLOW_PATHS = ("e2e/", "test_processes.py", "simulator/test_process.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests by where they live, so a new end-to-end test is slow by default."""
    root = Path(__file__).resolve().parent
    for item in items:
        where = Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        if where.startswith(SLOW_PATHS):
            item.add_marker(pytest.mark.slow)


class FakeClock:
    """A clock tests move by hand, so lease expiry and backoff need no sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


#: what `bot.logs.configure_logging` turns off for the whole process
_LOOKUPS = ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing")


@pytest.fixture(autouse=True)
def _logging_lookups() -> Iterator[None]:
    """Each test that configures logging (directly, or by starting a server in-process) leaves
    the logging module's lookups as it found them: pytest's own reports name file and line."""
    kept = {name: getattr(logging, name) for name in _LOOKUPS}
    batching = _batching_handlers()
    yield
    for name, value in kept.items():
        setattr(logging, name, value)
    # and closes the batching handlers it made and put aside: their lines written, their
    # threads ended, before the next test's output
    for handler in _batching_handlers() - batching:
        if handler not in logging.getLogger().handlers:
            handler.close()


def _batching_handlers() -> set[BatchingStreamHandler]:
    alive = (reference() for reference in logging._handlerList)  # type: ignore[attr-defined]
    return {handler for handler in alive if isinstance(handler, BatchingStreamHandler)}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped afterwards."""
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        pytest.skip(POSTGRES_SKIP)
    with postgres_database(base, prefix="triad_test") as url:
        yield url


def _truncate_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'schema_migrations'"
        ).fetchall()
        if tables:
            names = ", ".join(f'"{row[0]}"' for row in tables)
            connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend; the PostgreSQL one starts empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triad.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with open_store(store_url, clock=clock) as opened:
        yield opened
