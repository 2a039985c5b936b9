"""The operator's hold on the job queue: jobs by state and kind, and retrying dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.base import Store, Transaction, job_from_row
from bot.store.models import Job, JobState

NO_SUCH_JOB = "no such job"


@dataclass(frozen=True)
class RetryResult:
    """What `retry` did with one job id: queued it again, or why not."""

    job_id: int
    retried: bool
    reason: str = ""


class QueueAdmin:
    """Jobs as an operator sees them, on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def jobs(
        self, state: JobState | None = None, kind: str | None = None, limit: int = 200
    ) -> list[Job]:
        """The newest `limit` jobs, optionally of one state and one kind, newest first."""
        where, params = _filters(state, kind)
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT * FROM jobs{where} ORDER BY id DESC LIMIT ?", (*params, limit)
            )
        )
        return [job_from_row(row) for row in rows]

    async def jobs_for_issue(self, repository: str, issue_number: int) -> list[Job]:
        """The stage jobs of one issue's workflow (keyed `kind:owner/repo#N...`) and the
        delivery jobs whose deliveries caused its transitions, oldest first."""
        issue = _escape_like(f"{repository}#{issue_number}")
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT * FROM jobs WHERE idempotency_key LIKE ? ESCAPE '\\'"
                " OR idempotency_key LIKE ? ESCAPE '\\' OR idempotency_key IN ("
                " SELECT 'delivery:' || source FROM transitions"
                " WHERE repository = ? AND issue_number = ?) ORDER BY id",
                (f"%:{issue}", f"%:{issue}:%", repository, issue_number),
            )
        )
        return [job_from_row(row) for row in rows]

    async def dead_by_kind(self) -> dict[str, int]:
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT kind, COUNT(*) AS n FROM jobs WHERE state = ? GROUP BY kind ORDER BY kind",
                (JobState.DEAD.value,),
            )
        )
        return {row["kind"]: int(row["n"]) for row in rows}

    async def retry(self, job_ids: list[int]) -> list[RetryResult]:
        """Queue dead jobs again, due now, with their attempts reset (their last error stays).

        A job that is not dead is left alone, with the reason.
        """
        now = self.store.clock()

        def operation(tx: Transaction) -> list[RetryResult]:
            results = []
            for job_id in job_ids:
                row = tx.fetchone("SELECT state FROM jobs WHERE id = ?", (job_id,))
                if row is None:
                    results.append(RetryResult(job_id, False, NO_SUCH_JOB))
                    continue
                if row["state"] != JobState.DEAD.value:
                    results.append(RetryResult(job_id, False, f"it is {row['state']}, not dead"))
                    continue
                if _requeue(tx, job_id, now):
                    self.store.jobs_queued(tx)
                results.append(RetryResult(job_id, True))
            return results

        return await self.store.run(operation)

    async def retry_dead(self, kind: str | None = None) -> list[int]:
        """Queue every dead job (of `kind`) again; the ids retried."""
        now = self.store.clock()
        where, params = _filters(JobState.DEAD, kind)

        def operation(tx: Transaction) -> list[int]:
            ids = [int(row["id"]) for row in tx.fetchall(f"SELECT id FROM jobs{where}", params)]
            requeued = sum(_requeue(tx, job_id, now) for job_id in ids)
            if requeued:
                self.store.jobs_queued(tx, requeued)
            return sorted(ids)

        return await self.store.run(operation)


def _requeue(tx: Transaction, job_id: int, now: float) -> bool:
    """Whether the dead job was queued again (not if another retry got there first)."""
    return bool(
        tx.execute(
            "UPDATE jobs SET state = ?, attempts = 0, run_at = ?, finished_at = NULL,"
            " lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND state = ?",
            (JobState.QUEUED.value, now, job_id, JobState.DEAD.value),
        )
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(state: JobState | None, kind: str | None) -> tuple[str, tuple[str, ...]]:
    clauses, params = [], []
    if state is not None:
        clauses.append("state = ?")
        params.append(state.value)
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
