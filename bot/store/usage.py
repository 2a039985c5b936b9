"""Model usage per call: tokens, dollars and time, summed per workflow, installation or stage."""

from __future__ import annotations

from dataclasses import dataclass

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

    async def record(self, record: UsageRecord) -> int:
        now = self.store.clock()

        def operation(tx: Transaction) -> int:
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

    async def records(self, workflow_id: int) -> list[UsageRecord]:
        rows = await self.store.run(
            lambda tx: tx.fetchall(
                f"SELECT {_COLUMNS} FROM llm_usage WHERE workflow_id = ? ORDER BY id",
                (workflow_id,),
            )
        )
        return [_record(row) for row in rows]


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
