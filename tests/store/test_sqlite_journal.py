"""A batch of deliveries is stored without a temporary file: SQLite keeps the statement
journal of a multi-row insert in memory (it spilled to a file past 64 kB, created, written page
by page and deleted by every batch: 30% of a delivery's writes)."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import pytest

from bot.store import Delivery, DeliveryOutcome, open_store
from bot.store.base import Transaction

FDS = Path("/proc/self/fd")


def _delivery() -> Delivery:
    body = json.dumps({"action": "created", "comment": {"body": uuid.uuid4().hex * 20}}).encode()
    return Delivery(
        id=str(uuid.uuid4()),
        event="issue_comment",
        action="created",
        installation_id=1,
        repository="Codertocat/Hello-World",
        sender="alice",
        outcome=DeliveryOutcome.IGNORED,
        body=body,
        body_hash=hashlib.sha256(body).hexdigest(),
    )


def _temporary_files() -> list[str]:
    """Files this process holds open that SQLite made for itself (named etilqs_*)."""
    found = []
    for fd in os.listdir(FDS):
        try:
            target = os.readlink(FDS / fd)
        except OSError:  # closed meanwhile
            continue
        if "etilqs_" in target:
            found.append(target)
    return found


@pytest.mark.skipif(not FDS.is_dir(), reason="reads the open files from /proc/self/fd (Linux)")
async def test_a_batch_of_deliveries_into_a_full_store_opens_no_temporary_file(
    tmp_path: Path,
) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'triad.db'}") as store:

        def insert(tx: Transaction) -> None:
            store.insert_deliveries(tx, [_delivery() for _ in range(500)], 0.0)

        for _ in range(6):  # indexes of many pages: a batch changes pages that exist
            await store.run(insert)
        batch = [_delivery() for _ in range(100)]

        def insert_then_look(tx: Transaction) -> list[str]:
            assert len(store.insert_deliveries(tx, batch, 0.0)) == len(batch)
            return _temporary_files()  # the journal lives until the transaction ends

        assert await store.run(insert_then_look) == []
