"""What the workers' sweep looks for in the store: work that no live job is doing.

Two kinds: issues whose oldest undone transition no live job holds (the job that decided it
died, and no event came since), and stage jobs that died without the workflow being told.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.base import Store, job_from_row
from bot.store.models import Job, JobState
from bot.store.workflows import free_claim

#: how a dead job's death was reported (jobs.reported_how): its workflow was told (needs-human
#: and a comment), a comment on its issue, or only the log and the metric (nobody to tell)
TOLD_WORKFLOW = "workflow"
TOLD_COMMENT = "comment"
TOLD_LOG = "log"


@dataclass(frozen=True)
class Stalled:
    """An issue whose undone actions wait for no one."""

    repository: str
    issue_number: int
    #: None only for a transition stored before Triad recorded it, with no workflow to ask
    installation_id: int | None


class Recovery:
    """The sweep's queries, on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def stalled(self) -> list[Stalled]:
        """Issues whose oldest undone transition no live job holds, oldest first (a newer one
        left by a job that gave up waiting is its holder's to finish, in order)."""
        now = self.store.clock()
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT t.repository, t.issue_number, t.installation_id,"
                " (SELECT w.installation_id FROM workflows w WHERE w.repository = t.repository"
                " AND w.issue_number = t.issue_number) AS workflow_installation,"
                " (SELECT d.installation_id FROM deliveries d WHERE d.id = t.source)"
                " AS delivery_installation,"
                f" CASE WHEN {free_claim('t')} THEN 1 ELSE 0 END"
                " AS free FROM transitions t WHERE t.actions_done = 0 ORDER BY t.id",
                (now, now),
            )
        )
        oldest: dict[tuple[str, int], Stalled | None] = {}
        for row in rows:
            issue = (row["repository"], int(row["issue_number"]))
            if issue in oldest:
                continue
            installation = (
                row["installation_id"]
                or row["workflow_installation"]
                or row["delivery_installation"]
            )
            free = bool(row["free"])
            oldest[issue] = Stalled(*issue, installation) if free else None
        return [stalled for stalled in oldest.values() if stalled is not None]

    async def undone(self) -> int:
        """How many transitions have actions not carried out yet."""
        row = await self.store.run(
            lambda tx: tx.fetchone("SELECT COUNT(*) AS n FROM transitions WHERE actions_done = 0")
        )
        return int(row["n"]) if row else 0

    async def unreported_dead(self, kinds: Sequence[str]) -> list[Job]:
        """Dead jobs of `kinds` whose death the workflow has not been told of yet."""
        marks = ", ".join("?" for _ in kinds)
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT * FROM jobs WHERE state = ? AND kind IN ({marks})"
                " AND (reported_at IS NULL OR reported_at < finished_at) ORDER BY id",
                (JobState.DEAD.value, *kinds),
            )
        )
        return [job_from_row(row) for row in rows]

    async def mark_reported(self, job: Job, how: str = TOLD_WORKFLOW) -> None:
        """This death was reported, `how` (a later death of the job is reported anew)."""
        finished = job.finished_at or 0.0
        await self.store.run(
            lambda tx: tx.execute(
                "UPDATE jobs SET reported_at = ?, reported_how = ? WHERE id = ?",
                (finished, how, job.id),
            )
        )

    async def reported(self) -> dict[tuple[str, str], int]:
        """Dead jobs by (kind, how their death was reported: workflow, comment, log, or
        `no` while not yet)."""
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT kind, CASE WHEN reported_at IS NULL OR reported_at < finished_at"
                f" THEN 'no' ELSE COALESCE(reported_how, '{TOLD_WORKFLOW}') END AS how,"
                " COUNT(*) AS n FROM jobs WHERE state = ? GROUP BY 1, 2",
                (JobState.DEAD.value,),
            )
        )
        return {(str(row["kind"]), str(row["how"])): int(row["n"]) for row in rows}

    async def queued_for(self, kind: str) -> list[dict[str, object]]:
        """The payloads of the queued or running jobs of `kind`."""
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT payload FROM jobs WHERE kind = ? AND state IN (?, ?)",
                (kind, JobState.QUEUED.value, JobState.RUNNING.value),
            )
        )
        return [json.loads(row["payload"]) for row in rows]
