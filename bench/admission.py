"""What storing a batch of deliveries costs the store, in-process: Triad's admission against the
floor's insert (`floor_app.py`: id, body as the store keeps it, and hash; nothing else) into the
same database.

    .venv/bin/python bench/admission.py --rounds 5 [--postgres postgresql://...]

Each round admits `--batches` batches of `--batch` deliveries (the real example payloads, read
by the door as the endpoint reads them, each made unique) through the store's own transaction
in its own thread, once by `admit_batch` (locks, the store's facts, which ids and bodies are
stored, the deliveries, their jobs) and once by the floor's one insert of the batch into a
table of its own, the two interleaved; CPU per delivery of this process and of the database
server's backends, and wall time per delivery, medians over rounds. No HTTP, no contention
from requests: the store's own cost, so a change to it is measured alone. SQLite in a scratch
file (its work is in this process); PostgreSQL (`--postgres`: a scratch database made on that
server, dropped after; left out, saying why, when it cannot be reached), its backends' CPU read
from `/proc`, so the server must run on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from contenders import BackendCpu
from floor_app import LZ4, create_table, postgres_insert
from harness import postgres_unreachable
from payloads import templates

from bot.store import Store, open_store
from bot.store.admission import admit_batch
from bot.store.base import Offer, Transaction
from bot.store.group_commit import ItemFailed
from bot.web.webhooks import _Door, _read
from triad_lab.scratch import postgres_database

TEMPLATES = templates()


def offers(count: int, first: int) -> list[_Door]:
    """`count` deliveries as the endpoint hands them to the store."""
    found = []
    for sequence in range(first, first + count):
        template = TEMPLATES[sequence % len(TEMPLATES)]
        body = template.body(sequence)
        reading = _read(template.event, body)
        found.append(_Door(template.event, str(uuid.uuid4()), reading, body, "triad[bot]"))
    return found


def triad(store: Store, batch: list[_Door]) -> Callable[[Transaction], Any]:
    """Triad's admission of the batch, as group commit hands it to the store."""

    def admit(tx: Transaction) -> None:
        failed = [
            r
            for r in admit_batch(store, tx, list[Offer](batch), time.time())
            if isinstance(r, ItemFailed)
        ]
        if failed:  # a failed offer would be timed as stored
            raise RuntimeError(f"{len(failed)} offers failed: {failed[0].error}")

    return admit


def floor(store: Store, batch: list[_Door]) -> Callable[[Transaction], Any]:
    """The floor's one statement for the batch, each body kept as the store keeps bodies
    (`Store.keep_body`; PostgreSQL: `unnest` of binary arrays, as Triad's inserts)."""
    offered = [offer.delivery for offer in batch]

    def rows() -> list[tuple[str, bytes, str | None]]:
        return [(d.id, store.keep_body(d.body), d.body_hash) for d in offered]

    if store.dialect != "postgresql":  # the store's own multi-row insert
        columns, tail = "id, body, body_hash", "ON CONFLICT DO NOTHING"
        return lambda tx: store.insert_rows(tx, "floor", columns, rows(), tail)
    insert = postgres_insert("floor")
    return lambda tx: tx.execute(insert, [list(column) for column in zip(*rows(), strict=True)])


async def timed(
    store: Store, operations: list[Callable[[Transaction], Any]], server: Callable[[], float]
) -> tuple[float, float, float]:
    """CPU seconds (this process, the database server's backends) and wall seconds for the
    operations, one transaction each, one after the other (the server's CPU is read outside
    the clocks: reading it costs a connection)."""
    backends = server()
    cpu, wall = time.process_time(), time.perf_counter()
    for operation in operations:
        await store.submit(operation)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu, server() - backends, wall


@contextlib.contextmanager
def database(admin_url: str | None) -> Iterator[tuple[str, Callable[[], float]]]:
    """A scratch database's URL, and the CPU seconds its server has spent so far (SQLite's is
    in this process: none)."""
    if admin_url is None:
        with tempfile.TemporaryDirectory(prefix="triad-admission-") as folder:
            yield f"sqlite:///{folder}/triad.db", lambda: 0.0
        return
    with postgres_database(admin_url, "triad_admission") as url:
        yield url, BackendCpu(admin_url, url.rsplit("/", 1)[1])


#: each contender's figures, one per round: µs a delivery of CPU here, of the server's, wall
Figures = dict[str, list[tuple[float, float, float]]]


async def measure(args: argparse.Namespace, url: str, server: Callable[[], float]) -> Figures:
    store = open_store(url)
    await store.open()
    try:
        await store.submit(lambda tx: tx.execute(create_table("floor", store.dialect)))
        if store.dialect == "postgresql":
            with contextlib.suppress(
                psycopg.errors.FeatureNotSupported, psycopg.errors.SyntaxError
            ):
                await store.submit(lambda tx: tx.execute(LZ4.format("floor")))
        per_round = args.batches * args.batch
        sequence = 0
        figures: Figures = {"triad": [], "floor": []}
        for number in range(args.rounds + 1):  # the first round warms up, uncounted
            for name in ("triad", "floor") if number % 2 else ("floor", "triad"):
                batches = [
                    offers(args.batch, sequence + i * args.batch) for i in range(args.batches)
                ]
                sequence += per_round
                operations = [
                    triad(store, batch) if name == "triad" else floor(store, batch)
                    for batch in batches
                ]
                here, there, wall = await timed(store, operations, server)
                if number:
                    scale = 1e6 / per_round
                    figures[name].append((here * scale, there * scale, wall * scale))
        return figures
    finally:
        await store.close()


async def run(args: argparse.Namespace) -> None:
    if args.postgres and (why := postgres_unreachable(args.postgres)):
        print(f"PostgreSQL left out: {why}")
        return
    with database(args.postgres) as (url, server):
        figures = await measure(args, url, server)
    backend = "PostgreSQL (its backends' CPU from /proc)" if args.postgres else "SQLite"
    print(f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{backend}, {args.rounds} rounds of {args.batches} batches of {args.batch} deliveries")
    print("(medians, µs a delivery):\n")
    if args.postgres and not any(f[1] for f in figures["triad"]):
        print("(the server's CPU reads 0: its backends are not processes of this machine)\n")
    print("| store | CPU, this process | CPU, the server | wall |")
    print("|---|---|---|---|")
    for name, note in (("triad", "Triad's admission"), ("floor", "the floor's insert")):
        here, there, wall = (statistics.median(f[i] for f in figures[name]) for i in range(3))
        backends = f"{there:.0f}" if args.postgres else "in this process"
        print(f"| {note} | {here:.0f} | {backends} | {wall:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch", type=int, default=16, help="deliveries a transaction")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server's URL")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
