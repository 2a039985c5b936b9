"""Model usage per call: tokens, dollars and time, summed per workflow, installation or stage.

Budgets are enforced with reservations: before a call, `reserve` sums what the workflow spent
plus what calls in flight hold, lets a pure rule refuse, and holds the call's estimate, all in
one transaction under a per-workflow lock; the call's usage row replaces its reservation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.store.base import Row, Store, Transaction


@dataclass(frozen=True)
class UsageRecord:
    """One model reply (or one model given up on), as stored in `llm_usage`."""

    installation_id: int
    repository: str
    workflow_id: int | None
    stage: str
    role: str
    provider: str
    model: str
    request_id: str | None
    input_tokens: int
    output_tokens: int
    cost: float
    latency_ms: int
    outcome: str


@dataclass(frozen=True)
class UsageTotals:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latency_ms: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Committed:
    """A workflow's budget position: what it spent, and what calls in flight hold; with daily
    caps, the dollars spent and held today (UTC) by its installation and by everyone."""

    spent: UsageTotals
    held_tokens: int = 0
    held_cost: float = 0.0
    installation_today: float = 0.0
    everyone_today: float = 0.0


#: the columns usage may be grouped by
GROUPABLE = frozenset({"installation_id", "repository", "role", "provider", "model", "stage"})

#: the class half of PostgreSQL's two-key advisory lock that serialises one workflow's budget
_BUDGET_LOCK_CLASS = 0x74726961  # "tria"
#: with daily caps every reservation is serialised: this key (no workflow id is negative)
_EVERYONE = -1
_DAY = 86400.0

_SUMS = (
    "COUNT(*) AS calls, COALESCE(SUM(input_tokens), 0) AS input_tokens,"
    " COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost), 0) AS cost,"
    " COALESCE(SUM(latency_ms), 0) AS latency_ms"
)
_COLUMNS = (
    "installation_id, repository, workflow_id, stage, role, provider, model, request_id,"
    " input_tokens, output_tokens, cost, latency_ms, outcome, created_at"
)


class UsageStore:
    """The `llm_usage` table on any `Store` backend; budgets are checked against its sums."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def reserve(
        self,
        workflow_id: int,
        role: str,
        tokens: int,
        cost: float,
        hold_seconds: float,
        check: Callable[[Committed], None],
        *,
        installation_id: int | None = None,
        daily: bool = False,
    ) -> int:
        """Hold `tokens` and `cost` for a call of `workflow_id` unless `check` raises.

        `check` sees spent plus held, and raises to refuse (nothing is then held). Concurrent
        reservations of one workflow run one at a time: SQLite's write transactions already do,
        PostgreSQL takes a transaction-scoped advisory lock. With `daily`, today's spend of the
        installation and of everyone is summed too, and every reservation takes one lock, so
        concurrent calls across workflows cannot together pass a daily cap. A reservation of a
        process that died lapses after `hold_seconds`.
        """
        now = self.store.clock()

        def operation(tx: Transaction) -> int:
            self._lock(tx, _EVERYONE if daily else workflow_id)
            tx.execute(
                "DELETE FROM llm_reservations WHERE workflow_id = ? AND expires_at <= ?",
                (workflow_id, now),
            )
            # one statement, so one snapshot: a call settling meanwhile is counted once
            row = tx.fetchone(
                f"SELECT {_SUMS}, (SELECT COALESCE(SUM(tokens), 0) FROM llm_reservations"
                " WHERE workflow_id = ?) AS held_tokens, (SELECT COALESCE(SUM(cost), 0)"
                " FROM llm_reservations WHERE workflow_id = ?) AS held_cost"
                " FROM llm_usage WHERE workflow_id = ?",
                (workflow_id, workflow_id, workflow_id),
            )
            assert row is not None
            installation_today = everyone_today = 0.0
            if daily:
                installation_today, everyone_today = _today(tx, installation_id, now)
            check(
                Committed(
                    _totals(row),
                    int(row["held_tokens"]),
                    float(row["held_cost"]),
                    installation_today,
                    everyone_today,
                )
            )
            held = tx.fetchone(
                "INSERT INTO llm_reservations (workflow_id, role, tokens, cost, created_at,"
                " expires_at, installation_id) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (workflow_id, role, tokens, cost, now, now + hold_seconds, installation_id),
            )
            assert held is not None
            return int(held["id"])

        return await self.store.run(operation)

    async def release(self, reservation_id: int) -> None:
        """Drop a reservation no usage row settled (the call was cancelled or crashed)."""
        await self.store.run(
            lambda tx: tx.execute("DELETE FROM llm_reservations WHERE id = ?", (reservation_id,))
        )

    async def held(self, workflow_id: int) -> int:
        """How many reservations of `workflow_id` are outstanding (for tests and status)."""
        row = await self.store.run(
            lambda tx: tx.fetchone(
                "SELECT COUNT(*) AS n FROM llm_reservations WHERE workflow_id = ?",
                (workflow_id,),
            )
        )
        return int(row["n"]) if row else 0

    def _lock(self, tx: Transaction, workflow_id: int) -> None:
        if self.store.dialect == "postgresql":
            key = (workflow_id + 2**31) % 2**32 - 2**31  # any id into int4: a clash only waits
            tx.execute(
                "SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))",
                (_BUDGET_LOCK_CLASS, key),
            )

    async def record(self, record: UsageRecord, settles: int | None = None) -> int:
        """Store one reply's usage, and drop the reservation it `settles` in the same
        transaction (so the workflow's position never counts it twice or not at all)."""
        now = self.store.clock()

        def operation(tx: Transaction) -> int:
            if settles is not None:
                tx.execute("DELETE FROM llm_reservations WHERE id = ?", (settles,))
            row = tx.fetchone(
                f"INSERT INTO llm_usage ({_COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    record.installation_id,
                    record.repository,
                    record.workflow_id,
                    record.stage,
                    record.role,
                    record.provider,
                    record.model,
                    record.request_id,
                    record.input_tokens,
                    record.output_tokens,
                    record.cost,
                    record.latency_ms,
                    record.outcome,
                    now,
                ),
            )
            assert row is not None
            return int(row["id"])

        return await self.store.run(operation)

    async def totals(self, workflow_id: int) -> UsageTotals:
        row = await self.store.run(
            lambda tx: tx.fetchone(
                f"SELECT {_SUMS} FROM llm_usage WHERE workflow_id = ?", (workflow_id,)
            )
        )
        return _totals(row)

    async def totals_for_installation(
        self, installation_id: int, since: float | None = None
    ) -> UsageTotals:
        row = await self.store.run(
            lambda tx: tx.fetchone(
                f"SELECT {_SUMS} FROM llm_usage WHERE installation_id = ? AND created_at >= ?",
                (installation_id, since if since is not None else 0.0),
            )
        )
        return _totals(row)

    async def totals_by_stage(self, workflow_id: int) -> dict[str, UsageTotals]:
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT stage, {_SUMS} FROM llm_usage WHERE workflow_id = ?"
                " GROUP BY stage ORDER BY stage",
                (workflow_id,),
            )
        )
        return {row["stage"]: _totals(row) for row in rows}

    async def grouped(
        self,
        by: tuple[str, ...],
        since: float | None = None,
        workflow_id: int | None = None,
    ) -> list[tuple[tuple[Any, ...], UsageTotals]]:
        """Totals per distinct value of the `by` columns (see GROUPABLE), biggest cost first."""
        unknown = set(by) - GROUPABLE
        if unknown or not by:
            raise ValueError(f"cannot group usage by {sorted(unknown) or 'nothing'}")
        columns = ", ".join(by)
        where = "created_at >= ?"
        params: list[Any] = [since if since is not None else 0.0]
        if workflow_id is not None:
            where += " AND workflow_id = ?"
            params.append(workflow_id)
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT {columns}, {_SUMS} FROM llm_usage WHERE {where}"
                f" GROUP BY {columns} ORDER BY cost DESC, {columns}",
                params,
            )
        )
        return [(tuple(row[column] for column in by), _totals(row)) for row in rows]

    async def daily(
        self, since: float, by: tuple[str, ...] = ("installation_id", "role")
    ) -> list[tuple[int, tuple[Any, ...], UsageTotals]]:
        """Totals per UTC day (days since the epoch) and `by` columns, oldest day first."""
        unknown = set(by) - GROUPABLE
        if unknown:
            raise ValueError(f"cannot group usage by {sorted(unknown)}")
        day = (
            "CAST(FLOOR(created_at / 86400) AS INTEGER)"
            if self.store.dialect == "postgresql"
            else "CAST(created_at / 86400 AS INTEGER)"
        )
        columns = ", ".join(by)
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT {day} AS day, {columns}, {_SUMS} FROM llm_usage WHERE created_at >= ?"
                f" GROUP BY {day}, {columns} ORDER BY day, {columns}",
                (since,),
            )
        )
        return [(int(row["day"]), tuple(row[c] for c in by), _totals(row)) for row in rows]

    async def records(self, workflow_id: int) -> list[UsageRecord]:
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT {_COLUMNS} FROM llm_usage WHERE workflow_id = ? ORDER BY id",
                (workflow_id,),
            )
        )
        return [_record(row) for row in rows]


