"""Admitting a batch of webhook deliveries in one transaction, in a few statements.

Group commit (`bot.store.group_commit`) gathers the deliveries offered at once; this stores
them. The repositories asked about are locked with the transaction's start (PostgreSQL:
admissions of a repository take turns across web processes); what the store knows of every
(repository, number) asked about is read in one statement; the door decides each delivery in
the order it came; then the deliveries go in one insert (`Store.delivery_rows`: by id, each
received a microsecond after the one before it) and the jobs in another, in the order the
deliveries came (on PostgreSQL both in one statement, `Store.inserts_counted`). The clients
cost more CPU per statement than per row (psycopg about 0.1 ms a statement), so a batch costs
a few statements, not a few per delivery.

Nearly every batch holds only deliveries the store has never seen, so each is first decided
as new, without reading which are (`_admit_if_all_new`); the inserts then tell whether all
were. When one was stored already (a redelivery, a readmission, a replay) or a job's key was
taken, what the batch wrote is undone and it is decided again (`_admit`), knowing which offers
are new from one read of the batch's ids and bodies; a delivery stored already, or a copy
earlier in the batch, is then settled alone. A batch that falls back costs about twice as much:
a run of redeliveries or replays makes ingest dearer, never wrong.

Deciding in order keeps what deciding one delivery per transaction gave: a delivery that will
queue its job (new, or readmitted) makes its repository's later deliveries see a delivery
pending (what the store says may be about to change), so they are admitted as they would
have been; a redelivery or a replay queues nothing and changes nothing for them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.store.base import (
    DELIVERY_COLUMNS,
    JOB_COLUMNS,
    Admission,
    CountedInsert,
    Offer,
    Row,
    Transaction,
    job_values,
)
from bot.store.group_commit import ItemFailed, ItemsFailed
from bot.store.models import Delivery, DeliveryOutcome, NewJob
from bot.store.repo_configs import door_facts_of
from bot.workflow.jobs import JobKind

if TYPE_CHECKING:
    from bot.store.base import Store


def admit_batch(
    store: Store, tx: Transaction, offers: list[Offer], now: float
) -> list[Admission | ItemFailed]:
    """Each offer's admission, in order, stored in `tx` (an offer whose decision raised gets
    `ItemFailed` and the rest are stored); `ItemsFailed` when a statement about the offers
    raised (the group tries them again in smaller batches)."""
    try:
        store.begin_grouped(tx, sorted({offer.asks[0] for offer in offers if offer.asks}))
        admitted = _admit_if_all_new(store, tx, offers, now)
        return admitted if admitted is not None else _admit(store, tx, offers, now)
    except Exception as exc:
        raise ItemsFailed(exc) from exc


@dataclass
class _Planned:
    """One offer's decision, and whether it is new to the store (its id and body's hash are
    stored neither before the batch nor earlier in it)."""

    delivery: Delivery
    job: NewJob | None
    fresh: bool
    admission: Admission | None = None


def _admit_if_all_new(
    store: Store, tx: Transaction, offers: list[Offer], now: float
) -> list[Admission | ItemFailed] | None:
    """The batch admitted in two inserts, when none of its deliveries is stored already (nor
    twice in it) and none of its jobs' keys is taken: the common case, decided without reading
    which are. None, with what it wrote undone, when an insert stored fewer rows than it was
    given: the decisions may then differ (`_Stored`), so `_admit` decides the batch again.
    Workers are told of its jobs only once both inserts are whole."""
    offered = [offer.delivery for offer in offers]
    hashes = [delivery.body_hash for delivery in offered if delivery.body_hash is not None]
    if len({delivery.id for delivery in offered}) < len(offers) or len(set(hashes)) < len(hashes):
        return None
    planned = _decide(tx, offers, now, _Stored([], set()))
    decided = [plan for plan in planned if isinstance(plan, _Planned)]
    deliveries = store.delivery_rows([plan.delivery for plan in decided], now)
    jobs = [job_values(plan.job, now, store.max_attempts) for plan in decided if plan.job]
    inserts = [
        CountedInsert("deliveries", DELIVERY_COLUMNS, deliveries, _ON_ANY_CONFLICT),
        CountedInsert("jobs", JOB_COLUMNS, jobs, _ON_JOB_CONFLICT),
    ]
    if store.inserts_counted(tx, inserts) != [len(insert.rows) for insert in inserts]:
        store.undo_grouped(tx)
        return None
    due = sum(1 for plan in decided if plan.job and plan.job.delay_seconds <= 0)
    if due:
        store.jobs_queued(tx, due)
    return [
        Admission(new=True, delivery=plan.delivery) if isinstance(plan, _Planned) else plan
        for plan in planned
    ]


def _admit(
    store: Store, tx: Transaction, offers: list[Offer], now: float
) -> list[Admission | ItemFailed]:
    planned = _decide(tx, offers, now, _Stored.read(store, tx, offers))
    decided = [plan for plan in planned if isinstance(plan, _Planned)]
    # a delivery stored by a concurrent writer since the batch read the store is refused
    inserted = store.insert_deliveries(tx, [plan.delivery for plan in decided if plan.fresh], now)
    jobs: list[NewJob] = []
    readmitting: dict[str, _Planned] = {}
    for plan in decided:
        if plan.fresh and plan.delivery.id in inserted:
            plan.admission = Admission(new=True, delivery=plan.delivery)
            job = plan.job
        else:  # stored already, or by a concurrent writer since the batch read the store
            plan.admission, job = store.settle_refused(tx, plan.delivery, plan.job, now)
            if job is not None:
                readmitting[job.idempotency_key] = plan
        if job is not None:
            jobs.append(job)  # in the order the deliveries came
    queued = _insert_jobs(store, tx, jobs, now)
    for key, plan in readmitting.items():
        if key not in queued:  # its one job exists already
            plan.admission = Admission(new=False)
    return [
        plan.admission or Admission(new=False) if isinstance(plan, _Planned) else plan
        for plan in planned
    ]


def _decide(
    tx: Transaction, offers: list[Offer], now: float, stored: _Stored
) -> list[_Planned | ItemFailed]:
    """Each offer decided in order, with what the store knows of the repository it asks
    about (one read answers every question); a delivery that will queue a job makes its
    repository's later offers see a delivery pending, as if each offer were admitted alone."""
    questions = list(dict.fromkeys(offer.asks for offer in offers if offer.asks is not None))
    known = door_facts_of(tx, questions, now)
    queued: set[str] = set()  # repositories with a delivery queued earlier in the batch
    planned: list[_Planned | ItemFailed] = []
    for offer in offers:
        facts = None
        if offer.asks is not None:
            facts = known[offer.asks]
            if offer.asks[0] in queued and not facts.pending:
                facts = replace(facts, pending=True)
        try:
            delivery, job = offer.decide(facts)
        except Exception as exc:  # this offer's own fault: the rest are stored
            planned.append(ItemFailed(exc))
            continue
        fresh, queues = stored.plan(delivery, job)
        if queues and job is not None and job.kind == JobKind.DELIVERY and job.repository:
            queued.add(job.repository)
        planned.append(_Planned(delivery, job, fresh))
    return planned


