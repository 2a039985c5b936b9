"""Operator commands read the servers' database as it is: they never create or migrate one, and
refuse a schema older or newer than they know with one line saying what to do."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from bot.store import Store
from tests.ops.conftest import Triad
from tests.ops.seed import Seeded

Operated = tuple[Store, Seeded]


def test_a_mistyped_sqlite_path_is_not_created(
    tmp_path: Path, triad: Triad, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "typo" / "triad.db"
    monkeypatch.setenv("TRIAD_DATABASE_URL", f"sqlite:///{missing}")
    for command in (["jobs"], ["workflows"], ["deliveries", "prune", "--older-than", "1"]):
        status, out, err = triad(*command)
        assert status == 2 and out == ""
        assert err == (
            f"triad: error: TRIAD_DATABASE_URL: no SQLite database at {missing}: is "
            "TRIAD_DATABASE_URL the servers' database? (`triad serve` or `triad worker` "
            "creates it when it starts)\n"
        )
    assert not missing.parent.exists()


@contextmanager
def _empty_database(store_url: str, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A database with no Triad schema on the test's backend, and a function listing tables."""
    if store_url.startswith("sqlite"):
        path = tmp_path / "other.db"
        sqlite3.connect(path).close()
        url = f"sqlite:///{path}"
        tables: list[str] = []
        yield url, tables
        with sqlite3.connect(path) as db:
            tables += [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
        return
    name = f"triad_empty_{uuid.uuid4().hex[:8]}"
    base = store_url.rsplit("/", 1)[0]
    with psycopg.connect(store_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        tables = []
        yield f"{base}/{name}", tables
        with psycopg.connect(f"{base}/{name}") as db:
            tables += [
                row[0]
                for row in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ]
    finally:
        with psycopg.connect(store_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_database_without_the_schema_is_refused_and_left_empty(
    store_url: str, tmp_path: Path, triad: Triad, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _empty_database(store_url, tmp_path) as (url, tables):
        monkeypatch.setenv("TRIAD_DATABASE_URL", url)
        status, out, err = triad("jobs")
    assert status == 2 and out == ""
    assert err == (
        "triad: error: TRIAD_DATABASE_URL: the database has no Triad schema: is this the "
        "servers' database? `triad serve` or `triad worker` creates the schema when it starts\n"
    )
    assert tables == []  # not migrated


async def test_an_older_schema_is_refused_and_not_migrated(
    seeded: Operated, triad: Triad, store_url: str
) -> None:
    store, _ = seeded
    versions = sorted(version for version, _, _ in store.migrations())
    newest, previous = versions[-1], versions[-2]  # numbers may have gaps
    row = await store.run(
        lambda tx: tx.fetchone("SELECT * FROM schema_migrations WHERE version = ?", (newest,))
    )
    assert row is not None
    await store.run(
        lambda tx: tx.execute("DELETE FROM schema_migrations WHERE version = ?", (newest,))
    )
    try:
        status, out, err = await asyncio.to_thread(triad, "jobs")
        assert await store.schema_version() == previous  # the command did not migrate it
    finally:  # the PostgreSQL database is shared by the session's tests
        await store.run(
            lambda tx: tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (newest, row["name"], row["applied_at"]),
            )
        )
    assert status == 2 and out == ""
    assert err == (
        f"triad: error: TRIAD_DATABASE_URL: the database schema is at version {previous}, "
        f"older than this Triad's {newest}: operator commands never migrate; start this "
        "release's `triad serve` or `triad worker` once (servers migrate at start), then retry\n"
    )


async def test_a_newer_schema_is_refused(seeded: Operated, triad: Triad) -> None:
    store, _ = seeded
    newest = max(version for version, _, _ in store.migrations())
    await store.run(
        lambda tx: tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (newest + 1, "from_the_future.sql", 0.0),
        )
    )
    try:
        status, out, err = await asyncio.to_thread(triad, "workflows")
    finally:
        await store.run(
            lambda tx: tx.execute("DELETE FROM schema_migrations WHERE version = ?", (newest + 1,))
        )
    assert status == 2 and out == ""
    assert err.startswith(
        f"triad: error: TRIAD_DATABASE_URL: the database schema is at version {newest + 1}, "
        f"newer than this Triad knows (up to {newest}): "
    )
    assert err.count("\n") == 1
