"""Workflows and their transitions: each decided transition is stored with its actions.

An event is applied once per source (a delivery or a stage job): the transition row's unique
key makes a retry find the earlier decision instead of deciding again, and its actions stay
pending until carried out, so a worker that dies half way leaves nothing lost or doubled.

One job at a time carries out a transition's actions: the one holding its claim. A claim held
by a job lives exactly as long as that job's lease (renewed by its worker's heartbeat), so a
worker that dies frees its claims when its leases lapse, and a live one never loses them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from bot.errors import StoreError
from bot.store.base import Row, Store, Transaction
from bot.store.models import Job, JobState
from bot.workflow.actions import Action, action_from_dict, action_to_dict
from bot.workflow.model import Stage, Workflow, WorkflowKind

_COLUMNS = {"id", "revision", "repository", "issue_number", "installation_id", "stage"}


class ConcurrentUpdate(StoreError):
    """Another worker changed the workflow first; the job is retried on the newer state."""


@dataclass(frozen=True)
class Transition:
    id: int
    repository: str
    issue_number: int
    source: str
    cause: str
    actor: str | None
    from_stage: str | None
    to_stage: str | None
    reason: str
    actions: tuple[Action, ...]
    actions_done: bool
    at: float
    #: the workflow's revision right after this transition (0: no workflow)
    revision: int = 0
    installation_id: int | None = None


@dataclass(frozen=True)
class Holder:
    """Who carries out a transition's actions: a running job, whose lease its claim follows."""

    job_id: int
    #: the job's lease owner (a worker loop); the claim ends when that lease does
    owner: str

    @classmethod
    def of(cls, job: Job) -> Holder | None:
        return cls(job.id, job.lease_owner) if job.lease_owner else None


#: how long a claim lasts when no job holds it (code outside the job queue, e.g. a test)
CLAIM_SECONDS = 120.0


def free_claim(table: str = "transitions") -> str:
    """SQL true for a transition (of `table`, or its alias) with undone actions that no live job
    holds: claimed by no job and past its time, or by a job whose lease is gone (finished,
    dead, released, expired, or taken by another worker since). Takes `now` twice."""
    return (
        f"{table}.actions_done = 0 AND (({table}.claim_job IS NULL"
        f" AND {table}.claimed_until <= ?) OR ({table}.claim_job IS NOT NULL AND NOT EXISTS"
        f" (SELECT 1 FROM jobs WHERE jobs.id = {table}.claim_job"
        f" AND jobs.state = '{JobState.RUNNING.value}'"
        f" AND jobs.lease_owner = {table}.claim_owner AND jobs.lease_expires_at > ?)))"
    )


