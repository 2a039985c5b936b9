"""Drops on a stale config, taken back: when the repository's config is read again and has
changed, its deliveries dropped at the door since the previous read go through the door again
with the new config, and those it now admits are queued (a rename of the design label that
Triad learnt of late still starts the workflow the label asked for)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.github.events import Unreadable
from bot.repo_config import cached_parse
from bot.routing import ROUTER
from bot.routing.router import Admitted, DoorFacts, Router
from bot.store import DeliveryOutcome, NewJob, Store
from bot.store.base import Transaction
from bot.store.deliveries import DeliveryLog
from bot.store.repo_configs import door_facts
from bot.workflow.jobs import DeliveryTask

log = logging.getLogger(__name__)

#: at most this many of a repository's drops are read again at one refresh
LIMIT = 200


@dataclass(frozen=True)
class _Dropped:
    id: str
    admitted: Admitted


def delivery_job(delivery_id: str, repository: str | None) -> NewJob:
    """The job that interprets a stored delivery (once: keyed by its id)."""
    task = DeliveryTask(delivery_id=delivery_id)
    return NewJob(
        kind=task.kind,
        idempotency_key=f"delivery:{delivery_id}",
        payload=task.model_dump(mode="json"),
        repository=repository,
    )


async def readmit_dropped(store: Store, repository: str, since: float) -> list[str]:
    """Queue `repository`'s deliveries ignored since `since` that the door, with the config
    stored now and what the store knows of their workflows, admits; their ids."""
    rows = await store.run(
        lambda tx: tx.fetchall(
            "SELECT id, event, action, body FROM deliveries WHERE repository = ?"
            " AND outcome = ? AND received_at >= ? ORDER BY received_at LIMIT ?",
            (repository, DeliveryOutcome.IGNORED.value, since, LIMIT),
        )
    )
    dropped = []
    for row in rows:
        try:
            door = ROUTER.admit(
                row["event"], row["action"], store.sent_body(row["body"]), DoorFacts()
            )
        except Unreadable:  # a pruned body: nothing to read again
            continue
        if isinstance(door, Admitted) and door.asks[0]:  # dropped on the store's facts
            dropped.append(_Dropped(str(row["id"]), door))
    if not dropped:
        return []
    now = store.clock()
    admitted = await store.run(lambda tx: [d.id for d in dropped if _admits(tx, d, now)])
    readmitted = [
        delivery_id
        for delivery_id in admitted
        if await DeliveryLog(store).readmit(
            delivery_id,
            DeliveryOutcome.IGNORED,
            DeliveryOutcome.QUEUED,
            None,
            delivery_job(delivery_id, repository),
        )
    ]
    if readmitted:
        log.info(
            "deliveries dropped on an older config queued",
            extra={"repository": repository, "deliveries": readmitted},
        )
    return readmitted


def _admits(tx: Transaction, dropped: _Dropped, now: float) -> bool:
    wants, number = dropped.admitted.asks
    repository = dropped.admitted.parsed.repository
    assert wants and repository is not None
    known = door_facts(tx, repository.full_name, number, now)
    config = cached_parse(known.config.text).config if known.config is not None else None
    facts = DoorFacts(config=config, workflow=known.workflow)
    return isinstance(Router.recheck(dropped.admitted, facts), Admitted)
