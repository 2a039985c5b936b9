"""Admitting a batch of webhook deliveries in one transaction, in a few statements.

Group commit (`bot.store.group_commit`) gathers the deliveries offered at once; this stores
them. The repositories asked about are locked in one statement (PostgreSQL: admissions of a
repository take turns across web processes); what the store knows is read once per
(repository, number) asked about; the door decides each delivery in the order it came; then
every delivery goes in one multi-row insert and their jobs in another. A delivery the insert
refused (its id or its body is stored already: a redelivery, a readmission, a replay) is
settled alone afterwards. The clients cost more CPU per statement than per row (psycopg about
0.1 ms a statement), so a batch costs a few statements, not a few per delivery.

Deciding in order keeps what deciding one delivery per transaction gave: a delivery queued
earlier in the batch makes its repository's later deliveries see a delivery pending (what
the store says may be about to change), so they are admitted as they would have been.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.store.base import (
    DELIVERY_COLUMNS,
    JOB_COLUMNS,
    Admission,
    Offer,
    Transaction,
    delivery_values,
    job_values,
)
from bot.store.group_commit import ItemsFailed
from bot.store.models import Delivery, NewJob
from bot.store.repo_configs import StoreFacts, door_facts
from bot.workflow.jobs import JobKind

if TYPE_CHECKING:
    from bot.store.base import Store


def admit_batch(store: Store, tx: Transaction, offers: list[Offer], now: float) -> list[Admission]:
    """Each offer's admission, in order, stored in `tx`; `ItemsFailed` when a statement about
    the offers raised (the group tries them again one by one)."""
    store.begin_grouped(tx)
    try:
        decided = _decide(store, tx, offers, now)
        stored = _insert_deliveries(store, tx, [delivery for delivery, _ in decided], now)
        admissions: list[Admission | None] = []
        jobs: list[NewJob] = []
        for delivery, job in decided:
            if delivery.id in stored:
                stored.discard(delivery.id)  # a copy later in the batch is a redelivery
                admissions.append(Admission(new=True, delivery=delivery))
                if job is not None:
                    jobs.append(job)
            else:
                admissions.append(None)
        _insert_jobs(store, tx, jobs, now)
        return [
            admission or store.settle_refused(tx, delivery, job, now)
            for admission, (delivery, job) in zip(admissions, decided, strict=True)
        ]
    except Exception as exc:
        raise ItemsFailed(exc) from exc


def _decide(
    store: Store, tx: Transaction, offers: list[Offer], now: float
) -> list[tuple[Delivery, NewJob | None]]:
    asked = sorted({offer.asks[0] for offer in offers if offer.asks is not None})
    if asked:
        store.lock(tx, asked)
    known: dict[tuple[str, int | None], StoreFacts] = {}
    queued: set[str] = set()  # repositories with a delivery queued earlier in the batch
    decided = []
    for offer in offers:
        facts = None
        if offer.asks is not None:
            facts = known.get(offer.asks)
            if facts is None:
                facts = known[offer.asks] = door_facts(tx, *offer.asks, now)
            if offer.asks[0] in queued and not facts.pending:
                facts = replace(facts, pending=True)
        delivery, job = offer.decide(facts)
        if job is not None and job.kind == JobKind.DELIVERY and job.repository is not None:
            queued.add(job.repository)
        decided.append((delivery, job))
    return decided


def _insert_deliveries(
    store: Store, tx: Transaction, deliveries: list[Delivery], now: float
) -> set[str]:
    """The ids inserted; a delivery whose id or body's hash is stored already is not (the
    unique indexes decide, also against a concurrent writer)."""
    rows = store.insert_rows(
        tx,
        "deliveries",
        DELIVERY_COLUMNS,
        [delivery_values(delivery, now) for delivery in deliveries],
        "ON CONFLICT DO NOTHING RETURNING id",
    )
    return {row["id"] for row in rows}


def _insert_jobs(store: Store, tx: Transaction, jobs: list[NewJob], now: float) -> None:
    if not jobs:
        return
    rows = store.insert_rows(
        tx,
        "jobs",
        JOB_COLUMNS,
        [job_values(job, now, store.max_attempts) for job in jobs],
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING run_at",
    )
    due = sum(1 for row in rows if row["run_at"] <= now)
    if due:
        store.jobs_queued(tx, due)