class WorkflowStore:
    """Workflows keyed by (repository, issue number), on any `Store` backend."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, repository: str, issue_number: int) -> Workflow | None:
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT * FROM workflows WHERE repository = ? AND issue_number = ?",
                (repository, issue_number),
            )
        )
        return _workflow(row) if row else None

    async def transition_for(
        self, repository: str, issue_number: int, source: str
    ) -> Transition | None:
        """The transition an event from `source` already caused, if it was applied."""
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT * FROM transitions WHERE repository = ? AND issue_number = ?"
                " AND source = ?",
                (repository, issue_number, source),
            )
        )
        return _transition(row) if row else None

    async def decided_by(self, delivery_id: str) -> bool:
        """Whether the delivery's job decided a transition (of any issue, under any source)."""
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT 1 AS found FROM transitions WHERE delivery_id = ? LIMIT 1", (delivery_id,)
            )
        )
        return row is not None

    async def apply(  # noqa: PLR0913 (one row of the transitions table; the cause keyword-only)
        self,
        repository: str,
        issue_number: int,
        before: Workflow | None,
        after: Workflow | None,
        actions: tuple[Action, ...],
        *,
        source: str,
        cause: str,
        actor: str | None,
        reason: str,
        holder: Holder | None = None,
        installation_id: int | None = None,
        delivery_id: str | None = None,
    ) -> tuple[Workflow | None, Transition]:
        """Save the new state and the transition with its pending actions, atomically; the
        transition is claimed by `holder` (for CLAIM_SECONDS when None); `delivery_id` is the
        delivery whose job decided it, if one did.

        Raises ConcurrentUpdate when the workflow changed since `before` was read.
        """
        now = self.store.clock()

        def operation(tx: Transaction) -> tuple[Workflow | None, Transition]:
            saved = after if after is None or after == before else _save(tx, before, after, now)
            row = tx.fetchone(
                "INSERT INTO transitions (repository, issue_number, source, cause, actor,"
                " from_stage, to_stage, reason, actions, actions_done, at, claimed_until,"
                " claim_job, claim_owner, revision, installation_id, delivery_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    repository,
                    issue_number,
                    source,
                    cause,
                    actor,
                    before.stage.value if before else None,
                    after.stage.value if after else None,
                    reason,
                    json.dumps([action_to_dict(action) for action in actions]),
                    0 if actions else 1,
                    now,
                    0.0 if holder else now + CLAIM_SECONDS,
                    holder.job_id if holder else None,
                    holder.owner if holder else None,
                    saved.revision if saved is not None else 0,
                    installation_id,
                    delivery_id,
                ),
            )
            assert row is not None
            return saved, _transition(row)

        return await self.store.run(operation)

    async def mark_done(self, transition_id: int, holder: Holder | None) -> bool:
        """Record the actions carried out, if `holder` still holds the claim; False when it lost
        it (its lease lapsed and another job took the transition: that job carries them out)."""
        held, params = _held_by(holder)
        return bool(
            await self.store.run(
                lambda tx: tx.execute(
                    "UPDATE transitions SET actions_done = 1, claim_job = NULL,"
                    f" claim_owner = NULL WHERE id = ? AND actions_done = 0 AND {held}",
                    (transition_id, *params),
                )
            )
        )

    async def claim(self, transition_id: int, holder: Holder | None = None) -> bool:
        """Take over a transition whose actions are unfinished and that no live job holds (the
        job that decided it died, failed or gave it up), or that `holder` holds already: one job
        at a time carries them out."""
        now = self.store.clock()
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "UPDATE transitions SET claimed_until = ?, claim_job = ?, claim_owner = ?"
                f" WHERE id = ? AND ({free_claim()} OR (actions_done = 0 AND claim_job = ?"
                " AND claim_owner = ?)) RETURNING id",
                (
                    0.0 if holder else now + CLAIM_SECONDS,
                    holder.job_id if holder else None,
                    holder.owner if holder else None,
                    transition_id,
                    now,
                    now,
                    holder.job_id if holder else None,
                    holder.owner if holder else None,
                ),
            )
        )
        return row is not None

    async def holds(self, transition_id: int, holder: Holder | None) -> bool:
        """Whether `holder` may still carry out the transition: its claim is `holder`'s and the
        job's lease has not lapsed (else another job may take it over at any moment)."""
        held, params = _held_by(holder)
        live = ""
        if holder is not None:
            live = (
                " AND EXISTS (SELECT 1 FROM jobs WHERE jobs.id = transitions.claim_job"
                f" AND jobs.state = '{JobState.RUNNING.value}'"
                " AND jobs.lease_owner = transitions.claim_owner AND jobs.lease_expires_at > ?)"
            )
            params = (*params, self.store.clock())
        row = await self.store.run(
            lambda tx: tx.fetchone(
                f"SELECT 1 AS held FROM transitions WHERE id = ? AND actions_done = 0 AND {held}"
                + live,
                (transition_id, *params),
            )
        )
        return row is not None

    async def release(self, transition_id: int, holder: Holder | None) -> None:
        """Give up `holder`'s claim at once (carrying out failed): the next attempt may take it.
        A claim another job took since (this one's lease lapsed) stays that job's."""
        held, params = _held_by(holder)
        await self.store.run(
            lambda tx: tx.execute(
                "UPDATE transitions SET claimed_until = 0, claim_job = NULL, claim_owner = NULL"
                f" WHERE id = ? AND actions_done = 0 AND {held}",
                (transition_id, *params),
            )
        )

    async def abandon(self, repository: str, issue_number: int) -> int:
        """Drop the issue's undone actions no live job holds (its repository is gone: they
        can never be carried out); returns how many transitions."""
        now = self.store.clock()
        return await self.store.run(
            lambda tx: tx.execute(
                "UPDATE transitions SET actions_done = 1, claim_job = NULL, claim_owner = NULL"
                f" WHERE repository = ? AND issue_number = ? AND {free_claim()}",
                (repository, issue_number, now, now),
            )
        )

    async def pending(self, repository: str, issue_number: int) -> list[Transition]:
        """Transitions whose actions were decided but not all carried out, oldest first."""
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT * FROM transitions WHERE repository = ? AND issue_number = ?"
                " AND actions_done = 0 ORDER BY id",
                (repository, issue_number),
            )
        )
        return [_transition(row) for row in rows]

    async def find(
        self, stage: Stage | None = None, repository: str | None = None, limit: int = 500
    ) -> list[Workflow]:
        """Workflows, most recently changed first, optionally in one stage or repository."""
        clauses, params = [], []
        if stage is not None:
            clauses.append("stage = ?")
            params.append(stage.value)
        if repository is not None:
            clauses.append("repository = ?")
            params.append(repository)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT * FROM workflows{where} ORDER BY updated_at DESC, id DESC LIMIT ?",
                (*params, limit),
            )
        )
        return [_workflow(row) for row in rows]

    async def stage_counts(self) -> dict[Stage, int]:
        rows = await self.store.run(
            lambda tx: tx.fetchall("SELECT stage, COUNT(*) AS n FROM workflows GROUP BY stage")
        )
        counts = dict.fromkeys(Stage, 0)
        counts.update({Stage(row["stage"]): int(row["n"]) for row in rows})
        return counts

    async def history(self, repository: str, issue_number: int) -> list[Transition]:
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                "SELECT * FROM transitions WHERE repository = ? AND issue_number = ? ORDER BY id",
                (repository, issue_number),
            )
        )
        return [_transition(row) for row in rows]


