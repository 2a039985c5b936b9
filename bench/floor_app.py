"""The ingest benchmark's floor: the least an endpoint can do that reads a delivery as Triad does
and stores it before it answers. Raw ASGI on the server Triad runs (uvicorn, uvloop,
httptools), as Triad's webhook path is; it checks the HMAC, reads the body with Triad's own
typed read, hashes it, and stores (id, body, hash) with the same durability as Triad, the body
kept as Triad keeps it (an LZ4 frame on SQLite, `bot.store.bodies`; lz4 TOAST on PostgreSQL),
every request of one event-loop turn in one transaction committed on the loop itself: no
thread hand-off, routing decision, duplicate check (a copy of a stored id is skipped by its
key), job, second index, metric or log. So what Triad spends beyond it is what its own logic
costs.

    FLOOR_DATABASE_URL=sqlite:///floor.db uvicorn bench.floor_app:app --port 3002
    (SQLite in WAL with synchronous=FULL, as Triad; or a postgresql:// URL)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import sqlite3
from collections.abc import Callable

from starlette.types import Receive, Scope, Send

from bot.routing import ROUTER
from bot.routing.reading import NotJson, read_delivery
from bot.store.bodies import packed

log = logging.getLogger("floor")

SECRET = os.environ.get("TRIAD_WEBHOOK_SECRET", "bench-secret-of-32-characters-ok").encode()
Row = tuple[str, bytes, str]
#: stores a batch of rows in one transaction, committed (or rolled back) before it returns
Store = Callable[[list[Row]], None]


def create_table(name: str, dialect: str) -> str:
    """The floor's table: the id its only index (bodies lz4 on PostgreSQL: `LZ4`)."""
    blob = "BYTEA" if dialect == "postgresql" else "BLOB"
    return f"CREATE TABLE IF NOT EXISTS {name} (id TEXT PRIMARY KEY, body {blob}, body_hash TEXT)"


#: on PostgreSQL 14+ built with lz4, as Triad's bodies (migration 0013); else pglz stays
LZ4 = "ALTER TABLE {} ALTER COLUMN body SET COMPRESSION lz4"


def postgres_insert(name: str) -> str:
    """A batch in one statement, as Triad's inserts: `unnest` of binary arrays."""
    return (
        f"INSERT INTO {name} SELECT * FROM unnest(%b::text[], %b::bytea[], %b::text[])"
        " ON CONFLICT DO NOTHING"
    )


def _sqlite(path: str) -> Store:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(create_table("deliveries", "sqlite"))

    def store(rows: list[Row]) -> None:
        connection.execute("BEGIN")
        try:
            connection.executemany(
                "INSERT INTO deliveries VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(delivery, packed(body), digest) for delivery, body, digest in rows],
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    return store


def _postgres(url: str) -> Store:
    import psycopg

    connection = psycopg.connect(url, autocommit=True)
    connection.execute(create_table("deliveries", "postgresql"))
    try:
        connection.execute(LZ4.format("deliveries"))
    except (psycopg.errors.FeatureNotSupported, psycopg.errors.SyntaxError):
        log.warning("PostgreSQL without lz4: bodies compressed with pglz")
    insert = postgres_insert("deliveries")

    def store(rows: list[Row]) -> None:
        ids, bodies, hashes = zip(*rows, strict=True)
        # one statement, committed on its own (autocommit): one round trip
        connection.execute(insert, (list(ids), list(bodies), list(hashes)), binary=True)

    return store


def _open(url: str) -> Store:
    if url.startswith("sqlite:///"):
        return _sqlite(url.removeprefix("sqlite:///"))
    return _postgres(url)


class _Commits:
    """Every row offered in one event-loop turn, committed together at the turn's end (on the
    loop: the floor's cheapest way, as nothing else runs in the process)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rows: list[Row] = []
        self.waiting: list[asyncio.Future[None]] = []

    async def add(self, row: Row) -> None:
        loop = asyncio.get_running_loop()
        if not self.rows:
            loop.call_soon(self.commit)
        self.rows.append(row)
        future: asyncio.Future[None] = loop.create_future()
        self.waiting.append(future)
        await future

    def commit(self) -> None:
        rows, waiting = self.rows, self.waiting
        self.rows, self.waiting = [], []
        try:
            self.store(rows)
        except Exception as exc:  # every caller of the batch answers 500
            for future in waiting:
                if not future.done():  # a caller that went away is not answered
                    future.set_exception(exc)
            return
        for future in waiting:
            if not future.done():
                future.set_result(None)


#: opened at the server's start (ASGI lifespan), before it takes a request
_commits: _Commits | None = None


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by lower-case name, the first of repeats (as Triad reads them)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        found.setdefault(name, value)
    return found


async def _lifespan(receive: Receive, send: Send) -> None:
    global _commits
    while (message := await receive())["type"] != "lifespan.shutdown":
        if message["type"] == "lifespan.startup":
            _commits = _Commits(_open(os.environ.get("FLOOR_DATABASE_URL", "sqlite:///floor.db")))
            await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """202 once a signed delivery is stored; 401 unsigned, 400 not JSON, 500 not stored."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http" or _commits is None:
        return
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    headers = _headers(scope)
    expected = b"sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()
    status = 401
    if hmac.compare_digest(expected, headers.get(b"x-hub-signature-256", b"")):
        try:
            read_delivery(ROUTER, headers.get(b"x-github-event", b"").decode(), body)
            delivery = headers.get(b"x-github-delivery", b"").decode()
            await _commits.add((delivery, body, hashlib.sha256(body).hexdigest()))
            status = 202
        except NotJson:
            status = 400
        except Exception:
            log.exception("delivery not stored")
            status = 500
    answer = [(b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": answer})
    await send({"type": "http.response.body", "body": b""})