class _Stored:
    """What the store holds of a batch's ids and bodies (`read` before any decision; none
    when the batch is taken for new), and what the batch adds as its offers are decided in
    order."""

    def __init__(self, rows: list[Row], ids: set[str]) -> None:
        """`rows`: the stored deliveries (id, outcome, body_hash) with one of the batch's `ids`
        or bodies."""
        #: outcome and body hash of each id stored (before the batch, or earlier in it)
        self._ids = {
            row["id"]: (row["outcome"], row["body_hash"]) for row in rows if row["id"] in ids
        }
        #: hashes of the bodies stored (a replay holds none)
        self._bodies = {row["body_hash"] for row in rows if row["body_hash"]}

    @classmethod
    def read(cls, store: Store, tx: Transaction, offers: list[Offer]) -> _Stored:
        """The batch's ids and bodies as stored, in one read."""
        offered = [offer.delivery for offer in offers]
        ids = [delivery.id for delivery in offered]
        hashes = [delivery.body_hash for delivery in offered if delivery.body_hash]
        return cls(store.stored_deliveries(tx, ids, hashes), set(ids))

    def plan(self, delivery: Delivery, job: NewJob | None) -> tuple[bool, bool]:
        """(whether `delivery` is new and will be inserted, whether its job will be queued):
        a redelivery queues only as a readmission (stored as ignored, the same body, now with
        a job), a replay never."""
        body = delivery.body_hash
        if delivery.id in self._ids:
            outcome, stored_body = self._ids[delivery.id]
            readmits = (
                job is not None
                and outcome == DeliveryOutcome.IGNORED.value
                and body is not None
                and body == stored_body
            )
            if readmits:  # once: a later copy finds it queued
                self._ids[delivery.id] = (DeliveryOutcome.QUEUED.value, stored_body)
            return False, readmits
        if body is not None and body in self._bodies:
            self._ids[delivery.id] = (DeliveryOutcome.DUPLICATE.value, None)
            return False, False
        self._ids[delivery.id] = (delivery.outcome.value, body)
        if body is not None:
            self._bodies.add(body)
        return True, job is not None


#: the inserts' conflict clauses: on any unique key (the id, the body's hash); on the job's key
_ON_ANY_CONFLICT = "ON CONFLICT DO NOTHING"
_ON_JOB_CONFLICT = "ON CONFLICT (idempotency_key) DO NOTHING"


def _insert_jobs(store: Store, tx: Transaction, jobs: list[NewJob], now: float) -> set[str]:
    """The idempotency keys of the jobs inserted (a key that exists already is not)."""
    if not jobs:
        return set()
    rows = store.insert_rows(
        tx,
        "jobs",
        JOB_COLUMNS,
        [job_values(job, now, store.max_attempts) for job in jobs],
        f"{_ON_JOB_CONFLICT} RETURNING idempotency_key, run_at",
    )
    due = sum(1 for row in rows if row["run_at"] <= now)
    if due:
        store.jobs_queued(tx, due)
    return {row["idempotency_key"] for row in rows}