def _held_by(holder: Holder | None) -> tuple[str, tuple[object, ...]]:
    """SQL true for a transition whose claim is `holder`'s (None: held by no job)."""
    if holder is None:
        return "claim_job IS NULL", ()
    return "claim_job = ? AND claim_owner = ?", (holder.job_id, holder.owner)


def _save(tx: Transaction, before: Workflow | None, after: Workflow, now: float) -> Workflow:
    data = json.dumps({k: v for k, v in asdict(after).items() if k not in _COLUMNS})
    if before is None or before.id is None:
        row = tx.fetchone(
            "INSERT INTO workflows (repository, issue_number, installation_id, stage, revision,"
            " data, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
            " ON CONFLICT (repository, issue_number) DO NOTHING RETURNING *",
            (
                after.repository,
                after.issue_number,
                after.installation_id,
                after.stage.value,
                data,
                now,
                now,
            ),
        )
    else:
        row = tx.fetchone(
            "UPDATE workflows SET stage = ?, installation_id = ?, data = ?, updated_at = ?,"
            " revision = revision + 1 WHERE id = ? AND revision = ? RETURNING *",
            (after.stage.value, after.installation_id, data, now, before.id, before.revision),
        )
    if row is None:
        raise ConcurrentUpdate(f"{after.repository}#{after.issue_number} changed concurrently")
    return _workflow(row)


def _workflow(row: Row) -> Workflow:
    known = {field.name for field in fields(Workflow)}
    data: dict[str, Any] = {k: v for k, v in json.loads(row["data"]).items() if k in known}
    if data.get("escalated_from"):
        data["escalated_from"] = Stage(data["escalated_from"])
    if data.get("kind"):
        data["kind"] = WorkflowKind(data["kind"])
    if "allowed_paths" in data:
        data["allowed_paths"] = tuple(data["allowed_paths"])
    return Workflow(
        id=int(row["id"]),
        revision=int(row["revision"]),
        repository=row["repository"],
        issue_number=int(row["issue_number"]),
        installation_id=int(row["installation_id"]),
        stage=Stage(row["stage"]),
        **data,
    )


def _transition(row: Row) -> Transition:
    return Transition(
        id=int(row["id"]),
        repository=row["repository"],
        issue_number=int(row["issue_number"]),
        source=row["source"],
        cause=row["cause"],
        actor=row["actor"],
        from_stage=row["from_stage"],
        to_stage=row["to_stage"],
        reason=row["reason"],
        actions=tuple(action_from_dict(item) for item in json.loads(row["actions"])),
        actions_done=bool(row["actions_done"]),
        at=float(row["at"]),
        revision=int(row["revision"]),
        installation_id=row["installation_id"],
    )
