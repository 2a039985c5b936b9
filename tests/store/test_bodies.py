"""A delivery's body as each backend keeps it: SQLite packs it as an LZ4 frame (it has no
column compression, and writing bodies whole cost most of a delivery's CPU), PostgreSQL keeps
it as sent (lz4 TOAST compresses it in the server); every body reads back as it was sent."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import lz4.frame

from bot.routing.redoor import readmit_dropped
from bot.store import Delivery, DeliveryOutcome, NewJob, Store, open_store
from bot.store.bodies import MAGIC, packed, unpacked
from bot.store.deliveries import DAY, DeliveryLog
from bot.store.repo_configs import CachedConfig, ConfigCache
from tests.conftest import FIXTURES, FakeClock

REPOSITORY = "Codertocat/Hello-World"
#: a real delivery of REPOSITORY, as an App receives it (with its installation)
BODY = json.dumps(
    {**json.loads((FIXTURES / "issues.labeled.json").read_bytes()), "installation": {"id": 1}}
).encode()


def delivery(name: str, outcome: DeliveryOutcome = DeliveryOutcome.QUEUED) -> Delivery:
    return Delivery(
        id=name,
        event="issues",
        action="labeled",
        installation_id=1,
        repository=REPOSITORY,
        sender="alice",
        outcome=outcome,
        body=BODY,
        body_hash=hashlib.sha256(BODY).hexdigest(),
    )


async def kept(store: Store, name: str) -> bytes:
    row = await store.run(
        lambda tx: tx.fetchone("SELECT body FROM deliveries WHERE id = ?", (name,))
    )
    assert row is not None
    return bytes(row["body"])


async def test_a_body_reads_back_as_sent_and_sqlite_keeps_a_fifth_of_it(store: Store) -> None:
    assert (await store.admit_delivery(delivery("d-1"))).new
    stored = await store.get_delivery("d-1")
    assert stored is not None and stored.body == BODY
    column = await kept(store, "d-1")
    if store.dialect == "sqlite":
        assert column.startswith(MAGIC) and len(column) < len(BODY) / 3
        assert lz4.frame.decompress(column) == BODY
    else:
        assert column == BODY  # the server compresses it (test_operations)


async def test_a_readmitted_body_is_kept_as_the_backend_keeps_bodies(store: Store) -> None:
    dropped = replace(delivery("d-1"), outcome=DeliveryOutcome.IGNORED, reason="no label")
    assert (await store.admit_delivery(dropped)).new
    job = NewJob(kind="delivery", idempotency_key="delivery:d-1", payload={}, repository=REPOSITORY)
    assert (await store.admit_delivery(delivery("d-1"), job)).readmitted
    stored = await store.get_delivery("d-1")
    assert stored is not None and stored.body == BODY
    assert (await kept(store, "d-1")).startswith(MAGIC) == (store.dialect == "sqlite")


async def test_a_delivery_dropped_on_an_older_config_is_read_again_from_its_kept_body(
    store: Store, clock: FakeClock
) -> None:
    """`bot.routing.redoor` reads stored bodies itself, not through `get_delivery`."""
    dropped = replace(delivery("d-1"), outcome=DeliveryOutcome.IGNORED, reason="not a label")
    assert (await store.admit_delivery(dropped)).new
    renamed = CachedConfig(REPOSITORY, "c0ffee", "labels:\n  design: bug\n", 0.0)
    await ConfigCache(store).put(replace(renamed, read_at=clock.now))
    assert await readmit_dropped(store, REPOSITORY, since=0.0) == ["d-1"]
    stored = await store.get_delivery("d-1")
    assert stored is not None and stored.outcome is DeliveryOutcome.QUEUED


async def test_a_pruned_body_stays_empty(store: Store, clock: FakeClock) -> None:
    assert (await store.admit_delivery(delivery("d-1", DeliveryOutcome.IGNORED))).new
    clock.advance(31 * DAY)
    assert await DeliveryLog(store).prune_bodies(older_than_days=30) == 1
    stored = await store.get_delivery("d-1")
    assert stored is not None and stored.body == b"" and await kept(store, "d-1") == b""


async def test_a_body_sqlite_kept_as_sent_before_it_packed_bodies_still_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "triad.db"
    async with open_store(f"sqlite:///{path}") as store:
        assert (await store.admit_delivery(delivery("d-1"))).new
    with sqlite3.connect(path) as connection:  # as an earlier Triad stored it
        connection.execute("UPDATE deliveries SET body = ? WHERE id = 'd-1'", (BODY,))
    async with open_store(f"sqlite:///{path}") as store:
        stored = await store.get_delivery("d-1")
        assert stored is not None and stored.body == BODY


def test_an_empty_body_stays_empty_and_a_frame_reads_back_from_a_memoryview() -> None:
    assert packed(b"") == b"" and unpacked(b"") == b""
    assert unpacked(memoryview(packed(BODY))) == BODY
    assert unpacked(BODY) == BODY
