"""Deliveries kept on purpose: recent ones by outcome, and bodies pruned after retention."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.base import Store, Transaction
from bot.store.models import DeliveryOutcome, JobState, NewJob

DAY = 86400.0


@dataclass(frozen=True)
class DeliverySummary:
    """A delivery without its body, with the state of the job it queued (if any)."""

    id: str
    event: str
    action: str | None
    repository: str | None
    sender: str | None
    outcome: DeliveryOutcome
    received_at: float
    body_pruned: bool
    job_id: int | None
    job_state: JobState | None


class DeliveryLog:
    """The `deliveries` table as an operator reads and prunes it, on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def recent(
        self, limit: int = 50, outcome: DeliveryOutcome | None = None
    ) -> list[DeliverySummary]:
        where = " WHERE d.outcome = ?" if outcome is not None else ""
        params: tuple[object, ...] = (outcome.value,) if outcome is not None else ()
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT d.id, d.event, d.action, d.repository, d.sender, d.outcome,"
                " d.received_at, d.body_pruned_at, j.id AS job_id, j.state AS job_state"
                " FROM deliveries d LEFT JOIN jobs j ON j.idempotency_key = 'delivery:' || d.id"
                f"{where} ORDER BY d.received_at DESC, d.id LIMIT ?",
                (*params, limit),
            )
        )
        return [
            DeliverySummary(
                id=row["id"],
                event=row["event"],
                action=row["action"],
                repository=row["repository"],
                sender=row["sender"],
                outcome=DeliveryOutcome(row["outcome"]),
                received_at=float(row["received_at"]),
                body_pruned=row["body_pruned_at"] is not None,
                job_id=int(row["job_id"]) if row["job_id"] is not None else None,
                job_state=JobState(row["job_state"]) if row["job_state"] else None,
            )
            for row in rows
        ]

    async def counts_by_outcome(self, since: float = 0.0) -> dict[DeliveryOutcome, int]:
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT outcome, COUNT(*) AS n FROM deliveries WHERE received_at >= ?"
                " GROUP BY outcome",
                (since,),
            )
        )
        counts = dict.fromkeys(DeliveryOutcome, 0)
        counts.update({DeliveryOutcome(row["outcome"]): int(row["n"]) for row in rows})
        return counts

    async def prune_bodies(self, older_than_days: float) -> int:
        """Empty the bodies of deliveries received more than `older_than_days` ago; the number
        pruned. The records stay (id, event, outcome, time), so a redelivery is still a
        duplicate. A body whose job is not done yet (queued, running or dead, so it may be
        retried) is kept until the job is done.
        """
        now = self.store.clock()
        cutoff = now - older_than_days * DAY

        def operation(tx: Transaction) -> int:
            # an empty body is kept as it is on every backend (`Store.keep_body`)
            return tx.execute(
                "UPDATE deliveries SET body = ?, body_pruned_at = ?"
                " WHERE received_at < ? AND body_pruned_at IS NULL AND NOT EXISTS ("
                " SELECT 1 FROM jobs WHERE jobs.idempotency_key = 'delivery:' || deliveries.id"
                " AND jobs.state <> ?)",
                (b"", now, cutoff, JobState.DONE.value),
            )

        return await self.store.run(operation)

    async def readmit(
        self,
        delivery_id: str,
        was: DeliveryOutcome,
        outcome: DeliveryOutcome,
        reason: str | None,
        job: NewJob | None,
    ) -> bool:
        """Give a delivery stored as `was` (unreadable, or ignored) its new outcome (and job)
        once this Triad reads it again; False when its outcome is not `was` (any more)."""
        now = self.store.clock()

        def operation(tx: Transaction) -> bool:
            changed = tx.execute(
                "UPDATE deliveries SET outcome = ?, reason = ? WHERE id = ? AND outcome = ?",
                (outcome.value, reason, delivery_id, was.value),
            )
            if changed and job is not None:
                self.store._insert_job(tx, job, now)
            return bool(changed)

        return await self.store.run(operation)
