"""The ingest benchmark's floor: the least an endpoint can do that reads a delivery as Triad does
and stores it before it answers. Raw ASGI on the server Triad runs (uvicorn, uvloop,
httptools); it checks the HMAC, reads the body with Triad's own typed read, hashes it, and
stores (id, body, hash) with every request waiting in one event-loop turn committed together
on the loop itself: no thread hand-off, routing decision, duplicate check, job, metric or log.
What Triad spends beyond it is what its own logic costs; what it spends over the bare endpoint
is what reading and durability cost any Python endpoint.

    FLOOR_DATABASE_URL=sqlite:///floor.db uvicorn bench.floor_app:app --port 3002
    (SQLite: WAL, synchronous=FULL, as Triad; or a postgresql:// URL)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import sqlite3
from collections.abc import Callable

from starlette.types import Receive, Scope, Send

from bot.routing import ROUTER
from bot.routing.reading import read_delivery

SECRET = os.environ.get("TRIAD_WEBHOOK_SECRET", "bench-secret-of-32-characters-ok").encode()
TABLE = "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, body BLOB, body_hash TEXT)"
Row = tuple[str, bytes, str]


def _sqlite(path: str) -> Callable[[list[Row]], None]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(TABLE)

    def store(rows: list[Row]) -> None:
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO deliveries VALUES (?, ?, ?)", rows)
        connection.execute("COMMIT")

    return store


def _postgres(url: str) -> Callable[[list[Row]], None]:
    import psycopg

    connection = psycopg.connect(url, autocommit=True)
    connection.execute(TABLE.replace("BLOB", "BYTEA"))
    connection.execute("ALTER TABLE deliveries ALTER COLUMN body SET COMPRESSION lz4")
    insert = "INSERT INTO deliveries SELECT * FROM unnest(%b::text[], %b::bytea[], %b::text[])"

    def store(rows: list[Row]) -> None:
        ids, bodies, hashes = zip(*rows, strict=True)
        with connection.transaction():
            connection.execute(insert, (list(ids), list(bodies), list(hashes)), binary=True)

    return store


def _store() -> Callable[[list[Row]], None]:
    url = os.environ.get("FLOOR_DATABASE_URL", "sqlite:///floor.db")
    if url.startswith("sqlite:///"):
        return _sqlite(url.removeprefix("sqlite:///"))
    return _postgres(url)


class _Commits:
    """Every row offered in one event-loop turn, committed together at the turn's end."""

    def __init__(self, store: Callable[[list[Row]], None]) -> None:
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
        except Exception as exc:  # every caller answers 500
            for future in waiting:
                future.set_exception(exc)
            return
        for future in waiting:
            future.set_result(None)


_commits: _Commits | None = None


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global _commits
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    headers = dict(scope["headers"])
    expected = b"sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()
    status = 401
    if hmac.compare_digest(expected, headers.get(b"x-hub-signature-256", b"")):
        status = 202
        try:
            read_delivery(ROUTER, headers.get(b"x-github-event", b"").decode(), body)
            delivery = headers.get(b"x-github-delivery", b"").decode()
            _commits = _commits or _Commits(_store())
            await _commits.add((delivery, body, hashlib.sha256(body).hexdigest()))
        except Exception:
            status = 500
    headers_out = [(b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": headers_out})
    await send({"type": "http.response.body", "body": b""})
