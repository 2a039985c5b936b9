"""Scratch databases for tests and benchmarks: a SQLite file, or a PostgreSQL database made on
the server TRIAD_TEST_DATABASE_URL names and dropped after."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

TEST_DATABASE_ENV = "TRIAD_TEST_DATABASE_URL"


@contextlib.contextmanager
def postgres_database(base: str, prefix: str = "triad_scratch") -> Iterator[str]:
    """A new, empty database on `base`'s server (named `prefix_<random>`), dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database(backend: str, workdir: Path, prefix: str = "triad_scratch") -> Iterator[str]:
    """A fresh database: a new SQLite file in `workdir`, or a scratch PostgreSQL database
    (exits saying what to set when TRIAD_TEST_DATABASE_URL is not set)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'triad-{uuid.uuid4().hex[:6]}.db'}"
        return
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        raise SystemExit(f"PostgreSQL: set {TEST_DATABASE_ENV}=postgresql://user@host:port/db")
    with postgres_database(base, prefix) as url:
        yield url