def _today(tx: Transaction, installation_id: int | None, now: float) -> tuple[float, float]:
    """Dollars spent and held (by live reservations) since midnight UTC: by the installation,
    and by everyone."""
    midnight = now - now % _DAY
    row = tx.fetchone(
        "SELECT (SELECT COALESCE(SUM(cost), 0) FROM llm_usage WHERE created_at >= ?"
        " AND installation_id = ?) AS spent_here, (SELECT COALESCE(SUM(cost), 0) FROM"
        " llm_usage WHERE created_at >= ?) AS spent_all, (SELECT COALESCE(SUM(cost), 0) FROM"
        " llm_reservations WHERE expires_at > ? AND installation_id = ?) AS held_here,"
        " (SELECT COALESCE(SUM(cost), 0) FROM llm_reservations WHERE expires_at > ?)"
        " AS held_all",
        (midnight, installation_id, midnight, now, installation_id, now),
    )
    assert row is not None
    here = float(row["spent_here"]) + float(row["held_here"])
    return here, float(row["spent_all"]) + float(row["held_all"])


def _totals(row: Row | None) -> UsageTotals:
    if row is None:
        return UsageTotals()
    return UsageTotals(
        calls=int(row["calls"]),
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        cost=float(row["cost"]),
        latency_ms=int(row["latency_ms"]),
    )


def _record(row: Row) -> UsageRecord:
    return UsageRecord(
        installation_id=int(row["installation_id"]),
        repository=row["repository"],
        workflow_id=row["workflow_id"],
        stage=row["stage"],
        role=row["role"],
        provider=row["provider"],
        model=row["model"],
        request_id=row["request_id"],
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        cost=float(row["cost"]),
        latency_ms=int(row["latency_ms"]),
        outcome=row["outcome"],
    )
